// Queries run compiled by graphql-jit (src/graphql/executor.ts): for every
// kind of query the portal sends, with data, nulls, errors inside lists and
// fragments, what it answers must be what graphql-js answers.
import { execute, parse, getOperationAST, type DocumentNode } from "graphql";
import { compileQuery, isCompiledQuery } from "graphql-jit";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { typeDefs, resolvers } from "../../src/graphql/schema";
import { jitExecutor } from "../../src/graphql/executor";
import { authenticate } from "../../src/auth/authenticate";
import { createLoaders } from "../../src/loaders";
import { makeAccount, makeWorld } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";
import type { TestApp } from "../helpers/test-app";
import type { GraphQLContext } from "../../src/graphql/context";
import type { GatewayGraphQLRequestContext } from "@apollo/server-gateway-interface";

const QUERIES: Record<string, string> = {
  "the domain page": `query Page($n: Int) { domains(first: $n) { totalCount pageInfo { hasNextPage endCursor } nodes { id name status quotaMb maxAccounts accountCount allocatedQuotaMb usedMb createdAt admin { id address displayName role } } } }`,
  "accounts of a domain through fragments": `query One($name: String!) { domain(name: $name) { ...D } }
    fragment D on Domain { name accounts(first: 5) { totalCount edges { cursor node { ...A } } } }
    fragment A on Account { address role quotaMb usedMb status displayName domain { name } }`,
  "me, by type": `{ me { __typename role loginName displayName ... on Account { address domain { name admin { address } } } } }`,
  "a domain that is not there (an error with its path)": `{ domain(name: "nowhere.example") { id name } }`,
  "a failing field beside a working one": `query($a: String!) { domains(first: 3) { nodes { name } } mailLog(address: $a) { totalCount nodes { subject } } }`,
  "the audit trail": `{ auditLog(first: 5) { totalCount nodes { action actor { __typename } target { type id } } } }`,
};

describe("queries compiled by graphql-jit", () => {
  let app: TestApp;
  let world: Awaited<ReturnType<typeof makeWorld>>;
  const schema = makeExecutableSchema({ typeDefs, resolvers });
  const executor = jitExecutor(schema);
  useTestApp((started) => ({ app } = started));

  const contextFor = async (token: string): Promise<GraphQLContext> => ({
    deps: app.deps,
    authentication: await authenticate(app.deps.db, app.deps.tokens, `Bearer ${token}`),
    requestId: "test",
    clientIp: "127.0.0.1",
    loaders: createLoaders(app.deps.db),
    language: () => Promise.resolve("en"),
  });
  const comparable = (result: { data?: unknown; errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: Record<string, unknown> }[] }) =>
    JSON.parse(
      JSON.stringify({ data: result.data, errors: result.errors?.map(({ message, path, extensions }) => ({ message, path, code: extensions?.code, field: extensions?.field })) }),
    );

  beforeAll(async () => {
    world = await makeWorld(app);
    await makeAccount(app, world.domain, { quotaMb: 25 });
  });

  it.each(Object.entries(QUERIES))("answers %s as graphql-js does, for every role", async (_name, text) => {
    const document: DocumentNode = parse(text);
    const operation = getOperationAST(document)!;
    // The executor would quietly fall back to graphql-js if it could not compile: make sure it does compile.
    expect(isCompiledQuery(compileQuery(schema, document))).toBe(true);
    const variables = { n: 3, name: world.domain.name, a: world.user.address };
    for (const token of [world.tokens.support, world.tokens.admin, world.tokens.user, world.tokens.otherAdmin]) {
      const expected = comparable(await execute({ schema, document, contextValue: await contextFor(token), variableValues: variables }));
      const request = { document, operation, operationName: null, request: { variables }, context: await contextFor(token) } as unknown as GatewayGraphQLRequestContext;
      expect(comparable(await executor(request))).toEqual(expected);
      expect(expected.data === undefined && expected.errors === undefined).toBe(false);
    }
  });

  it("reports every failing field of an answer that fails, where graphql-js reports the first", async () => {
    // Two non-null root fields that both fail for another domain's administrator.
    const document = parse(`query($a: String!) { account(address: $a) { address } mailLog(address: $a) { totalCount } }`);
    const variables = { a: world.user.address };
    const expected = comparable(await execute({ schema, document, contextValue: await contextFor(world.tokens.otherAdmin), variableValues: variables }));
    const request = { document, operation: getOperationAST(document)!, operationName: null, request: { variables }, context: await contextFor(world.tokens.otherAdmin) };
    const compiled = comparable(await executor(request as unknown as GatewayGraphQLRequestContext));
    expect(compiled.data).toBeNull();
    expect(expected.data).toBeNull();
    expect(compiled.errors).toEqual(expect.arrayContaining(expected.errors));
    expect(compiled.errors.map((error: { path: string[] }) => error.path[0]).sort()).toEqual(["account", "mailLog"]);
  });

  it("answers an unexpected resolver error (no extensions) as our INTERNAL_SERVER_ERROR, and logs it", async () => {
    // A broken invariant, made on purpose for this test's own domain: a domain without its administrator.
    const { domain } = await makeWorld(app);
    const link = await app.deps.db.domainAdmin.delete({ where: { domainId: domain.id } });
    try {
      const response = await app.gql(`query($n: String!) { domain(name: $n) { name admin { address } } }`, { n: domain.name }, world.tokens.support);
      expect(response.errors).toEqual([
        {
          message: "Internal error. It has been logged; quote the requestId to support.",
          locations: [{ line: 1, column: 46 }],
          path: ["domain", "admin"],
          extensions: { code: "INTERNAL_SERVER_ERROR", requestId: expect.any(String) },
        },
      ]);
      const logged = app.logLines.find((line) => line.includes(`domain ${domain.id} has no administrator`));
      expect(JSON.parse(logged!)).toMatchObject({ level: 50, msg: "unexpected error", requestId: response.errors![0]!.extensions.requestId });
    } finally {
      await app.deps.db.domainAdmin.create({ data: link });
    }
  });

  it("leaves variables that do not coerce to graphql-js, whose errors become BAD_USER_INPUT", async () => {
    const response = await app.gql(`query($n: Int) { domains(first: $n) { totalCount } }`, { n: "three" }, world.tokens.support);
    expect(response.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(response.errors![0]!.message).toMatch(/Variable "\$n" got invalid value "three"/);
  });
});
