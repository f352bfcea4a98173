// Debian's Dovecot (2.3) writing usage through its own dict proxy and SQL dict
// driver, with the map the mail stack uses for quota_clone: the statements
// are Dovecot's, not ours. Dovecot's SQL dict reaches only a real PostgreSQL,
// and its dict service must be started by root: elsewhere the test says why it
// does not run. The Dovecot it starts (dict service only, no listener) is
// stopped after the file.
import { execFile, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { dovecotUsageDictFile, mailServerDatabase } from "../../src/mailstack/config";
import { terminateAndWait } from "../../src/mailstack/stack";
import { useTestApp } from "../helpers/use-test-app";
import type { TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, tokenFor, uniqueName } from "../helpers/factories";

const run = promisify(execFile);
const MiB = 1024 * 1024;

function whyNotRunnable(): string | undefined {
  if (process.env.TEST_DATABASE_KIND !== "postgresql") return "Dovecot's SQL dict needs PostgreSQL (set TEST_DATABASE_URL)";
  if (process.getuid?.() !== 0) return "Dovecot's dict service is started by root";
  try {
    execFileSync("dovecot", ["--version"], { stdio: "ignore" });
  } catch {
    return "Dovecot is not installed (dovecot-core, dovecot-pgsql)";
  }
  if (!existsSync("/usr/lib/dovecot/modules/libdriver_pgsql.so")) return "Dovecot's PostgreSQL driver is not installed (dovecot-pgsql)";
  try {
    execFileSync("id", ["-u", "dovecot"], { stdio: "ignore" });
  } catch {
    return "the user dovecot (Dovecot's internal user, made by dovecot-core) does not exist";
  }
  return undefined;
}

const notRunnable = whyNotRunnable();
const describeWithDovecot = notRunnable ? describe.skip : describe;
if (notRunnable) process.stdout.write(`\ntest/usage/dovecot-dict.test.ts does not run: ${notRunnable}\n`);

describeWithDovecot("Dovecot's SQL dict writing mailbox_usage", () => {
  let app: TestApp;
  let directory: string;
  let config: string;

  useTestApp((started) => {
    app = started.app;
  });

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "mailadmin-dovecot-dict-"));
    const dictConfig = join(directory, "dict-mailusage.conf.ext");
    // The map the mail stack's configuration writes (docs/mail-stack.md), connecting as the run's own user.
    const url = new URL(process.env.DATABASE_URL!);
    writeFileSync(
      dictConfig,
      dovecotUsageDictFile({ database: mailServerDatabase(url.toString(), decodeURIComponent(url.username), decodeURIComponent(url.password) || undefined) }).content,
    );
    // The dict service runs as Dovecot's internal user: it alone reads the map (it may hold a password).
    const [uid, gid] = ["-u", "-g"].map((flag) => Number(execFileSync("id", [flag, "dovecot"], { encoding: "utf8" }).trim()));
    chownSync(dictConfig, uid!, gid!);
    chmodSync(dictConfig, 0o600);
    chmodSync(directory, 0o755);
    config = join(directory, "dovecot.conf");
    writeFileSync(
      config,
      [
        `base_dir = ${join(directory, "run")}`,
        `state_dir = ${join(directory, "state")}`,
        `log_path = ${join(directory, "dovecot.log")}`,
        "protocols =",
        "ssl = no",
        `dict {\n  mailusage = pgsql:${dictConfig}\n}`,
        "",
      ].join("\n"),
    );
    // Dovecot forks into the background; its child keeps no pipe of ours open (stdio ignored).
    const started = spawn("dovecot", ["-c", config], { stdio: "ignore" });
    const code = await new Promise<number | null>((resolve) => started.on("exit", resolve));
    if (code !== 0) throw new Error(`dovecot -c ${config} exited with ${code}: see ${join(directory, "dovecot.log")}`);
  });

  afterAll(async () => {
    if (!config) return;
    const pidFile = join(directory, "run", "master.pid");
    if (existsSync(pidFile)) await terminateAndWait(Number(readFileSync(pidFile, "utf8")));
    rmSync(directory, { recursive: true, force: true });
  });

  const dict = (...args: string[]) => run("doveadm", ["-c", config, "dict", ...args]);

  it("stores quota_clone's keys through Dovecot's dict proxy, and the account shows them", async () => {
    const { domain, admin } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb: 10 });
    const proxy = `proxy:${join(directory, "run", "dict")}:mailusage`;
    // As the user typed its name at login: the table keeps it in lower case.
    await dict("set", "-u", mailbox.address.toUpperCase(), proxy, "priv/quota/storage", String(3 * MiB + 1));
    await dict("set", "-u", mailbox.address, proxy, "priv/quota/messages", "12");
    await dict("inc", "-u", mailbox.address, proxy, "priv/quota/messages", "3");
    // A mailbox mailadmin does not know: stored, harmless.
    await dict("set", "-u", `${uniqueName("ghost")}@${domain.name}`, proxy, "priv/quota/storage", "5");

    const answer = await app.gql(`query($id: ID) { account(id: $id) { usedMb messageCount usagePercent usageUpdatedAt } }`, { id: mailbox.id }, await tokenFor(app, admin));
    expect(answer.errors).toBeUndefined();
    expect(answer.data.account).toMatchObject({ usedMb: 4, messageCount: 15, usagePercent: 40 });
    expect(answer.data.account.usageUpdatedAt).not.toBeNull();
    const { stdout } = await dict("get", "-u", mailbox.address, proxy, "priv/quota/storage");
    expect(stdout.trim()).toBe(String(3 * MiB + 1));
  });
});
