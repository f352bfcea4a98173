// Delivery-log benchmark: parse rate, end-to-end ingest rate, and the latency
// of one user's records with many millions stored.
//
//   npm run bench:maillog                                   # embedded database, 1 million rows
//   DATABASE_URL=postgresql://.../mailadmin_bench npm run bench:maillog -- --rows 10000000
//
// Options: --lines N (generated log lines to parse and ingest, default 500000),
// --rows N (records stored before the queries; default 10 million on
// PostgreSQL, 1 million embedded), --queries N (per range, default 300).
// A PostgreSQL database must have "bench" in its name: its schema is emptied.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emptyDatabase } from "../src/db/reset";
import { createLogAccounts, generateLogs, localAddressesFor } from "./maillog-generate";
import { parseLogLine, splitLines } from "../src/maillog/parse";
import { startEmbeddedDatabase } from "../src/db/embedded";
import { runMigrations } from "../src/db/migrate";
import { createPrismaClient } from "../src/db/prisma";
import { collectAll } from "../src/maillog/collector";
import { createPgLogStore } from "../src/maillog/sql";
import { readMailLog } from "../src/maillog/maillog.service";
import { loadConfig } from "../src/config";
import type { Principal } from "../src/auth/principal";

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main() {
  const externalUrl = process.env.DATABASE_URL;
  const lines = argument("lines", 500_000);
  const rows = argument("rows", externalUrl ? 10_000_000 : 1_000_000);
  const queries = argument("queries", 300);
  const domains = 50;
  const perDomain = 100;
  const work = mkdtempSync(join(tmpdir(), "mailadmin-bench-"));
  const results: Record<string, unknown> = { database: externalUrl ? "postgresql" : "embedded (PGlite)", lines, rows };

  // 1. Generate.
  const generated = generateLogs(join(work, "logs"), lines, { domains, perDomain });

  // 2. Parse rate, one core: the best of five passes over the master's file
  // (on a shared machine the best pass is the one least disturbed).
  const { lines: raw } = splitLines(readFileSync(generated.masterPath));
  let best = Infinity;
  for (let pass = 0; pass < 5; pass++) {
    const started = process.hrtime.bigint();
    let parsed = 0;
    for (const line of raw) if (parseLogLine(line).ok) parsed++;
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
    if (parsed !== raw.length) throw new Error(`only ${parsed} of ${raw.length} generated lines parsed`);
  }
  results.parseLinesPerSecond = Math.round(raw.length / best);

  // 3. A fresh database.
  let embedded;
  let url: string;
  if (externalUrl) {
    await emptyDatabase(externalUrl, "bench");
    url = externalUrl;
  } else {
    embedded = await startEmbeddedDatabase(join(work, "db"));
    url = embedded.url;
  }
  await runMigrations(url);
  const db = createPrismaClient(url, 1);
  const connections = externalUrl ? 2 : 1;
  const store = createPgLogStore(url, connections);
  try {
    // Accounts for the generated addresses, so that ingestion links records as in production.
    const addresses = localAddressesFor(domains, perDomain);
    await createLogAccounts(db, domains, perDomain);

    // 4. End-to-end ingest: both sources' files through the collector (read, parse, link, store, offsets).
    // The two log servers are collected side by side, as the server does (one connection each on PostgreSQL).
    const started = process.hrtime.bigint();
    const [master, slave] = await collectAll(
      store,
      [
        { name: "m2k-1", path: generated.masterPath, timeZone: "Asia/Taipei" },
        { name: "m2k-2", path: generated.slavePath, timeZone: "Asia/Taipei" },
      ],
      undefined,
      connections,
    );
    if (!master || !slave) throw new Error("collection returned no report");
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const linesRead = master.linesRead + slave.linesRead;
    if (master.errors.length + slave.errors.length > 0) throw new Error(`collection failed: ${[...master.errors, ...slave.errors].join("; ")}`);
    results.ingest = {
      linesRead,
      accepted: master.accepted + slave.accepted,
      duplicates: master.duplicates + slave.duplicates,
      seconds: Number(seconds.toFixed(1)),
      linesPerSecond: Math.round(linesRead / seconds),
    };

    // 5. Fill up to `rows` records spread over six months and the same addresses, in the database itself.
    const existing = await db.mailLogRecord.count();
    const fillStarted = Date.now();
    for (let from = existing; from < rows; from += 1_000_000) {
      const to = Math.min(rows, from + 1_000_000);
      await db.$executeRawUnsafe(`
        INSERT INTO "mail_log_record" ("fingerprint","loggedAt","queueId","queuedAt","direction","sender","recipient","subject",
          "sizeBytes","status","retryCount","reason","rawLine","localAddress","accountId","domainId","sourceName")
        SELECT 'fill-' || i, now() - (i % 15768000) * interval '1 second', NULL, NULL,
               CASE WHEN i % 2 = 0 THEN 'OUTBOUND'::"MailDirection" ELSE 'INBOUND'::"MailDirection" END,
               'user' || (i % ${perDomain}) || '@bench' || ((i / ${perDomain}) % ${domains}) || '.example', 'someone@remote.example',
               '會議記錄 ' || i, 1000 + i % 100000,
               CASE WHEN i % 20 = 0 THEN 'FAIL'::"DeliveryStatus" WHEN i % 10 = 0 THEN 'RETRY'::"DeliveryStatus" ELSE 'OK'::"DeliveryStatus" END,
               NULL, NULL, 'filled by bench/maillog.ts',
               'user' || (i % ${perDomain}) || '@bench' || ((i / ${perDomain}) % ${domains}) || '.example', NULL, NULL, 'bench-fill'
        FROM generate_series(${from + 1}, ${to}) AS i`);
      process.stderr.write(`filled ${to} of ${rows} rows\n`);
    }
    await db.$executeRawUnsafe(`ANALYZE "mail_log_record"`);
    results.fillSeconds = Math.round((Date.now() - fillStarted) / 1000);
    results.storedRecords = await db.mailLogRecord.count();

    // 6. One user's records: today's and six months', as the API reads them (first page of 50 and the total).
    const config = loadConfig({ NODE_ENV: "test", JWT_SECRET: "x".repeat(40) });
    const support: Principal = { kind: "support", id: "bench", role: "SUPPORT_ADMIN", name: "bench", tokenVersion: 0 };
    const deps = { db, config, now: () => new Date() };
    for (const range of ["TODAY", "LAST_6_MONTHS"] as const) {
      const timings: number[] = [];
      let returned = 0;
      for (let query = 0; query < queries; query++) {
        const address = addresses[(query * 7919) % addresses.length]!;
        const begin = process.hrtime.bigint();
        const page = await readMailLog(deps, support, { address, range, first: 50 });
        timings.push(Number(process.hrtime.bigint() - begin) / 1e6);
        returned += page.totalCount;
      }
      timings.sort((a, b) => a - b);
      results[`query${range}`] = {
        queries,
        averageRecordsPerUser: Math.round(returned / queries),
        p50ms: Number(percentile(timings, 50).toFixed(2)),
        p95ms: Number(percentile(timings, 95).toFixed(2)),
        p99ms: Number(percentile(timings, 99).toFixed(2)),
      };
    }
  } finally {
    await db.$disconnect();
    await store.close();
    await embedded?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
