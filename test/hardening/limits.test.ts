// GraphQL limits: a document too deep, too costly, with too many aliases,
// directives or tokens, a batch too large and a body too big are refused with
// BAD_USER_INPUT naming the limit, before any resolver runs. Introspection
// follows its setting.
import { getIntrospectionQuery } from "graphql";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";

const LOW_LIMITS = {
  GRAPHQL_MAX_DEPTH: "5",
  GRAPHQL_MAX_ALIASES: "3",
  GRAPHQL_MAX_DIRECTIVES: "2",
  GRAPHQL_MAX_TOKENS: "80",
  GRAPHQL_MAX_COMPLEXITY: "500",
  GRAPHQL_MAX_BATCH_SIZE: "2",
  REQUEST_BODY_LIMIT_BYTES: "2048",
};

const CREATE_DOMAIN_DEEP = `mutation($name: String!) { createDomain(input: { name: $name }) { domain { admin { domain { admin { address } } } } } }`;

async function post(app: TestApp, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

/** The SQL statements the server sent while `action` ran, other than the rate limits' counting. */
async function statementsDuring<T>(app: TestApp, action: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = app.statements.length;
  const result = await action();
  return { result, statements: app.workStatementsSince(before).length };
}

describe("GraphQL limits", () => {
  let app: TestApp;
  let support: string;
  /** Statements a request costs before GraphQL runs: the caller's lookup. */
  let baseline: number;
  beforeAll(async () => {
    app = await startTestApp(LOW_LIMITS);
    support = await tokenFor(app, await supportAdmin(app));
    baseline = (await statementsDuring(app, () => app.gql("{ __typename }", {}, support))).statements;
  });
  afterAll(() => app.close());

  async function domainExists(name: string) {
    return (await app.deps.db.domain.count({ where: { name } })) > 0;
  }

  it("refuses a query nested deeper than GRAPHQL_MAX_DEPTH, and a mutation nested so runs nothing", async () => {
    const deep = await app.gql(`{ domains { nodes { admin { domain { admin { address } } } } } }`, {}, support);
    expect(deep.status).toBe(400);
    expect(deep.errors).toHaveLength(1);
    expect(deep.errors![0]!.extensions).toEqual({ code: "BAD_USER_INPUT", limit: "depth", max: 5, actual: 6, requestId: deep.headers.get("x-request-id") });
    expect(deep.errors![0]!.message).toBe("This query nests fields 6 levels deep; the server allows at most 5. Ask for less in one request.");

    const name = `${uniqueName("deep")}.example`;
    const { result, statements } = await statementsDuring(app, () => app.gql(CREATE_DOMAIN_DEEP, { name }, support));
    expect(result.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", limit: "depth", actual: 6 });
    expect(statements).toBe(baseline);
    expect(await domainExists(name)).toBe(false);

    // Depth through fragments counts the same; exactly the limit is fine.
    const viaFragment = await app.gql(`{ domains { nodes { ...D } } } fragment D on Domain { admin { domain { admin { address } } } }`, {}, support);
    expect(viaFragment.errors![0]!.extensions).toMatchObject({ limit: "depth", actual: 6 });
    const atLimit = await app.gql(`{ domains { nodes { admin { domain { name } } } } }`, {}, support);
    expect(atLimit.errors).toBeUndefined();
  });

  it("refuses a query whose cost, page sizes multiplied, exceeds GRAPHQL_MAX_COMPLEXITY, reading page sizes from variables", async () => {
    const query = `query($n: Int) { domains(first: $n) { nodes { accounts(first: $n) { nodes { address } } } } }`;
    const { result: costly, statements } = await statementsDuring(app, () => app.gql(query, { n: 100 }, support));
    expect(costly.status).toBe(400);
    // accounts: 1 + 100 × (nodes 1 + address 1) = 201; nodes 202; domains 1 + 100 × 202.
    expect(costly.errors![0]!.extensions).toEqual({ code: "BAD_USER_INPUT", limit: "complexity", max: 500, actual: 20201, requestId: costly.headers.get("x-request-id") });
    expect(costly.errors![0]!.message).toContain("would cost 20201");
    expect(statements).toBe(baseline);

    const cheap = await app.gql(query, { n: 3 }, support);
    expect(cheap.status).toBe(200);
    expect(cheap.errors).toBeUndefined();

    // A page size beyond 100 costs as 100 (the resolver refuses it anyway).
    const huge = await app.gql(query, { n: 2 ** 31 - 1 }, support);
    expect(huge.errors![0]!.extensions).toMatchObject({ limit: "complexity", actual: 20201 });

    const name = `${uniqueName("costly")}.example`;
    const mutation = `mutation($name: String!) { createDomain(input: { name: $name }) { domain { accounts(first: 100) { nodes { address quotaMb role status usedMb } } } } }`;
    const refusedMutation = await app.gql(mutation, { name }, support);
    // createDomain 1 + domain 1 + accounts (1 + 100 × (nodes 1 + five fields)).
    expect(refusedMutation.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", limit: "complexity", actual: 603 });
    expect(await domainExists(name)).toBe(false);
  });

  it("refuses more aliases than GRAPHQL_MAX_ALIASES: four guesses of a password in one request run no login", async () => {
    const login = (alias: string) => `${alias}: login(identifier: "support", password: "guess ${alias} password") { token }`;
    const { result, statements } = await statementsDuring(app, () => app.gql(`mutation { ${["a", "b", "c", "d"].map(login).join(" ")} }`));
    expect(result.status).toBe(400);
    expect(result.errors).toHaveLength(1);
    expect(result.errors![0]!.extensions).toEqual({ code: "BAD_USER_INPUT", limit: "aliases", max: 3, actual: 4, requestId: result.headers.get("x-request-id") });
    expect(statements).toBe(0);

    const three = await app.gql(`{ a: __typename b: __typename c: __typename }`);
    expect(three.data).toEqual({ a: "Query", b: "Query", c: "Query" });
  });

  it("refuses more directives than GRAPHQL_MAX_DIRECTIVES", async () => {
    const query = `query($t: Boolean!) { me @include(if: $t) { role } x: __typename @skip(if: $t) y: __typename @include(if: $t) }`;
    const { result, statements } = await statementsDuring(app, () => app.gql(query, { t: true }, support));
    expect(result.status).toBe(400);
    expect(result.errors![0]!.extensions).toEqual({ code: "BAD_USER_INPUT", limit: "directives", max: 2, actual: 3, requestId: result.headers.get("x-request-id") });
    expect(statements).toBe(baseline);
    const two = await app.gql(`query($t: Boolean!) { me @include(if: $t) { role } x: __typename @skip(if: $t) }`, { t: true }, support);
    expect(two.data).toEqual({ me: { role: "SUPPORT_ADMIN" } });
  });

  it("refuses a document of more than GRAPHQL_MAX_TOKENS tokens, or as many comments, before parsing it whole", async () => {
    const long = await app.gql(`{ ${"__typename ".repeat(90)}}`);
    expect(long.status).toBe(400);
    expect(long.errors).toHaveLength(1);
    expect(long.errors![0]!.extensions).toEqual({ code: "BAD_USER_INPUT", limit: "tokens", max: 80, requestId: long.headers.get("x-request-id") });
    expect(long.errors![0]!.message).toMatch(/^This query has more than 80 tokens .*Pass values as variables/);

    const name = `${uniqueName("tokens")}.example`;
    const padded = `mutation { createDomain(input: { name: "${name}" }) { domain { id } } ${"__typename ".repeat(80)}}`;
    expect((await app.gql(padded, {}, support)).errors![0]!.extensions).toMatchObject({ limit: "tokens" });
    expect(await domainExists(name)).toBe(false);

    const commented = await app.gql(`${"# note\n".repeat(81)}{ __typename }`);
    expect(commented.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", limit: "comments", max: 80 });
  });

  it("answers a batch of up to GRAPHQL_MAX_BATCH_SIZE operations, and refuses a larger one whole", async () => {
    const small = await post(app, JSON.stringify([{ query: "{ __typename }" }, { query: "{ me { role } }" }]), { authorization: `Bearer ${support}` });
    expect(small.status).toBe(200);
    expect(small.body).toEqual([{ data: { __typename: "Query" } }, { data: { me: { role: "SUPPORT_ADMIN" } } }]);

    const name = `${uniqueName("batch")}.example`;
    const create = { query: `mutation($name: String!) { createDomain(input: { name: $name }) { domain { id } } }`, variables: { name } };
    const { result: large, statements } = await statementsDuring(app, () =>
      post(app, JSON.stringify([create, { query: "{ __typename }" }, { query: "{ __typename }" }]), { authorization: `Bearer ${support}` }),
    );
    expect(large.status).toBe(400);
    expect(large.body).toEqual({
      errors: [
        {
          message: "This batch holds 3 operations; the server allows at most 2 in one request. Send the rest in another.",
          extensions: { code: "BAD_USER_INPUT", limit: "batchSize", max: 2, actual: 3, requestId: large.headers.get("x-request-id") },
        },
      ],
    });
    expect(statements).toBe(0);
    expect(await domainExists(name)).toBe(false);
  });

  it("refuses a body larger than REQUEST_BODY_LIMIT_BYTES with 413 and a GraphQL error", async () => {
    const name = `${uniqueName("body")}.example`;
    const body = JSON.stringify({
      query: `mutation($name: String!, $display: String) { createDomain(input: { name: $name, adminDisplayName: $display }) { domain { id } } }`,
      variables: { name, display: "x".repeat(3000) },
    });
    const { result, statements } = await statementsDuring(app, () => post(app, body, { authorization: `Bearer ${support}` }));
    expect(result.status).toBe(413);
    expect(result.headers.get("content-type")).toMatch(/^application\/json/);
    expect(result.body).toEqual({
      errors: [
        {
          message: "The request body is larger than 2048 bytes, the most this server accepts. Send less in one request (for ingestMailLog: fewer lines per call).",
          extensions: { code: "BAD_USER_INPUT", limit: "bodySize", max: 2048, requestId: result.headers.get("x-request-id") },
        },
      ],
    });
    expect(statements).toBe(0);
    expect(await domainExists(name)).toBe(false);
    // Other errors keep Fastify's own answer.
    const malformed = await fetch(`${app.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(malformed.status).toBe(400);
  });
});

describe("GraphQL limits with the default settings", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => ({ app, support } = started));

  it("accept a page of 100 domains with their administrators and 10 accounts each, and a tool's full introspection query", async () => {
    const page = await app.gql(`{ domains(first: 100) { nodes { admin { address } accounts(first: 10) { nodes { address quotaMb } } } } }`, {}, support);
    expect(page.errors).toBeUndefined();
    const introspection = await app.gql(getIntrospectionQuery({ descriptions: true, directiveIsRepeatable: true, specifiedByUrl: true }));
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data.__schema.queryType).toMatchObject({ name: "Query" });
  });

  it("refuse 100 domains × 100 accounts × 100 delivery records in one request", async () => {
    const response = await app.gql(`{ domains(first: 100) { nodes { accounts(first: 100) { nodes { mailLog(first: 100) { nodes { id } } } } } } }`, {}, support);
    expect(response.status).toBe(400);
    expect(response.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", limit: "complexity", max: 10_000 });
  });
});

describe("introspection", () => {
  const INTROSPECT = `{ __schema { queryType { name } } }`;

  it.each([
    [{}, true],
    [{ GRAPHQL_INTROSPECTION: "false" }, false],
    [{ NODE_ENV: "production" }, false],
    [{ NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true" }, true],
  ])("with %j is %s", async (overrides, allowed) => {
    const app = await startTestApp(overrides);
    try {
      const response = await app.gql(INTROSPECT);
      if (allowed) {
        expect(response.data).toEqual({ __schema: { queryType: { name: "Query" } } });
      } else {
        expect(response.status).toBe(400);
        expect(response.errors![0]!.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
        expect(response.errors![0]!.message).toMatch(/introspection is not allowed/);
      }
      // __typename is not introspection: always answered.
      expect((await app.gql("{ __typename }")).data).toEqual({ __typename: "Query" });
    } finally {
      await app.close();
    }
  });
});
