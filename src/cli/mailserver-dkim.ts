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

function usage(message: string): never {
  process.stderr.write(`${message}\nusage: npm run mailserver:dkim -- --out DIR [--signer-dir /etc/opendkim/mailadmin] [--no-backfill]\n`);
  process.exit(2);
}

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function main(): Promise<void> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const args = process.argv.slice(2);
  const out = option(args, "--out");
  if (!out) usage("--out DIR is required: the folder to write the signer's files into");
  const signerDir = option(args, "--signer-dir") ?? "/etc/opendkim/mailadmin";
  const config = loadConfig();
  if (!config.DATABASE_URL) usage("set DATABASE_URL: the keys are read from mailadmin's PostgreSQL");
  const db = createPrismaClient(config.DATABASE_URL, 2);
  try {
    const deps = { db, config, now: () => new Date() };
    if (!args.includes("--no-backfill")) {
      const filled = await backfillDkimKeys(deps);
      if (filled.length > 0)
        process.stdout.write(`made DKIM keys for ${filled.length} domain(s) without any: ${filled.slice(0, 10).join(", ")}${filled.length > 10 ? ", ..." : ""}\n`);
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
      if (!file.secret) process.stdout.write(`wrote ${target}\n`);
    }
    process.stdout.write(
      `wrote ${openDkimSigningKeys(keys).length} private key file(s) (0600) under ${join(root, "keys")}: ${new Set(openDkimSigningKeys(keys).map((key) => key.domain)).size} domain(s) signing\n`,
    );
    process.stdout.write(`Copy ${root} to ${signerDir} (owner opendkim, keys 0600), point /etc/opendkim.conf's lines at it (opendkim.conf), and reload OpenDKIM: docs/dkim.md.\n`);
  } finally {
    await db.$disconnect();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`mailserver:dkim: ${error.message}\n`);
  process.exit(1);
});
