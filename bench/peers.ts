// mailadmin against a peer and against the floor, on the same PostgreSQL and
// the same page (issue 18): one seeded database served by three servers, each
// a process of its own, measured in turn over several rounds:
//
//   mailadmin    bench/bench-server.ts as bench/http.ts starts it; the page is
//                DOMAINS_PAGE (bench/queries.ts, as bench:http sends it) as
//                support (authenticated).
//   floor        bench/peer-floor.ts: Fastify 5 + pg, one prepared statement,
//                the same page in the same JSON shape, no authentication.
//   postgraphile PostGraphile v5 (+ @graphile/pg-aggregates) on the same tables,
//                no authentication (bench/peer-postgraphile.cjs), with a query
//                giving the same data (totalCount and sums of the accounts).
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mailadmin_bench npm run bench:peers
//   DATABASE_URL=... npm run bench:peers -- --duration 5 --rounds 3 --port 29000
//
// PostGraphile is not a dependency of mailadmin: the first run installs the
// pinned versions below with npm (from the registry) into --peer-dir, and the
// peer runs from there, on Node 20 with a Promise.withResolvers polyfill of its
// own (PostGraphile 5 wants Node 22).
//
// Per server and round, all against the page:
//   - saturation: autocannon at --connections for --duration seconds after
//     --warmup: requests/s, p50/p99 (closed loop: latency is mostly
//     connections / throughput), the server process's CPU ms per request
//     (/proc/<pid>/stat before and after) and the database's: the CPU of the
//     bench database's client backends (pg_stat_activity, then /proc) per
//     request. Servers are measured one at a time, the others idle.
//   - paced: an open-loop generator of its own sending --rate requests/s evenly
//     spaced for --duration seconds, each latency counted from the time the
//     request was due, not from when it went out (autocannon's -R releases
//     each connection's share in bursts, and its latencies start when a
//     request is written: it measures queueing behind its own bursts). p50,
//     p99, and the generator's own lateness (its p99 of sent-minus-due: what a
//     busy load-generating process adds to every server alike). For mailadmin
//     also its event-loop delay and the garbage collector's pauses during the
//     run (bench-server.ts's eventLoop and gc messages).
// Then for mailadmin alone, paced: `me` with an account's token, and that
// account's delivery log today (first 50).
// Figures are medians over the rounds; ratios are to mailadmin's; the
// targets of issue 18 are checked on them.
//
// Options: --duration S (each measurement, default 10), --warmup S (before each
// saturation run, default 3), --rounds N (default 3), --rate R (paced
// requests/s, default 150), --connections N (saturation, default 50),
// --servers mailadmin,floor,postgraphile (default all), --port P (the servers
// listen on P, P+1, P+2; default 0: any free port), --pool N (each server's
// database pool, mailadmin's DB_POOL_MAX, default 10), --domains N (default
// 200), --users N (accounts per domain besides the administrator, default 4),
// --records N (delivery records, default 200000), --log-level L (mailadmin's,
// default info), --peer-dir D (where PostGraphile is installed, default
// <tmp>/mailadmin-bench-peers/postgraphile-<version>), --mailadmin-node-flags
// "F ..." (flags for mailadmin's node, e.g. "--max-semi-space-size=64").
// BENCH_CPU_PROFILE_DIR=dir writes each server's V8 CPU profile there (file
// names carry the process id; the run's JSON output does not, the order of
// the files does: mailadmin, floor, PostGraphile).
//
// Needs PostgreSQL (the peers cannot use the embedded database): DATABASE_URL,
// whose database name must hold "bench" (its schema is emptied), on this
// machine (the database's CPU is read from /proc).
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { isDeepStrictEqual } from "node:util";
import { Client } from "pg";
import {
  benchServerEnv,
  finishBench,
  graphql,
  graphqlRequest,
  login,
  machine,
  newWorkDir,
  numberOption,
  percentile,
  prepareDatabase,
  round,
  runBench,
  runLoad,
  seed,
  startBenchServer,
  stringOption,
  type BenchServer,
} from "./bench-support";
import { DOMAINS_PAGE, ME, mailLogToday } from "./queries";

