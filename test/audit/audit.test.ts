import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, supportAdmin, tokenFor } from "../helpers/factories";

const AUDIT = `query($domainId: ID, $objectId: ID, $action: String, $first: Int, $after: String) {
  auditLog(domainId: $domainId, objectId: $objectId, action: $action, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { action actorRole actorName objectType objectId domainId domainName requestId changes { field before after } }
  }
}`;

describe("audit trail", () => {
  let app: TestApp;
  let supportToken: string;
  let supportName: string;
  beforeAll(async () => {
    app = await startTestApp();
    const support = await supportAdmin(app);
    supportName = support.username;
    supportToken = await tokenFor(app, support);
  });
  afterAll(() => app.close());

  it("records who changed what, with the before and after of each changed field", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain, { quotaMb: 100 });
    const update = await app.gql(
      `mutation($id: ID!) { updateAccount(id: $id, input: { quotaMb: 150, displayName: "New name" }) { account { id } } }`,
      { id: user.id },
      supportToken,
    );
    const requestId = update.headers.get("x-request-id");
    const trail = await app.gql(AUDIT, { objectId: user.id, action: "account.update" }, supportToken);
    expect(trail.data.auditLog.nodes).toEqual([
      {
        action: "account.update",
        actorRole: "SUPPORT_ADMIN",
        actorName: supportName,
        objectType: "account",
        objectId: user.id,
        domainId: domain.id,
        domainName: domain.name,
        requestId,
        changes: [
          { field: "displayName", before: "", after: "New name" },
          { field: "quotaMb", before: 100, after: 150 },
        ],
      },
    ]);
  });

  it("records password changes without their values", async () => {
    const { domain, admin } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    await app.gql(`mutation($id: ID!) { setAccountPassword(id: $id, password: "a secret password 1") { account { id } } }`, { id: user.id }, await tokenFor(app, admin));
    const rows = await app.deps.db.auditEntry.findMany({ where: { objectId: user.id } });
    expect(JSON.stringify(rows.map((row) => row.changes))).not.toContain("a secret password 1");
    const trail = await app.gql(AUDIT, { objectId: user.id, action: "account.set_password" }, supportToken);
    expect(trail.data.auditLog.nodes[0]).toMatchObject({
      actorRole: "DOMAIN_ADMIN",
      actorName: admin.address,
      changes: [{ field: "password", before: "(changed)", after: "(changed)" }],
    });
  });

  it("shows a domain administrator its own domain's trail only", async () => {
    const mine = await makeDomain(app);
    const theirs = await makeDomain(app);
    await makeAccount(app, mine.domain);
    const adminToken = await tokenFor(app, mine.admin);
    const own = await app.gql(AUDIT, {}, adminToken);
    expect(own.data.auditLog.totalCount).toBeGreaterThanOrEqual(3);
    expect(new Set(own.data.auditLog.nodes.map((node: any) => node.domainId))).toEqual(new Set([mine.domain.id]));
    expect(errorCode(await app.gql(AUDIT, { domainId: theirs.domain.id }, adminToken))).toBe("NOT_FOUND");
    const user = await makeAccount(app, mine.domain);
    expect(errorCode(await app.gql(AUDIT, {}, await tokenFor(app, user)))).toBe("FORBIDDEN");
    expect(errorCode(await app.gql(AUDIT, {}))).toBe("UNAUTHENTICATED");
  });

  it("pages newest first", async () => {
    const { domain } = await makeDomain(app);
    for (let index = 0; index < 3; index++) await makeAccount(app, domain);
    const first = await app.gql(AUDIT, { domainId: domain.id, action: "account.create", first: 2 }, supportToken);
    expect(first.data.auditLog.totalCount).toBe(4);
    const second = await app.gql(AUDIT, { domainId: domain.id, action: "account.create", first: 2, after: first.data.auditLog.pageInfo.endCursor }, supportToken);
    const addresses = [...first.data.auditLog.nodes, ...second.data.auditLog.nodes].map((node: any) => node.changes[0].after);
    expect(addresses).toHaveLength(4);
    expect(addresses[3]).toBe(`admin@${domain.name}`);
    expect(second.data.auditLog.pageInfo.hasNextPage).toBe(false);
  });

  it("writes no audit record for a refused change", async () => {
    const { domain } = await makeDomain(app, { quotaMb: 10, defaultMailboxQuotaMb: 5 });
    const before = await app.deps.db.auditEntry.count({ where: { domainId: domain.id } });
    const refused = await app.gql(
      `mutation($d: ID!) { createAccount(input: { domainId: $d, localPart: "toobig", password: "a good long password", quotaMb: 11 }) { account { id } } }`,
      { d: domain.id },
      supportToken,
    );
    expect(errorCode(refused)).toBe("QUOTA_EXCEEDED");
    expect(await app.deps.db.auditEntry.count({ where: { domainId: domain.id } })).toBe(before);
  });
});
