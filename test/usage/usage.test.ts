// Mailbox usage through HTTP: Dovecot's writes into mailbox_usage (made here
// with SQL on a connection of their own, as Dovecot's SQL dict makes them)
// reach the accounts through the table's trigger; foreign stores push usage
// (support staff, or a support token with the USAGE scope) and nobody else
// may; the mailboxes above a share of their quota are listed per role.
import { Client } from "pg";
import type { Account, Domain } from "../../src/generated/prisma/client";
import { loadConfig } from "../../src/config";
import { useTestApp } from "../helpers/use-test-app";
import type { TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";
import { RestClient } from "../helpers/rest-client";

const MiB = 1024 * 1024;

const ACCOUNT_USAGE = `query($id: ID) { account(id: $id) { address quotaMb usedMb messageCount usagePercent usageUpdatedAt domain { usedMb } } }`;
const REPORT = `mutation($input: [MailboxUsageInput!]!) {
  reportMailboxUsage(input: $input) { accepted rejected { index address field code message } }
}`;
const ABOVE = `query($percent: Int, $domainId: ID, $first: Int, $after: String) {
  mailboxesAboveQuota(percent: $percent, domainId: $domainId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { address usedMb quotaMb usagePercent }
  }
}`;

describe("mailbox usage", () => {
  let app: TestApp;
  let support: string;
  let rest: RestClient;
  /** A connection of its own to the run's database, as Dovecot's dict has. */
  let dovecot: Client;

  useTestApp((started) => {
    ({ app, support } = started);
  });

  beforeAll(async () => {
    rest = await RestClient.connect(app);
    dovecot = new Client({ connectionString: process.env.DATABASE_URL });
    await dovecot.connect();
  });
  afterAll(() => dovecot?.end());

  /** The statement Dovecot 2.3's SQL dict sends for quota_clone's two keys in one transaction. */
  async function dovecotSets(username: string, bytes: number, messages: number): Promise<void> {
    await dovecot.query(`INSERT INTO mailbox_usage (bytes,messages,username) VALUES ($1,$2,$3) ON CONFLICT (username) DO UPDATE SET bytes=$1,messages=$2`, [
      bytes,
      messages,
      username,
    ]);
  }

  async function usageRow(username: string) {
    const { rows } = await dovecot.query<{ username: string; bytes: string; messages: string; updated_at: Date }>(
      `SELECT username, bytes, messages, updated_at FROM mailbox_usage WHERE username = $1`,
      [username],
    );
    return rows[0];
  }

  async function domainWithMailbox(quotaMb = 100): Promise<{ domain: Domain; admin: Account; mailbox: Account; adminToken: string }> {
    const { domain, admin } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb });
    return { domain, admin, mailbox, adminToken: await tokenFor(app, admin) };
  }

  describe("Dovecot's writes (quota_clone through the SQL dict)", () => {
    it("reach the account: usedMb is the bytes in MiB rounded up, with the message count and when it was reported", async () => {
      const { mailbox, adminToken } = await domainWithMailbox(100);
      const before = await app.gql(ACCOUNT_USAGE, { id: mailbox.id }, adminToken);
      expect(before.data.account).toMatchObject({ usedMb: 0, messageCount: 0, usagePercent: 0, usageUpdatedAt: null });

      // Dovecot's user name as the user typed it at login: stored in lower case, matched to the account.
      await dovecotSets(mailbox.address.toUpperCase(), 5 * MiB + 1, 42);
      const after = await app.gql(ACCOUNT_USAGE, { id: mailbox.id }, adminToken);
      expect(after.errors).toBeUndefined();
      expect(after.data.account).toMatchObject({ address: mailbox.address, usedMb: 6, messageCount: 42, usagePercent: 6, domain: { usedMb: 6 } });
      const row = await usageRow(mailbox.address);
      expect(row).toMatchObject({ username: mailbox.address, bytes: String(5 * MiB + 1), messages: "42" });
      // Copied to the millisecond (the account keeps three decimals, the table six).
      expect(Math.abs(new Date(after.data.account.usageUpdatedAt).getTime() - row!.updated_at.getTime())).toBeLessThanOrEqual(1);

      // The same through REST.
      const [local, domainName] = mailbox.address.split("@");
      const viaRest = await rest.request("GET", `/api/v1/domains/${domainName}/accounts/${local}`, { token: adminToken });
      expect(viaRest.status).toBe(200);
      expect(viaRest.body.account).toMatchObject({ usedMb: 6, messageCount: 42, usagePercent: 6, usageUpdatedAt: after.data.account.usageUpdatedAt });
    });

    it("follow every later write, an update in place included, and 1 byte shows as 1 MiB", async () => {
      const { mailbox, adminToken } = await domainWithMailbox(100);
      await dovecotSets(mailbox.address, 3 * MiB, 10);
      expect((await app.gql(ACCOUNT_USAGE, { id: mailbox.id }, adminToken)).data.account).toMatchObject({ usedMb: 3, messageCount: 10 });
      const first = (await usageRow(mailbox.address))!.updated_at;

      // Dovecot's dict also increments in place.
      await dovecot.query(`UPDATE mailbox_usage SET bytes=bytes+$1, messages=messages+1 WHERE username = $2`, [MiB + 1, mailbox.address]);
      const incremented = (await app.gql(ACCOUNT_USAGE, { id: mailbox.id }, adminToken)).data.account;
      expect(incremented).toMatchObject({ usedMb: 5, messageCount: 11 });
      expect(new Date(incremented.usageUpdatedAt).getTime()).toBeGreaterThan(first.getTime());

      await dovecotSets(mailbox.address, 1, 1);
      expect((await app.gql(ACCOUNT_USAGE, { id: mailbox.id }, adminToken)).data.account).toMatchObject({ usedMb: 1, messageCount: 1, usagePercent: 1 });
      await dovecotSets(mailbox.address, 0, 0);
      expect((await app.gql(ACCOUNT_USAGE, { id: mailbox.id }, adminToken)).data.account).toMatchObject({ usedMb: 0, messageCount: 0 });
    });

    it("for an address without an account are kept and change no account; negative figures are stored as 0 rather than refused", async () => {
      const { domain, mailbox, adminToken } = await domainWithMailbox(100);
      const accountsBefore = await app.deps.db.account.findMany({ where: { domainId: domain.id }, orderBy: { id: "asc" } });
      const ghost = `${uniqueName("ghost")}@${domain.name}`;
      await dovecotSets(ghost, 7 * MiB, 3);
      expect(await usageRow(ghost)).toMatchObject({ bytes: String(7 * MiB), messages: "3" });
      expect(await app.deps.db.account.findMany({ where: { domainId: domain.id }, orderBy: { id: "asc" } })).toEqual(accountsBefore);

      await dovecotSets(mailbox.address, -5, -1);
      expect(await usageRow(mailbox.address)).toMatchObject({ bytes: "0", messages: "0" });
      expect((await app.gql(ACCOUNT_USAGE, { id: mailbox.id }, adminToken)).data.account).toMatchObject({ usedMb: 0, messageCount: 0 });
    });

    it("work for a role that may write mailbox_usage and nothing else (the mail server's least-privilege role)", async () => {
      const { mailbox, adminToken } = await domainWithMailbox(100);
      const role = uniqueName("mailusage_dovecot_");
      await dovecot.query(`CREATE ROLE ${role} NOLOGIN`);
      try {
        await dovecot.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
        await dovecot.query(`GRANT SELECT, INSERT, UPDATE ON mailbox_usage TO ${role}`);
        await dovecot.query(`SET ROLE ${role}`);
        try {
          await expect(dovecot.query(`UPDATE account SET "usedMb" = 1`)).rejects.toThrow(/permission denied/);
          await dovecotSets(mailbox.address, 9 * MiB, 9);
        } finally {
          await dovecot.query(`RESET ROLE`);
        }
        expect((await app.gql(ACCOUNT_USAGE, { id: mailbox.id }, adminToken)).data.account).toMatchObject({ usedMb: 9, messageCount: 9 });
      } finally {
        await dovecot.query(`DROP OWNED BY ${role}`);
        await dovecot.query(`DROP ROLE ${role}`);
      }
    });

    it("leave a quota-0 login (no mailbox) without a usage percentage", async () => {
      const { admin, adminToken } = await domainWithMailbox(100);
      expect(admin.quotaMb).toBe(0);
      await dovecotSets(admin.address, 2 * MiB, 2);
      expect((await app.gql(ACCOUNT_USAGE, { id: admin.id }, adminToken)).data.account).toMatchObject({ usedMb: 2, messageCount: 2, usagePercent: null });
    });
  });

  describe("the push of foreign stores (reportMailboxUsage, PUT /api/v1/mailbox-usage)", () => {
    it("by support staff stores the good rows, reports each bad one with its field and code, and writes one audit entry", async () => {
      const { domain, mailbox } = await domainWithMailbox(100);
      const second = await makeAccount(app, domain, { quotaMb: 50 });
      const unknown = `${uniqueName("nobody")}@${domain.name}`;
      const input = [
        { address: mailbox.address, bytes: 10 * MiB, messages: 100 },
        { address: unknown, bytes: 1, messages: 1 },
        { address: second.address.toUpperCase(), bytes: 49 * MiB + 5, messages: 7 },
        { address: "not an address", bytes: 1, messages: 1 },
        { address: mailbox.address, bytes: 1, messages: 1 },
        { address: second.address, bytes: -1, messages: 0 },
        { address: second.address, bytes: 1.5, messages: 0 },
        { address: second.address, bytes: 0, messages: -3 },
        { address: second.address, bytes: 2 ** 53, messages: 0 },
      ];
      const auditBefore = await app.deps.db.auditEntry.count({ where: { action: "mailbox_usage.report" } });
      const response = await app.gql(REPORT, { input }, support);
      expect(response.errors).toBeUndefined();
      const { accepted, rejected } = response.data.reportMailboxUsage;
      expect(accepted).toBe(2);
      expect(rejected.map((row: { index: number; field: string; code: string }) => [row.index, row.field, row.code])).toEqual([
        [1, "address", "NOT_FOUND"],
        [3, "address", "BAD_USER_INPUT"],
        [4, "address", "BAD_USER_INPUT"],
        [5, "bytes", "BAD_USER_INPUT"],
        [6, "bytes", "BAD_USER_INPUT"],
        [7, "messages", "BAD_USER_INPUT"],
        [8, "bytes", "BAD_USER_INPUT"],
      ]);
      expect(rejected[0].message).toContain(unknown);
      expect(rejected[2].message).toMatch(/already given in row 0/);
      expect(rejected[3].message).toMatch(/cannot be negative/);

      const stored = await app.deps.db.account.findMany({ where: { id: { in: [mailbox.id, second.id] } }, orderBy: { quotaMb: "desc" } });
      expect(stored.map((account) => [account.usedMb, account.messageCount])).toEqual([
        [10, 100],
        [50, 7],
      ]);
      expect(await usageRow(unknown)).toBeUndefined();

      const entries = await app.deps.db.auditEntry.findMany({ where: { action: "mailbox_usage.report", requestId: response.headers.get("x-request-id") } });
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({
        actorRole: "SUPPORT_ADMIN",
        objectType: "mailbox_usage",
        objectId: null,
        domainId: domain.id,
        domainName: domain.name,
        changes: [
          { field: "accepted", before: null, after: 2 },
          { field: "rejected", before: null, after: 7 },
        ],
      });
      expect(await app.deps.db.auditEntry.count({ where: { action: "mailbox_usage.report" } })).toBe(auditBefore + 1);
    });

    it("by a support token with the USAGE scope works over REST and GraphQL, and is audited with the token", async () => {
      const creator = await supportAdmin(app);
      const { token, row } = await apiTokenOf(app, creator, ["USAGE"]);
      const a = await domainWithMailbox(100);
      const b = await domainWithMailbox(100);
      const pushed = await rest.request("PUT", "/api/v1/mailbox-usage", {
        token,
        json: {
          mailboxes: [
            { address: a.mailbox.address, bytes: 20 * MiB, messages: 5 },
            { address: b.mailbox.address, bytes: 30 * MiB, messages: 6 },
          ],
        },
      });
      expect(pushed.status).toBe(200);
      expect(pushed.body).toEqual({ accepted: 2, rejected: [] });
      const entry = await app.deps.db.auditEntry.findFirstOrThrow({ where: { action: "mailbox_usage.report", requestId: pushed.headers.get("x-request-id") } });
      // Two domains: filed under none.
      expect(entry).toMatchObject({ actorId: creator.id, viaApiToken: `mat_${row.publicId}`, domainId: null });
      expect((await app.gql(ACCOUNT_USAGE, { id: b.mailbox.id }, b.adminToken)).data.account).toMatchObject({ usedMb: 30, messageCount: 6, usagePercent: 30 });

      const viaGraphql = await app.gql(REPORT, { input: [{ address: a.mailbox.address, bytes: 21 * MiB, messages: 9 }] }, token);
      expect(viaGraphql.data.reportMailboxUsage).toEqual({ accepted: 1, rejected: [] });
      expect((await app.gql(ACCOUNT_USAGE, { id: a.mailbox.id }, a.adminToken)).data.account).toMatchObject({ usedMb: 21, messageCount: 9 });

      // The REST body is checked too: a row without messages is refused whole (400, nothing stored).
      const malformed = await rest.request("PUT", "/api/v1/mailbox-usage", { token, json: { mailboxes: [{ address: a.mailbox.address, bytes: 1 }] } });
      expect(malformed.status).toBe(400);
      expect((await app.gql(ACCOUNT_USAGE, { id: a.mailbox.id }, a.adminToken)).data.account).toMatchObject({ usedMb: 21 });
    });

    it("refuses an empty push and one of more than 10,000 rows as bad input", async () => {
      const empty = await app.gql(REPORT, { input: [] }, support);
      expect(empty.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input" });
      const rows = Array.from({ length: 10_001 }, (_, index) => ({ address: `u${index}@nowhere.example`, bytes: 0, messages: 0 }));
      const huge = await rest.request("PUT", "/api/v1/mailbox-usage", { token: support, json: { mailboxes: rows } });
      expect(huge.status).toBe(400);
    });

    describe("is refused to anyone else, and changes nothing", () => {
      async function attempt(token: string | undefined, address: string) {
        return {
          graphql: await app.gql(REPORT, { input: [{ address, bytes: 99 * MiB, messages: 99 }] }, token),
          rest: await rest.request("PUT", "/api/v1/mailbox-usage", { token, json: { mailboxes: [{ address, bytes: 99 * MiB, messages: 99 }] } }),
        };
      }

      async function expectRefusedAndNothingStored(token: string | undefined, target: Account, code: "FORBIDDEN" | "UNAUTHENTICATED", message?: RegExp) {
        const auditBefore = await app.deps.db.auditEntry.count({ where: { action: "mailbox_usage.report" } });
        const { graphql, rest: viaRest } = await attempt(token, target.address);
        expect(graphql.data).toBeNull();
        expect(graphql.errors?.map((error) => ({ code: error.extensions.code, path: error.path }))).toEqual([{ code, path: ["reportMailboxUsage"] }]);
        if (message) expect(graphql.errors![0]!.message).toMatch(message);
        expect(viaRest.status).toBe(code === "FORBIDDEN" ? 403 : 401);
        expect(viaRest.body.code).toBe(code);
        expect(await usageRow(target.address)).toBeUndefined();
        expect(await app.deps.db.account.findUniqueOrThrow({ where: { id: target.id } })).toMatchObject({ usedMb: 0, messageCount: 0, usageUpdatedAt: null });
        expect(await app.deps.db.auditEntry.count({ where: { action: "mailbox_usage.report" } })).toBe(auditBefore);
      }

      it("a domain administrator, for another domain or for its own", async () => {
        const world = await makeWorld(app);
        const otherMailbox = await makeAccount(app, world.otherDomain, { quotaMb: 10 });
        const ownMailbox = await makeAccount(app, world.domain, { quotaMb: 10 });
        await expectRefusedAndNothingStored(world.tokens.admin, otherMailbox, "FORBIDDEN", /Only support staff/);
        await expectRefusedAndNothingStored(world.tokens.admin, ownMailbox, "FORBIDDEN", /Only support staff/);
      });

      it("a domain administrator's own API token, even with the USAGE scope", async () => {
        const world = await makeWorld(app);
        const ownMailbox = await makeAccount(app, world.domain, { quotaMb: 10 });
        const { token } = await apiTokenOf(app, world.admin, ["USAGE", "WRITE"]);
        await expectRefusedAndNothingStored(token, ownMailbox, "FORBIDDEN");
      });

      it("an ordinary user, for itself", async () => {
        const world = await makeWorld(app);
        await expectRefusedAndNothingStored(world.tokens.user, world.user, "FORBIDDEN");
      });

      it("a support token without the USAGE scope (WRITE does not cover it)", async () => {
        const { token } = await apiTokenOf(app, await supportAdmin(app), ["READ", "WRITE", "LOGS"]);
        const { mailbox } = await domainWithMailbox();
        await expectRefusedAndNothingStored(token, mailbox, "FORBIDDEN", /needs the USAGE scope/);
      });

      it("an anonymous caller", async () => {
        const { mailbox } = await domainWithMailbox();
        await expectRefusedAndNothingStored(undefined, mailbox, "UNAUTHENTICATED");
      });

      it("and a USAGE token can do nothing else: no query, no other change", async () => {
        const { token } = await apiTokenOf(app, await supportAdmin(app), ["USAGE"]);
        const { domain, mailbox } = await domainWithMailbox();
        const read = await app.gql(`query($id: ID) { domain(id: $id) { id } }`, { id: domain.id }, token);
        expect(read.errors?.[0]?.extensions.code).toBe("FORBIDDEN");
        const change = await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { quotaMb: 1 }) { account { id } } }`, { id: mailbox.id }, token);
        expect(change.errors?.[0]?.extensions.code).toBe("FORBIDDEN");
        expect((await app.deps.db.account.findUniqueOrThrow({ where: { id: mailbox.id } })).quotaMb).toBe(100);
      });
    });

    it("the deprecated updateAccount usedMb (support staff) goes through mailbox_usage like a report", async () => {
      const { mailbox, adminToken } = await domainWithMailbox(100);
      await app.gql(REPORT, { input: [{ address: mailbox.address, bytes: 1, messages: 12 }] }, support);
      const updated = await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { usedMb: 42 }) { account { usedMb messageCount } } }`, { id: mailbox.id }, support);
      expect(updated.errors).toBeUndefined();
      expect(updated.data.updateAccount.account).toEqual({ usedMb: 42, messageCount: 12 });
      expect(await usageRow(mailbox.address)).toMatchObject({ bytes: String(42 * MiB), messages: "12" });
      const refused = await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { usedMb: 1 }) { account { usedMb } } }`, { id: mailbox.id }, adminToken);
      expect(refused.errors?.[0]?.extensions.code).toBe("FORBIDDEN");
      expect(await usageRow(mailbox.address)).toMatchObject({ bytes: String(42 * MiB) });
    });
  });

  describe("mailboxes above a share of their quota", () => {
    /** A domain whose mailboxes use 50 %, 79 %, 80 %, 95 % and 120 % of 100 MiB, and a quota-0 login with usage. */
    async function fill() {
      const { domain, admin } = await makeDomain(app);
      const mailboxes: Record<string, Account> = {};
      for (const percent of [50, 79, 80, 95, 120]) mailboxes[percent] = await makeAccount(app, domain, { quotaMb: 100, localPart: `${uniqueName(`p${percent}x`)}` });
      for (const [percent, account] of Object.entries(mailboxes)) await dovecotSets(account.address, Number(percent) * MiB, Number(percent));
      await dovecotSets(admin.address, 500 * MiB, 1);
      const user = mailboxes[50]!;
      return { domain, admin, mailboxes, tokens: { admin: await tokenFor(app, admin), user: await tokenFor(app, user) } };
    }
    const addresses = (accounts: Account[]) => accounts.map((account) => account.address).sort();

    it("lists for a domain administrator its own domain's mailboxes at or above the threshold (default: the lowest of QUOTA_WARNING_PERCENTS)", async () => {
      expect(app.config.QUOTA_WARNING_PERCENTS).toEqual([80, 95]);
      const mine = await fill();
      const theirs = await fill();
      const { mailboxes } = mine;
      const byDefault = await app.gql(ABOVE, {}, mine.tokens.admin);
      expect(byDefault.errors).toBeUndefined();
      expect(byDefault.data.mailboxesAboveQuota.totalCount).toBe(3);
      expect(byDefault.data.mailboxesAboveQuota.nodes.map((node: { address: string }) => node.address)).toEqual(addresses([mailboxes[80]!, mailboxes[95]!, mailboxes[120]!]));
      expect(byDefault.data.mailboxesAboveQuota.nodes.find((node: { address: string }) => node.address === mailboxes[120]!.address)).toEqual({
        address: mailboxes[120]!.address,
        usedMb: 120,
        quotaMb: 100,
        usagePercent: 120,
      });

      const at95 = await app.gql(ABOVE, { percent: 95, domainId: mine.domain.id }, mine.tokens.admin);
      expect(at95.data.mailboxesAboveQuota.nodes.map((node: { address: string }) => node.address)).toEqual(addresses([mailboxes[95]!, mailboxes[120]!]));

      // Pages by address.
      const page1 = await app.gql(ABOVE, { first: 2 }, mine.tokens.admin);
      const page2 = await app.gql(ABOVE, { first: 2, after: page1.data.mailboxesAboveQuota.pageInfo.endCursor }, mine.tokens.admin);
      expect(page1.data.mailboxesAboveQuota.pageInfo.hasNextPage).toBe(true);
      expect([...page1.data.mailboxesAboveQuota.nodes, ...page2.data.mailboxesAboveQuota.nodes].map((node: { address: string }) => node.address)).toEqual(
        byDefault.data.mailboxesAboveQuota.nodes.map((node: { address: string }) => node.address),
      );

      // The same as a field of the domain.
      const field = await app.gql(
        `query($id: ID) { domain(id: $id) { mailboxesAboveQuota(percent: 100) { totalCount nodes { address } } } }`,
        { id: mine.domain.id },
        mine.tokens.admin,
      );
      expect(field.data.domain.mailboxesAboveQuota).toEqual({ totalCount: 1, nodes: [{ address: mailboxes[120]!.address }] });

      // Another domain is as if it did not exist.
      const other = await app.gql(ABOVE, { domainId: theirs.domain.id }, mine.tokens.admin);
      expect(other.errors?.[0]?.extensions.code).toBe("NOT_FOUND");
      expect(other.data).toBeNull();
    });

    it("lets support staff see every domain, or one; refuses an ordinary user and a bad percentage", async () => {
      const a = await fill();
      const b = await fill();
      const everywhere = await app.gql(ABOVE, { percent: 95, first: 100 }, support);
      const seen = everywhere.data.mailboxesAboveQuota.nodes.map((node: { address: string }) => node.address);
      expect(seen).toEqual(expect.arrayContaining(addresses([a.mailboxes[95]!, a.mailboxes[120]!, b.mailboxes[95]!, b.mailboxes[120]!])));
      expect(seen).not.toContain(a.mailboxes[80]!.address);
      expect(seen).not.toContain(a.admin.address);
      expect(everywhere.data.mailboxesAboveQuota.nodes.every((node: { usagePercent: number }) => node.usagePercent >= 95)).toBe(true);

      const one = await app.gql(ABOVE, { percent: 95, domainId: b.domain.id }, support);
      expect(one.data.mailboxesAboveQuota.nodes.map((node: { address: string }) => node.address)).toEqual(addresses([b.mailboxes[95]!, b.mailboxes[120]!]));

      for (const variables of [{}, { domainId: a.domain.id }]) {
        const refused = await app.gql(ABOVE, variables, a.tokens.user);
        expect(refused.errors?.[0]?.extensions.code).toBe("FORBIDDEN");
      }
      for (const percent of [0, -1, 1001]) {
        const bad = await app.gql(ABOVE, { percent }, support);
        expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "percent" });
      }
      expect((await app.gql(ABOVE, {}, undefined)).errors?.[0]?.extensions.code).toBe("UNAUTHENTICATED");
    });

    it("answers the same over REST (GET /api/v1/mailboxes-above-quota)", async () => {
      const a = await fill();
      const b = await fill();
      const own = await rest.request("GET", "/api/v1/mailboxes-above-quota", { token: a.tokens.admin, query: { percent: 95 } });
      expect(own.status).toBe(200);
      expect(own.body.items.map((item: { address: string }) => item.address)).toEqual(addresses([a.mailboxes[95]!, a.mailboxes[120]!]));
      expect(own.body.totalCount).toBe(2);
      const named = await rest.request("GET", "/api/v1/mailboxes-above-quota", { token: support, query: { domain: b.domain.name } });
      expect(named.body.items.map((item: { address: string }) => item.address)).toEqual(addresses([b.mailboxes[80]!, b.mailboxes[95]!, b.mailboxes[120]!]));
      expect((await rest.request("GET", "/api/v1/mailboxes-above-quota", { token: a.tokens.admin, query: { domain: b.domain.name } })).status).toBe(404);
      expect((await rest.request("GET", "/api/v1/mailboxes-above-quota", { token: a.tokens.user })).status).toBe(403);
      expect((await rest.request("GET", "/api/v1/mailboxes-above-quota", { token: support, query: { percent: 0 } })).status).toBe(400);
    });
  });

  describe("QUOTA_WARNING_PERCENTS", () => {
    it("is read as sorted, distinct whole percentages, and a bad value names the setting", () => {
      expect(loadConfig({ QUOTA_WARNING_PERCENTS: "95, 80,95" }).QUOTA_WARNING_PERCENTS).toEqual([80, 95]);
      for (const bad of ["80,", "0", "101", "eighty", "80;95"]) {
        expect(() => loadConfig({ QUOTA_WARNING_PERCENTS: bad })).toThrow(/QUOTA_WARNING_PERCENTS: must be whole percentages/);
      }
    });
  });
});