const POSTGRAPHILE_VERSION = "5.1.5";
const PG_AGGREGATES_VERSION = "0.2.0-rc.2";

// The same page from PostGraphile: its `id` is a global node id, the column is `rowId`.
const POSTGRAPHILE_PAGE = `query DomainsPage {
  allDomains(first: 50, orderBy: NAME_ASC) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      rowId name status quotaMb maxAccounts
      accountsByDomainId { totalCount aggregates { sum { quotaMb usedMb } } }
      domainAdminByDomainId { accountByAccountIdAndDomainId { rowId address displayName } }
    }
  }
}`;

type ServerName = "mailadmin" | "floor" | "postgraphile";

interface Measured {
  name: ServerName;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

interface Target {
  server: Measured;
  /** The page's request body and headers, as each server wants it. */
  body: string;
  headers: Record<string, string>;
}

// ---------------------------------------------------------------------------
// CPU from /proc

/** User + system CPU seconds of a process (0 once it is gone). */
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The bench database's client backends (the harness's own excepted) and their CPU seconds now. */
async function databaseCpu(admin: Client): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()`,
  );
  return new Map(rows.map((row) => [row.pid, cpuSecondsOf(row.pid)]));
}

/** CPU seconds the backends used between two databaseCpu readings (a backend opened in between started at 0). */
function databaseCpuUsed(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, seconds] of after) used += seconds - (before.get(pid) ?? 0);
  return used;
}

async function waitUntilIdle(pid: number, maxSeconds = 60): Promise<void> {
  const deadline = Date.now() + maxSeconds * 1000;
  while (Date.now() < deadline) {
    const before = cpuSecondsOf(pid);
    await new Promise((resolve) => setTimeout(resolve, 300));
    if (!(cpuSecondsOf(pid) - before > 0.015)) return;
  }
}

// ---------------------------------------------------------------------------
// The peers

/** PostGraphile and the aggregates plugin, pinned, in a folder of their own (installed once). */
function installPostGraphile(dir: string): void {
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(join(dir, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
    } catch {
      return undefined;
    }
  };
  if (version("postgraphile") === POSTGRAPHILE_VERSION && version("@graphile/pg-aggregates") === PG_AGGREGATES_VERSION) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), `${JSON.stringify({ private: true, description: "PostGraphile for mailadmin's bench:peers" })}\n`);
  process.stderr.write(`installing postgraphile@${POSTGRAPHILE_VERSION} into ${dir}\n`);
  execFileSync(
    "npm",
    [
      "install",
      "--prefix",
      dir,
      "--no-audit",
      "--no-fund",
      "--save-exact",
      "--loglevel",
      "error",
      `postgraphile@${POSTGRAPHILE_VERSION}`,
      `@graphile/pg-aggregates@${PG_AGGREGATES_VERSION}`,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
}

/** Forks a peer script that says { type: "listening", port } over IPC and stops on { type: "stop" }. */
async function forkPeer(name: ServerName, script: string, cwd: string, env: Record<string, string>): Promise<Measured> {
  const child: ChildProcess = fork(script, [], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", NODE_ENV: "production", ...env },
    // As mailadmin's (bench-support.ts): BENCH_CPU_PROFILE_DIR=dir writes each server's V8 CPU profile there when it stops.
    execArgv: process.env.BENCH_CPU_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`] : [],
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.on("message", (message: { type?: string; port?: number }) => {
      if (message.type === "listening") resolve(message.port!);
    });
    void exited.then((code) => reject(new Error(`${name} exited with ${code} before listening:\n${stderr}`)));
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function mailadminMeasured(server: BenchServer): Measured {
  return { name: "mailadmin", url: server.url, pid: server.pid, stop: () => server.stop() };
}

// ---------------------------------------------------------------------------
// Same answers

interface Page {
  totalCount: number;
  hasNextPage: boolean;
  nodes: {
    id: string;
    name: string;
    status: string;
    quotaMb: number | null;
    maxAccounts: number | null;
    accountCount: number;
    allocatedQuotaMb: number;
    usedMb: number;
    admin: unknown;
  }[];
}

