// Gives the whole run one migrated database: a real PostgreSQL when
// TEST_DATABASE_URL is set (its public schema is emptied first), otherwise a
// throw-away embedded PGlite served on a free loopback port.
import { emptyDatabase } from "../../src/db/reset";
import { startEmbeddedDatabase, type EmbeddedDatabase } from "../../src/db/embedded";
import { runMigrations } from "../../src/db/migrate";

declare global {
  var __embeddedTestDatabase: EmbeddedDatabase | undefined;
}

export default async function globalSetup(): Promise<void> {
  const external = process.env.TEST_DATABASE_URL;
  let url: string;
  if (external) {
    await emptyDatabase(external, "test");
    url = external;
  } else {
    globalThis.__embeddedTestDatabase = await startEmbeddedDatabase("memory://");
    url = globalThis.__embeddedTestDatabase.url;
  }
  await runMigrations(url);
  process.env.DATABASE_URL = url;
  process.env.TEST_DATABASE_KIND = external ? "postgresql" : "pglite";
  process.stdout.write(`\ntests run against ${process.env.TEST_DATABASE_KIND}\n`);
}
