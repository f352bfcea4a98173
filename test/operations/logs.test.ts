import { startTestApp, type TestApp, type GraphQLResponse } from "../helpers/test-app";
import { makeDomain, PASSWORD, supportAdmin, tokenFor } from "../helpers/factories";

const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`;

interface LogLine {
  level: number;
  msg: string;
  requestId?: string;
  [key: string]: unknown;
}

describe("structured logs", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ LOG_LEVEL: "trace" });
  });
  afterAll(() => app.close());

  /** Everything a log line must never hold: every password, token and Authorization value the run used. */
  const secrets = new Set<string>();

  async function waitForCompletion(requestId: string): Promise<void> {
    // Fastify writes "request completed" once the response has gone, so it may trail the client's answer.
    for (let attempt = 0; attempt < 200; attempt++) {
      if (app.logLines.some((line) => line.includes(requestId) && line.includes('"msg":"request completed"'))) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`no "request completed" line for request ${requestId}`);
  }

  /**
   * Sends one request (nothing else runs in the server meanwhile) and returns
   * its answer with the log lines it produced, each checked to carry the
   * request's id.
   */
  async function traced<T>(send: () => Promise<T & { headers: Headers }>): Promise<{ response: T & { headers: Headers }; lines: LogLine[] }> {
    const before = app.logLines.length;
    const response = await send();
    const requestId = response.headers.get("x-request-id")!;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await waitForCompletion(requestId);
    const lines = app.logLines.slice(before).map((line) => JSON.parse(line) as LogLine);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect({ msg: line.msg, requestId: line.requestId }).toEqual({ msg: line.msg, requestId });
    return { response, lines };
  }

  function gql(query: string, variables: Record<string, unknown>, token?: string, headers?: Record<string, string>) {
    if (token) secrets.add(token);
    return traced<GraphQLResponse>(() => app.gql(query, variables, token, headers));
  }

  it("writes JSON lines carrying the request id, and never a password, a token, the JWT secret or an Authorization header", async () => {
    const support = await supportAdmin(app);
    secrets.add(PASSWORD);

    const login = await gql(LOGIN, { i: support.username, p: PASSWORD });
    const loginToken = login.response.data.login.token as string;
    expect(loginToken).toMatch(/^eyJ/);
    secrets.add(loginToken);

    const supportPassword = "a brand new support password 1";
    secrets.add(supportPassword);
    const changed = await gql(
      `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token } }`,
      { c: PASSWORD, n: supportPassword },
      loginToken,
    );
    const supportToken = changed.response.data.changePassword.token as string;
    secrets.add(supportToken);

    const { domain } = await makeDomain(app);
    const accountPassword = "the account's first password";
    secrets.add(accountPassword);
    const created = await gql(
      `mutation($d: ID!, $p: String!) { createAccount(input: { domainId: $d, localPart: "mary", password: $p }) { account { id address } } }`,
      { d: domain.id, p: accountPassword },
      supportToken,
    );
    const account = created.response.data.createAccount.account as { id: string; address: string };

    const resetPassword = "a password set by support";
    secrets.add(resetPassword);
    const reset = await gql(`mutation($id: ID!, $p: String!) { setAccountPassword(id: $id, password: $p) { account { id } } }`, { id: account.id, p: resetPassword }, supportToken);
    expect(reset.response.errors).toBeUndefined();

    const wrongPassword = "not the right password at all";
    secrets.add(wrongPassword);
    const failedLogin = await gql(LOGIN, { i: account.address, p: wrongPassword });
    expect(failedLogin.response.errors![0]!.extensions.code).toBe("UNAUTHENTICATED");
    const unknownLogin = await gql(LOGIN, { i: "nobody@nowhere.example", p: wrongPassword });
    expect(unknownLogin.response.errors![0]!.extensions.code).toBe("UNAUTHENTICATED");
    const accountLogin = await gql(LOGIN, { i: account.address, p: resetPassword });
    secrets.add(accountLogin.response.data.login.token);

    // A token signed with another key, and one that is not a JWT at all.
    const [header, payload] = supportToken.split(".");
    const forged = `${header}.${payload}.${"A".repeat(43)}`;
    for (const badToken of [forged, "not-a-token-but-a-secret-looking-string"]) {
      const refused = await gql(`{ me { role } }`, {}, badToken);
      expect(refused.response.errors![0]!.extensions.code).toBe("UNAUTHENTICATED");
    }

    // A GET whose query string carries a password: the logged URL stops at "?".
    const getPassword = "a password in a query string";
    secrets.add(getPassword);
    const get = await traced(() =>
      fetch(`${app.url}/graphql?query=${encodeURIComponent("{ __typename }")}&variables=${encodeURIComponent(JSON.stringify({ password: getPassword }))}`, {
        headers: { "apollo-require-preflight": "true", authorization: `Bearer ${supportToken}` },
      }),
    );
    expect(get.response.status).toBe(200);
    // One line per request, once answered, with the request's summary and the status.
    expect(get.lines.find((line) => line.msg === "request completed")).toMatchObject({ req: { method: "GET", url: "/graphql" }, res: { statusCode: 200 } });

    // A masked internal error: a domain whose administrator vanished behind the API's back.
    const broken = await makeDomain(app);
    await app.deps.db.domainAdmin.delete({ where: { domainId: broken.domain.id } });
    const masked = await gql(`query($id: ID!) { domain(id: $id) { admin { address } } }`, { id: broken.domain.id }, await tokenFor(app, support));
    const error = masked.response.errors![0]!;
    expect(error.extensions.code).toBe("INTERNAL_SERVER_ERROR");
    const requestId = masked.response.headers.get("x-request-id");
    expect(error.extensions.requestId).toBe(requestId);
    const cause = masked.lines.find((line) => line.msg === "unexpected error");
    expect(cause).toMatchObject({ level: 50, requestId, err: { message: expect.stringMatching(/has no administrator/) } });

    secrets.add(app.config.JWT_SECRET);
    const everything = app.logLines.join("");
    expect(everything.length).toBeGreaterThan(0);
    for (const secret of secrets) expect({ secret, logged: everything.includes(secret) }).toEqual({ secret, logged: false });
    // Nothing shaped like a JWT or a bcrypt hash, whoever it belongs to.
    expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    expect(everything).not.toMatch(/\$2[aby]\$\d\d\$/);
    for (const line of app.logLines) expect(() => JSON.parse(line)).not.toThrow();
  });
});
