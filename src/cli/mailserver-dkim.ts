// Writes the signer's files of a Debian mail host: OpenDKIM's configuration,
// KeyTable, SigningTable and the private key of every ACTIVE DKIM key of the
// active domains, decrypted with DKIM_KEY_ENCRYPTION_KEY:
//   npm run mailserver:dkim -- --out DIR [--signer-dir /etc/opendkim/mailadmin] [--no-backfill]
// Domains without keys get them first (the back-fill), unless --no-backfill.
// Run it where mailadmin's settings are, after a domain is created or a
// rotation confirmed (or from a timer), copy DIR to the signer's folder and
// reload OpenDKIM (docs/dkim.md). Key files are written mode 0600.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { loadConfig } from "../config";
import { createPrismaClient } from "../db/prisma";
import { backfillDkimKeys, signingKeys } from "../dkim/dkim.service";
import { openDkimFiles, openDkimSigningKeys, postfixMilterSettings } from "../mailstack/opendkim";
import { cliMessages } from "./language";
import { option, usageError } from "./args";

// Written in MAILADMIN_LANGUAGE, else the locale (LANG), else DEFAULT_LANGUAGE: src/cli/language.ts.
const { text } = cliMessages();
const USAGE = "npm run mailserver:dkim -- --out DIR [--signer-dir /etc/opendkim/mailadmin] [--no-backfill]";
function usage(reason: string): never {
  return usageError(USAGE, reason);
}

async function main(): Promise<void> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const args = process.argv.slice(2);
  const out = option(args, "--out");
  if (!out) usage(text("cli.mailserver_dkim.no_out"));
  const signerDir = option(args, "--signer-dir") ?? "/etc/opendkim/mailadmin";
  const config = loadConfig();
  if (!config.DATABASE_URL) usage(text("cli.mailserver_dkim.no_database"));
  const db = createPrismaClient(config.DATABASE_URL, 2);
  try {
    const deps = { db, config, now: () => new Date() };
    if (!args.includes("--no-backfill")) {
      const filled = await backfillDkimKeys(deps);
      if (filled.length > 0) {
        const domains = `${filled.slice(0, 10).join(", ")}${filled.length > 10 ? ", ..." : ""}`;
        process.stdout.write(`${text("cli.mailserver_dkim.backfilled", { count: String(filled.length), domains })}\n`);
      }
    }
    const keys = await signingKeys(deps);
    const files = [
      ...openDkimFiles(keys, { dir: signerDir, socket: "inet:8891@127.0.0.1", userId: "opendkim" }),
      { path: "main.cf.opendkim", content: `${postfixMilterSettings("inet:127.0.0.1:8891").join("\n")}\n`, secret: false },
    ];
    const root = resolve(out);
    for (const file of files) {
      const target = join(root, file.path);
      mkdirSync(dirname(target), { recursive: true, mode: file.secret ? 0o700 : 0o755 });
      writeFileSync(target, file.content, { mode: file.secret ? 0o600 : 0o644 });
      chmodSync(target, file.secret ? 0o600 : 0o644);
      // Never the key itself: only where it went.
      if (!file.secret) process.stdout.write(`${text("cli.wrote", { path: target })}\n`);
    }
    const signing = openDkimSigningKeys(keys);
    const written = { count: String(signing.length), dir: join(root, "keys"), domains: String(new Set(signing.map((key) => key.domain)).size) };
    process.stdout.write(`${text("cli.mailserver_dkim.keys_written", written)}\n`);
    process.stdout.write(`${text("cli.mailserver_dkim.next", { root, signerDir, doc: "docs/dkim.md" })}\n`);
  } finally {
    await db.$disconnect();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${text("cli.mailserver_dkim.error", { error: error.message })}\n`);
  process.exit(1);
});
