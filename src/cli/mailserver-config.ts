// Writes the Postfix and Dovecot configuration of a Debian 12 mail host that
// runs on mailadmin's data: `npm run mailserver:config -- --out DIR`.
// docs/mail-stack.md says where each file goes. The files holding the mail
// servers' database password are written readable by their owner only.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadConfig } from "../config";
import { debianMailServerFiles, mailServerDatabase } from "../mailstack/config";

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run mailserver:config -- --out DIR\n`);
  process.exit(2);
}

function main(): void {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const args = process.argv.slice(2);
  const at = args.indexOf("--out");
  const out = at >= 0 ? args[at + 1] : undefined;
  if (!out) usage("--out DIR is required: the folder to write the configuration into");
  const config = loadConfig();
  if (!config.DATABASE_URL) {
    usage("the mail servers read mailadmin's data from PostgreSQL: set DATABASE_URL (the embedded database serves the API alone)");
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
    process.stdout.write(`${file.secret ? "wrote (secret, 0600)" : "wrote"} ${target}\n`);
  }
  if (!config.MAILSERVER_DB_PASSWORD) {
    process.stdout.write(
      `\nMAILSERVER_DB_PASSWORD is unset: the files carry no password for ${config.MAILSERVER_DB_USER} (fine with peer or trust authentication; otherwise set it and run again).\n`,
    );
  }
  process.stdout.write('Where each file goes: docs/mail-stack.md, "A Debian 12 mail host".\n');
}

try {
  main();
} catch (error) {
  process.stderr.write(`mailserver:config: ${(error as Error).message}\n`);
  process.exit(1);
}
