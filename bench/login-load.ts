// Logins under load: 20 logins at a time, in a loop, at the production
// bcrypt cost, while other queries run at a steady rate. bcrypt hashes on
// worker threads at a low CPU priority (src/auth/passwords.ts), so the
// other queries' latency and the server's event-loop delay should barely
// move; a synchronous hash would stall every request for its whole duration
// (a quarter of a second at cost 12).
//
//   npm run bench:login
//   DATABASE_URL=postgresql://.../mailadmin_bench npm run bench:login
//
// Options: --duration S (seconds per phase, default 30), --logins N
// (concurrent login loops, default 20), --rate R (other queries per second,
// default 20: well under what the server answers on two cores, so that
// their latency shows waiting on the event loop, not a queue; sent evenly
// spaced, open loop), --bcrypt-cost N (default 12), --hash-threads N
// (the server's PASSWORD_HASH_THREADS; default: one per CPU), --log-level L
// (default info).
// Phase 1 measures the other queries alone, phase 2 with the logins.
import {
  benchServerEnv,
  BENCH_PASSWORD,
  login,
  machine,
  newWorkDir,
  numberOption,
  percentile,
  prepareDatabase,
  round,
  seed,
  startBenchServer,
  stringOption,
  type BenchServer,
  finishBench,
  runBench,
} from "./bench-support";

const LOGIN = `mutation Login($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`;

interface Query {
  query: string;
  token: string;
}

/**
 * The other queries, open loop: one every 1000/rate ms whatever the answers
 * do, so that each one's latency is its own wait, not a burst's (autocannon's
 * rate limit sends a second's requests together) nor a queue's.
 */
async function pacedQueries(url: string, queries: Query[], rate: number, seconds: number) {
  const latencies: number[] = [];
  let failures = 0;
  const failureSamples: string[] = [];
  const fail = (what: string) => {
    failures++;
    if (failureSamples.length < 3) failureSamples.push(what.slice(0, 300));
  };
  const inFlight: Promise<void>[] = [];
  const interval = 1000 / rate;
  const started = performance.now();
  for (let index = 0; performance.now() - started < seconds * 1000; index++) {
    const due = started + index * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const { query, token } = queries[index % queries.length]!;
    const sent = performance.now();
    inFlight.push(
      fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query }) })
        .then((response) => response.text())
        .then((body) => {
          latencies.push(performance.now() - sent);
          if (body.includes('"errors":')) fail(body);
        })
        .catch((error: unknown) => fail(String(error))),
    );
  }
  await Promise.all(inFlight);
  const { count, perSecond, p50Ms, p99Ms, maxMs } = latencySummary(latencies, (performance.now() - started) / 1000);
  return { requests: count, requestsPerSecond: perSecond, p50Ms, p99Ms, maxMs, failures, failureSamples };
}

/** How many answered in `seconds`, how fast, and their latency percentiles (ms, one decimal). */
function latencySummary(latencies: number[], seconds: number) {
  const sorted = Float64Array.from(latencies).sort();
  return {
    count: sorted.length,
    perSecond: round(sorted.length / seconds, 1),
    p50Ms: round(percentile(sorted, 50), 1),
    p99Ms: round(percentile(sorted, 99), 1),
    maxMs: round(sorted[sorted.length - 1] ?? NaN, 1),
  };
}

/** `count` loops, each logging in again as soon as its previous login answers, until `stop` resolves. */
async function loginLoops(url: string, identifiers: string[], count: number, stop: Promise<void>) {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const latencies: number[] = [];
  let failures = 0;
  const loop = async (index: number) => {
    const identifier = identifiers[index % identifiers.length]!;
    while (!stopped) {
      const started = process.hrtime.bigint();
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: LOGIN, variables: { i: identifier, p: BENCH_PASSWORD } }),
      });
      const body = (await response.json()) as { data?: { login?: { token?: string } } };
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (!body.data?.login?.token) failures++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: count }, (_, index) => loop(index)));
  const summary = latencySummary(latencies, (Date.now() - started) / 1000);
  return { logins: summary.count, loginsPerSecond: summary.perSecond, p50Ms: summary.p50Ms, p99Ms: summary.p99Ms, failures };
}

