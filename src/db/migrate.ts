// Applies prisma/migrations with `prisma migrate deploy` (the CLI runs offline
// through its wasm schema engine and the patched pg adapter).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { Client } from "pg";
import { projectRoot } from "../shared/project-root";

const execFileAsync = promisify(execFile);

export async function runMigrations(databaseUrl: string): Promise<string> {
  const cli = require.resolve("prisma/build/index.js", { paths: [projectRoot] });
  try {
    const { stdout } = await execFileAsync(process.execPath, [cli, "migrate", "deploy"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      timeout: 120_000,
    });
    await grantMailServerReads(databaseUrl);
    return stdout;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    // The CLI's output names the migration and the SQL error; the URL it was
    // given is not repeated here because it may carry a password.
    throw new Error(`database migration failed: ${(failure.stderr || failure.stdout || failure.message).trim()}`);
  }
}

/** The least-privilege role Postfix and Dovecot read the mail data as (docs/mail-stack.md). */
export const MAIL_SERVER_ROLE = "mailadmin_mailserver";

/**
 * Makes the mail servers' role when missing (a cluster-wide object, so not a
 * migration's: Prisma's runner splits scripts on semicolons and cannot carry
 * the DO block that makes it conditional) and gives it the read contract,
 * schema mailserver_v1, and nothing else. Idempotent; runs after migrations.
 */
export async function grantMailServerReads(databaseUrl: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const schema = await client.query<{ present: boolean }>(`SELECT to_regnamespace('mailserver_v1') IS NOT NULL AS present`);
    if (!schema.rows[0]?.present) return;
    // Servers starting together (a rolling start, several-servers.test.ts) grant at
    // the same time, and two GRANTs on one object fail with "tuple concurrently
    // updated": one at a time, under a transaction's advisory lock.
    await client.query("BEGIN");
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('mailadmin.grant-mail-server-reads'))`);
    await client.query(`DO $$
      BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${MAIL_SERVER_ROLE}') THEN
          CREATE ROLE "${MAIL_SERVER_ROLE}" NOLOGIN;
        END IF;
      END
      $$`);
    await client.query(`GRANT USAGE ON SCHEMA "mailserver_v1" TO "${MAIL_SERVER_ROLE}"`);
    await client.query(`GRANT SELECT ON ALL TABLES IN SCHEMA "mailserver_v1" TO "${MAIL_SERVER_ROLE}"`);
    // Dovecot's quota_clone writes each mailbox's usage here (docs/usage.md); its trigger updates the account.
    const usage = await client.query<{ present: boolean }>(`SELECT to_regclass('public.mailbox_usage') IS NOT NULL AS present`);
    if (usage.rows[0]?.present) {
      // USAGE on public too: PostgreSQL 15 still gives it to everyone by default, but a
      // hardened or re-created public schema does not, and the table is then invisible.
      await client.query(`GRANT USAGE ON SCHEMA "public" TO "${MAIL_SERVER_ROLE}"`);
      await client.query(`GRANT SELECT, INSERT, UPDATE ON "public"."mailbox_usage" TO "${MAIL_SERVER_ROLE}"`);
    }
    // Dovecot's last_login plugin records app passwords' logins here (docs/support-team.md); its trigger updates the app password.
    const appPasswordUse = await client.query<{ present: boolean }>(`SELECT to_regclass('public.app_password_use') IS NOT NULL AS present`);
    if (appPasswordUse.rows[0]?.present) {
      await client.query(`GRANT USAGE ON SCHEMA "public" TO "${MAIL_SERVER_ROLE}"`);
      await client.query(`GRANT SELECT, INSERT, UPDATE ON "public"."app_password_use" TO "${MAIL_SERVER_ROLE}"`);
    }
    await client.query("COMMIT");
  } finally {
    // A failed grant's transaction ends with the connection (rolled back).
    await client.end();
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
    const applied = await client.query<{ migration_name: string }>(`SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`);
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
  else await grantMailServerReads(databaseUrl);
  return pending;
}
