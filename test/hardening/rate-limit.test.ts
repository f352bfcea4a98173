// Request rates: per client address, per principal, and stricter for logins.
// A refusal is 429 with Retry-After and RATE_LIMITED with retryAfterSeconds,
// and nothing of the refused request runs. The windows are counted in the
// database, shared by every server on it; each test starts its own server,
// which starts from no counts (test-app.ts), since every test client is 127.0.0.1.
import { errorCode, isRateLimitCounting, startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { PASSWORD, supportAdmin, tokenFor } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";

const LOGIN = `mutation($u: String!, $p: String!) { login(identifier: $u, password: $p) { token } }`;

/** The window limits, each test lowering the one it is about. */
function limits(overrides: Record<string, string>) {
  return {
    RATE_LIMIT_PER_CLIENT_PER_MINUTE: "1000",
    RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: "1000",
    RATE_LIMIT_LOGIN_PER_MINUTE: "1000",
    ...overrides,
  };
}

function expectRefused(response: GraphQLResponse, limit: "client" | "principal" | "login", max: number) {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(response.errors).toHaveLength(1);
  expect(response.errors![0]!.extensions).toEqual({
    code: "RATE_LIMITED",
    retryAfterSeconds: retryAfter,
    limit,
    max,
    requestId: response.headers.get("x-request-id"),
  });
  expect(response.errors![0]!.message).toMatch(new RegExp(`^Too many requests .*: at most ${max} a minute\\. Try again in ${retryAfter} s\\.$`));
}

/**
 * The statements an action sent other than the rate limit's own counting
 * (the windows are in the database, shared by every server): a refused
 * request runs nothing else.
 */
async function statementsDuring<T>(app: TestApp, action: () => Promise<T>): Promise<{ result: T; statements: number }> {
  const before = app.statements.length;
  const result = await action();
  const sent = app.statements.slice(before);
  // The counting itself happened: one statement for the request.
  expect(sent.filter(isRateLimitCounting).length).toBeGreaterThanOrEqual(1);
  return { result, statements: app.workStatementsSince(before).length };
}

describe("rate limits", () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("two servers on one database count a client once: the request over the limit is refused by whichever server gets it", async () => {
    app = await startTestApp(limits({ RATE_LIMIT_PER_CLIENT_PER_MINUTE: "4" }));
    // A second server on the same database (a test app clears the windows when it starts: start it first).
    const other = await startTestApp(limits({ RATE_LIMIT_PER_CLIENT_PER_MINUTE: "4" }));
    try {
      for (let request = 0; request < 4; request++) expect((await (request % 2 === 0 ? app : other).gql("{ __typename }")).status).toBe(200);
      expectRefused(await app.gql("{ __typename }"), "client", 4);
      expectRefused(await other.gql("{ __typename }"), "client", 4);
    } finally {
      await other.close();
    }
  });

  it("the REST API answers a refusal as an RFC 9457 problem with Retry-After", async () => {
    app = await startTestApp(limits({ RATE_LIMIT_PER_CLIENT_PER_MINUTE: "1" }));
    const support = await tokenFor(app, await supportAdmin(app));
    const get = () => fetch(`${app!.url}/api/v1/domains`, { headers: { authorization: `Bearer ${support}` } });
    expect((await get()).status).toBe(200);
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const problem = (await refused.json()) as { detail: string };
    expect(problem).toMatchObject({ status: 429, code: "RATE_LIMITED", retryAfterSeconds: retryAfter, requestId: refused.headers.get("x-request-id") });
    expect(problem.detail).toMatch(/^Too many requests from your address: at most 1 a minute/);
  });

  it("per client: the request over RATE_LIMIT_PER_CLIENT_PER_MINUTE is refused until the minute is over; probes never are", async () => {
    app = await startTestApp(limits({ RATE_LIMIT_PER_CLIENT_PER_MINUTE: "3" }));
    const support = await tokenFor(app, await supportAdmin(app));
    for (let request = 0; request < 3; request++) expect((await app.gql("{ __typename }")).status).toBe(200);
    const { result: refused, statements } = await statementsDuring(app, () => app!.gql("{ me { role } }", {}, support));
    expectRefused(refused, "client", 3);
    expect(statements).toBe(0);

    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);

    const realNow = app.deps.now;
    app.deps.now = () => new Date(realNow().getTime() + 61_000);
    try {
      const reopened = await app.gql("{ me { role } }", {}, support);
      expect(reopened.status).toBe(200);
      expect(reopened.data).toEqual({ me: { role: "SUPPORT_ADMIN" } });
    } finally {
      app.deps.now = realNow;
    }
  });

  it("per principal: a token over RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE is refused while other callers from the same address are not", async () => {
    app = await startTestApp(limits({ RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: "2" }));
    const first = await tokenFor(app, await supportAdmin(app));
    const second = await tokenFor(app, await supportAdmin(app));
    // Tokens that do not verify (here: a changed signature) spend nobody's allowance.
    const forged = `${first.slice(0, -4)}${first.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    for (let request = 0; request < 3; request++) expect(errorCode(await app.gql("{ me { role } }", {}, forged))).toBe("UNAUTHENTICATED");
    for (let request = 0; request < 2; request++) expect((await app.gql("{ me { role } }", {}, first)).status).toBe(200);
    const { result: refused, statements } = await statementsDuring(app, () => app!.gql("{ me { role } }", {}, first));
    expectRefused(refused, "principal", 2);
    expect(statements).toBe(0);

    expect((await app.gql("{ me { role } }", {}, second)).data).toEqual({ me: { role: "SUPPORT_ADMIN" } });
    expect((await app.gql("{ __typename }")).status).toBe(200);
  });

  it("per principal: each API token counts apart, a forged one only against itself", async () => {
    app = await startTestApp(limits({ RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: "2" }));
    const creator = await supportAdmin(app);
    const { token } = await apiTokenOf(app, creator, ["READ"]);
    const forged = `${token.slice(0, -4)}${token.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    for (let request = 0; request < 2; request++) expect(errorCode(await app.gql("{ me { role } }", {}, forged))).toBe("UNAUTHENTICATED");
    expectRefused(await app.gql("{ me { role } }", {}, forged), "principal", 2);
    for (let request = 0; request < 2; request++) expect((await app.gql("{ me { role } }", {}, token)).status).toBe(200);
    expectRefused(await app.gql("{ me { role } }", {}, token), "principal", 2);
    // The creator's own login token is another caller's allowance.
    expect((await app.gql("{ me { role } }", {}, await tokenFor(app, creator))).status).toBe(200);
  });

  it("logins: the login over RATE_LIMIT_LOGIN_PER_MINUTE is refused before checking the password, other operations go on", async () => {
    app = await startTestApp(limits({ RATE_LIMIT_LOGIN_PER_MINUTE: "2" }));
    const admin = await supportAdmin(app);
    for (let attempt = 0; attempt < 2; attempt++) {
      const ok = await app.gql(LOGIN, { u: admin.username, p: PASSWORD });
      expect(typeof ok.data.login.token).toBe("string");
    }
    const { result: refused, statements } = await statementsDuring(app, () => app!.gql(LOGIN, { u: admin.username, p: PASSWORD }));
    expectRefused(refused, "login", 2);
    expect(refused.data).toBeUndefined();
    expect(statements).toBe(0);

    expect((await app.gql("{ __typename }")).status).toBe(200);
    expect((await app.gql("{ me { role } }", {}, await tokenFor(app, admin))).data).toEqual({ me: { role: "SUPPORT_ADMIN" } });
  });

  it("logins: each aliased login in one mutation counts", async () => {
    app = await startTestApp(limits({ RATE_LIMIT_LOGIN_PER_MINUTE: "3" }));
    const admin = await supportAdmin(app);
    const twice = `mutation($u: String!, $p: String!) { a: login(identifier: $u, password: $p) { token } b: login(identifier: $u, password: $p) { token } }`;
    const first = await app.gql(twice, { u: admin.username, p: PASSWORD });
    expect(first.errors).toBeUndefined();
    const { result: second, statements } = await statementsDuring(app, () => app!.gql(twice, { u: admin.username, p: PASSWORD }));
    expectRefused(second, "login", 3);
    expect(statements).toBe(0);
    const loggedIn = await app.deps.db.auditEntry.count({ where: { action: "auth.login", actorId: admin.id } });
    expect(loggedIn).toBe(2);
  });

  it("a batch counts one request per operation", async () => {
    app = await startTestApp(limits({ RATE_LIMIT_PER_CLIENT_PER_MINUTE: "4" }));
    const batch = (size: number) =>
      fetch(`${app!.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(Array.from({ length: size }, () => ({ query: "{ __typename }" }))),
      });
    expect((await batch(3)).status).toBe(200);
    const refused = await batch(2);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await refused.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "client", max: 4 });
  });

  it("RATE_LIMIT_ENABLED=false turns every limit off (benchmarks)", async () => {
    app = await startTestApp({ RATE_LIMIT_ENABLED: "false", RATE_LIMIT_PER_CLIENT_PER_MINUTE: "1", RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: "1", RATE_LIMIT_LOGIN_PER_MINUTE: "1" });
    const admin = await supportAdmin(app);
    const token = await tokenFor(app, admin);
    for (let request = 0; request < 3; request++) {
      expect((await app.gql("{ me { role } }", {}, token)).status).toBe(200);
      expect((await app.gql(LOGIN, { u: admin.username, p: PASSWORD })).errors).toBeUndefined();
    }
  });
});
