// The Prisma client over the pg driver adapter, for the embedded database and
// a real PostgreSQL alike.
import { PrismaPg } from "@prisma/adapter-pg";
import type { Socket } from "node:net";
import { Pool, type ClientBase, type PoolClient } from "pg";
import { PrismaClient } from "../generated/prisma/client";

export interface DatabasePoolOptions {
  max: number;
  /** Longest wait for a connection, new or free in the pool (pg's connectionTimeoutMillis); default 5 s. */
  connectTimeoutMs?: number;
  /**
   * The server cancels a statement running longer than this (statement_timeout),
   * and the client drops a connection whose answer is a second later still: the
   * server is hung or unreachable. Unset: no limit (the embedded database, which
   * lives in this process).
   */
  statementTimeoutMs?: number;
  /**
   * Whether the reads of db/raw.ts may name their statements (prepared once
   * per connection; default true). Where connections share a session (the
   * embedded database) a name one connection prepared clashes with the same
   * name prepared by another: see sharedSession. (A clash found later,
   * behind a pooler in transaction mode say, turns them off.)
   */
  preparedStatements?: boolean;
  /**
   * The database is one session that all its connections share (the embedded
   * one: PGlite behind its socket server). Statements prepared by a
   * connection outlive it there, and the next connection's client, which
   * does not know them, would clash with their names (and stop preparing):
   * each new connection of the pool therefore first drops the session's
   * prepared statements (DEALLOCATE ALL). Another user of the same session
   * (a tool on the socket) that had named statements falls back to unnamed
   * ones, as db/raw.ts does on such a clash.
   */
  sharedSession?: boolean;
}

// The pool behind each client, for the metrics (Prisma does not expose it).
const pools = new WeakMap<PrismaClient, Pool>();

const withoutPreparedStatements = new WeakSet<PrismaClient>();

/** The pg Pool a client of createPrismaClient runs on. */
export function poolOf(db: PrismaClient): Pool | undefined {
  return pools.get(db);
}

/** Whether statements sent through poolOf(db) may be named prepared statements (see DatabasePoolOptions). */
export function preparesStatements(db: PrismaClient): boolean {
  return !withoutPreparedStatements.has(db);
}

/** Statements through poolOf(db) are unnamed from now on (its connections turned out to share a session). */
export function stopPreparingStatements(db: PrismaClient): void {
  withoutPreparedStatements.add(db);
}

/** Marks an error so that fromDatabaseError reads it as the database being away (SERVICE_UNAVAILABLE). */
function answerTimeout(timeoutMs: number): Error {
  return Object.assign(new Error(`the database did not answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" });
}

/**
 * Wraps a connection's query(): counts statements for the tests, and destroys
 * the connection when the answer is late, which fails the query at once and
 * makes the server roll back whatever the connection held open. pg's own
 * query_timeout would leave the connection busy and return it to the pool.
 */
function instrumentQueries(client: PoolClient, onStatement: ((sql: string) => void) | undefined, answerTimeoutMs: number | undefined): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string; submit?: unknown };
    onStatement?.(typeof first === "string" ? first : (first?.text ?? ""));
    if (!answerTimeoutMs || (typeof first === "object" && typeof first?.submit === "function")) return query(...args);
    const timer = setTimeout(() => (client as unknown as { connection: { stream: Socket } }).connection.stream.destroy(answerTimeout(answerTimeoutMs)), answerTimeoutMs);
    const last = args.at(-1);
    if (typeof last === "function") {
      args[args.length - 1] = (...results: unknown[]) => {
        clearTimeout(timer);
        (last as (...results: unknown[]) => void)(...results);
      };
      return query(...args);
    }
    return (query(...args) as Promise<unknown>).finally(() => clearTimeout(timer));
  };
}

type PgAdapter = Awaited<ReturnType<PrismaPg["connect"]>>;
type PgTransaction = Awaited<ReturnType<PgAdapter["startTransaction"]>>;

/**
 * Prisma 6.19 hands a transaction's connection back to the pool only after its
 * COMMIT or ROLLBACK statement succeeded. When the connection broke in the
 * middle (the database stopped or hung), it stayed checked out for good, and
 * after DB_POOL_MAX such transactions nothing could run again, even with the
 * database back. Here a failed COMMIT or ROLLBACK releases the connection
 * (the pool drops a broken one), and only the first release counts.
 */
function releaseBrokenTransactions(factory: PrismaPg): PrismaPg {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const startTransaction = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => {
      const transaction: PgTransaction = await startTransaction(isolationLevel);
      let released: Promise<void> | undefined;
      const commit = transaction.commit.bind(transaction);
      const rollback = transaction.rollback.bind(transaction);
      transaction.commit = () => (released ??= commit());
      transaction.rollback = () => (released ??= rollback());
      const executeRaw = transaction.executeRaw.bind(transaction);
      transaction.executeRaw = async (query) => {
        try {
          return await executeRaw(query);
        } catch (error) {
          if (query.sql === "COMMIT" || query.sql === "ROLLBACK") await transaction.rollback().catch(() => undefined);
          throw error;
        }
      };
      return transaction;
    };
    return adapter;
  };
  return factory;
}

/** See DatabasePoolOptions.sharedSession. */
async function dropSessionStatements(client: ClientBase): Promise<void> {
  await client.query("DEALLOCATE ALL");
}

/** `onStatement` sees every SQL statement sent (tests count them to prove lists are batched). */
export function createPrismaClient(databaseUrl: string, poolSize: number | DatabasePoolOptions, onStatement?: (sql: string) => void): PrismaClient {
  const options = typeof poolSize === "number" ? { max: poolSize } : poolSize;
  const statementTimeoutMs = options.statementTimeoutMs;
  const pool = new Pool({
    connectionString: databaseUrl,
    max: options.max,
    // Fail fast when the database is away, rather than queueing requests.
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    // Notices a peer that vanished without closing (a host down, a partition) on idle connections too.
    keepAlive: true,
    ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
    // Awaited before the connection's first query (and before "connect", so tests do not count it).
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- pg-pool awaits onConnect's promise; @types/pg declares it void
    ...(options.sharedSession ? { onConnect: dropSessionStatements } : {}),
  });
  // An idle connection dropped by the server (a restart, a failover) must not
  // crash the process: the pool replaces it on the next query, and queries
  // that fail in the meantime answer SERVICE_UNAVAILABLE.
  pool.on("error", () => undefined);
  if (onStatement || statementTimeoutMs) {
    pool.on("connect", (client) => instrumentQueries(client, onStatement, statementTimeoutMs ? statementTimeoutMs + 1_000 : undefined));
  }
  // disposeExternalPool: $disconnect() ends the pool, as it would one the adapter made itself.
  const db = new PrismaClient({
    adapter: releaseBrokenTransactions(new PrismaPg(pool, { disposeExternalPool: true })),
    // With one connection (the embedded database) transactions queue for it:
    // Prisma's default 2 s wait to start one turns a busy moment into errors.
    ...(options.max === 1 ? { transactionOptions: { maxWait: 10_000, timeout: 15_000 } } : {}),
  });
  pools.set(db, pool);
  if (options.preparedStatements === false) withoutPreparedStatements.add(db);
  return db;
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