type PostGraphilePage = {
  allDomains: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean };
    nodes: {
      rowId: string;
      name: string;
      status: string;
      quotaMb: number | null;
      maxAccounts: number | null;
      accountsByDomainId: { totalCount: number; aggregates: { sum: { quotaMb: string | null; usedMb: string | null } } };
      domainAdminByDomainId: { accountByAccountIdAndDomainId: { rowId: string; address: string; displayName: string } } | null;
    }[];
  };
};

type MailadminPage = { domains: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string }; nodes: Page["nodes"] } };

/** Each server's page, as the same values: the measurement compares like with like. */
async function checkSamePage(targets: Target[], supportToken: string): Promise<void> {
  const pages = new Map<ServerName, Page>();
  for (const target of targets) {
    if (target.server.name === "postgraphile") {
      const data = await graphql<PostGraphilePage>(target.server.url, POSTGRAPHILE_PAGE);
      pages.set("postgraphile", {
        totalCount: data.allDomains.totalCount,
        hasNextPage: data.allDomains.pageInfo.hasNextPage,
        nodes: data.allDomains.nodes.map((node) => ({
          id: node.rowId,
          name: node.name,
          status: node.status,
          quotaMb: node.quotaMb,
          maxAccounts: node.maxAccounts,
          accountCount: node.accountsByDomainId.totalCount,
          allocatedQuotaMb: Number(node.accountsByDomainId.aggregates.sum.quotaMb ?? 0),
          usedMb: Number(node.accountsByDomainId.aggregates.sum.usedMb ?? 0),
          admin: node.domainAdminByDomainId
            ? {
                id: node.domainAdminByDomainId.accountByAccountIdAndDomainId.rowId,
                address: node.domainAdminByDomainId.accountByAccountIdAndDomainId.address,
                displayName: node.domainAdminByDomainId.accountByAccountIdAndDomainId.displayName,
              }
            : null,
        })),
      });
    } else {
      const data = await graphql<MailadminPage>(target.server.url, DOMAINS_PAGE, {}, target.server.name === "mailadmin" ? supportToken : undefined);
      pages.set(target.server.name, { totalCount: data.domains.totalCount, hasNextPage: data.domains.pageInfo.hasNextPage, nodes: data.domains.nodes });
    }
  }
  const reference = pages.get("mailadmin");
  if (!reference || reference.nodes.length !== 50) throw new Error("mailadmin's page does not hold 50 domains");
  for (const [name, page] of pages) {
    if (!isDeepStrictEqual(page, reference)) {
      throw new Error(`${name}'s page differs from mailadmin's:\n${JSON.stringify(page).slice(0, 600)}\n${JSON.stringify(reference).slice(0, 600)}`);
    }
  }
  // The floor also answers in the same JSON shape, cursor included.
  const floor = targets.find((target) => target.server.name === "floor");
  if (floor) {
    const mailadmin = await graphql<MailadminPage>(targets.find((target) => target.server.name === "mailadmin")!.server.url, DOMAINS_PAGE, {}, supportToken);
    const floorPage = await graphql<MailadminPage>(floor.server.url, DOMAINS_PAGE);
    if (JSON.stringify(floorPage) !== JSON.stringify(mailadmin)) throw new Error("the floor's answer is not byte for byte mailadmin's");
  }
}

// ---------------------------------------------------------------------------
// Load

interface Saturation {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMs: number;
  databaseCpuMs: number;
  failures: number;
}

async function saturate(target: Target, admin: Client, connections: number, warmup: number, duration: number): Promise<Saturation> {
  const requests = [{ method: "POST" as const, path: "/graphql", headers: target.headers, body: target.body }];
  if (warmup > 0) await runLoad(target.server.url, requests, { connections, duration: warmup });
  await waitUntilIdle(target.server.pid);
  const serverBefore = cpuSecondsOf(target.server.pid);
  const databaseBefore = await databaseCpu(admin);
  const result = await runLoad(target.server.url, requests, { connections, duration });
  const serverUsed = cpuSecondsOf(target.server.pid) - serverBefore;
  const databaseUsed = databaseCpuUsed(databaseBefore, await databaseCpu(admin));
  await waitUntilIdle(target.server.pid);
  const perRequest = (seconds: number) => round((seconds * 1000) / Math.max(1, result.requests), 2);
  if (result.failures > 0) process.stderr.write(`  ${target.server.name}: ${result.failures} failures ${result.failureSamples.join(" | ")}\n`);
  return {
    requestsPerSecond: result.requestsPerSecond,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    serverCpuMs: perRequest(serverUsed),
    databaseCpuMs: perRequest(databaseUsed),
    failures: result.failures,
  };
}

