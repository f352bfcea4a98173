// The Prisma client over the pg driver adapter, for the embedded database and
// a real PostgreSQL alike.
import { PrismaPg } from "@prisma/adapter-pg";
import { Pool } from "pg";
import { PrismaClient } from "../generated/prisma/client";

/** `onStatement` sees every SQL statement sent (tests count them to prove lists are batched). */
export function createPrismaClient(databaseUrl: string, poolMax: number, onStatement?: (sql: string) => void): PrismaClient {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: poolMax,
    // Fail fast when the database is away, rather than queueing requests.
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection dropped by the server (a restart, a failover) must not
  // crash the process: the pool replaces it on the next query, and queries
  // that fail in the meantime answer SERVICE_UNAVAILABLE.
  pool.on("error", () => undefined);
  if (onStatement) {
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0] as string | { text?: string };
        onStatement(typeof first === "string" ? first : (first?.text ?? ""));
        return query(...args);
      };
    });
  }
  // disposeExternalPool: $disconnect() ends the pool, as it would one the adapter made itself.
  return new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
}

/** True when the database answers a trivial query within the time limit. */
export async function databaseAnswers(db: PrismaClient, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.$queryRaw`SELECT 1`,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("database check timed out")), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
