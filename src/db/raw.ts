// Reads on the hottest paths (who is calling, a page of domains and what it
// shows) sent straight through the pg pool under the Prisma client. A Prisma
// statement costs 0.6-1.9 ms of CPU in this process (its query compiler and
// result mapping), the same statement through pg about 0.1 ms; a page of
// domains made of five of them was most of a request's cost.
//
// Rows come back as Prisma's would: the column names are the model's field
// names (the schema maps tables, not columns), enums are strings, and
// timestamps, which Prisma stores as UTC without a zone, are read as UTC.
// Writes stay with Prisma. Never call this inside a Prisma transaction: on
// the embedded database the transaction holds the pool's one connection.
import { createHash } from "node:crypto";
import { types, type CustomTypesConfig } from "pg";
import type { PrismaClient } from "../generated/prisma/client";
import { poolOf, preparesStatements, stopPreparingStatements } from "./prisma";

const TIMESTAMP_WITHOUT_TIME_ZONE = 1114;

/**
 * "2026-11-28 21:03:00.123" (DateStyle ISO, the default of both databases)
 * read as UTC. Taken apart by position: a page of domains holds a hundred of
 * them, and Date's string parser was a few percent of the request.
 */
export function utcTimestamp(text: string): Date {
  const plain = text.length >= 19 && text.length <= 26 && text[4] === "-" && text[10] === " " && !text.endsWith("BC");
  if (!plain) return new Date(`${text.replace(" ", "T")}Z`);
  const number = (from: number, to: number) => Number(text.slice(from, to));
  const year = number(0, 4);
  if (year < 100) return new Date(`${text.replace(" ", "T")}Z`); // Date.UTC would read it as 19xx
  const milliseconds = text.length > 20 ? Math.floor(Number(text.slice(19)) * 1000 + 1e-6) : 0;
  return new Date(Date.UTC(year, number(5, 7) - 1, number(8, 10), number(11, 13), number(14, 16), number(17, 19), milliseconds));
}

const rowTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary"): unknown =>
    oid === TIMESTAMP_WITHOUT_TIME_ZONE ? utcTimestamp : types.getTypeParser(oid, format)) as CustomTypesConfig["getTypeParser"],
};

// Each text is a named prepared statement (see DatabasePoolOptions
// preparedStatements and sharedSession): a connection parses and plans it
// once (planning a page of domains costs the database about as much as running
// it; on the embedded database, 2 of the 4 ms of its statement). Texts must
// therefore come from a bounded set: values go in $n, never into the text.
const statementNames = new Map<string, string>();
export function preparedStatementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `mailadmin_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

// duplicate_prepared_statement, invalid_sql_statement_name: the server's
// session is not this connection's alone (a pooler in transaction mode, or
// several connections to the embedded database from outside the process).
const SHARED_SESSION_CODES = new Set(["42P05", "26000"]);

async function readRows(db: PrismaClient, text: string, values: unknown[], rowMode: "array" | undefined): Promise<unknown[]> {
  const pool = poolOf(db);
  if (!pool) throw new Error("rawRows needs a client made by createPrismaClient (it reads through its pool)");
  const query = async (name?: string): Promise<unknown[]> => {
    const config = name ? { name, text, values, types: rowTypes } : { text, values, types: rowTypes };
    return rowMode ? (await pool.query<unknown[]>({ ...config, rowMode })).rows : (await pool.query<Record<string, unknown>>(config)).rows;
  };
  if (preparesStatements(db)) {
    try {
      return await query(preparedStatementName(text));
    } catch (error) {
      if (!SHARED_SESSION_CODES.has((error as { code?: string }).code ?? "")) throw error;
      // From now on unnamed, as on the embedded database.
      stopPreparingStatements(db);
    }
  }
  return await query();
}

/** The rows of one read statement ($1, $2... for values), sent through the client's pool. */
export async function rawRows<Row>(db: PrismaClient, text: string, values: unknown[]): Promise<Row[]> {
  return (await readRows(db, text, values, undefined)) as Row[];
}

/**
 * The same, each row an array of its columns' values in the statement's
 * order: for a caller that builds its own objects from the rows (a page of
 * domains), which spares pg making one object per row that would be copied
 * and thrown away.
 */
export async function rawArrayRows(db: PrismaClient, text: string, values: unknown[]): Promise<unknown[][]> {
  return (await readRows(db, text, values, "array")) as unknown[][];
}

/**
 * The total of a page whose statement carries `count(*)` of its filter as a
 * "totalCount" column: read from the first row, or, for an empty page after a
 * cursor (no row to carry it), counted on its own. `filterValues` are the
 * values the filter's $n refer to.
 */
export async function pageTotal(
  db: PrismaClient,
  rows: { totalCount: string }[],
  page: { table: string; filter: string; filterValues: unknown[]; afterCursor: boolean },
): Promise<number> {
  if (rows.length > 0) return Number(rows[0]!.totalCount);
  if (!page.afterCursor) return 0;
  const [count] = await rawRows<{ totalCount: string }>(db, `SELECT count(*) AS "totalCount" FROM "${page.table}" WHERE ${page.filter}`, page.filterValues);
  return Number(count!.totalCount);
}