interface Paced {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The generator's own lateness: p99 of (sent - due). */
  lateP99Ms: number;
  serverCpuMs: number;
  /** mailadmin only (NaN for the others): its event-loop delay (monitorEventLoopDelay) and the garbage collector's pauses during the run. */
  loopP99Ms: number;
  loopMaxMs: number;
  gcPausesPerSecond: number;
  gcMsPerSecond: number;
  gcMaxMs: number;
  /** The longest scavenge, and the major collections (mark-compact and its steps): how many, the longest. */
  gcMinorMaxMs: number;
  gcMajorCount: number;
  gcMajorMaxMs: number;
  failures: number;
}

/**
 * An open loop: request i is due at start + i / rate and sent as soon as the
 * generator gets to it; its latency runs from when it was due to the end of
 * its answer. Keep-alive connections, as many as requests in flight.
 */
type PacedLatencies = Pick<Paced, "p50Ms" | "p99Ms" | "maxMs" | "lateP99Ms" | "failures">;

async function paced(url: string, body: string, headers: Record<string, string>, rate: number, seconds: number, agent: Agent): Promise<PacedLatencies> {
  const { hostname, port } = new URL(url);
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const latencies = new Float64Array(total);
  const late = new Float64Array(total);
  const payload = Buffer.from(body);
  const requestHeaders = { ...headers, "content-length": String(payload.length) };
  let failures = 0;
  let finished = 0;
  let next = 0;
  const start = performance.now() + 20;
  return new Promise((resolve) => {
    const done = () => {
      if (++finished < total) return;
      const sorted = latencies.sort();
      const lateSorted = late.sort();
      resolve({
        p50Ms: round(percentile(sorted, 50), 2),
        p99Ms: round(percentile(sorted, 99), 2),
        maxMs: round(sorted[sorted.length - 1]!, 2),
        lateP99Ms: round(percentile(lateSorted, 99), 2),
        failures,
      });
    };
    const send = (index: number) => {
      const due = start + index * interval;
      late[index] = performance.now() - due;
      const outgoing = request({ agent, host: hostname, port, path: "/graphql", method: "POST", headers: requestHeaders }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          latencies[index] = performance.now() - due;
          if (response.statusCode !== 200 || Buffer.concat(chunks).includes('"errors":')) failures++;
          done();
        });
      });
      // An answer 30 s late counts as a failure (as autocannon's timeout in runLoad), so that a stuck server cannot hang the run.
      outgoing.setTimeout(30_000, () => outgoing.destroy(new Error("timed out")));
      outgoing.on("error", () => {
        latencies[index] = performance.now() - due;
        failures++;
        done();
      });
      outgoing.end(payload);
    };
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    setTimeout(tick, 20);
  });
}

