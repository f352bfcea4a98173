// Login sessions through HTTP: a principal lists its own (when, from where,
// last use) and ends any of them; full support staff end all of a person's
// sessions; nobody else sees or ends another's.
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, PASSWORD, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

async function loginAs(identifier: string, userAgent: string): Promise<string> {
  const response = await app.gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: identifier, p: PASSWORD }, undefined, {
    "user-agent": userAgent,
  });
  expect(response.errors).toBeUndefined();
  return response.data.login.token;
}

const SESSIONS = `query($id: ID) { sessions(principalId: $id) { id createdAt expiresAt clientIp userAgent lastUsedAt current } }`;

describe("login sessions", () => {
  it("lists a principal's own sessions with when, from where and last use, and ends one of them at once", async () => {
    const world = await makeWorld(app);
    const phone = await loginAs(world.user.address, "Phone browser");
    const desk = await loginAs(world.user.address, "Desk browser");
    const listed = await app.gql(SESSIONS, {}, desk);
    expect(listed.errors).toBeUndefined();
    const sessions = listed.data.sessions;
    expect(sessions).toHaveLength(2);
    expect(sessions.map((s: { userAgent: string; current: boolean }) => [s.userAgent, s.current])).toEqual([
      ["Desk browser", true],
      ["Phone browser", false],
    ]);
    expect(sessions[0]).toMatchObject({ clientIp: "127.0.0.1", lastUsedAt: expect.any(String) });
    const phoneSession = sessions[1].id;
    const ended = await app.gql(`mutation($id: ID!) { endSession(id: $id) { sessionId } }`, { id: phoneSession }, desk);
    expect(ended.data.endSession).toEqual({ sessionId: phoneSession });
    const refused = await app.gql(`{ me { id } }`, {}, phone);
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: "UNAUTHENTICATED" }, message: expect.stringContaining("ended") });
    expect((await app.gql(`{ me { id } }`, {}, desk)).errors).toBeUndefined();
    expect((await app.gql(SESSIONS, {}, desk)).data.sessions).toHaveLength(1);
    expect(await app.deps.db.auditEntry.count({ where: { action: "session.end", objectId: phoneSession, actorId: world.user.id } })).toBe(1);
  });

  it("never shows or ends another principal's session to anyone but support, which reads them", async () => {
    const world = await makeWorld(app);
    const userSession = await loginAs(world.user.address, "x");
    const sessionId = (await app.gql(SESSIONS, {}, userSession)).data.sessions[0].id;
    for (const token of [world.tokens.admin, world.tokens.otherAdmin, world.tokens.support]) {
      expect(errorCode(await app.gql(`mutation($id: ID!) { endSession(id: $id) { sessionId } }`, { id: sessionId }, token))).toBe("NOT_FOUND");
    }
    for (const token of [world.tokens.admin, world.tokens.otherAdmin]) expect(errorCode(await app.gql(SESSIONS, { id: world.user.id }, token))).toBe("NOT_FOUND");
    const reader = await supportAdmin(app, uniqueName("reader"));
    await app.deps.db.supportAdmin.update({ where: { id: reader.id }, data: { level: "READ_ONLY" } });
    const bySupport = await app.gql(SESSIONS, { id: world.user.id }, await tokenFor(app, reader));
    expect(bySupport.data.sessions.map((s: { id: string }) => s.id)).toEqual([sessionId]);
    expect(errorCode(await app.gql(SESSIONS, {}))).toBe("UNAUTHENTICATED");
    expect((await app.gql(`{ me { id } }`, {}, userSession)).errors).toBeUndefined();
  });

  it("lets full support staff end all of a person's sessions (and tokens), and a principal end all of its own", async () => {
    const world = await makeWorld(app);
    const first = await loginAs(world.admin.address, "a");
    const second = await loginAs(world.admin.address, "b");
    const reader = await supportAdmin(app, uniqueName("reader"));
    await app.deps.db.supportAdmin.update({ where: { id: reader.id }, data: { level: "READ_ONLY" } });
    const END_ALL = `mutation($id: ID!) { endAllSessions(principalId: $id) { principalId endedCount } }`;
    expect(errorCode(await app.gql(END_ALL, { id: world.admin.id }, await tokenFor(app, reader)))).toBe("FORBIDDEN");
    const ended = await app.gql(END_ALL, { id: world.admin.id }, world.tokens.support);
    expect(ended.data.endAllSessions).toEqual({ principalId: world.admin.id, endedCount: 2 });
    for (const token of [first, second, world.tokens.admin]) expect(errorCode(await app.gql(`{ me { id } }`, {}, token))).toBe("UNAUTHENTICATED");
    // Its own: a user ends every session of its own.
    const mine = await loginAs(world.user.address, "c");
    const own = await app.gql(END_ALL, { id: world.user.id }, mine);
    expect(own.data.endAllSessions).toEqual({ principalId: world.user.id, endedCount: 1 });
    expect(errorCode(await app.gql(`{ me { id } }`, {}, mine))).toBe("UNAUTHENTICATED");
    expect(await app.deps.db.auditEntry.count({ where: { action: "session.end_all", objectId: { in: [world.admin.id, world.user.id] } } })).toBe(2);
  });

  it("reads a session's state with its principal: a token with a session costs the request no statement more than one without", async () => {
    const world = await makeWorld(app);
    const support = await supportAdmin(app);
    const cases = [
      { withSession: await loginAs(world.user.address, "x"), without: await tokenFor(app, world.user) },
      { withSession: await loginAs(support.username, "x"), without: await tokenFor(app, support) },
    ];
    const statementsOf = async (token: string) => {
      const before = app.statements.length;
      const response = await app.gql(`{ me { id } }`, {}, token);
      expect(response.errors).toBeUndefined();
      return app.workStatementsSince(before);
    };
    for (const { withSession, without } of cases) {
      // The first use records the session's last use (at most once a minute): not the request measured.
      await statementsOf(withSession);
      const sessionStatements = await statementsOf(withSession);
      expect(sessionStatements).toHaveLength((await statementsOf(without)).length);
      expect(sessionStatements.join("\n")).toMatch(/login_session/);
    }
  });
});
