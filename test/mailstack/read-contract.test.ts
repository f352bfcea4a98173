// The mail servers' read contract (schema mailserver_v1): what Postfix and
// Dovecot will read, as the API's changes make it, and, on PostgreSQL, a
// login of the least-privilege role that sees the views and nothing else.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { Client } from "pg";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeWorld } from "../helpers/factories";
import { grantMailServerReads } from "../../src/db/migrate";

const onPostgres = process.env.TEST_DATABASE_KIND === "postgresql";

describe("the mail servers' read contract (mailserver_v1)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  async function mailbox(address: string) {
    const rows = await app.deps.db.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM "mailserver_v1"."mailboxes" WHERE "address" = $1`, address);
    return rows[0];
  }

  it("shows a mailbox with its bcrypt hash for Dovecot, its quota in bytes and its place, as the API made it", async () => {
    const world = await makeWorld(app);
    const mary = await makeAccount(app, world.domain, { quotaMb: 3 });
    expect(await mailbox(mary.address)).toEqual({
      address: mary.address,
      local_part: mary.localPart,
      domain: world.domain.name,
      password: `{BLF-CRYPT}${mary.passwordHash}`,
      quota_bytes: BigInt(3 * 1048576),
      can_login: true,
      accepts_mail: true,
      maildir: `${world.domain.name}/${mary.localPart}/`,
      quota_warnings: true,
    });
    expect(mary.passwordHash).toMatch(/^\$2[aby]\$/);
    // A mailbox of a support test domain: no quota warnings (Dovecot's userdb reads it).
    const test = await makeWorld(app, { isTestDomain: true });
    const box = await makeAccount(app, test.domain, { quotaMb: 3 });
    expect(await mailbox(box.address)).toMatchObject({ quota_bytes: BigInt(3 * 1048576), accepts_mail: true, quota_warnings: false });
    // The administrator's default quota 0: a login, not a mailbox.
    expect(await mailbox(world.admin.address)).toMatchObject({ quota_bytes: 0n, accepts_mail: false, can_login: true });
  });

  it("gives a password Debian's Dovecot verifies, with the password set through the API and no other", async () => {
    if (!existsSync("/usr/bin/doveadm")) throw new Error("doveadm is missing: install the test servers with npm run test:deps (as root; Debian's dovecot-core).");
    const world = await makeWorld(app);
    const mary = await makeAccount(app, world.domain, { quotaMb: 3 });
    const set = `mutation($id: ID!, $password: String!) { setAccountPassword(id: $id, password: $password) { account { id } } }`;
    expect((await app.gql(set, { id: mary.id, password: "a password for IMAP 7" }, world.tokens.support)).errors).toBeUndefined();
    const { password } = (await mailbox(mary.address)) as { password: string };
    const verify = (candidate: string) => {
      try {
        execFileSync("doveadm", ["pw", "-t", password, "-p", candidate], { stdio: "pipe" });
        return true;
      } catch {
        return false;
      }
    };
    expect(verify("a password for IMAP 7")).toBe(true);
    expect(verify("a password for IMAP 8")).toBe(false);
  });

  it("follows suspensions: a suspended account cannot log in; a suspended domain and its accounts are gone from the contract", async () => {
    const world = await makeWorld(app);
    const mary = await makeAccount(app, world.domain, { quotaMb: 3 });
    const suspendAccount = `mutation($id: ID!) { updateAccount(id: $id, input: { status: SUSPENDED }) { account { status } } }`;
    expect((await app.gql(suspendAccount, { id: mary.id }, world.tokens.support)).errors).toBeUndefined();
    expect(await mailbox(mary.address)).toMatchObject({ can_login: false, accepts_mail: true });
    expect(await app.deps.db.$queryRawUnsafe(`SELECT 1 FROM "mailserver_v1"."sender_logins" WHERE "login" = $1`, mary.address)).toEqual([]);

    const suspendDomain = `mutation($id: ID!) { updateDomain(id: $id, input: { status: SUSPENDED }) { domain { status } } }`;
    expect((await app.gql(suspendDomain, { id: world.domain.id }, world.tokens.support)).errors).toBeUndefined();
    expect(await mailbox(world.admin.address)).toBeUndefined();
    expect(await app.deps.db.$queryRawUnsafe(`SELECT 1 FROM "mailserver_v1"."domains" WHERE "domain" = $1`, world.domain.name)).toEqual([]);
  });

  it('grants the mail role from several servers starting at once (no "tuple concurrently updated")', async () => {
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => grantMailServerReads(app.config.DATABASE_URL!)));
    expect(results.filter((result) => result.status === "rejected")).toEqual([]);
    const granted = await app.deps.db.$queryRawUnsafe<{ usable: boolean }[]>(`SELECT has_schema_privilege('mailadmin_mailserver', 'mailserver_v1', 'USAGE') AS usable`);
    expect(granted).toEqual([{ usable: true }]);
  });

  it("grants the mail role the views and nothing else", async () => {
    const can = async (object: string) => {
      const rows = await app.deps.db.$queryRawUnsafe<{ allowed: boolean }[]>(`SELECT has_table_privilege('mailadmin_mailserver', $1, 'SELECT') AS "allowed"`, object);
      return rows[0]!.allowed;
    };
    for (const view of ["domains", "mailboxes", "sender_logins", "app_passwords"]) expect(await can(`mailserver_v1.${view}`)).toBe(true);
    for (const table of ["audit_entry", "api_token", "support_admin", "mail_log_record", "account", "domain", "app_password", "totp_factor", "login_session"]) {
      expect(await can(`public.${table}`)).toBe(false);
    }
    // Dovecot's quota_clone writes usage into mailbox_usage (docs/usage.md).
    const writes = await app.deps.db.$queryRawUnsafe<{ allowed: boolean }[]>(
      `SELECT has_table_privilege('mailadmin_mailserver', 'public.mailbox_usage', 'INSERT, UPDATE') AS "allowed"`,
    );
    expect(writes[0]!.allowed).toBe(true);
  });

  // A real login of the role: the embedded database serves one session as one user.
  if (onPostgres)
    it("lets a login of the mail role read the views and refuses it every table", async () => {
      const world = await makeWorld(app);
      const url = new URL(process.env.DATABASE_URL!);
      const login = `mailserver_test_${randomBytes(4).toString("hex")}`;
      const password = randomBytes(12).toString("hex");
      await app.deps.db.$executeRawUnsafe(`CREATE ROLE "${login}" LOGIN PASSWORD '${password}' IN ROLE "mailadmin_mailserver"`);
      const client = new Client({ host: url.hostname, port: Number(url.port), database: url.pathname.slice(1), user: login, password });
      try {
        await client.connect();
        const seen = await client.query(`SELECT "domain" FROM "mailserver_v1"."domains" WHERE "domain" = $1`, [world.domain.name]);
        expect(seen.rows).toEqual([{ domain: world.domain.name }]);
        for (const table of ["audit_entry", "api_token", "support_admin", "mail_log_record", "account", "domain"]) {
          await expect(client.query(`SELECT 1 FROM "public"."${table}" LIMIT 1`)).rejects.toThrow(/permission denied/);
        }
      } finally {
        await client.end().catch(() => undefined);
        await app.deps.db.$executeRawUnsafe(`DROP ROLE "${login}"`);
      }
    });
});
