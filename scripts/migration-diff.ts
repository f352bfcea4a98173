// Writes the SQL that takes the committed prisma/schema.prisma (git HEAD, which
// the existing migrations produce) to the working copy's, without touching any
// real database:
//   npm run db:diff -- <migration_name>
// The Prisma CLI's diff needs a connection through its adapter even between
// two schema files, so a throw-away embedded database is started for it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync, readdirSync, writeFileSync, mkdtempSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { startEmbeddedDatabase } from "../src/db/embedded";

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name || !/^[a-z0-9_]+$/.test(name)) {
    console.error("usage: npm run db:diff -- <migration_name (a-z, 0-9, _)>");
    process.exit(2);
  }
  const workDir = mkdtempSync(join(tmpdir(), "mailadmin-diff-"));
  const committedSchema = join(workDir, "committed.prisma");
  writeFileSync(committedSchema, (await promisify(execFile)("git", ["show", "HEAD:prisma/schema.prisma"])).stdout);
  const db = await startEmbeddedDatabase("memory://");
  try {
    // Asynchronous on purpose: the embedded database answers from this
    // process's event loop, which a synchronous child would block forever.
    const { stdout: sql } = await promisify(execFile)(
      "npx",
      ["prisma", "migrate", "diff", "--from-schema-datamodel", committedSchema, "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
      { env: { ...process.env, DATABASE_URL: db.url }, encoding: "utf8" },
    );
    if (/^-- This is an empty migration\./m.test(sql)) {
      console.log("schema.prisma matches the migrations: nothing to write");
      return;
    }
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const dir = join("prisma", "migrations", `${stamp}_${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "migration.sql"), sql);
    console.log(`wrote ${dir}/migration.sql (existing: ${readdirSync("prisma/migrations").length - 1})`);
  } finally {
    await db.stop();
  }
}

void main();
