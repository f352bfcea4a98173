// examples/provision.sh, run with bash against a test server with a support
// staff API token: the domain, its three mailboxes, the new administrator and
// the delivery log end up as the script says, a second run changes nothing,
// and a refused token stops it with the problem and a failing exit code.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";
import { logLine } from "../helpers/log-lines";

const SCRIPT = join(__dirname, "..", "..", "examples", "provision.sh");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function runScript(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile("bash", [SCRIPT, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe("examples/provision.sh", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it("provisions a domain with three mailboxes, makes Mary its administrator and reads her log, with curl, a token and a login for the administrator", async () => {
    const support = await supportAdmin(app);
    const { token, row } = await apiTokenOf(app, support, ["READ", "WRITE", "LOGS"]);
    const domainName = `${uniqueName("ex")}.example`;
    const mary = `mary@${domainName}`;
    const subject = uniqueName("quarterly report ");
    // A delivery of Mary's, pushed before her mailbox exists (records of unknown addresses are kept).
    const pushed = await fetch(`${app.url}/api/v1/mail-log/example-shipper`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ lines: [logLine({ direction: "LR", sender: mary, recipient: "boss@partner.example", subject })] }),
    });
    expect(pushed.status).toBe(200);

    const env = { MAILADMIN_URL: app.url, MAILADMIN_TOKEN: token, MAILADMIN_LOGIN_TOKEN: await tokenFor(app, support) };
    const first = await runScript(env, domainName);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`created: ${mary}, 2048 MiB, password (shown once): `);
    expect(first.stdout).toContain(`administrator of ${domainName}: ${mary} (was admin@${domainName})`);
    expect(first.stdout).toContain(`created: sales@${domainName} -> ${mary}, john@${domainName}`);
    expect(first.stdout).toContain(`created: info@${domainName} -> amy@${domainName}`);
    expect(first.stdout).toContain("1 record(s)");
    expect(first.stdout).toContain(`OUTBOUND OK ${mary} -> boss@partner.example "${subject}"`);

    const domain = await app.deps.db.domain.findUniqueOrThrow({ where: { name: domainName }, include: { admin: { include: { account: true } } } });
    expect(domain).toMatchObject({ quotaMb: 10240, maxAccounts: 50, defaultMailboxQuotaMb: 1024 });
    expect(domain.admin?.account.address).toBe(mary);
    const accounts = await app.deps.db.account.findMany({ where: { domainId: domain.id }, orderBy: { address: "asc" } });
    expect(accounts.map((account) => [account.address, account.displayName, account.quotaMb])).toEqual([
      [`admin@${domainName}`, `Administrator of ${domainName}`, 0],
      [`amy@${domainName}`, "Amy Lin", 1024],
      [`john@${domainName}`, "John Wang", 1024],
      [mary, "Mary Chen", 2048],
    ]);
    // The printed password is the one stored.
    const password = /created: mary@\S+, 2048 MiB, password \(shown once\): (\S+)/.exec(first.stdout)![1]!;
    expect(await app.deps.passwords.verify(password, accounts[3]!.passwordHash)).toBe(true);
    // Every change is audited as made by the support admin through this token.
    const audit = await app.deps.db.auditEntry.findMany({ where: { domainId: domain.id }, orderBy: { id: "asc" } });
    expect(audit.map((entry) => entry.action)).toEqual([
      "domain.create",
      "account.create",
      "account.create",
      "account.create",
      "account.create",
      "alias.create",
      "alias.create",
      "domain.reassign_admin",
    ]);
    expect(audit.every((entry) => entry.actorId === support.id)).toBe(true);
    // The administrator changed through the login session, everything else through the token.
    expect(audit.map((entry) => entry.viaApiToken)).toEqual([...Array(7).fill(`mat_${row.publicId}`), null]);

    // Run again: the same state, nothing new in the audit trail.
    const second = await runScript(env, domainName);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`up to date: ${mary}, 2048 MiB`);
    expect(second.stdout).toContain(`administrator of ${domainName}: ${mary} (unchanged)`);
    expect(second.stdout).toContain(`up to date: sales@${domainName} -> ${mary}, john@${domainName}`);
    expect(second.stdout).not.toContain("shown once");
    expect(await app.deps.db.account.findMany({ where: { domainId: domain.id }, orderBy: { address: "asc" } })).toEqual(accounts);
    expect(await app.deps.db.auditEntry.count({ where: { domainId: domain.id } })).toBe(audit.length);
  });

  it("without a login token, provisions everything but the administrator and says so", async () => {
    const support = await supportAdmin(app);
    const { token } = await apiTokenOf(app, support, ["READ", "WRITE", "LOGS"]);
    const domainName = `${uniqueName("ex")}.example`;
    const run = await runScript({ MAILADMIN_URL: app.url, MAILADMIN_TOKEN: token }, domainName);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`skipped: making mary@${domainName} the administrator needs a login session`);
    expect(run.stdout).not.toContain(`admin@${domainName} password`);
    const domain = await app.deps.db.domain.findUniqueOrThrow({ where: { name: domainName }, include: { admin: { include: { account: true } } } });
    expect(domain.admin?.account.address).toBe(`admin@${domainName}`);
  });

  it("stops at the first refusal with the problem on stderr and a failing exit code", async () => {
    const support = await supportAdmin(app);
    const readOnly = await apiTokenOf(app, support, ["READ"]);
    const domainName = `${uniqueName("ex")}.example`;
    const run = await runScript({ MAILADMIN_URL: app.url, MAILADMIN_TOKEN: readOnly.token }, domainName);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^PUT /domains/${domainName.replace(/\./g, "\\.")}: 403 FORBIDDEN: .*needs the WRITE scope`));
    expect(await app.deps.db.domain.findUnique({ where: { name: domainName } })).toBeNull();

    const missing = await runScript({ MAILADMIN_URL: app.url }, domainName);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("MAILADMIN_TOKEN");
  });
});
