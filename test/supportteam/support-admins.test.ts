// The support team through HTTP: named support accounts at two levels, managed
// by full support staff; the last active full support admin is protected; the
// audit trail names the person.
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, PASSWORD, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const FIELDS = "id username displayName level role status totpEnabled loginName";

async function login(identifier: string, password: string) {
  return app.gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token enrollmentRequired challenge { challenge } principal { role } } }`, {
    i: identifier,
    p: password,
  });
}

/** Every active FULL support admin but `keep` made READ_ONLY, so that `keep` is the last one (tests of the protection). */
async function onlyFullAdmin(keep: string) {
  await app.deps.db.supportAdmin.updateMany({ where: { id: { not: keep }, level: "FULL" }, data: { level: "READ_ONLY" } });
}

async function restoreFullAdmins(ids: string[]) {
  await app.deps.db.supportAdmin.updateMany({ where: { id: { in: ids } }, data: { level: "FULL" } });
}

describe("support staff accounts", () => {
  it("lets full support staff add a colleague at either level; the generated password is shown once and logs in; the audit names the person", async () => {
    const chief = await supportAdmin(app);
    await app.deps.db.supportAdmin.update({ where: { id: chief.id }, data: { displayName: "Chief Lin" } });
    const token = await tokenFor(app, chief);
    const username = uniqueName("mary");
    const created = await app.gql(
      `mutation($u: String!) { createSupportAdmin(input: { username: $u, displayName: "Mary Chen", level: READ_ONLY }) { supportAdmin { ${FIELDS} } generatedPassword } }`,
      { u: username.toUpperCase() },
      token,
    );
    expect(created.errors).toBeUndefined();
    const { supportAdmin: mary, generatedPassword } = created.data.createSupportAdmin;
    expect(mary).toMatchObject({ username, displayName: "Mary Chen", level: "READ_ONLY", role: "SUPPORT_READONLY", status: "ACTIVE", totpEnabled: false, loginName: username });
    expect(generatedPassword).toMatch(/^[A-Za-z0-9]{24}$/);
    const stored = await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: mary.id } });
    expect(stored.passwordHash).not.toContain(generatedPassword);
    const entry = await app.deps.db.auditEntry.findFirstOrThrow({ where: { action: "support_admin.create", objectId: mary.id } });
    expect(entry).toMatchObject({ actorId: chief.id, actorName: chief.username, actorDisplayName: "Chief Lin", actorRole: "SUPPORT_ADMIN" });
    expect(JSON.stringify(entry.changes)).not.toContain(generatedPassword);
    expect(entry.changes).toContainEqual({ field: "password", before: null, after: "(changed)" });

    const loggedIn = await login(username, generatedPassword);
    expect(loggedIn.errors).toBeUndefined();
    expect(loggedIn.data.login).toMatchObject({ principal: { role: "SUPPORT_READONLY" }, challenge: null, enrollmentRequired: false });
    // The audit trail of the read-only colleague's login names her.
    const audit = await app.gql(`query($id: ID) { auditLog(objectId: $id, action: "auth.login") { nodes { actorName actorDisplayName } } }`, { id: mary.id }, token);
    expect(audit.data.auditLog.nodes).toEqual([{ actorName: username, actorDisplayName: "Mary Chen" }]);
  });

  it("lists the support staff to support staff of both levels, and to nobody else", async () => {
    const world = await makeWorld(app);
    const reader = await supportAdmin(app, uniqueName("reader"));
    await app.deps.db.supportAdmin.update({ where: { id: reader.id }, data: { level: "READ_ONLY" } });
    const query = `{ supportAdmins { id username level } }`;
    const full = await app.gql(query, {}, world.tokens.support);
    expect(full.errors).toBeUndefined();
    expect(full.data.supportAdmins).toContainEqual({ id: reader.id, username: reader.username, level: "READ_ONLY" });
    const byReader = await app.gql(query, {}, await tokenFor(app, reader));
    expect(byReader.data.supportAdmins).toEqual(full.data.supportAdmins);
    for (const token of [world.tokens.admin, world.tokens.otherAdmin, world.tokens.user]) expect(errorCode(await app.gql(query, {}, token))).toBe("FORBIDDEN");
    expect(errorCode(await app.gql(query, {}))).toBe("UNAUTHENTICATED");
  });

  it("refuses every change of support accounts to read-only support staff, domain administrators and users, changing nothing", async () => {
    const world = await makeWorld(app);
    const reader = await supportAdmin(app, uniqueName("reader"));
    await app.deps.db.supportAdmin.update({ where: { id: reader.id }, data: { level: "READ_ONLY" } });
    const target = await supportAdmin(app);
    const before = await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: target.id } });
    const tokens = { readOnly: await tokenFor(app, reader), admin: world.tokens.admin, otherAdmin: world.tokens.otherAdmin, user: world.tokens.user, anonymous: undefined };
    const expected = { readOnly: "FORBIDDEN", admin: "FORBIDDEN", otherAdmin: "FORBIDDEN", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" };
    for (const [role, token] of Object.entries(tokens)) {
      const responses = [
        await app.gql(
          `mutation($u: String!) { createSupportAdmin(input: { username: $u, displayName: "X", level: FULL }) { supportAdmin { id } } }`,
          { u: uniqueName("x") },
          token,
        ),
        await app.gql(`mutation($id: ID!) { updateSupportAdmin(id: $id, input: { status: DISABLED }) { supportAdmin { id } } }`, { id: target.id }, token),
        await app.gql(`mutation($id: ID!) { deleteSupportAdmin(id: $id) { deletedSupportAdminId } }`, { id: target.id }, token),
      ];
      for (const response of responses) expect([role, errorCode(response)]).toEqual([role, expected[role as keyof typeof expected]]);
    }
    expect(await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: target.id } })).toEqual(before);
    const readOnlyRefusal = await app.gql(`mutation($id: ID!) { deleteSupportAdmin(id: $id) { deletedSupportAdminId } }`, { id: target.id }, tokens.readOnly);
    expect(readOnlyRefusal.errors?.[0]?.message).toMatch(/read-only/);
  });

  it("disables a colleague (logins and tokens refused at once), re-enables it, resets its password (its sessions end) and deletes it", async () => {
    const chief = await supportAdmin(app);
    const token = await tokenFor(app, chief);
    const colleague = await supportAdmin(app);
    const session = (await login(colleague.username, PASSWORD)).data.login.token as string;
    expect((await app.gql(`{ me { loginName } }`, {}, session)).data.me.loginName).toBe(colleague.username);

    const disabled = await app.gql(`mutation($id: ID!) { updateSupportAdmin(id: $id, input: { status: DISABLED }) { supportAdmin { status } } }`, { id: colleague.id }, token);
    expect(disabled.data.updateSupportAdmin.supportAdmin.status).toBe("DISABLED");
    expect(errorCode(await app.gql(`{ me { loginName } }`, {}, session))).toBe("UNAUTHENTICATED");
    const refused = await login(colleague.username, PASSWORD);
    expect(errorCode(refused)).toBe("UNAUTHENTICATED");
    expect(refused.errors?.[0]?.message).not.toMatch(/Wrong/);
    expect(await app.deps.db.loginSession.count({ where: { principalId: colleague.id, endedAt: null } })).toBe(0);

    const enabled = await app.gql(`mutation($id: ID!) { updateSupportAdmin(id: $id, input: { status: ACTIVE }) { supportAdmin { status } } }`, { id: colleague.id }, token);
    expect(enabled.data.updateSupportAdmin.supportAdmin.status).toBe("ACTIVE");
    const again = (await login(colleague.username, PASSWORD)).data.login.token as string;
    expect((await app.gql(`{ me { loginName } }`, {}, again)).errors).toBeUndefined();

    const reset = await app.gql(
      `mutation($id: ID!) { updateSupportAdmin(id: $id, input: { password: "a brand new password 42", displayName: "Renamed" }) { supportAdmin { displayName } } }`,
      { id: colleague.id },
      token,
    );
    expect(reset.errors).toBeUndefined();
    expect(errorCode(await app.gql(`{ me { loginName } }`, {}, again))).toBe("UNAUTHENTICATED");
    expect(errorCode(await login(colleague.username, PASSWORD))).toBe("UNAUTHENTICATED");
    expect((await login(colleague.username, "a brand new password 42")).data.login.token).toEqual(expect.any(String));
    const update = await app.deps.db.auditEntry.findMany({ where: { objectId: colleague.id, action: "support_admin.update" }, orderBy: { id: "asc" } });
    expect(update.map((entry) => entry.changes)).toEqual([
      [{ field: "status", before: "ACTIVE", after: "DISABLED" }],
      [{ field: "status", before: "DISABLED", after: "ACTIVE" }],
      [
        { field: "displayName", before: "Test support", after: "Renamed" },
        { field: "password", before: "(changed)", after: "(changed)" },
      ],
    ]);

    const deleted = await app.gql(`mutation($id: ID!) { deleteSupportAdmin(id: $id) { deletedSupportAdminId username } }`, { id: colleague.id }, token);
    expect(deleted.data.deleteSupportAdmin).toEqual({ deletedSupportAdminId: colleague.id, username: colleague.username });
    expect(await app.deps.db.supportAdmin.findUnique({ where: { id: colleague.id } })).toBeNull();
    expect(await app.deps.db.auditEntry.count({ where: { objectId: colleague.id, action: "support_admin.delete", actorId: chief.id } })).toBe(1);
  });

  it("never disables, demotes or deletes the last active full support admin, and says why", async () => {
    const last = await supportAdmin(app);
    const others = await app.deps.db.supportAdmin.findMany({ where: { id: { not: last.id }, level: "FULL" }, select: { id: true } });
    await onlyFullAdmin(last.id);
    try {
      const token = await tokenFor(app, last);
      const before = await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: last.id } });
      for (const [mutation, field] of [
        [`updateSupportAdmin(id: $id, input: { status: DISABLED }) { supportAdmin { id } }`, "status"],
        [`updateSupportAdmin(id: $id, input: { level: READ_ONLY }) { supportAdmin { id } }`, "level"],
        [`deleteSupportAdmin(id: $id) { deletedSupportAdminId }`, "id"],
      ]) {
        const response = await app.gql(`mutation($id: ID!) { ${mutation} }`, { id: last.id }, token);
        expect(response.errors?.[0]).toMatchObject({ extensions: { code: "CONFLICT", field }, message: expect.stringContaining("last active FULL support admin") });
      }
      expect(await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: last.id } })).toEqual(before);
      // With a second full admin, the first may go.
      const second = await supportAdmin(app);
      const disabled = await app.gql(
        `mutation($id: ID!) { updateSupportAdmin(id: $id, input: { status: DISABLED }) { supportAdmin { status } } }`,
        { id: last.id },
        await tokenFor(app, second),
      );
      expect(disabled.data.updateSupportAdmin.supportAdmin.status).toBe("DISABLED");
    } finally {
      await restoreFullAdmins(others.map((other) => other.id));
    }
  });

  it("refuses bad input naming the field, and a username already taken as CONFLICT", async () => {
    const token = await tokenFor(app, await supportAdmin(app));
    const create = (input: string) => app.gql(`mutation { createSupportAdmin(input: ${input}) { supportAdmin { id } } }`, {}, token);
    const taken = await supportAdmin(app);
    const cases: [string, string, string][] = [
      [`{ username: "mary@example.com", displayName: "Mary", level: FULL }`, "BAD_USER_INPUT", "username"],
      [`{ username: "${uniqueName("m")}", displayName: "   ", level: FULL }`, "BAD_USER_INPUT", "displayName"],
      [`{ username: "${uniqueName("m")}", displayName: "Mary", level: FULL, password: "short" }`, "BAD_USER_INPUT", "password"],
      [`{ username: "${taken.username}", displayName: "Mary", level: FULL }`, "CONFLICT", "username"],
    ];
    for (const [input, code, field] of cases) expect((await create(input)).errors?.[0]?.extensions).toMatchObject({ code, field });
    const missing = await app.gql(`mutation { deleteSupportAdmin(id: "0190a0a0-0000-7000-8000-000000000000") { deletedSupportAdminId } }`, {}, token);
    expect(errorCode(missing)).toBe("NOT_FOUND");
  });
});
