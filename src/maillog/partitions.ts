// The delivery-log table, mail_log_record, is partitioned by week of
// "loggedAt" (PostgreSQL declarative partitioning; migration
// 20261205231500_mail_log_partitions). A week runs from Monday 00:00 UTC
// (the columns hold UTC) and its partition is named mail_log_record_wYYYYMMDD
// after its Monday. Rows of a week without a partition land in the default
// partition, mail_log_record_default, so an insert never fails.
//
// ensureMailLogPartitions makes the partitions of the last week and the coming
// four, and moves any rows of the default partition into partitions of their
// own weeks; every server runs it when it starts, the collector on every
// pass. dropExpiredPartitions is the retention: whole weeks are dropped, never
// deleted row by row.
import type { Prisma, PrismaClient } from "../generated/prisma/client";

const DAY_MS = 86_400_000;
export const PARTITION_DAYS = 7;
const WEEK_MS = PARTITION_DAYS * DAY_MS;
/** Weeks made ahead of the current one. */
const WEEKS_AHEAD = 4;
const PARENT = "mail_log_record";
export const DEFAULT_PARTITION = "mail_log_record_default";
/** pg_advisory_xact_lock key of partition changes: servers starting together make them one at a time. */
const PARTITION_LOCK = 7_302_011_020;
/** A partition change waits this long for its lock, then gives up until the next pass (inserts still land in the default partition). */
const LOCK_TIMEOUT = "10s";

type Tx = Prisma.TransactionClient;

/** The Monday 00:00 UTC of the week `at` falls in. */
export function weekStart(at: Date): Date {
  const day = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const sinceMonday = (new Date(day).getUTCDay() + 6) % 7;
  return new Date(day - sinceMonday * DAY_MS);
}

function dateText(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function partitionName(week: Date): string {
  return `${PARENT}_w${dateText(week).replaceAll("-", "")}`;
}

export interface MailLogPartition {
  name: string;
  /** The range [from, to); null for the default partition. */
  from: Date | null;
  to: Date | null;
}

function boundDate(text: string): Date {
  // '2026-11-30 00:00:00' (timestamp without time zone, holding UTC)
  return new Date(`${text.replace(" ", "T")}Z`);
}

/** The partitions of mail_log_record, oldest first, the default partition last. */
export async function listMailLogPartitions(db: Tx | PrismaClient): Promise<MailLogPartition[]> {
  const rows = await db.$queryRawUnsafe<{ name: string; bound: string }[]>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = '"${PARENT}"'::regclass`,
  );
  const partitions = rows.map(({ name, bound }) => {
    const range = /FROM \('([^']+)'\) TO \('([^']+)'\)/.exec(bound);
    return range ? { name, from: boundDate(range[1]!), to: boundDate(range[2]!) } : { name, from: null, to: null };
  });
  return partitions.sort((a, b) => (a.from?.getTime() ?? Infinity) - (b.from?.getTime() ?? Infinity));
}

function quoted(name: string): string {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a partition name: ${name}`);
  return `"${name}"`;
}

export interface PartitionUpkeep {
  /** Partitions made. */
  created: string[];
  /** Rows moved out of the default partition into their week's. */
  moved: number;
}

/**
 * Makes the weekly partitions of the last week (or of `from`'s) to the next WEEKS_AHEAD, and
 * of every week that has rows in the default partition (rows that arrived
 * before their week's partition existed, or were copied there by the
 * migration): those rows move into their partition, in the same transaction.
 */
export async function ensureMailLogPartitions(db: PrismaClient, now: Date, options: { from?: Date } = {}): Promise<PartitionUpkeep> {
  return db.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${PARTITION_LOCK})`);
      const [table] = await tx.$queryRawUnsafe<{ present: boolean }[]>(`SELECT to_regclass('${DEFAULT_PARTITION}') IS NOT NULL AS present`);
      // A database not migrated yet (MIGRATE_ON_START=false): nothing to keep up.
      if (!table?.present) return { created: [], moved: 0 };
      const existing = new Set((await listMailLogPartitions(tx)).filter((partition) => partition.from).map((partition) => partition.from!.getTime()));
      const stray = await tx.$queryRawUnsafe<{ week: string }[]>(`SELECT DISTINCT to_char(date_trunc('week', "loggedAt"), 'YYYY-MM-DD') AS week FROM ${quoted(DEFAULT_PARTITION)}`);
      const strayWeeks = new Set(stray.map((row) => boundDate(`${row.week} 00:00:00`).getTime()));
      const wanted = new Set(strayWeeks);
      // From last week, or from `from` (a restore or a benchmark filling months at once).
      const first = weekStart(new Date(Math.min(options.from?.getTime() ?? Infinity, now.getTime() - WEEK_MS))).getTime();
      const last = weekStart(new Date(now.getTime() + WEEKS_AHEAD * WEEK_MS)).getTime();
      for (let week = first; week <= last; week += WEEK_MS) wanted.add(week);
      const upkeep: PartitionUpkeep = { created: [], moved: 0 };
      for (const week of [...wanted].sort((a, b) => a - b)) {
        if (existing.has(week)) continue;
        const name = quoted(partitionName(new Date(week)));
        const from = `'${dateText(new Date(week))} 00:00:00'`;
        const to = `'${dateText(new Date(week + WEEK_MS))} 00:00:00'`;
        if (strayWeeks.has(week)) {
          // Made apart, filled from the default partition, then attached (which builds its indexes).
          await tx.$executeRawUnsafe(`CREATE TABLE ${name} (LIKE "${PARENT}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
          upkeep.moved += await tx.$executeRawUnsafe(
            `WITH moved AS (DELETE FROM ${quoted(DEFAULT_PARTITION)} WHERE "loggedAt" >= ${from} AND "loggedAt" < ${to} RETURNING *)
             INSERT INTO ${name} SELECT * FROM moved`,
          );
          await tx.$executeRawUnsafe(`ALTER TABLE "${PARENT}" ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`);
        } else {
          await tx.$executeRawUnsafe(`CREATE TABLE ${name} PARTITION OF "${PARENT}" FOR VALUES FROM (${from}) TO (${to})`);
        }
        upkeep.created.push(partitionName(new Date(week)));
      }
      return upkeep;
    },
    // Moving the rows of a big default partition (the first start after the migration) takes a while.
    { maxWait: 60_000, timeout: 3_600_000 },
  );
}

export interface DroppedPartitions {
  partitions: string[];
  /** Rows the dropped partitions held. */
  rows: number;
}

/**
 * The retention: drops every partition whose week ended at or before
 * `olderThan`, each in its own short transaction (DROP TABLE of a partition
 * holds the parent's lock for a moment, whatever its size). Records of the
 * week that `olderThan` falls in stay until the whole week is older (reads
 * ask for their own time range anyway).
 */
export async function dropExpiredPartitions(db: PrismaClient, olderThan: Date): Promise<DroppedPartitions> {
  const dropped: DroppedPartitions = { partitions: [], rows: 0 };
  for (const partition of await listMailLogPartitions(db)) {
    if (!partition.to || partition.to.getTime() > olderThan.getTime()) continue;
    const rows = await db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${PARTITION_LOCK})`);
      const [count] = await tx.$queryRawUnsafe<{ rows: bigint | number }[]>(`SELECT count(*) AS rows FROM ${quoted(partition.name)}`);
      await tx.$executeRawUnsafe(`DROP TABLE ${quoted(partition.name)}`);
      return Number(count!.rows);
    });
    dropped.partitions.push(partition.name);
    dropped.rows += rows;
  }
  return dropped;
}
