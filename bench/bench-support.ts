// What the HTTP benchmarks share: a fresh database (embedded, or the
// PostgreSQL of DATABASE_URL when its name holds "bench"), realistic seed data,
// the server under test as a separate process (bench/bench-server.ts), and an
// autocannon run that records every response's latency itself (autocannon's
// own histogram has 1 ms steps, too coarse for sub-millisecond queries).
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import bcrypt from "bcrypt";
import { emptyDatabase } from "../src/db/reset";
import { startEmbeddedDatabase, type EmbeddedDatabase } from "../src/db/embedded";
import { runMigrations } from "../src/db/migrate";
import { createPrismaClient } from "../src/db/prisma";
import { startOfDay } from "../src/maillog/maillog.service";
import type { ControlMessage, ServerMessage } from "./bench-server";

// ---------------------------------------------------------------------------
// Command line

export function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index === -1) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number`);
  return value;
}

export function stringOption(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, Node ${process.version}`;
}

// ---------------------------------------------------------------------------
// Database

export interface BenchDatabase {
  kind: "postgresql" | "embedded (PGlite)";
  /** Where the benchmark seeds (the embedded database is served by the benchmark until `release`). */
  url: string;
  /** What the server process needs to find the same database. */
  serverEnv: Record<string, string>;
  /** Hands the database over to the server (the embedded one is one process's at a time). */
  release(): Promise<void>;
  /** Removes what the benchmark created on disk. */
  cleanup(): void;
}

