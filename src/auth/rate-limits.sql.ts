// Request-rate windows counted in the database, so that every server against
// one PostgreSQL (and the embedded database, the same SQL) counts the same
// client, principal or login address once: src/http/rate-limit.ts decides,
// this file counts. One UPSERT per request adds the units to each key's
// window (a minute from the key's first request; a finished one starts
// again at this request) and answers what the window has used and when it began.
import type { PrismaClient } from "../generated/prisma/client";
import { rawRows } from "../db/raw";

export const RATE_WINDOW_MS = 60_000;

// Timestamps are stored as UTC without a zone; the ISO text's "Z" is ignored by the cast.
// $n: the keys, then now, the window's start for a finished one (now - window), the units.
const upsert = (values: string, first: number) => `INSERT INTO "rate_limit_window" AS w ("key", "windowStart", "used") VALUES ${values}
  ON CONFLICT ("key") DO UPDATE SET
    "used" = CASE WHEN w."windowStart" <= $${first + 1}::timestamp THEN EXCLUDED."used" ELSE w."used" + EXCLUDED."used" END,
    "windowStart" = CASE WHEN w."windowStart" <= $${first + 1}::timestamp THEN EXCLUDED."windowStart" ELSE w."windowStart" END
  RETURNING "key", "used", "windowStart"`;
const TAKE_ONE = upsert("($1, $2::timestamp, $4)", 2);
const TAKE_TWO = upsert("($1, $3::timestamp, $5), ($2, $3::timestamp, $5)", 3);

export interface WindowUse {
  used: number;
  windowStart: Date;
}

/**
 * Adds `units` to the window of each key (one or two, in one statement: one
 * round trip per request) and returns, per key, the units used in its window
 * including these, and when the window began.
 */
export async function takeFromWindows(db: PrismaClient, keys: [string] | [string, string], units: number, now: number): Promise<Map<string, WindowUse>> {
  const at = new Date(now).toISOString();
  const finishedBefore = new Date(now - RATE_WINDOW_MS).toISOString();
  const rows =
    keys.length === 1
      ? await rawRows<{ key: string } & WindowUse>(db, TAKE_ONE, [keys[0], at, finishedBefore, units])
      : await rawRows<{ key: string } & WindowUse>(db, TAKE_TWO, [keys[0], keys[1], at, finishedBefore, units]);
  return new Map(rows.map((row) => [row.key, { used: row.used, windowStart: row.windowStart }]));
}

/** Deletes the windows that finished before `now`. */
export async function forgetFinishedWindows(db: PrismaClient, now: number): Promise<void> {
  await rawRows(db, `DELETE FROM "rate_limit_window" WHERE "windowStart" <= $1::timestamp`, [new Date(now - RATE_WINDOW_MS).toISOString()]);
}
