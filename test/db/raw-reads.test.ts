// The hot paths read through the pg pool instead of Prisma (src/db/raw.ts):
// what they read must be what Prisma reads, value for value.
import fc from "fast-check";
import { rawRows, utcTimestamp } from "../../src/db/raw";
import { listDomains } from "../../src/domains/domains.service";
import { authenticate } from "../../src/auth/principal";
import { createLoaders } from "../../src/graphql/loaders";
import { makeAccount, makeDomain, uniqueName } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";
import type { TestApp } from "../helpers/test-app";

describe("reads through the pg pool", () => {
  let app: TestApp;
  useTestApp((started) => ({ app } = started));

  it("reads domain and account rows exactly as Prisma does (timestamps, enums, nulls, JSON)", async () => {
    const { domain, admin } = await makeDomain(app, { quotaMb: 5000, maxAccounts: 7 });
    const account = await makeAccount(app, domain, { quotaMb: 12, displayName: "Mary 陳" });
    await app.deps.db.domain.update({ where: { id: domain.id }, data: { dnsCheck: { findings: [{ code: "MX_MISSING", ok: false }] }, dnsCheckedAt: new Date("2026-03-04T05:06:07.089Z") } });
    const [rawDomain] = await rawRows(app.deps.db, `SELECT * FROM "domain" WHERE "id" = $1`, [domain.id]);
    expect(rawDomain).toEqual(await app.deps.db.domain.findUniqueOrThrow({ where: { id: domain.id } }));
    const rawAccounts = await rawRows(app.deps.db, `SELECT * FROM "account" WHERE "id" = ANY($1) ORDER BY "address"`, [[account.id, admin.id]]);
    expect(rawAccounts).toEqual(await app.deps.db.account.findMany({ where: { id: { in: [account.id, admin.id] } }, orderBy: { address: "asc" } }));
  });

  it("lists a page with its administrators and totals as the loaders would load them", async () => {
    const prefix = uniqueName("rawpage");
    const { domain } = await makeDomain(app, { name: `${prefix}-a.example`, quotaMb: 100 });
    await makeAccount(app, domain, { quotaMb: 30 });
    await app.deps.db.account.updateMany({ where: { domainId: domain.id }, data: { usedMb: 7 } });
    await makeDomain(app, { name: `${prefix}-b.example` });
    const support = { kind: "support", id: "x", role: "SUPPORT_ADMIN", name: "x", tokenVersion: 0 } as const;
    const page = await listDomains(app.deps, support, { search: prefix }, { admin: true, usage: true });
    const plain = await listDomains(app.deps, support, { search: prefix });
    expect(page.totalCount).toBe(2);
    expect(page.nodes.map(({ preloaded: _preloaded, ...row }) => row)).toEqual(plain.nodes);
    expect(plain.nodes).toEqual(await app.deps.db.domain.findMany({ where: { name: { startsWith: prefix } }, orderBy: { name: "asc" } }));
    for (const node of page.nodes) {
      const admin = await app.deps.db.domainAdmin.findUniqueOrThrow({ where: { domainId: node.id }, include: { account: true } });
      expect(node.preloaded?.admin).toEqual(admin.account);
      expect(node.preloaded?.usage).toEqual(await createLoaders(app.deps.db).usageByDomainId.load(node.id));
    }
    expect(page.nodes[0]!.preloaded?.usage).toEqual({ accountCount: 2, allocatedQuotaMb: 30, usedMb: 14 });
  });

  it("authenticates an account with its row and role in one statement", async () => {
    const { domain, admin } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    for (const [account, isAdmin] of [[admin, true], [user, false]] as const) {
      const token = app.deps.tokens.issue({ sub: account.id, kind: "account", ver: account.tokenVersion }).token;
      const before = app.statements.length;
      const authentication = await authenticate(app.deps.db, app.deps.tokens, `Bearer ${token}`);
      expect(app.statements.length - before).toBe(1);
      expect(authentication).toEqual({
        principal: { kind: "account", id: account.id, role: isAdmin ? "DOMAIN_ADMIN" : "USER", name: account.address, domainId: domain.id, tokenVersion: account.tokenVersion },
        account: { row: await app.deps.db.account.findUniqueOrThrow({ where: { id: account.id } }), isAdmin },
      });
    }
  });
});

describe("timestamps without a zone", () => {
  it("are read as UTC, to the millisecond, as Date's own parser reads them", () => {
    const text = (date: Date) => date.toISOString().replace("T", " ").replace(/Z$/, "").replace(/\.000$/, "");
    fc.assert(
      fc.property(fc.date({ min: new Date("0100-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true }), (date) => {
        expect(utcTimestamp(text(date)).getTime()).toBe(date.getTime());
      }),
    );
    expect(utcTimestamp("2026-11-28 21:03:00.123456").toISOString()).toBe("2026-11-28T21:03:00.123Z");
    expect(utcTimestamp("2026-11-28 21:03:00.5").toISOString()).toBe("2026-11-28T21:03:00.500Z");
  });
});
