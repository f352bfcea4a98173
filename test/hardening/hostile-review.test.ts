// Regression tests for the hostile review's input findings (issue 13): page
// sizes given as null cost what the resolvers do (F2); malformed documents,
// subscriptions and out-of-range ids, cursors and dates answer 4xx /
// BAD_USER_INPUT naming the argument, never an internal error (F5); a
// client's request id is bounded before it reaches the logs and the audit
// trail.
import { startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { makeWorld } from "../helpers/factories";
import { RestClient } from "../helpers/rest-client";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");

async function post(app: TestApp, body: unknown, token?: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: unknown; errors?: { message: string; extensions: Record<string, unknown> }[] } };
}

function expectBadInput(response: GraphQLResponse, field?: string) {
  expect(response.errors?.[0]?.extensions.code).toBe("BAD_USER_INPUT");
  if (field) expect(response.errors?.[0]?.extensions.field).toBe(field);
}

describe("hostile input (issue 13)", () => {
  let app: TestApp;
  let world: Awaited<ReturnType<typeof makeWorld>>;
  beforeAll(async () => {
    app = await startTestApp();
    world = await makeWorld(app);
  });
  afterAll(() => app.close());

  describe("F2: first: null costs the resolver's page size", () => {
    it("refuses nested pages given as null, with aliases, before any resolver runs", async () => {
      const inner = `accounts(first: null) { nodes { domain { accounts(first: null) { nodes { address domain { accounts(first: null) { nodes { address } } } } } } } }`;
      const aliases = Array.from({ length: 30 }, (_, i) => `a${i}: domains(first: null) { nodes { ${inner} } }`).join("\n");
      const response = await app.gql(`{ ${aliases} }`, {}, world.tokens.support);
      expect(response.status).toBe(400);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", limit: "complexity" });
    });

    it("costs an omitted or null page size as the schema's default, so ordinary pages still pass", async () => {
      const omitted = await app.gql(`{ domains { nodes { name accounts { nodes { address } } } } }`, {}, world.tokens.support);
      expect(omitted.errors).toBeUndefined();
      const nulls = await app.gql(`{ domains(first: null) { nodes { name } } }`, {}, world.tokens.support);
      expect(nulls.errors).toBeUndefined();
    });
  });

  describe("F5: no input answers with an internal error", () => {
    it("answers several operations without operationName, or with an unknown one, 400 BAD_USER_INPUT or its GraphQL equivalent", async () => {
      for (const body of [{ query: "query A{__typename} query B{__typename}" }, { query: "query A{__typename} query B{__typename}", operationName: "Z" }]) {
        const response = await post(app, body);
        expect(response.status).toBe(400);
        expect(response.body.errors?.[0]?.extensions.code).not.toBe("INTERNAL_SERVER_ERROR");
        expect(response.body.errors?.[0]?.message).toMatch(/operation/i);
      }
    });

    it("refuses a subscription clearly: the API has none", async () => {
      const response = await post(app, { query: "subscription { me { role } }" });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.body.errors?.[0]?.extensions.code).not.toBe("INTERNAL_SERVER_ERROR");
    });

    it("refuses out-of-range ids, cursors and dates as BAD_USER_INPUT naming the argument", async () => {
      const support = world.tokens.support;
      expectBadInput(await app.gql(`query($id: ID) { diagnoseDelivery(logRecordId: $id) { verdict } }`, { id: "9999999999999999999" }, support), "logRecordId");
      expectBadInput(
        await app.gql(
          `query($a: String!, $after: String) { mailLog(address: $a, after: $after) { totalCount } }`,
          { a: world.user.address, after: b64("999999999999999|1") },
          support,
        ),
        "after",
      );
      expectBadInput(await app.gql(`query($after: String) { auditLog(after: $after) { totalCount } }`, { after: b64("9999999999999999999") }, support), "after");
      expectBadInput(await app.gql(`query($after: String) { rejectedLogLines(after: $after) { totalCount } }`, { after: "9999999999999999999" }, support), "after");
      expectBadInput(
        await app.gql(`mutation($at: DateTime) { createApiToken(input: { name: "far", scopes: [READ], expiresAt: $at }) { token } }`, { at: "+275760-09-13T00:00:00Z" }, support),
      );
    });

    it("refuses the same cursor on the REST log route with 400, not 500", async () => {
      const rest = await RestClient.connect(app);
      const response = await rest.request("GET", `/api/v1/accounts/${world.user.address}/mail-log`, { token: world.tokens.support, query: { after: b64("999999999999999|1") } });
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    });
  });

  describe("request ids", () => {
    it("bounds a client's x-request-id and keeps only safe characters before logging or auditing it", async () => {
      const long = "x".repeat(5000);
      const response = await fetch(`${app.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${world.tokens.support}`, "x-request-id": long },
        body: JSON.stringify({ query: `mutation($id: ID!) { updateAccount(id: $id, input: { displayName: "Request id" }) { account { id } } }`, variables: { id: world.user.id } }),
      });
      const echoed = response.headers.get("x-request-id") ?? "";
      expect(echoed.length).toBeLessThanOrEqual(128);
      const entry = await app.deps.db.auditEntry.findFirstOrThrow({ where: { objectId: world.user.id, action: "account.update" }, orderBy: { id: "desc" } });
      expect((entry.requestId ?? "").length).toBeLessThanOrEqual(128);
      expect(entry.requestId).toBe(echoed);

      const odd = await fetch(`${app.url}/healthz`, { headers: { "x-request-id": 'abc <script>"x"' } });
      expect(odd.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
    });
  });
});
