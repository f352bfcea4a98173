// Raw SQL for the delivery-log hot path. Ingestion runs thousands of rows a
// batch; through the pg driver directly it is several times faster than
// through Prisma's parameter handling. Everything else uses Prisma.
import { Pool, type Connection, type PoolClient, type Submittable } from "pg";
import type { Prisma, PrismaClient } from "../generated/prisma/client";

export interface SqlExecutor {
  query<Row>(sql: string, params: unknown[]): Promise<Row[]>;
  /** Runs a statement and returns the number of rows it touched. */
  execute(sql: string, params: unknown[]): Promise<number>;
  /**
   * Runs `COPY ... FROM STDIN` with `data` (COPY text format) and returns the
   * number of rows copied. Absent where the driver cannot (Prisma).
   */
  copyFrom?(sql: string, data: Buffer): Promise<number>;
}

/** The CopyData and CopyDone senders of pg's protocol connection (pg has them; its type declarations do not). */
interface CopyInConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * COPY ... FROM STDIN through pg's Submittable interface (the one
 * pg-copy-streams and pg-cursor build on): pg speaks the protocol messages
 * (CopyData, CopyDone) but has no API that sends them (pg-copy-streams is not
 * a dependency). A collector batch (a few hundred kilobytes) goes in one
 * message, not as a stream. Like pg's own queries, it
 * settles on the first error (the server's, or the connection's, which comes
 * without a ReadyForQuery) or on ReadyForQuery.
 */
class CopyFromStdin implements Submittable {
  private rowCount = 0;

  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    private readonly settle: (error: Error | null, rowCount: number) => void,
  ) {}

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: Connection & CopyInConnection): void {
    connection.sendCopyFromChunk(this.data);
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text: string }): void {
    // "COPY 5000"
    this.rowCount = Number(message.text.slice(message.text.lastIndexOf(" ") + 1));
  }

  handleError(error: Error): void {
    this.settle(error, 0);
  }

  handleReadyForQuery(): void {
    this.settle(null, this.rowCount);
  }

  // Messages a COPY FROM does not get; pg hands any message to the active query.
  handleEmptyQuery(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

function copyFrom(client: PoolClient, text: string, data: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const submittable = new CopyFromStdin(text, data, (error, rowCount) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve(rowCount);
    });
    client.query(submittable);
  });
}

/** Runs work in one transaction and gives it an executor. */
export interface LogStore {
  transaction<T>(work: (sql: SqlExecutor) => Promise<T>): Promise<T>;
  /** Whether the executors this store gives can COPY (see SqlExecutor.copyFrom). */
  supportsCopy(): Promise<boolean>;
  close(): Promise<void>;
}

function executorOf(client: PoolClient, copySupported: boolean): SqlExecutor {
  return {
    async query<Row>(sql: string, params: unknown[]) {
      return (await client.query(sql, params)).rows as Row[];
    },
    async execute(sql: string, params: unknown[]) {
      return (await client.query(sql, params)).rowCount ?? 0;
    },
    ...(copySupported ? { copyFrom: (sql: string, data: Buffer) => copyFrom(client, sql, data) } : {}),
  };
}

/**
 * A store over its own connections: one per source collected at the same
 * time (the embedded database serves one session: give it one).
 */
export function createPgLogStore(databaseUrl: string, connections = 1): LogStore {
  const pool = new Pool({ connectionString: databaseUrl, max: connections, connectionTimeoutMillis: 10_000 });
  // The embedded database (PGlite behind its socket server) loses the
  // protocol's thread on COPY FROM STDIN: it is asked once which it is.
  let copySupported: Promise<boolean> | undefined;
  const supportsCopy = () =>
    (copySupported ??= pool.query<{ version: string }>("SELECT version() AS version").then(
      (result) => !result.rows[0]!.version.includes("PGlite"),
      (error: unknown) => {
        copySupported = undefined;
        throw error;
      },
    ));
  return {
    async transaction(work) {
      const copy = await supportsCopy();
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work(executorOf(client, copy));
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    supportsCopy,
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