async function main() {
  const duration = numberOption("duration", 30);
  const concurrentLogins = numberOption("logins", 20);
  const rate = numberOption("rate", 20);
  const bcryptCost = numberOption("bcrypt-cost", 12);
  const hashThreads = stringOption("hash-threads", "");
  const logLevel = stringOption("log-level", "info");
  const work = newWorkDir("bench-login");
  const database = await prepareDatabase(work);
  let server: BenchServer | undefined;
  try {
    process.stderr.write(`seeding the ${database.kind} database\n`);
    const world = await seed(database.url, { domains: 200, usersPerDomain: 4, logRecords: 100_000, todayRecords: 300, bcryptCost });
    await database.release();
    server = await startBenchServer(
      work,
      benchServerEnv({ ...database.serverEnv, BCRYPT_COST: String(bcryptCost), LOG_LEVEL: logLevel, ...(hashThreads ? { PASSWORD_HASH_THREADS: hashThreads } : {}) }),
    );
    const support = await login(server.url, world.supportUsername);
    const user = await login(server.url, world.userAddress);
    const others: Query[] = [
      { query: `{ me { __typename role loginName } }`, token: user },
      { query: `{ domains(first: 50) { totalCount nodes { id name status quotaMb accountCount allocatedQuotaMb usedMb admin { address } } } }`, token: support },
      { query: `{ mailLog(address: "${world.userAddress}", range: TODAY, first: 50) { totalCount nodes { id loggedAt subject status } } }`, token: user },
    ];
    // Twenty different accounts log in (administrators of the first domains).
    const identifiers = world.adminAddresses.slice(0, concurrentLogins);

    process.stderr.write(`warm-up, then phase 1: other queries alone, ${duration} s at ${rate}/s\n`);
    await pacedQueries(server.url, others, rate, 5);
    await server.eventLoopDelay();
    const alone = await pacedQueries(server.url, others, rate, duration);
    const loopAlone = await server.eventLoopDelay();

    process.stderr.write(`phase 2: the same with ${concurrentLogins} concurrent logins at BCRYPT_COST=${bcryptCost}\n`);
    let finish: () => void = () => {};
    const stop = new Promise<void>((resolve) => (finish = resolve));
    const logins = loginLoops(server.url, identifiers, concurrentLogins, stop);
    const withLogins = await pacedQueries(server.url, others, rate, duration);
    finish();
    const loginFigures = await logins;
    const loopWithLogins = await server.eventLoopDelay();

    const phase = (result: typeof alone, loop: typeof loopAlone) => ({
      requests: result.requests,
      requestsPerSecond: result.requestsPerSecond,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      maxMs: result.maxMs,
      failures: result.failures,
      ...(result.failures > 0 ? { failureSamples: result.failureSamples } : {}),
      serverEventLoopDelay: loop,
    });
    const summary = {
      database: database.kind,
      machine: machine(),
      date: new Date().toISOString(),
      server: { NODE_ENV: "production", LOG_LEVEL: logLevel, BCRYPT_COST: bcryptCost, PASSWORD_HASH_THREADS: hashThreads || "one per CPU" },
      otherQueries: { mix: "me, 50 domains with administrators, one account's log today, in turn", ratePerSecond: rate, paced: "open loop, evenly spaced", seconds: duration },
      alone: phase(alone, loopAlone),
      withLogins: phase(withLogins, loopWithLogins),
      logins: { concurrent: concurrentLogins, ...loginFigures },
      targetP99UnderLoginsMet: withLogins.p99Ms < 50,
      serverErrorLines: server.errorLines().length,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (alone.failures + withLogins.failures + loginFigures.failures > 0 || summary.serverErrorLines > 0) process.exitCode = 1;
  } finally {
    await finishBench(work, database, server);
  }
}

runBench(main);
