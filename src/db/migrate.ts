// Applies prisma/migrations with `prisma migrate deploy` (the CLI runs offline
// through its wasm schema engine and the patched pg adapter).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { Client } from "pg";

const execFileAsync = promisify(execFile);

/** Root of the repository: the nearest folder above this file holding schema.graphql (from src/ or a build folder alike). */
export const projectRoot = (() => {
  for (let directory = __dirname; directory !== dirname(directory); directory = dirname(directory)) {
    if (existsSync(join(directory, "schema.graphql"))) return directory;
  }
  throw new Error(`schema.graphql not found above ${__dirname}`);
})();

export async function runMigrations(databaseUrl: string): Promise<string> {
  const cli = require.resolve("prisma/build/index.js", { paths: [projectRoot] });
  try {
    const { stdout } = await execFileAsync(process.execPath, [cli, "migrate", "deploy"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      timeout: 120_000,
    });
    return stdout;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    // The CLI's output names the migration and the SQL error; the URL it was
    // given is not repeated here because it may carry a password.
    throw new Error(`database migration failed: ${(failure.stderr || failure.stdout || failure.message).trim()}`);
  }
}

/** Names of the migrations in prisma/migrations that the database has not applied yet. */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const available = readdirSync(join(projectRoot, "prisma", "migrations"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const table = await client.query<{ present: boolean }>(`SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS present`);
    if (!table.rows[0]?.present) return available;
    const applied = await client.query<{ migration_name: string }>(
      `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
    );
    const done = new Set(applied.rows.map((row) => row.migration_name));
    return available.filter((name) => !done.has(name));
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations. The Prisma CLI costs about ten seconds even when
 * there is nothing to do (its wasm schema engine leaves a 10 s timer behind
 * that keeps the process alive after the work is done), so it runs only when
 * a migration is pending.
 */
export async function migrateIfNeeded(databaseUrl: string): Promise<string[]> {
  const pending = await pendingMigrations(databaseUrl);
  if (pending.length > 0) await runMigrations(databaseUrl);
  return pending;
}
