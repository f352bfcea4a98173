// The development mail stack: `npm run mailstack -- up|down|status`.
// Debian's Postfix and Dovecot on loopback ports of their own, in a folder of
// their own (MAILSTACK_DIR, default DATA_DIR/mailstack), reading the
// PostgreSQL in DATABASE_URL. Never the host's Postfix or Dovecot.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { loadConfig, type Config } from "../config";
import { migrateIfNeeded } from "../db/migrate";
import { createPrismaClient } from "../db/prisma";
import { backfillDkimKeys, signingKeys, type SigningKey } from "../dkim/dkim.service";
import {
  ensureMailServerLogin,
  refreshMailStackDkim,
  installMailStackPackages,
  mailStackStatus,
  mailStackUnavailable,
  missingMailStackPackages,
  startMailStack,
  stopMailStack,
  type MailStackState,
} from "../mailstack/stack";
import { cliMessages } from "./language";

// Written in MAILADMIN_LANGUAGE, else the locale (LANG), else DEFAULT_LANGUAGE: src/cli/language.ts.
const { text } = cliMessages();
const say = (line: string) => process.stdout.write(`${line}\n`);
const stateOf = (running: boolean) => text(running ? "cli.mailstack.running" : "cli.mailstack.stopped");

function stackDir(config: Config): string {
  return resolve(config.MAILSTACK_DIR ?? join(config.DATA_DIR, "mailstack"));
}

/** MAILSERVER_DB_PASSWORD, else one generated once and kept in the stack's folder (0600). */
function loginPassword(config: Config, dir: string): string {
  if (config.MAILSERVER_DB_PASSWORD) return config.MAILSERVER_DB_PASSWORD;
  const file = join(dir, "mailserver-db-password");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const password = randomBytes(24).toString("base64url");
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

function printState(state: MailStackState, running: { postfix: boolean; dovecot: boolean }): void {
  const { address, ports } = state;
  const at = (port: number) => `${address}:${port}`;
  say(text("cli.mailstack.postfix", { state: stateOf(running.postfix), smtp: at(ports.smtp), submission: at(ports.submission) }));
  say(
    text("cli.mailstack.dovecot", {
      state: stateOf(running.dovecot),
      imap: at(ports.imap),
      pop3: at(ports.pop3),
      lmtp: at(ports.lmtp),
      quotaStatus: at(ports.quotaStatus),
    }),
  );
  say(text("cli.mailstack.folder", { dir: state.dir, mail: state.mailStoreDir }));
  if (state.openDkimDir) say(text("cli.mailstack.opendkim", { milter: at(ports.milter), dir: state.openDkimDir, command: "npm run mailstack -- dkim" }));
  say(text("cli.mailstack.log_source", { sources: `'${JSON.stringify([state.logSource])}'` }));
}

/** The signing keys, after giving domains without any their keys (the back-fill). */
async function currentSigningKeys(config: Config): Promise<SigningKey[]> {
  const db = createPrismaClient(config.DATABASE_URL!, 2);
  try {
    const deps = { db, config, now: () => new Date() };
    await backfillDkimKeys(deps);
    return await signingKeys(deps);
  } finally {
    await db.$disconnect();
  }
}

async function main(): Promise<number> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const command = process.argv[2];
  if (!command || !["up", "down", "status", "dkim"].includes(command)) {
    process.stderr.write(`${text("cli.usage", { command: "npm run mailstack -- up|down|status|dkim" })}\n`);
    return 2;
  }
  const config = loadConfig();
  const dir = stackDir(config);
  if (command === "status") {
    const status = await mailStackStatus(dir);
    if (!status) {
      say(text("cli.mailstack.none", { dir, command: "npm run mailstack -- up" }));
      return 3;
    }
    printState(status.state, status);
    return status.postfix && status.dovecot ? 0 : 3;
  }
  if (command === "down") {
    await stopMailStack(dir);
    say(text("cli.mailstack.down", { dir }));
    return 0;
  }
  if (command === "dkim") {
    // After a domain was created or a rotation confirmed: the signer gets the current keys.
    if (!config.DATABASE_URL) throw new Error(text("cli.mailstack.no_database"));
    const keys = await currentSigningKeys(config);
    await refreshMailStackDkim(dir, keys);
    say(text("cli.mailstack.dkim_restarted", { count: String(keys.length) }));
    return 0;
  }
  const unavailable = mailStackUnavailable(config.DATABASE_URL);
  if (unavailable) {
    process.stderr.write(`${text("cli.mailstack.error", { error: unavailable })}\n`);
    return 1;
  }
  const missing = missingMailStackPackages();
  if (missing.length > 0) {
    say(text("cli.mailstack.installing", { packages: missing.join(" ") }));
    await installMailStackPackages(missing);
  }
  const databaseUrl = config.DATABASE_URL!;
  await migrateIfNeeded(databaseUrl);
  mkdirSync(dir, { recursive: true });
  const password = loginPassword(config, dir);
  await ensureMailServerLogin(databaseUrl, config.MAILSERVER_DB_USER, password);
  const state = await startMailStack({
    dir,
    address: config.MAILSTACK_ADDRESS,
    portBase: config.MAILSTACK_PORT_BASE,
    databaseUrl,
    dbUser: config.MAILSERVER_DB_USER,
    dbPassword: password,
    hostname: config.MAIL_SERVER_HOSTNAME ?? "mailstack.localhost",
    quotaWarningPercents: config.QUOTA_WARNING_PERCENTS,
    dkimKeys: await currentSigningKeys(config),
  });
  printState(state, { postfix: true, dovecot: true });
  say(text("cli.mailstack.stop_hint", { command: "npm run mailstack -- down" }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`${text("cli.mailstack.error", { error: error.message })}\n`);
    process.exit(1);
  },
);
