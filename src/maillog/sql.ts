// Raw SQL for the delivery-log hot path. Ingestion runs thousands of rows a
// batch; through the pg driver directly it is several times faster than
// through Prisma's parameter handling. Everything else uses Prisma.
import { Pool, type PoolClient } from "pg";
import type { Prisma, PrismaClient } from "../generated/prisma/client";

export interface SqlExecutor {
  query<Row>(sql: string, params: unknown[]): Promise<Row[]>;
  /** Runs a statement and returns the number of rows it touched. */
  execute(sql: string, params: unknown[]): Promise<number>;
}

/** Runs work in one transaction and gives it an executor. */
export interface LogStore {
  transaction<T>(work: (sql: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function executorOf(client: PoolClient): SqlExecutor {
  return {
    async query<Row>(sql: string, params: unknown[]) {
      return (await client.query(sql, params)).rows as Row[];
    },
    async execute(sql: string, params: unknown[]) {
      return (await client.query(sql, params)).rowCount ?? 0;
    },
  };
}

/**
 * A store over its own connections: one per source collected at the same
 * time (the embedded database serves one session: give it one).
 */
export function createPgLogStore(databaseUrl: string, connections = 1): LogStore {
  const pool = new Pool({ connectionString: databaseUrl, max: connections, connectionTimeoutMillis: 10_000 });
  return {
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work(executorOf(client));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** An executor inside a Prisma transaction, for small batches that must commit with other Prisma writes. */
export function prismaExecutor(tx: Prisma.TransactionClient | PrismaClient): SqlExecutor {
  return {
    query: <Row>(sql: string, params: unknown[]) => tx.$queryRawUnsafe<Row[]>(sql, ...params),
    execute: (sql: string, params: unknown[]) => tx.$executeRawUnsafe(sql, ...params),
  };
}
