// Ingest-only driver: the end-to-end ingest of bench/maillog.ts (generated
// logs of two log servers, collected side by side into PostgreSQL), without
// the query part, reporting where the CPU time went: this process (read,
// parse, write the COPY rows; all its threads, the garbage collector's
// included) and the PostgreSQL backends serving it (read from /proc, so only
// when the server runs on this machine), and when each source was done (once
// the smaller is, the other goes on alone on one connection).
//
//   npx tsc -p tsconfig.bench.json
//   DATABASE_URL=postgresql://postgres@127.0.0.1:55433/mailadmin_bench_logs node dist-bench/bench/ingest-only.js --lines 300000
//
// The database must have "bench" in its name: its schema is emptied.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "pg";
import { emptyDatabase } from "../src/db/reset";
import { runMigrations } from "../src/db/migrate";
import { createPrismaClient } from "../src/db/prisma";
import { collectAll, collectSource } from "../src/maillog/collector";
import { createPgLogStore } from "../src/maillog/sql";
import { createLogAccounts, generateLogs } from "./maillog-generate";

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};

/** CPU seconds (user + system) of a process, or NaN when /proc does not show it. */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL (PostgreSQL) is required");
  const lines = argument("lines", 300_000);
  const connections = argument("connections", 2);
  const domains = 50;
  const perDomain = 100;
  const directory = `/tmp/mailadmin-ingest-input-${lines}`;
  const generated = existsSync(join(directory, "m2k-1.log"))
    ? { masterPath: join(directory, "m2k-1.log"), slavePath: join(directory, "m2k-2.log") }
    : generateLogs(directory, lines, { domains, perDomain, end: 1_795_824_000 });

  await emptyDatabase(url, "bench");
  await runMigrations(url);
  const db = createPrismaClient(url, 1);
  await createLogAccounts(db, domains, perDomain);
  await db.$disconnect();

  const store = createPgLogStore(url, connections);
  // The backends' process ids, from a connection that watches them.
  const watcher = new Client({ connectionString: url });
  await watcher.connect();
  const database = new URL(url).pathname.slice(1);
  const backends = async () =>
    (
      await watcher.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`, [database])
    ).rows.map((row) => row.pid);
  const auxiliary = (await watcher.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE backend_type IN ('walwriter', 'checkpointer', 'background writer')`)).rows.map(
    (row) => row.pid,
  );
  try {
    const cpuBefore = process.cpuUsage();
    const auxiliaryBefore = auxiliary.map(cpuSecondsOf);
    const started = process.hrtime.bigint();
    let backendSeconds = Number.NaN;
    // The pool opens its connections on first use and closes them at the end:
    // their CPU is read every 200 ms, the last reading is just before the end.
    let sampling: Promise<void> = Promise.resolve();
    const sample = setInterval(() => {
      sampling = sampling.then(async () => {
        const pids = await backends();
        const seconds = pids.map(cpuSecondsOf).reduce((total, value) => total + value, 0);
        if (pids.length > 0 && !Number.isNaN(seconds)) backendSeconds = seconds;
      });
    }, 200);
    // As collectAll does with two connections, each source timed on its own.
    const sources = [
      { name: "m2k-1", path: generated.masterPath, timeZone: "Asia/Taipei" },
      { name: "m2k-2", path: generated.slavePath, timeZone: "Asia/Taipei" },
    ];
    const finished: Record<string, number> = {};
    const reports =
      connections >= 2
        ? await Promise.all(
            sources.map(async (source) => {
              const report = await collectSource(store, source);
              finished[source.name] = Number((Number(process.hrtime.bigint() - started) / 1e9).toFixed(2));
              return report;
            }),
          )
        : await collectAll(store, sources, undefined, connections);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sample);
    await sampling;
    const cpu = process.cpuUsage(cpuBefore);
    const linesRead = reports.reduce((total, report) => total + report.linesRead, 0);
    const errors = reports.flatMap((report) => report.errors);
    if (errors.length > 0) throw new Error(`collection failed: ${errors.join("; ")}`);
    const auxiliarySeconds = auxiliary.map(cpuSecondsOf).reduce((total, value, index) => total + value - auxiliaryBefore[index]!, 0);
    process.stdout.write(
      `${JSON.stringify({
        linesRead,
        accepted: reports.reduce((total, report) => total + report.accepted, 0),
        duplicates: reports.reduce((total, report) => total + report.duplicates, 0),
        seconds: Number(seconds.toFixed(2)),
        linesPerSecond: Math.round(linesRead / seconds),
        nodeCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)),
        backendCpuSeconds: Number(backendSeconds.toFixed(2)),
        walWriterCheckpointerCpuSeconds: Number(auxiliarySeconds.toFixed(2)),
        sourceFinishedAtSeconds: finished,
      })}\n`,
    );
  } finally {
    await watcher.end();
    await store.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
