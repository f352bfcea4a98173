// Empties a database's public schema, for the test run and the benchmarks.
// Refuses unless the database's name holds the given word, so that a
// production DATABASE_URL can never be wiped by mistake.
import { Client } from "pg";

export async function emptyDatabase(databaseUrl: string, requiredNamePart: string): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  if (!name.toLowerCase().includes(requiredNamePart)) {
    throw new Error(`the database must have '${requiredNamePart}' in its name (got '${name}'): it is about to be emptied`);
  }
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    // The mail servers' read contract (its views depend on public's tables) goes too.
    await client.query("DROP SCHEMA IF EXISTS mailserver_v1 CASCADE; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;");
  } finally {
    await client.end();
  }
}