/** An empty, migrated database: DATABASE_URL (its name must hold "bench": it is emptied) or a new embedded one. */
export async function prepareDatabase(work: string): Promise<BenchDatabase> {
  const external = process.env.DATABASE_URL;
  if (external) {
    await emptyDatabase(external, "bench");
    await runMigrations(external);
    return { kind: "postgresql", url: external, serverEnv: { DATABASE_URL: external }, release: async () => {}, cleanup: () => {} };
  }
  const dataDir = join(work, "db");
  let embedded: EmbeddedDatabase | undefined = await startEmbeddedDatabase(dataDir);
  await runMigrations(embedded.url);
  return {
    kind: "embedded (PGlite)",
    url: embedded.url,
    serverEnv: { DATA_DIR: dataDir },
    async release() {
      await embedded?.stop();
      embedded = undefined;
    },
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------
// Seed data

export const BENCH_PASSWORD = "bench password 0123";

export interface SeedOptions {
  domains: number;
  /** Ordinary accounts per domain, besides its administrator. */
  usersPerDomain: number;
  /** Delivery records of all accounts over six months. */
  logRecords: number;
  /** Today's delivery records of the account whose log is read. */
  todayRecords: number;
  /** Cost of the one bcrypt hash every seeded login shares. */
  bcryptCost: number;
}

export interface SeededWorld {
  supportUsername: string;
  /** Administrator of the first domain. */
  adminAddress: string;
  /** An ordinary account of the first domain, whose delivery log is read. */
  userAddress: string;
  /** Every domain's administrator, in name order. */
  adminAddresses: string[];
  domainNames: string[];
  domainIds: string[];
  counts: { domains: number; accounts: number; logRecords: number; todayRecordsOfUser: number; auditEntries: number };
}

const pad = (value: number) => String(value).padStart(4, "0");

/**
 * Domains with an administrator and a few mailboxes each (quotas, limits,
 * usage), a short audit trail, and delivery records: `logRecords` spread over
 * six months and every address, plus `todayRecords` of one user today.
 * Written straight to the database (one shared bcrypt hash): seeding through
 * the API would spend minutes hashing passwords.
 */
export async function seed(url: string, options: SeedOptions): Promise<SeededWorld> {
  const db = createPrismaClient(url, 1);
  try {
    const passwordHash = await bcrypt.hash(BENCH_PASSWORD, options.bcryptCost);
    await db.supportAdmin.create({ data: { username: "bench-support", displayName: "Bench support", passwordHash } });
    const domainNames = Array.from({ length: options.domains }, (_, index) => `bench-${pad(index)}.example`);
    const domains = await db.domain.createManyAndReturn({
      data: domainNames.map((name, index) => ({
        name,
        unicodeName: name,
        quotaMb: 20_480 + 1024 * (index % 8),
        maxAccounts: 50 + (index % 4) * 25,
        defaultMailboxQuotaMb: 500,
      })),
    });
    domains.sort((a, b) => a.name.localeCompare(b.name));
    const accounts = await db.account.createManyAndReturn({
      data: domains.flatMap((domain, index) =>
        Array.from({ length: options.usersPerDomain + 1 }, (_, user) => {
          const localPart = user === 0 ? "admin" : `user${user}`;
          return {
            domainId: domain.id,
            localPart,
            address: `${localPart}@${domain.name}`,
            displayName: user === 0 ? `Administrator of ${domain.name}` : `User ${user} of ${domain.name}`,
            passwordHash,
            quotaMb: user === 0 ? 0 : 500,
            usedMb: user === 0 ? 0 : (index * 37 + user * 101) % 480,
          };
        }),
      ),
    });
    const adminOf = new Map(accounts.filter((account) => account.localPart === "admin").map((account) => [account.domainId, account]));
    await db.domainAdmin.createMany({ data: domains.map((domain) => ({ domainId: domain.id, accountId: adminOf.get(domain.id)!.id })) });
    // The trail the API would have written for all of this.
    const domainById = new Map(domains.map((domain) => [domain.id, domain]));
    await db.auditEntry.createMany({
      data: [
        ...domains.map((domain) => ({
          actorRole: "SUPPORT_ADMIN",
          actorName: "bench-support",
          action: "domain.create",
          objectType: "domain",
          objectId: domain.id,
          domainId: domain.id,
          domainName: domain.name,
          changes: [{ field: "name", before: null, after: domain.name }],
        })),
        ...accounts.map((account) => ({
          actorRole: "SUPPORT_ADMIN",
          actorName: "bench-support",
          action: "account.create",
          objectType: "account",
          objectId: account.id,
          domainId: account.domainId,
          domainName: domainById.get(account.domainId)!.name,
          changes: [{ field: "address", before: null, after: account.address }],
        })),
      ],
    });

    const userAddress = `user1@${domains[0]!.name}`;
    const perDomain = options.usersPerDomain + 1;
    // Six months of records over every address (the reads go through the (localAddress, loggedAt) index among them).
    if (options.logRecords > 0) {
      await db.$executeRawUnsafe(`
        INSERT INTO "mail_log_record" ("fingerprint","loggedAt","queueId","queuedAt","direction","sender","recipient","subject",
          "sizeBytes","status","retryCount","reason","rawLine","localAddress","accountId","domainId","sourceName")
        SELECT 'seed-' || i, now() - interval '1 day' - (i % 15552000) * interval '1 second', NULL, NULL,
               CASE WHEN i % 2 = 0 THEN 'OUTBOUND'::"MailDirection" ELSE 'INBOUND'::"MailDirection" END,
               CASE WHEN i % 2 = 0 THEN a."address" ELSE 'contact' || (i % 997) || '@remote' || (i % 89) || '.example' END,
               CASE WHEN i % 2 = 0 THEN 'contact' || (i % 997) || '@remote' || (i % 89) || '.example' ELSE a."address" END,
               '會議記錄 ' || i, 1000 + i % 100000,
               CASE WHEN i % 20 = 0 THEN 'FAIL'::"DeliveryStatus" WHEN i % 10 = 0 THEN 'RETRY'::"DeliveryStatus" ELSE 'OK'::"DeliveryStatus" END,
               CASE WHEN i % 10 = 0 AND i % 20 <> 0 THEN 1 END,
               CASE WHEN i % 20 = 0 THEN 'Destination mailbox exceeds quota' WHEN i % 10 = 0 THEN 'Operation timed out' END,
               'seeded by bench/bench-support.ts', a."address", a."id", a."domainId", 'm2k-1'
        FROM generate_series(1, ${options.logRecords}) AS i
        JOIN (SELECT "address", "id", "domainId", (ROW_NUMBER() OVER (ORDER BY "address")) - 1 AS n FROM "account") a
          ON a.n = i % ${domains.length * perDomain}`);
    }
    // Today's records of the user whose log is read, between the start of today (service time zone) and now.
    const now = new Date();
    const since = startOfDay(now, process.env.SERVICE_TIME_ZONE ?? "Asia/Taipei");
    const span = Math.max(1, Math.floor((now.getTime() - since.getTime()) / 1000) - 1);
    const user = accounts.find((account) => account.address === userAddress)!;
    await db.$executeRawUnsafe(`
      INSERT INTO "mail_log_record" ("fingerprint","loggedAt","direction","sender","recipient","subject",
        "sizeBytes","status","retryCount","reason","rawLine","localAddress","accountId","domainId","sourceName")
      SELECT 'today-' || i, now() - ((i * 7919) % ${span}) * interval '1 second',
             CASE WHEN i % 3 = 0 THEN 'OUTBOUND'::"MailDirection" ELSE 'INBOUND'::"MailDirection" END,
             CASE WHEN i % 3 = 0 THEN '${userAddress}' ELSE 'boss' || (i % 13) || '@partner.example' END,
             CASE WHEN i % 3 = 0 THEN 'amy' || (i % 7) || '@partner.example' ELSE '${userAddress}' END,
             'FW: 痘痘學-有照片參考位置 ' || i, 4000 + i,
             CASE WHEN i % 25 = 0 THEN 'FAIL'::"DeliveryStatus" WHEN i % 8 = 0 THEN 'RETRY'::"DeliveryStatus" ELSE 'OK'::"DeliveryStatus" END,
             CASE WHEN i % 8 = 0 AND i % 25 <> 0 THEN 1 + i % 3 END,
             CASE WHEN i % 25 = 0 THEN 'Destination mailbox exceeds quota' WHEN i % 8 = 0 THEN 'Operation timed out' END,
             'seeded by bench/bench-support.ts', '${userAddress}', '${user.id}', '${user.domainId}', 'm2k-1'
      FROM generate_series(1, ${options.todayRecords}) AS i`);
    await db.$executeRawUnsafe(`ANALYZE`);
    return {
      supportUsername: "bench-support",
      adminAddress: `admin@${domains[0]!.name}`,
      userAddress,
      adminAddresses: domains.map((domain) => adminOf.get(domain.id)!.address),
      domainNames: domains.map((domain) => domain.name),
      domainIds: domains.map((domain) => domain.id),
      counts: {
        domains: domains.length,
        accounts: accounts.length,
        logRecords: await db.mailLogRecord.count(),
        todayRecordsOfUser: await db.mailLogRecord.count({ where: { localAddress: userAddress, loggedAt: { gte: since } } }),
        auditEntries: await db.auditEntry.count(),
      },
    };
  } finally {
    await db.$disconnect();
  }
}

// ---------------------------------------------------------------------------
// The server process

export interface Memory {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

export interface BenchServer {
  url: string;
  pid: number;
  memory(collectGarbage?: boolean): Promise<Memory>;
  /** The server's event-loop delay since the last reset (monitorEventLoopDelay), then reset. */
  eventLoopDelay(): Promise<{ p50Ms: number; p99Ms: number; maxMs: number }>;
  /** The garbage collector's pauses since the last call (PerformanceObserver "gc"), each in ms. */
  gcPauses(): Promise<{ count: number; totalMs: number; maxMs: number; pauses: number[]; minorMaxMs: number; majorCount: number; majorMaxMs: number }>;
  /** CPU time the server process has used so far, in seconds (Linux /proc; NaN elsewhere). */
  cpuSeconds(): number;
  /** Lines the server logged at level error or above so far. */
  errorLines(): string[];
  stop(): Promise<void>;
}

/**
 * The settings every benchmarked server gets: production mode, quiet outside
 * logging destinations, and no limit meant for hostile clients (every request
 * of a benchmark comes from 127.0.0.1, which a per-client limit would
 * throttle after a few seconds).
 */
export function benchServerEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    JWT_SECRET: randomBytes(48).toString("base64"),
    // Required in production; the benchmarks' domains get no DKIM keys through it, but the server will not start without one.
    DKIM_KEY_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    LOG_LEVEL: "info",
    BCRYPT_COST: "12",
    MIGRATE_ON_START: "true",
    LOG_COLLECT_INTERVAL_SECONDS: "0",
    LOGIN_CLIENT_MAX_FAILURES: "1000000",
    LOGIN_MAX_FAILURES: "1000",
    // The seeded support admin logs in with a password only (two-factor login is compulsory for support in production).
    TOTP_REQUIRED_FOR_SUPPORT: "false",
    // Request rate limits (per client, per principal, login): off.
    RATE_LIMIT_ENABLED: "false",
    // Nothing is looked up outside the machine.
    DNS_SERVERS: "127.0.0.1:9",
    ...overrides,
  };
}

/**
 * Forks bench/bench-server.js (compiled next to this file) with `env` and
 * waits until it listens. Its log lines go to a file in `work`, so that
 * writing them costs what it costs in production (a write to a descriptor)
 * without the benchmark parsing them.
 */
export async function startBenchServer(work: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<BenchServer> {
  const logPath = join(work, `server-${Date.now()}.log`);
  const logFd = openSync(logPath, "w");
  const child: ChildProcess = fork(join(__dirname, "bench-server.js"), [], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    // BENCH_CPU_PROFILE_DIR=dir writes the server's V8 CPU profile there when it stops (open it in Chrome's DevTools).
    execArgv: ["--expose-gc", ...nodeFlags, ...(process.env.BENCH_CPU_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`] : [])],
    stdio: ["ignore", logFd, "pipe", "ipc"],
  });
  closeSync(logFd);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const port = await new Promise<number>((resolve, reject) => {
    child.on("message", (message: ServerMessage) => {
      if (message.type === "listening") resolve(message.port);
    });
    void exited.then((code) => reject(new Error(`the bench server exited with ${code} before listening:\n${stderr}\n${readFileSync(logPath, "utf8").slice(-4000)}`)));
  });

  const ask = <T extends ServerMessage["type"]>(message: ControlMessage, answer: T) =>
    new Promise<Extract<ServerMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (reply: ServerMessage) => {
        if (reply.type !== answer) return;
        child.off("message", onMessage);
        resolve(reply as Extract<ServerMessage, { type: T }>);
      };
      child.on("message", onMessage);
      if (!child.send(message)) reject(new Error("the bench server's IPC channel is closed"));
    });

  const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async memory(collectGarbage = true) {
      const reply = await ask({ type: "memory", collectGarbage }, "memory");
      return { rssMb: mb(reply.rssBytes), heapUsedMb: mb(reply.heapUsedBytes), heapTotalMb: mb(reply.heapTotalBytes), externalMb: mb(reply.externalBytes) };
    },
    cpuSeconds() {
      try {
        // Fields 14 and 15 of /proc/<pid>/stat (after the command name): user and system time in clock ticks (100 a second).
        const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
        return (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return NaN;
      }
    },
    async eventLoopDelay() {
      const { p50Ms, p99Ms, maxMs } = await ask({ type: "eventLoop", reset: true }, "eventLoop");
      return { p50Ms, p99Ms, maxMs };
    },
    async gcPauses() {
      const { count, totalMs, maxMs, pauses, minorMaxMs, majorCount, majorMaxMs } = await ask({ type: "gc", reset: true }, "gc");
      return { count, totalMs, maxMs, pauses, minorMaxMs, majorCount, majorMaxMs };
    },
    errorLines() {
      return readFileSync(logPath, "utf8")
        .split("\n")
        .filter((line) => /"level":(50|60)/.test(line));
    },
    async stop() {
      if (child.exitCode === null) {
        child.send({ type: "stop" } satisfies ControlMessage);
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

// ---------------------------------------------------------------------------
// Talking to the server

export async function graphql<T = any>(url: string, query: string, variables: Record<string, unknown> = {}, token?: string): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(`${query.slice(0, 60)}…: ${body.errors.map((error) => `${error.extensions?.code}: ${error.message}`).join("; ")}`);
  return body.data!;
}

export async function login(url: string, identifier: string, password = BENCH_PASSWORD): Promise<string> {
  const data = await graphql<{ login: { token: string } }>(
    url,
    `
      mutation ($i: String!, $p: String!) {
        login(identifier: $i, password: $p) {
          token
        }
      }
    `,
    { i: identifier, p: password },
  );
  return data.login.token;
}

/** One autocannon request posting a GraphQL query. */
export function graphqlRequest(query: string, token?: string, variables?: Record<string, unknown>): autocannon.Request {
  return {
    method: "POST",
    path: "/graphql",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  };
}

/** True for a GraphQL answer without errors (autocannon counts the others as mismatches). */
export const answeredWithoutErrors = (body: string | Buffer | undefined) => typeof body === "string" && !body.includes('"errors":');

// ---------------------------------------------------------------------------
// Load

export interface LoadOptions {
  connections: number;
  /** Seconds. */
  duration: number;
  /** Requests per second from all connections together; unset: as fast as the server answers. */
  overallRate?: number;
  /** Called about once a second with the responses so far. */
  onTick?: (sofar: { responses: number; failures: number }) => void;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** GraphQL errors, non-2xx answers, connection errors and timeouts together. */
  failures: number;
  failureDetail: { graphqlErrors: number; non2xx: number; connectionErrors: number; timeouts: number };
  /** The first few failed answers, to say what went wrong. */
  failureSamples: string[];
  /** Latencies in ms, sorted, for callers that merge runs. */
  latencies: Float64Array;
}

export function runLoad(url: string, requests: autocannon.Request[], options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  const samples: string[] = [];
  const verifyBody = (body: string | Buffer | undefined) => {
    if (answeredWithoutErrors(body)) return true;
    failures++;
    if (samples.length < 3) samples.push(String(body).slice(0, 300));
    return false;
  };
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const instance = autocannon(
      { url, connections: options.connections, duration: options.duration, overallRate: options.overallRate, requests, timeout: 30, verifyBody },
      (error, result) => {
        clearInterval(ticker);
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const sorted = Float64Array.from(latencies).sort();
        const detail = { graphqlErrors: result.mismatches, non2xx: result.non2xx, connectionErrors: result.errors - result.timeouts, timeouts: result.timeouts };
        resolve({
          requests: sorted.length,
          seconds: round(seconds, 1),
          requestsPerSecond: Math.round(sorted.length / seconds),
          p50Ms: round(percentile(sorted, 50), 2),
          p90Ms: round(percentile(sorted, 90), 2),
          p99Ms: round(percentile(sorted, 99), 2),
          maxMs: round(sorted[sorted.length - 1] ?? NaN, 2),
          failures: detail.graphqlErrors + detail.non2xx + detail.connectionErrors + detail.timeouts,
          failureDetail: detail,
          failureSamples: samples,
          latencies: sorted,
        });
      },
    );
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      if (statusCode < 200 || statusCode > 299) failures++;
    });
    instance.on("reqError", () => failures++);
    const ticker = setInterval(() => options.onTick?.({ responses: latencies.length, failures }), 1000);
  });
}

/**
 * Waits until the server has finished what an earlier run left in flight
 * (autocannon stops sending, but the server still completes the requests it
 * had, bcrypt hashes above all): its CPU use falls under 5% for half a second.
 */
export async function waitUntilIdle(server: BenchServer, maxSeconds = 180): Promise<void> {
  const deadline = Date.now() + maxSeconds * 1000;
  while (Date.now() < deadline) {
    const before = server.cpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const used = server.cpuSeconds() - before;
    if (!(used > 0.025)) return;
  }
}

export function newWorkDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mailadmin-${prefix}-`));
}

/** Ends a benchmark run: its server stopped, the bench database released, the work directory removed. */
export async function finishBench(work: string, database: BenchDatabase, server: BenchServer | undefined): Promise<void> {
  await server?.stop();
  await database.release();
  database.cleanup();
  rmSync(work, { recursive: true, force: true });
}

/** Runs a benchmark's main: a failure prints its stack and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
