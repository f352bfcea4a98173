import jwt from "jsonwebtoken";
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, PASSWORD, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";

const LOGIN = `mutation($identifier: String!, $password: String!) {
  login(identifier: $identifier, password: $password) { token expiresAt principal { __typename role loginName } }
}`;
const ME = `{ me { __typename role loginName } }`;

describe("login", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ LOGIN_MAX_FAILURES: "3", LOGIN_CLIENT_MAX_FAILURES: "1000" });
  });
  afterAll(() => app.close());

  it("logs support staff in by username and returns a working HS256 token", async () => {
    const admin = await supportAdmin(app);
    const response = await app.gql(LOGIN, { identifier: admin.username, password: PASSWORD });
    expect(response.data.login.principal).toEqual({ __typename: "SupportAdmin", role: "SUPPORT_ADMIN", loginName: admin.username });
    expect(jwt.decode(response.data.login.token, { complete: true })?.header.alg).toBe("HS256");
    const me = await app.gql(ME, {}, response.data.login.token);
    expect(me.data.me.loginName).toBe(admin.username);
  });

  it("logs a domain administrator and a user in by address, in any letter case", async () => {
    const { domain, admin } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    const asAdmin = await app.gql(LOGIN, { identifier: admin.address.toUpperCase(), password: PASSWORD });
    expect(asAdmin.data.login.principal).toEqual({ __typename: "Account", role: "DOMAIN_ADMIN", loginName: admin.address });
    const asUser = await app.gql(LOGIN, { identifier: user.address, password: PASSWORD });
    expect(asUser.data.login.principal.role).toBe("USER");
  });

  it("logs an account of an internationalised domain in by its Unicode address", async () => {
    const label = `書店${uniqueName("").slice(0, 6)}`;
    const { admin } = await makeDomain(app, { name: `${label}.台灣` });
    expect(admin.address).toMatch(/^admin@xn--/);
    const response = await app.gql(LOGIN, { identifier: `admin@${label}.台灣`, password: PASSWORD });
    expect(response.data.login.principal.loginName).toBe(admin.address);
  });

  it("answers a wrong password and an unknown identifier identically", async () => {
    const { admin } = await makeDomain(app);
    const wrongPassword = await app.gql(LOGIN, { identifier: admin.address, password: "not the password" });
    const unknown = await app.gql(LOGIN, { identifier: `${uniqueName("nobody")}@nowhere.example`, password: "not the password" });
    expect(errorCode(wrongPassword)).toBe("UNAUTHENTICATED");
    expect(wrongPassword.errors![0]!.message).toBe(unknown.errors![0]!.message);
    expect(wrongPassword.errors![0]!.extensions.code).toBe(unknown.errors![0]!.extensions.code);
  });

  it("locks an identifier after repeated failures, whether or not it exists, even for the right password", async () => {
    const { admin } = await makeDomain(app);
    const ghost = `${uniqueName("ghost")}@nowhere.example`;
    for (const identifier of [admin.address, ghost]) {
      for (let attempt = 0; attempt < 3; attempt++) {
        expect(errorCode(await app.gql(LOGIN, { identifier, password: "wrong password" }))).toBe("UNAUTHENTICATED");
      }
    }
    const locked = await app.gql(LOGIN, { identifier: admin.address, password: PASSWORD });
    const lockedGhost = await app.gql(LOGIN, { identifier: ghost, password: PASSWORD });
    expect(errorCode(locked)).toBe("RATE_LIMITED");
    expect(locked.errors![0]!.extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(lockedGhost.errors![0]!.message).toBe(locked.errors![0]!.message);
  });

  it("locks a client address that guesses at many identifiers", async () => {
    const strict = await startTestApp({ LOGIN_MAX_FAILURES: "100", LOGIN_CLIENT_MAX_FAILURES: "4" });
    try {
      const headers = { "x-forwarded-for": "198.51.100.7" };
      // TRUST_PROXY is off: the header is ignored and the socket address (127.0.0.1) counts.
      await strict.deps.db.loginThrottle.deleteMany({ where: { key: "ip:127.0.0.1" } });
      for (let attempt = 0; attempt < 4; attempt++) {
        await strict.gql(LOGIN, { identifier: `${uniqueName("spray")}@nowhere.example`, password: "wrong password" }, undefined, headers);
      }
      const admin = await supportAdmin(strict);
      const refused = await strict.gql(LOGIN, { identifier: admin.username, password: PASSWORD });
      expect(errorCode(refused)).toBe("RATE_LIMITED");
    } finally {
      await strict.deps.db.loginThrottle.deleteMany({ where: { key: "ip:127.0.0.1" } });
      await strict.close();
    }
  });

  it("refuses identifiers holding control characters or broken Unicode as bad input, not as an internal error", async () => {
    for (const identifier of ["\u0000", "sup\u0000port", "\ud800", "mary@\ud800.example"]) {
      const response = await app.gql(LOGIN, { identifier, password: "whatever password" });
      expect(response.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "identifier" });
    }
  });

  it("refuses a suspended account only once the password is right", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain, { status: "SUSPENDED" });
    const response = await app.gql(LOGIN, { identifier: user.address, password: PASSWORD });
    expect(errorCode(response)).toBe("UNAUTHENTICATED");
    expect(response.errors![0]!.message).toMatch(/suspended/);
  });

  it("refuses tokens that are expired, forged, unsigned or of another algorithm", async () => {
    const admin = await supportAdmin(app);
    const secret = app.config.JWT_SECRET;
    const claims = { kind: "support", ver: 0 };
    const base = { subject: admin.id, issuer: "mailadmin", audience: "mailadmin-api" };
    const tokens = {
      expired: jwt.sign({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 }, secret, { ...base, algorithm: "HS256" }),
      otherSecret: jwt.sign(claims, "another-secret-another-secret-another-secret", { ...base, algorithm: "HS256" }),
      hs512: jwt.sign(claims, secret, { ...base, algorithm: "HS512" }),
      unsigned: jwt.sign(claims, "", { ...base, algorithm: "none" }),
    };
    for (const [kind, token] of Object.entries(tokens)) {
      const response = await app.gql(ME, {}, token);
      expect({ kind, code: errorCode(response) }).toEqual({ kind, code: "UNAUTHENTICATED" });
    }
    expect((await app.gql(ME, {}, tokens.expired)).errors![0]!.message).toMatch(/expired/);
    expect(errorCode(await app.gql(ME))).toBe("UNAUTHENTICATED");
  });

  it("revokes older tokens when a password changes, and the new token works", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    const oldToken = await tokenFor(app, user);
    const changed = await app.gql(
      `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token principal { loginName } } }`,
      { c: PASSWORD, n: "a brand new password" },
      oldToken,
    );
    expect(changed.data.changePassword.principal.loginName).toBe(user.address);
    expect((await app.gql(ME, {}, oldToken)).errors![0]!.message).toMatch(/revoked/);
    expect((await app.gql(ME, {}, changed.data.changePassword.token)).data.me.loginName).toBe(user.address);
    const relogin = await app.gql(LOGIN, { identifier: user.address, password: "a brand new password" });
    expect(relogin.data.login.principal.loginName).toBe(user.address);
  });

  it("refuses a password change with the wrong current password, naming the field", async () => {
    const admin = await supportAdmin(app);
    const response = await app.gql(`mutation { changePassword(currentPassword: "wrong one here", newPassword: "a brand new password") { token } }`, {}, await tokenFor(app, admin));
    expect(response.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "currentPassword" });
  });
});
