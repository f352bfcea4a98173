// The mail stack for a test file: Debian's Postfix and Dovecot on a loopback
// address and ports of the file's own (so that files running side by side
// never meet), reading the run's PostgreSQL as a least-privilege login,
// stopped and removed after the file. Needs PostgreSQL and root: elsewhere
// mailStackSkipReason says why the file does not run.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureMailServerLogin, mailStackUnavailable, missingMailStackPackages, startMailStack, stopMailStack, type MailStackState } from "../../src/mailstack/stack";

export function mailStackSkipReason(): string | undefined {
  if (process.env.TEST_DATABASE_KIND !== "postgresql") return "the mail stack reads a real PostgreSQL (set TEST_DATABASE_URL)";
  const unavailable = mailStackUnavailable(process.env.DATABASE_URL);
  if (unavailable) return unavailable;
  const missing = missingMailStackPackages();
  if (missing.length > 0) return `Debian packages missing: ${missing.join(" ")} (npm run test:deps installs them)`;
  return undefined;
}

/** Registers beforeAll/afterAll starting a stack on `address` with ports above `portBase`; `receive` gets its state. */
export function useMailStack(
  options: { address: string; portBase: number; relayhost?: string; nameserver?: string; postfixSettings?: string[] },
  receive: (state: MailStackState) => void,
): void {
  let dir: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mailadmin-test-mailstack-"));
    const databaseUrl = process.env.DATABASE_URL!;
    const dbPassword = randomBytes(18).toString("base64url");
    // A login per stack: two files running side by side must not change each other's password.
    const dbUser = `mailadmin_test_mailserver_${options.portBase}`;
    await ensureMailServerLogin(databaseUrl, dbUser, dbPassword);
    receive(
      await startMailStack({
        dir,
        address: options.address,
        portBase: options.portBase,
        databaseUrl,
        dbUser,
        dbPassword,
        hostname: "mx.mailstack.test",
        quotaWarningPercents: [80, 95],
        relayhost: options.relayhost,
        nameserver: options.nameserver,
        postfixSettings: options.postfixSettings,
      }),
    );
  }, 60_000);
  afterAll(async () => {
    if (!dir) return;
    await stopMailStack(dir);
    if (!process.env.KEEP_MAILSTACK) rmSync(dir, { recursive: true, force: true });
  }, 30_000);
}
