// Writes the Postfix and Dovecot configuration of a Debian 12 mail host that
// runs on mailadmin's data: `npm run mailserver:config -- --out DIR`.
// docs/mail-stack.md says where each file goes. The files holding the mail
// servers' database password are written readable by their owner only.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadConfig } from "../config";
import { debianMailServerFiles, mailServerDatabase } from "../mailstack/config";
import { cliMessages } from "./language";
import { usageError } from "./args";

// Written in MAILADMIN_LANGUAGE, else the locale (LANG), else DEFAULT_LANGUAGE: src/cli/language.ts.
const { text } = cliMessages();
const USAGE = "npm run mailserver:config -- --out DIR";
function usage(reason: string): never {
  return usageError(USAGE, reason);
}

function main(): void {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const args = process.argv.slice(2);
  const at = args.indexOf("--out");
  const out = at >= 0 ? args[at + 1] : undefined;
  if (!out) usage(text("cli.mailserver_config.no_out"));
  const config = loadConfig();
  if (!config.DATABASE_URL) {
    usage(text("cli.mailserver_config.no_database"));
  }
  const files = debianMailServerFiles({
    database: mailServerDatabase(config.DATABASE_URL, config.MAILSERVER_DB_USER, config.MAILSERVER_DB_PASSWORD),
    hostname: config.MAIL_SERVER_HOSTNAME,
    mailStoreDir: config.MAIL_STORE_DIR,
    mailUser: config.MAIL_STORE_USER,
    quotaWarningPercents: config.QUOTA_WARNING_PERCENTS,
  });
  const root = resolve(out);
  for (const file of files) {
    const target = join(root, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
    chmodSync(target, file.secret ? 0o600 : file.executable ? 0o755 : 0o644);
    process.stdout.write(`${text(file.secret ? "cli.mailserver_config.wrote_secret" : "cli.wrote", { path: target })}\n`);
  }
  if (!config.MAILSERVER_DB_PASSWORD) {
    process.stdout.write(`\n${text("cli.mailserver_config.no_password", { user: config.MAILSERVER_DB_USER })}\n`);
  }
  process.stdout.write(`${text("cli.mailserver_config.where", { doc: "docs/mail-stack.md" })}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`${text("cli.mailserver_config.error", { error: (error as Error).message })}\n`);
  process.exit(1);
}
