// The delivery-log table at an ISP's scale (issue 20): fills N records spread
// over six months in the weekly partitions (generated in SQL with
// generate_series, a million rows a statement), then measures
//   - one user's today and six-month reads (readMailLog, first page of 50 and
//     the total), p50/p95/p99;
//   - ingest lines/s through the collector into the full table;
//   - dropping a month (the retention, pruneMailLog: the weekly partitions of
//     the oldest month): how long it takes, how long the parent table's lock is
//     held, and the longest wait of today's reads and of ingest running at the
//     same time.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:55432/mailadmin_bench npm run bench:maillog-scale -- --rows 10000000
//
// Options: --rows N (default 100 million), --users N (addresses the records are
// spread over; default rows / 1000), --queries N (per range, default 200),
// --lines N (log lines ingested after the fill, default 200000).
// At 100 million records the fill takes about half an hour: --fill-only stops
// after it, and --no-fill measures the records a --fill-only run left (the
// same --rows and --users), so the two can run at different times. The
// measurements change the table (ingest adds records, step 4 drops a month):
// fill again before measuring again.
// PostgreSQL only (the embedded database is for one small server), and the
// database must have "bench" in its name: its schema is emptied.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "pg";
import { emptyDatabase } from "../src/db/reset";
import { runMigrations } from "../src/db/migrate";
import { createPrismaClient } from "../src/db/prisma";
import { collectAll } from "../src/maillog/collector";
import { createPgLogStore } from "../src/maillog/sql";
import { pruneMailLog, readMailLog } from "../src/maillog/maillog.service";
import { ensureMailLogPartitions, listMailLogPartitions } from "../src/maillog/partitions";
import { loadConfig } from "../src/config";
import type { Principal } from "../src/auth/principal";
import { createLogAccounts, generateLogs } from "./maillog-generate";

