// The operator's commands: npm run mailserver:config writes the Debian host's
// files (the password only into files readable by their owner), and both
// commands say plainly that the mail stack needs PostgreSQL when there is none.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const root = join(__dirname, "..", "..");
const tsx = join(root, "node_modules", ".bin", "tsx");

async function command(script: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  // No .env of the developer's: a folder of its own as the working directory.
  const cwd = mkdtempSync(join(tmpdir(), "mailadmin-cli-"));
  try {
    const { stdout, stderr } = await run(tsx, [join(root, "src", "cli", script), ...args], { cwd, env: { PATH: process.env.PATH!, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe("npm run mailserver:config", () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), "mailadmin-mailserver-config-"));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it("writes Postfix's maps and settings and Dovecot's, the password only in files readable by their owner", async () => {
    const password = "Pw-for-the-mail-login-2026";
    const result = await command("mailserver-config.ts", ["--out", out], {
      DATABASE_URL: "postgresql://api:api-secret@db.example.net:6432/mailadmin",
      MAILSERVER_DB_USER: "mx_reader",
      MAILSERVER_DB_PASSWORD: password,
      MAIL_SERVER_HOSTNAME: "mx1.example.net",
      QUOTA_WARNING_PERCENTS: "75,90,99",
    });
    expect(result.code).toBe(0);
    expect(filesUnder(out)).toEqual([
      "dovecot/conf.d/90-mailadmin.conf",
      "dovecot/dovecot-dict-sieve.conf.ext",
      "dovecot/dovecot-dict-usage.conf.ext",
      "dovecot/dovecot-sql-app-passwords.conf.ext",
      "dovecot/dovecot-sql.conf.ext",
      "dovecot/quota-warning.sh",
      "postfix/main.cf.mailadmin",
      "postfix/master.cf.mailadmin",
      "postfix/pgsql-alias-domain-addresses.cf",
      "postfix/pgsql-alias-domains.cf",
      "postfix/pgsql-domains.cf",
      "postfix/pgsql-mailboxes.cf",
      "postfix/pgsql-recipient-refusals.cf",
      "postfix/pgsql-sender-logins.cf",
      "postfix/pgsql-virtual-aliases.cf",
    ]);
    for (const file of filesUnder(out)) {
      const text = readFileSync(join(out, file), "utf8");
      const mode = statSync(join(out, file)).mode & 0o777;
      // The API's own login and password never reach the mail servers.
      expect(text).not.toContain("api-secret");
      if (text.includes(password)) expect(mode).toBe(0o600);
    }
    const map = readFileSync(join(out, "postfix/pgsql-mailboxes.cf"), "utf8");
    expect(map).toContain("hosts = inet:db.example.net:6432");
    expect(map).toContain("user = mx_reader");
    expect(map).toContain("dbname = mailadmin");
    expect(map).toMatch(/FROM mailserver_v1\.mailboxes/);
    const sql = readFileSync(join(out, "dovecot/dovecot-sql.conf.ext"), "utf8");
    expect(sql).toContain(`connect = host='db.example.net' port=6432 dbname='mailadmin' user='mx_reader' password='${password}'`);
    const dovecot = readFileSync(join(out, "dovecot/conf.d/90-mailadmin.conf"), "utf8");
    expect(dovecot).toContain("quota_warning = storage=99%% quota-warning 99 %u");
    expect(dovecot).toContain("quota_warning3 = storage=75%% quota-warning 75 %u");
    expect(dovecot).toContain("postmaster_address = postmaster@mx1.example.net");
    expect(result.stdout).toContain("docs/mail-stack.md");
  });

  it("refuses the embedded database and a missing --out with the reason", async () => {
    const embedded = await command("mailserver-config.ts", ["--out", out], {});
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toMatch(/read mailadmin's data from PostgreSQL: set DATABASE_URL/);
    const noOut = await command("mailserver-config.ts", [], { DATABASE_URL: "postgresql://x@127.0.0.1/db" });
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out DIR is required/);
    expect(filesUnder(out)).toEqual([]);
  });
});

describe("npm run mailstack", () => {
  it("says the mail stack needs PostgreSQL on the embedded database, and names its commands", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mailadmin-mailstack-cli-"));
    try {
      const up = await command("mailstack.ts", ["up"], { DATA_DIR: dir });
      expect(up.code).toBe(1);
      expect(up.stderr).toMatch(/the mail stack needs PostgreSQL/);
      const status = await command("mailstack.ts", ["status"], { DATA_DIR: dir });
      expect(status.code).toBe(3);
      expect(status.stdout).toMatch(/no mail stack in .*npm run mailstack -- up/);
      const wrong = await command("mailstack.ts", ["start"], { DATA_DIR: dir });
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/up\|down\|status/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
