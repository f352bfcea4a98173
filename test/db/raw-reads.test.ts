// The hot paths read through the pg pool instead of Prisma (src/db/raw.ts):
// what they read must be what Prisma reads, value for value.
import fc from "fast-check";
import { preparedStatementName, rawRows, utcTimestamp } from "../../src/db/raw";
import { createPrismaClient, poolOf, preparesStatements } from "../../src/db/prisma";
import { listDomains } from "../../src/domains/domains.service";
import { authenticate } from "../../src/auth/authenticate";
import { createLoaders } from "../../src/loaders";
import { readMailLog } from "../../src/maillog/maillog.service";
import { ingestLines } from "../../src/maillog/ingest";
import { prismaExecutor } from "../../src/maillog/sql";
import { logLine } from "../helpers/log-lines";
import { makeAccount, makeDomain, uniqueName } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";
import type { TestApp } from "../helpers/test-app";

describe("reads through the pg pool", () => {
  let app: TestApp;
  useTestApp((started) => ({ app } = started));

  it("reads domain and account rows exactly as Prisma does (timestamps, enums, nulls, JSON)", async () => {
    const { domain, admin } = await makeDomain(app, { quotaMb: 5000, maxAccounts: 7 });
    const account = await makeAccount(app, domain, { quotaMb: 12, displayName: "Mary 陳" });
    await app.deps.db.domain.update({
      where: { id: domain.id },
      data: { dnsCheck: { findings: [{ code: "MX_MISSING", ok: false }] }, dnsCheckedAt: new Date("2026-03-04T05:06:07.089Z") },
    });
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
    const page = await listDomains(app.deps, support, { search: prefix }, { admin: "all", usage: true });
    const plain = await listDomains(app.deps, support, { search: prefix });
    expect(page.totalCount).toBe(2);
    expect(page.nodes.map(({ preloaded: _preloaded, ...row }) => row)).toEqual(plain.nodes);
    expect(plain.nodes).toEqual(await app.deps.db.domain.findMany({ where: { name: { startsWith: prefix } }, orderBy: { name: "asc" } }));
    for (const node of page.nodes) {
      const admin = await app.deps.db.domainAdmin.findUniqueOrThrow({ where: { domainId: node.id }, include: { account: true } });
      // Every column but the password hash, which no page shows.
      const { passwordHash: _passwordHash, ...shown } = admin.account;
      expect(node.preloaded?.admin).toEqual(shown);
      expect(node.preloaded?.usage).toEqual(await createLoaders(app.deps.db).usageByDomainId.load(node.id));
    }
    expect(page.nodes[0]!.preloaded?.usage).toEqual({ accountCount: 2, allocatedQuotaMb: 30, usedMb: 14 });
  });

  it("reads delivery records as Prisma does, in pages, with the total on a page past the end", async () => {
    const { domain } = await makeDomain(app);
    const mary = await makeAccount(app, domain);
    const hour = 3_600_000;
    const lines = [1, 2, 3, 30 * 24].map((hoursAgo, index) => ({
      content: logLine({
        at: new Date(Date.now() - hoursAgo * hour),
        sender: mary.address,
        recipient: `bob${index}@remote.example`,
        status: index === 1 ? "RETRY.2 Connection refused" : "OK",
      }),
      lineNumber: index + 1,
    }));
    expect((await ingestLines(prismaExecutor(app.deps.db), { name: uniqueName("raw"), timeZone: "Asia/Taipei" }, lines)).accepted).toBe(4);
    const support = { kind: "support", id: "x", role: "SUPPORT_ADMIN", name: "x", tokenVersion: 0 } as const;
    const read = (after?: string | null) => readMailLog(app.deps, support, { address: mary.address, range: "LAST_6_MONTHS", first: 3, after });
    const expected = await app.deps.db.mailLogRecord.findMany({ where: { localAddress: mary.address }, orderBy: [{ loggedAt: "desc" }, { id: "desc" }] });
    const first = await read();
    expect(first.nodes).toEqual(expected.slice(0, 3));
    expect(typeof first.nodes[0]!.id).toBe("bigint");
    expect(first.totalCount).toBe(4);
    const second = await read(first.pageInfo.endCursor);
    expect(second.nodes).toEqual(expected.slice(3));
    expect(await read(second.pageInfo.endCursor)).toMatchObject({ nodes: [], totalCount: 4 });
  });

  it("falls back to unnamed statements when its connection's session already holds the name (a pooler, a shared session)", async () => {
    const db = createPrismaClient(process.env.DATABASE_URL!, 1);
    try {
      const text = `SELECT count(*)::int AS "domains" FROM "domain" WHERE "name" <> $1`;
      // Another user of the same session prepared that name: the pool's one connection cannot.
      await poolOf(db)!.query(`PREPARE ${preparedStatementName(text)} (text) AS ${text}`);
      expect(preparesStatements(db)).toBe(true);
      const [row] = await rawRows<{ domains: number }>(db, text, ["nowhere.example"]);
      expect(row!.domains).toBe(await app.deps.db.domain.count());
      expect(preparesStatements(db)).toBe(false);
      expect(await rawRows(db, text, ["nowhere.example"])).toEqual([row]);
      // A failed query's connection is dropped by the pool (PostgreSQL forgets the name with it); the embedded database's one session keeps it.
      await poolOf(db)!.query("DEALLOCATE ALL");
    } finally {
      await db.$disconnect();
      // A client that never ran a Prisma query leaves its pool to its owner (this test kept the process waiting 40 s).
      const pool = poolOf(db)!;
      if (!pool.ending) await pool.end();
    }
  });

  it("keeps preparing where connections share one session (the embedded database): a new connection drops the names an earlier one left", async () => {
    const text = `SELECT count(*)::int AS "domains" FROM "domain" WHERE "name" <> $1 AND "name" <> 'shared-session.example'`;
    const clients = [
      createPrismaClient(process.env.DATABASE_URL!, { max: 1, sharedSession: true }),
      createPrismaClient(process.env.DATABASE_URL!, { max: 1, sharedSession: true }),
    ];
    try {
      // On the embedded database the first client's statement outlives its use in the one session: without
      // sharedSession the second client would clash with its name and stop preparing.
      for (const db of clients) {
        const [row] = await rawRows<{ domains: number }>(db, text, ["nowhere.example"]);
        expect(row!.domains).toBe(await app.deps.db.domain.count());
        expect(preparesStatements(db)).toBe(true);
      }
    } finally {
      for (const db of clients) {
        await db.$disconnect();
        const pool = poolOf(db)!;
        if (!pool.ending) await pool.end();
      }
    }
  });

  it("authenticates an account with its row and role in one statement", async () => {
    const { domain, admin } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    for (const [account, isAdmin] of [
      [admin, true],
      [user, false],
    ] as const) {
      const token = app.deps.tokens.issue({ sub: account.id, kind: "account", ver: account.tokenVersion }).token;
      const before = app.statements.length;
      const authentication = await authenticate(app.deps.db, app.deps.tokens, `Bearer ${token}`);
      expect(app.statements.length - before).toBe(1);
      expect(authentication).toEqual({
        principal: {
          kind: "account",
          id: account.id,
          role: isAdmin ? "DOMAIN_ADMIN" : "USER",
          name: account.address,
          displayName: account.displayName,
          domainId: domain.id,
          tokenVersion: account.tokenVersion,
        },
        account: { row: await app.deps.db.account.findUniqueOrThrow({ where: { id: account.id } }), isAdmin },
        // The saved language comes with the row (src/i18n/request-language.ts): no statement of its own.
        language: null,
      });
    }
  });
});

describe("timestamps without a zone", () => {
  it("are read as UTC, to the millisecond, as Date's own parser reads them", () => {
    const text = (date: Date) =>
      date
        .toISOString()
        .replace("T", " ")
        .replace(/Z$/, "")
        .replace(/\.000$/, "");
    fc.assert(
      fc.property(fc.date({ min: new Date("0100-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z"), noInvalidDate: true }), (date) => {
        expect(utcTimestamp(text(date)).getTime()).toBe(date.getTime());
      }),
    );
    expect(utcTimestamp("2026-11-28 21:03:00.123456").toISOString()).toBe("2026-11-28T21:03:00.123Z");
    expect(utcTimestamp("2026-11-28 21:03:00.5").toISOString()).toBe("2026-11-28T21:03:00.500Z");
  });
});