const DAY_MS = 86_400_000;
const SPAN_DAYS = 183;

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const ms = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e6;
const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** Runs `work` in a loop until stopped; the timings of every round. */
function loop(work: () => Promise<unknown>): { stop: () => Promise<number[]> } {
  const timings: number[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const begin = process.hrtime.bigint();
      await work();
      timings.push(ms(begin));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      return timings;
    },
  };
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url || !/bench/.test(new URL(url).pathname)) throw new Error("DATABASE_URL must name a PostgreSQL database with bench in its name (its schema is emptied)");
  const rows = argument("rows", 100_000_000);
  const users = argument("users", Math.max(1000, Math.round(rows / 1000)));
  const queries = argument("queries", 200);
  const lines = argument("lines", 200_000);
  const results: Record<string, unknown> = { rows, users, spanDays: SPAN_DAYS, startedAt: new Date().toISOString() };
  const fillOnly = process.argv.includes("--fill-only");
  const noFill = process.argv.includes("--no-fill");
  const work = mkdtempSync(join(tmpdir(), "mailadmin-bench-scale-"));

  if (!noFill) {
    await emptyDatabase(url, "bench");
    await runMigrations(url);
  }
  const db = createPrismaClient(url, 2);
  const store = createPgLogStore(url, 2);
  const probe = new Client({ connectionString: url });
  await probe.connect();
  try {
    results.server = (await probe.query<{ v: string }>("SELECT version() AS v")).rows[0]!.v;
    const now = new Date();
    // The weeks of the six months exist before they are filled, as they do in production (made ahead as time passes).
    await ensureMailLogPartitions(db, now, { from: new Date(now.getTime() - (SPAN_DAYS + 7) * DAY_MS) });
    if (noFill) {
      // The records of an earlier --fill-only run: its "now" was when it filled, so today's reads find fewer.
      const [filled] = await db.$queryRawUnsafe<{ n: string; last: Date }[]>(
        `SELECT count(*)::text AS n, max("loggedAt") AS last FROM "mail_log_record" WHERE "sourceName" = 'bench-fill'`,
      );
      if (Number(filled!.n) !== rows) throw new Error(`--no-fill: the table holds ${filled!.n} filled records, not --rows ${rows}: run --fill-only first`);
      results.filledUntil = filled!.last;
    }

    // 1. Fill: row i is logged i * (six months / rows) before now, so the weeks fill in time order (as logs arrive),
    // each for one of `users` addresses (spread by a multiplicative hash, so one user's records are far apart).
    const fillStarted = Date.now();
    const step = (SPAN_DAYS * 86_400) / rows;
    const startsAt = now.toISOString();
    for (let from = 0; from < (noFill ? 0 : rows); from += 1_000_000) {
      const to = Math.min(rows, from + 1_000_000);
      // From the oldest: i counts down from `rows`.
      await db.$executeRawUnsafe(`
        INSERT INTO "mail_log_record" ("fingerprint","loggedAt","queueId","queuedAt","direction","sender","recipient","subject",
          "sizeBytes","status","retryCount","reason","rawLine","localAddress","accountId","domainId","sourceName","ingestedAt")
        SELECT md5(i::text), '${startsAt}'::timestamp - (i * ${step}) * interval '1 second', to_hex(i), NULL,
               CASE WHEN i % 2 = 0 THEN 'OUTBOUND'::"MailDirection" ELSE 'INBOUND'::"MailDirection" END,
               'u' || ((i * 7919) % ${users}) || '@isp' || ((i * 7919) % ${users} % 500) || '.example', 'someone' || (i % 977) || '@remote.example',
               '會議記錄 ' || i, 1000 + i % 100000,
               CASE WHEN i % 20 = 0 THEN 'FAIL'::"DeliveryStatus" WHEN i % 10 = 0 THEN 'RETRY'::"DeliveryStatus" ELSE 'OK'::"DeliveryStatus" END,
               NULL, NULL, 'filled by bench/maillog-scale.ts ' || i,
               'u' || ((i * 7919) % ${users}) || '@isp' || ((i * 7919) % ${users} % 500) || '.example', NULL, NULL, 'bench-fill', '${startsAt}'::timestamp
        FROM generate_series(${rows - from}::bigint, ${rows - to + 1}::bigint, -1::bigint) AS i`);
      process.stderr.write(`filled ${to} of ${rows} rows (${Math.round((Date.now() - fillStarted) / 1000)} s)\n`);
    }
    if (!noFill) await db.$executeRawUnsafe(`ANALYZE "mail_log_record"`);
    const partitions = await listMailLogPartitions(db);
    const [size] = await db.$queryRawUnsafe<{ bytes: string }[]>(
      `SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '"mail_log_record"'::regclass`,
    );
    const [inDefault] = await db.$queryRawUnsafe<{ n: string }[]>(`SELECT count(*)::text AS n FROM "mail_log_record_default"`);
    results.fill = {
      ...(noFill ? {} : { seconds: Math.round((Date.now() - fillStarted) / 1000), rowsPerSecond: Math.round(rows / ((Date.now() - fillStarted) / 1000)) }),
      partitions: partitions.length,
      rowsInDefaultPartition: Number(inDefault!.n),
      tableAndIndexesGiB: round(Number(size!.bytes) / 2 ** 30, 2),
    };
    if (fillOnly) return report(results);

    // 2. One user's today and six months, as the API reads them.
    const config = loadConfig({ NODE_ENV: "test", JWT_SECRET: "x".repeat(40), MAIL_LOG_RETENTION_DAYS: String(SPAN_DAYS) });
    const support: Principal = { kind: "support", id: "bench", role: "SUPPORT_ADMIN", name: "bench", tokenVersion: 0 };
    const deps = { db, config, now: () => new Date() };
    const addressOf = (k: number) => `u${k}@isp${k % 500}.example`;
    const readToday = (k: number) => readMailLog(deps, support, { address: addressOf(k), range: "TODAY", first: 50 });
    for (const range of ["TODAY", "LAST_6_MONTHS"] as const) {
      const timings: number[] = [];
      let returned = 0;
      for (let query = 0; query < queries; query++) {
        const begin = process.hrtime.bigint();
        const page = await readMailLog(deps, support, { address: addressOf((query * 104_729) % users), range, first: 50 });
        timings.push(ms(begin));
        returned += page.totalCount;
      }
      timings.sort((a, b) => a - b);
      results[`query${range}`] = {
        queries,
        averageRecordsPerUser: Math.round(returned / queries),
        p50ms: round(percentile(timings, 50), 2),
        p95ms: round(percentile(timings, 95), 2),
        p99ms: round(percentile(timings, 99), 2),
      };
    }
    const plan = await probe.query<{ "QUERY PLAN": string }>(
      `EXPLAIN SELECT * FROM "mail_log_record" WHERE "localAddress" = $1 AND "loggedAt" >= $2::timestamp ORDER BY "loggedAt" DESC LIMIT 51`,
      [addressOf(1), new Date(Date.now() - DAY_MS).toISOString()],
    );
    results.todayPlanPartitions = [...new Set(plan.rows.flatMap((row) => [...row["QUERY PLAN"].matchAll(/ on (mail_log_record_\w+)/g)].map((match) => match[1]!)))];

    // 3. Ingest into the full table: generated log lines of today through the collector (read, parse, link, store).
    await createLogAccounts(db, 50, 100);
    const generated = generateLogs(join(work, "logs"), lines, { domains: 50, perDomain: 100 });
    const ingestStarted = process.hrtime.bigint();
    const reports = await collectAll(
      store,
      [
        { name: "m2k-1", path: generated.masterPath, timeZone: "Asia/Taipei" },
        { name: "m2k-2", path: generated.slavePath, timeZone: "Asia/Taipei" },
      ],
      undefined,
      2,
    );
    const ingestSeconds = ms(ingestStarted) / 1000;
    const linesRead = reports.reduce((sum, report) => sum + report.linesRead, 0);
    if (reports.some((report) => report.errors.length > 0)) throw new Error(`collection failed: ${reports.flatMap((report) => report.errors).join("; ")}`);
    results.ingest = {
      linesRead,
      accepted: reports.reduce((sum, report) => sum + report.accepted, 0),
      seconds: round(ingestSeconds),
      linesPerSecond: Math.round(linesRead / ingestSeconds),
    };

    // 4. Dropping the oldest month (the weekly partitions that ended 30 days after the oldest record), while
    // today's reads and ingest go on: their longest round during the drop against before it.
    const oldest = now.getTime() - SPAN_DAYS * DAY_MS;
    const cutoff = new Date(oldest + 30 * DAY_MS + 7 * DAY_MS);
    let k = 0;
    let pushed = 0;
    const pushBatch = async () => {
      // Ingest as a log shipper does: a batch of 500 lines of today (through a store transaction, as the collector writes).
      const batch = generateLogs(join(work, `push-${pushed++}`), 500, { domains: 50, perDomain: 100 });
      await collectAll(store, [{ name: `push-${pushed}`, path: batch.masterPath, timeZone: "Asia/Taipei" }], undefined, 1);
    };
    const readsBefore = loop(() => readToday(k++ % users));
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = (await readsBefore.stop()).sort((a, b) => a - b);
    const reads = loop(() => readToday(k++ % users));
    const ingests = loop(pushBatch);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The parent's lock: how long a statement that needs it (a read through the parent) waits behind each DROP.
    const lockWaits: number[] = [];
    const lockProbe = loop(async () => {
      const begin = process.hrtime.bigint();
      await probe.query(`SELECT 1 FROM "mail_log_record" WHERE "loggedAt" >= now() AT TIME ZONE 'UTC' LIMIT 1`);
      lockWaits.push(ms(begin));
    });
    const dropStarted = process.hrtime.bigint();
    const partitionsBefore = (await listMailLogPartitions(db)).length;
    const removed = await pruneMailLog(db, cutoff);
    const dropMs = ms(dropStarted);
    const partitionsAfter = (await listMailLogPartitions(db)).length;
    await new Promise((resolve) => setTimeout(resolve, 500));
    await lockProbe.stop();
    const during = (await reads.stop()).sort((a, b) => a - b);
    const ingestRounds = (await ingests.stop()).sort((a, b) => a - b);
    lockWaits.sort((a, b) => a - b);
    results.dropMonth = {
      cutoff: cutoff.toISOString(),
      partitionsDropped: partitionsBefore - partitionsAfter,
      rowsRemoved: removed,
      seconds: round(dropMs / 1000, 2),
      todayReadsBefore: { rounds: before.length, p95ms: round(percentile(before, 95), 2), maxms: round(before[before.length - 1]!, 2) },
      todayReadsDuring: { rounds: during.length, p95ms: round(percentile(during, 95), 2), maxms: round(during[during.length - 1]!, 2) },
      ingestBatchesOf500During: { rounds: ingestRounds.length, p50ms: round(percentile(ingestRounds, 50), 1), maxms: round(ingestRounds[ingestRounds.length - 1]!, 1) },
      parentLockProbe: { rounds: lockWaits.length, p50ms: round(percentile(lockWaits, 50), 2), maxms: round(lockWaits[lockWaits.length - 1]!, 2) },
    };
  } finally {
    await probe.end();
    await db.$disconnect();
    await store.close();
    rmSync(work, { recursive: true, force: true });
  }
  report(results);
}

function report(results: Record<string, unknown>): void {
  results.finishedAt = new Date().toISOString();
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