async function pacedRun(pid: number, url: string, body: string, headers: Record<string, string>, rate: number, seconds: number, probe?: BenchServer): Promise<Paced> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  try {
    // A second to open the connections and warm the path.
    await paced(url, body, headers, rate, 1, agent);
    await waitUntilIdle(pid);
    await probe?.eventLoopDelay();
    await probe?.gcPauses();
    const before = cpuSecondsOf(pid);
    const result = await paced(url, body, headers, rate, seconds, agent);
    const serverCpuMs = round(((cpuSecondsOf(pid) - before) * 1000) / Math.max(1, Math.round(rate * seconds)), 2);
    const loop = probe ? await probe.eventLoopDelay() : undefined;
    const gc = probe ? await probe.gcPauses() : undefined;
    return {
      ...result,
      serverCpuMs,
      loopP99Ms: loop?.p99Ms ?? NaN,
      loopMaxMs: loop?.maxMs ?? NaN,
      gcPausesPerSecond: gc ? round(gc.count / seconds, 1) : NaN,
      gcMsPerSecond: gc ? round(gc.totalMs / seconds, 2) : NaN,
      gcMaxMs: gc?.maxMs ?? NaN,
      gcMinorMaxMs: gc?.minorMaxMs ?? NaN,
      gcMajorCount: gc?.majorCount ?? NaN,
      gcMajorMaxMs: gc?.majorMaxMs ?? NaN,
    };
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------

const median = (values: number[]) => {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function main() {
  const duration = numberOption("duration", 10);
  const warmup = numberOption("warmup", 3);
  const rounds = numberOption("rounds", 3);
  const rate = numberOption("rate", 150);
  const connections = numberOption("connections", 50);
  const basePort = numberOption("port", 0);
  const poolSize = numberOption("pool", 10);
  const logLevel = stringOption("log-level", "info");
  const wanted = stringOption("servers", "mailadmin,floor,postgraphile").split(",") as ServerName[];
  const peerDir = stringOption("peer-dir", join(tmpdir(), "mailadmin-bench-peers", `postgraphile-${POSTGRAPHILE_VERSION}`));
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('bench:peers needs PostgreSQL: set DATABASE_URL to a database whose name holds "bench" (it is emptied)');
  if (!wanted.includes("mailadmin")) throw new Error("--servers must include mailadmin: the others are compared with it");
  const port = (offset: number) => String(basePort === 0 ? 0 : basePort + offset);

  if (wanted.includes("postgraphile")) installPostGraphile(peerDir);
  const work = newWorkDir("bench-peers");
  const database = await prepareDatabase(work);
  const servers: Measured[] = [];
  let mailadmin: BenchServer | undefined;
  const admin = new Client({ connectionString: databaseUrl });
  try {
    process.stderr.write(`seeding ${new URL(databaseUrl).pathname.slice(1)}\n`);
    const world = await seed(databaseUrl, {
      domains: numberOption("domains", 200),
      usersPerDomain: numberOption("users", 4),
      logRecords: numberOption("records", 200_000),
      todayRecords: 300,
      bcryptCost: 4,
    });
    await admin.connect();
    const nodeFlags = stringOption("mailadmin-node-flags", "").split(" ").filter(Boolean);
    mailadmin = await startBenchServer(
      work,
      benchServerEnv({ DATABASE_URL: databaseUrl, LOG_LEVEL: logLevel, BCRYPT_COST: "4", DB_POOL_MAX: String(poolSize), PORT: port(0) }),
      nodeFlags,
    );
    servers.push(mailadminMeasured(mailadmin));
    const peerEnv = { DATABASE_URL: databaseUrl, HOST: "127.0.0.1", POOL_MAX: String(poolSize), GRAPHILE_ENV: "production" };
    if (wanted.includes("floor")) servers.push(await forkPeer("floor", join(__dirname, "peer-floor.js"), process.cwd(), { ...peerEnv, PORT: port(1) }));
    if (wanted.includes("postgraphile")) {
      // Run from the peer's folder, so that its require() finds PostGraphile there.
      const script = join(peerDir, "peer-postgraphile.cjs");
      copyFileSync(join(__dirname, "..", "..", "bench", "peer-postgraphile.cjs"), script);
      servers.push(await forkPeer("postgraphile", script, peerDir, { ...peerEnv, PORT: port(2) }));
    }
    const support = await login(mailadmin.url, world.supportUsername);
    const user = await login(mailadmin.url, world.userAddress);
    const json = { "content-type": "application/json" };
    const targets: Target[] = servers.map((server) => ({
      server,
      body: JSON.stringify({ query: server.name === "postgraphile" ? POSTGRAPHILE_PAGE : DOMAINS_PAGE }),
      headers: server.name === "mailadmin" ? { ...json, authorization: `Bearer ${support}` } : json,
    }));
    await checkSamePage(targets, support);
    const meRequest = graphqlRequest(ME, user);
    const logRequest = graphqlRequest(mailLogToday(world.userAddress), user);

    const saturation = new Map<ServerName, Saturation[]>(servers.map((server) => [server.name, []]));
    const pacedPage = new Map<ServerName, Paced[]>(servers.map((server) => [server.name, []]));
    const pacedMe: Paced[] = [];
    const pacedLog: Paced[] = [];
    for (let roundIndex = 0; roundIndex < rounds; roundIndex++) {
      // Each round starts with another server, so that none is always first after the others.
      const order = targets.map((_, index) => targets[(index + roundIndex) % targets.length]!);
      for (const target of order) {
        process.stderr.write(`round ${roundIndex + 1}/${rounds}: ${target.server.name}, saturation (${connections} connections, ${duration} s)\n`);
        saturation.get(target.server.name)!.push(await saturate(target, admin, connections, warmup, duration));
        process.stderr.write(`round ${roundIndex + 1}/${rounds}: ${target.server.name}, paced ${rate} requests/s, ${duration} s\n`);
        pacedPage
          .get(target.server.name)!
          .push(await pacedRun(target.server.pid, target.server.url, target.body, target.headers, rate, duration, target.server.name === "mailadmin" ? mailadmin : undefined));
      }
      process.stderr.write(`round ${roundIndex + 1}/${rounds}: mailadmin, paced me and delivery log\n`);
      pacedMe.push(await pacedRun(mailadmin.pid, mailadmin.url, meRequest.body as string, meRequest.headers as Record<string, string>, rate, duration, mailadmin));
      pacedLog.push(await pacedRun(mailadmin.pid, mailadmin.url, logRequest.body as string, logRequest.headers as Record<string, string>, rate, duration, mailadmin));
    }

    const summarise = <T extends object>(runs: T[]) =>
      Object.fromEntries(Object.keys(runs[0]!).map((key) => [key, round(median(runs.map((run) => (run as unknown as Record<string, number>)[key]!)), 2)])) as {
        [K in keyof T]: number;
      };
    const rows = servers.map((server) => ({ server: server.name, saturation: summarise(saturation.get(server.name)!), paced: summarise(pacedPage.get(server.name)!) }));
    const of = (name: ServerName) => rows.find((row) => row.server === name);
    const reference = of("mailadmin")!;
    const ratio = (value: number, to: number) => round(value / to, 2);
    const me = summarise(pacedMe);
    const log = summarise(pacedLog);
    const floor = of("floor");
    const peer = of("postgraphile");
    const targetsMet: Record<string, { value: number; limit: number; met: boolean }> = {};
    if (floor) {
      const cpu = ratio(reference.saturation.serverCpuMs, floor.saturation.serverCpuMs);
      targetsMet["page server CPU ≤ 2 × floor's"] = { value: cpu, limit: 2, met: cpu <= 2 };
      const tail = ratio(reference.paced.p99Ms, floor.paced.p99Ms);
      targetsMet["paced page p99 ≤ 1.5 × floor's"] = { value: tail, limit: 1.5, met: tail <= 1.5 };
      targetsMet["paced me p99 ≤ 1.5 × floor's page p99"] = { value: ratio(me.p99Ms, floor.paced.p99Ms), limit: 1.5, met: me.p99Ms <= 1.5 * floor.paced.p99Ms };
      targetsMet["paced log p99 ≤ 1.5 × floor's page p99"] = { value: ratio(log.p99Ms, floor.paced.p99Ms), limit: 1.5, met: log.p99Ms <= 1.5 * floor.paced.p99Ms };
    }
    if (peer) {
      const tail = ratio(reference.paced.p99Ms, peer.paced.p99Ms);
      targetsMet["paced page p99 ≤ PostGraphile's"] = { value: tail, limit: 1, met: tail <= 1 };
      targetsMet["paced me p99 ≤ PostGraphile's page p99"] = { value: ratio(me.p99Ms, peer.paced.p99Ms), limit: 1, met: me.p99Ms <= peer.paced.p99Ms };
      targetsMet["paced log p99 ≤ PostGraphile's page p99"] = { value: ratio(log.p99Ms, peer.paced.p99Ms), limit: 1, met: log.p99Ms <= peer.paced.p99Ms };
      const throughput = ratio(reference.saturation.requestsPerSecond, peer.saturation.requestsPerSecond);
      targetsMet["page requests/s ≥ 1.5 × PostGraphile's"] = { value: throughput, limit: 1.5, met: throughput >= 1.5 };
    }
    const failures = [...saturation.values(), ...pacedPage.values(), pacedMe, pacedLog].flat().reduce((sum, run) => sum + run.failures, 0);
    const summary = {
      machine: machine(),
      date: new Date().toISOString(),
      database: `PostgreSQL ${(await admin.query<{ server_version: string }>("SHOW server_version")).rows[0]!.server_version}`,
      seeded: world.counts,
      options: { duration, warmup, rounds, rate, connections, pool: poolSize, logLevel, mailadminNodeFlags: stringOption("mailadmin-node-flags", "") },
      versions: { postgraphile: POSTGRAPHILE_VERSION, "@graphile/pg-aggregates": PG_AGGREGATES_VERSION },
      rows,
      mailadminPaced: { me, log },
      perRound: { saturation: Object.fromEntries(saturation), paced: Object.fromEntries(pacedPage), me: pacedMe, log: pacedLog },
      targets: targetsMet,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n\n`);
    process.stdout.write(
      `| server | page req/s | server CPU ms/req | database CPU ms/req | p99 at ${connections} connections | paced ${rate} req/s p50 / p99 ms | generator late p99 ms | ratios to mailadmin (req/s, server CPU, paced p99) |\n` +
        `| --- | --- | --- | --- | --- | --- | --- | --- |\n`,
    );
    for (const row of rows) {
      const ratios = `${ratio(row.saturation.requestsPerSecond, reference.saturation.requestsPerSecond)} / ${ratio(row.saturation.serverCpuMs, reference.saturation.serverCpuMs)} / ${ratio(row.paced.p99Ms, reference.paced.p99Ms)}`;
      process.stdout.write(
        `| ${row.server} | ${row.saturation.requestsPerSecond} | ${row.saturation.serverCpuMs} | ${row.saturation.databaseCpuMs} | ${row.saturation.p99Ms} ms | ${row.paced.p50Ms} / ${row.paced.p99Ms} | ${row.paced.lateP99Ms} | ${ratios} |\n`,
      );
    }
    process.stdout.write(
      `\n| mailadmin, paced ${rate} req/s | p50 ms | p99 ms | max ms | server CPU ms/req | generator late p99 ms | event-loop delay p99 / max ms | GC pauses/s, ms/s, longest ms | longest scavenge ms; major collections: count, longest ms |\n` +
        `| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n`,
    );
    const tailRow = (label: string, run: { [K in keyof Paced]: number }) =>
      `| ${label} | ${run.p50Ms} | ${run.p99Ms} | ${run.maxMs} | ${run.serverCpuMs} | ${run.lateP99Ms} | ${run.loopP99Ms} / ${run.loopMaxMs} | ${run.gcPausesPerSecond}, ${run.gcMsPerSecond}, ${run.gcMaxMs} | ${run.gcMinorMaxMs}; ${run.gcMajorCount}, ${run.gcMajorMaxMs} |\n`;
    process.stdout.write(tailRow("the page (support)", reference.paced));
    process.stdout.write(tailRow("`me`", me));
    process.stdout.write(`${tailRow("one account's log today", log)}\n`);
    for (const [name, target] of Object.entries(targetsMet)) process.stdout.write(`- ${name}: ${target.value} (${target.met ? "met" : "NOT met"})\n`);
    const errors = mailadmin.errorLines();
    if (errors.length > 0) process.stderr.write(`mailadmin error lines:\n${errors.slice(0, 5).join("\n")}\n`);
    if (failures > 0 || errors.length > 0) process.exitCode = 1;
  } finally {
    await admin.end().catch(() => {});
    for (const server of servers) if (server.name !== "mailadmin") await server.stop();
    await finishBench(work, database, mailadmin);
  }
}

runBench(main);
