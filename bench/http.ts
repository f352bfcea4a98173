// Throughput and latency of the API over loopback, with autocannon, against a
// server process it starts itself on seeded data.
//
//   npm run bench:http                                        # embedded database
//   DATABASE_URL=postgresql://.../mailadmin_bench npm run bench:http
//
// Options: --duration S (seconds per scenario, default 20), --warmup S
// (default 5), --connections N (default 50), --scenarios a,b (default all:
// typename,me,domains,maillog,create-delete), --bcrypt-cost N (the server's,
// default 12 as in production; createAccount hashes a password, so the
// create/delete pair is also measured at cost 4 unless --bcrypt-cost is 4;
// at cost 10 or more it runs at least 60 s, without warm-up),
// --domains N (default 200), --users N (accounts per domain besides the
// administrator, default 4), --records N (delivery records, default 200000),
// --log-level L (the server's, default info as in production), --servers 2
// (PostgreSQL only: after the scenarios, the page of domains against one
// server and against two server processes on the same database, the same
// connections split between them by this one load generator, in alternating
// rounds; the servers listen on 127.0.0.1:28010 and 28011).
// A PostgreSQL database must have "bench" in its name: its schema is emptied.
import type autocannon from "autocannon";
import {
  benchServerEnv,
  graphqlRequest,
  graphql,
  login,
  machine,
  newWorkDir,
  numberOption,
  prepareDatabase,
  round,
  runLoad,
  seed,
  waitUntilIdle,
  startBenchServer,
  stringOption,
  type BenchServer,
  type LoadResult,
  type SeededWorld,
  finishBench,
  runBench,
} from "./bench-support";
import { DOMAINS_PAGE, ME, TYPENAME, mailLogToday } from "./queries";

const CREATE_ACCOUNT = `mutation Create($input: CreateAccountInput!) { createAccount(input: $input) { account { id address quotaMb } } }`;
const DELETE_ACCOUNT = `mutation Delete($id: ID!) { deleteAccount(id: $id) { deletedAccountId } }`;

interface Tokens {
  support: string;
  admin: string;
  user: string;
}

interface Scenario {
  name: string;
  label: string;
  /** Requests making one operation (2 for the create/delete pair). */
  perOperation: number;
  requests(): autocannon.Request[];
}

/** Numbers the accounts the create/delete pair creates, unique across the runs of one process. */
let sequence = 0;
const runTag = Date.now().toString(36);

/** A createAccount then a deleteAccount of what it created, round-robin over the seeded domains (one row lock each). */
function createDeletePair(world: SeededWorld, tokens: Tokens): autocannon.Request[] {
  const create = graphqlRequest(CREATE_ACCOUNT, tokens.support);
  const remove = graphqlRequest(DELETE_ACCOUNT, tokens.support);
  return [
    {
      ...create,
      setupRequest: (request) => {
        sequence++;
        const domainId = world.domainIds[sequence % world.domainIds.length];
        return {
          ...request,
          body: JSON.stringify({
            query: CREATE_ACCOUNT,
            variables: { input: { domainId, localPart: `bench-${runTag}-${sequence}`, password: "bench password 0123", quotaMb: 100 } },
          }),
        };
      },
      onResponse: (_status, body, context) => {
        const match = /"id":"([^"]+)"/.exec(body);
        (context as { accountId?: string }).accountId = match?.[1];
      },
    },
    {
      ...remove,
      // Without an id (the creation failed) start over with a creation.
      setupRequest: (request, context) => {
        const accountId = (context as { accountId?: string }).accountId;
        return accountId ? { ...request, body: JSON.stringify({ query: DELETE_ACCOUNT, variables: { id: accountId } }) } : (undefined as unknown as autocannon.Request);
      },
    },
  ];
}

function scenarios(world: SeededWorld, tokens: Tokens): Scenario[] {
  return [
    { name: "typename", label: "`{ __typename }` (ceiling, no token)", perOperation: 1, requests: () => [graphqlRequest(TYPENAME)] },
    { name: "me", label: "`me` (an account's token)", perOperation: 1, requests: () => [graphqlRequest(ME, tokens.user)] },
    { name: "domains", label: "50 domains with their administrators (support)", perOperation: 1, requests: () => [graphqlRequest(DOMAINS_PAGE, tokens.support)] },
    {
      name: "maillog",
      label: "one account's log today, first 50 (the account itself)",
      perOperation: 1,
      requests: () => [graphqlRequest(mailLogToday(world.userAddress), tokens.user)],
    },
    { name: "create-delete", label: "createAccount + deleteAccount (support)", perOperation: 2, requests: () => createDeletePair(world, tokens) },
  ];
}

/** One request of each scenario by hand, checking the answers are what is measured. */
async function checkAnswers(url: string, world: SeededWorld, tokens: Tokens): Promise<void> {
  const page = await graphql<{ domains: { totalCount: number; nodes: { admin: { address: string } }[] } }>(url, DOMAINS_PAGE, {}, tokens.support);
  if (page.domains.nodes.length !== Math.min(50, world.domainNames.length) || page.domains.nodes.some((node) => !node.admin.address.startsWith("admin@"))) {
    throw new Error("the domains page does not hold 50 domains with their administrators");
  }
  const log = await graphql<{ mailLog: { totalCount: number; nodes: unknown[] } }>(url, mailLogToday(world.userAddress), {}, tokens.user);
  if (log.mailLog.nodes.length === 0) throw new Error("the account's log today is empty");
  await graphql(url, ME, {}, tokens.user);
}

interface Row {
  scenario: string;
  connections: number;
  requestsPerSecond: number;
  operationsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU time per request: what the request costs, whatever else the machine runs. */
  serverCpuMsPerRequest: number;
  failures: number;
  /** Lines the server logged at level error during the scenario, its warm-up included. */
  serverErrors: number;
  note?: string;
}

function toRow(scenario: Scenario, connections: number, result: LoadResult & { serverCpuMsPerRequest: number; serverErrors: number }, note?: string): Row {
  return {
    scenario: scenario.label,
    connections,
    requestsPerSecond: result.requestsPerSecond,
    operationsPerSecond: round(result.requestsPerSecond / scenario.perOperation, 1),
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    serverCpuMsPerRequest: result.serverCpuMsPerRequest,
    failures: result.failures,
    serverErrors: result.serverErrors,
    ...(note ? { note } : {}),
  };
}

async function measure(server: BenchServer, scenario: Scenario, connections: number, warmup: number, duration: number) {
  process.stderr.write(`  ${scenario.name}: warm-up ${warmup} s, then ${duration} s at ${connections} connections\n`);
  const errorsBefore = server.errorLines().length;
  if (warmup > 0) await runLoad(server.url, scenario.requests(), { connections, duration: warmup });
  await waitUntilIdle(server);
  const cpuBefore = server.cpuSeconds();
  const measured = await runLoad(server.url, scenario.requests(), { connections, duration });
  const serverCpuMsPerRequest = round(((server.cpuSeconds() - cpuBefore) * 1000) / Math.max(1, measured.requests), 2);
  await waitUntilIdle(server);
  const result = { ...measured, serverCpuMsPerRequest, serverErrors: server.errorLines().length - errorsBefore };
  if (result.serverErrors > 0) process.stderr.write(`  ${scenario.name}: the server logged ${result.serverErrors} errors (warm-up included)\n`);
  if (result.failures > 0) {
    process.stderr.write(`  ${scenario.name}: ${result.failures} failures ${JSON.stringify(result.failureDetail)} ${result.failureSamples.join(" | ")}\n`);
  }
  return result;
}

/**
 * The page of domains against one server, then against it and a second server
 * process on the same database (the same JWT secret, so the same tokens), the
 * connections split between the two by this one load generator. Rounds
 * alternate (one, two, one, two) so that drift of a shared machine falls on
 * both; requests/s are summed over the two servers.
 */
async function measureTwoServers(work: string, env: Record<string, string>, first: BenchServer, all: Scenario[], connections: number, warmup: number, duration: number) {
  const scenario = all.find((candidate) => candidate.name === "domains")!;
  const second = await startBenchServer(work, { ...env, PORT: "28011" });
  try {
    const half = Math.ceil(connections / 2);
    if (warmup > 0)
      await Promise.all([
        runLoad(first.url, scenario.requests(), { connections: half, duration: warmup }),
        runLoad(second.url, scenario.requests(), { connections: connections - half, duration: warmup }),
      ]);
    const one: LoadResult[] = [];
    const two: LoadResult[][] = [];
    for (let round = 0; round < 2; round++) {
      await waitUntilIdle(first);
      await waitUntilIdle(second);
      process.stderr.write(`  domains, round ${round + 1}: one server, ${duration} s at ${connections} connections\n`);
      one.push(await runLoad(first.url, scenario.requests(), { connections, duration }));
      await waitUntilIdle(first);
      process.stderr.write(`  domains, round ${round + 1}: two servers, ${duration} s at ${half} + ${connections - half} connections\n`);
      two.push(
        await Promise.all([
          runLoad(first.url, scenario.requests(), { connections: half, duration }),
          runLoad(second.url, scenario.requests(), { connections: connections - half, duration }),
        ]),
      );
    }
    const oneRps = one.reduce((sum, result) => sum + result.requestsPerSecond, 0) / one.length;
    const twoRps = two.reduce((sum, pair) => sum + pair[0]!.requestsPerSecond + pair[1]!.requestsPerSecond, 0) / two.length;
    const failures = [...one, ...two.flat()].reduce((sum, result) => sum + result.failures, 0);
    return {
      scenario: scenario.label,
      connections,
      rounds: one.length,
      oneServer: { requestsPerSecond: Math.round(oneRps), p99Ms: one.map((result) => result.p99Ms) },
      twoServers: {
        requestsPerSecond: Math.round(twoRps),
        perServer: two.map((pair) => pair.map((result) => result.requestsPerSecond)),
        p99Ms: two.map((pair) => pair.map((result) => result.p99Ms)),
      },
      ratio: round(twoRps / oneRps, 2),
      failures,
    };
  } finally {
    await second.stop();
  }
}

async function main() {
  const duration = numberOption("duration", 20);
  const warmup = numberOption("warmup", 5);
  const connections = numberOption("connections", 50);
  const bcryptCost = numberOption("bcrypt-cost", 12);
  const wanted = stringOption("scenarios", "typename,me,domains,maillog,create-delete").split(",");
  const logLevel = stringOption("log-level", "info");
  const serverCount = numberOption("servers", 1);
  if (serverCount !== 1 && serverCount !== 2) throw new Error("--servers is 1 or 2");
  if (serverCount === 2 && !process.env.DATABASE_URL) throw new Error("--servers 2 needs PostgreSQL (DATABASE_URL): the embedded database belongs to one process");
  const work = newWorkDir("bench-http");
  const database = await prepareDatabase(work);
  let server: BenchServer | undefined;
  try {
    process.stderr.write(`seeding the ${database.kind} database\n`);
    const world = await seed(database.url, {
      domains: numberOption("domains", 200),
      usersPerDomain: numberOption("users", 4),
      logRecords: numberOption("records", 200_000),
      todayRecords: 300,
      bcryptCost,
    });
    await database.release();
    const env = benchServerEnv({ ...database.serverEnv, BCRYPT_COST: String(bcryptCost), LOG_LEVEL: logLevel, ...(serverCount === 2 ? { PORT: "28010" } : {}) });
    server = await startBenchServer(work, env);
    const tokens: Tokens = {
      support: await login(server.url, world.supportUsername),
      admin: await login(server.url, world.adminAddress),
      user: await login(server.url, world.userAddress),
    };
    await checkAnswers(server.url, world, tokens);

    const rows: Row[] = [];
    const results: Record<string, LoadResult> = {};
    for (const scenario of scenarios(world, tokens).filter((candidate) => wanted.includes(candidate.name))) {
      // At a bcrypt cost of 10 or more the pair is bound by hashing (a few a
      // second on two cores): no warm-up, and a minute at least, so that
      // enough pairs complete to be measured.
      const slow = scenario.name === "create-delete" && bcryptCost >= 10;
      const result = await measure(server, scenario, connections, slow ? 0 : warmup, slow ? Math.max(60, duration) : duration);
      results[scenario.name] = result;
      rows.push(toRow(scenario, connections, result, scenario.name === "create-delete" ? `BCRYPT_COST=${bcryptCost}` : undefined));
    }
    // createAccount spends one bcrypt hash: at the production cost the pair
    // measures bcrypt; at cost 4 it measures the API and the database.
    if (wanted.includes("create-delete") && bcryptCost !== 4) {
      await server.stop();
      server = await startBenchServer(work, { ...env, BCRYPT_COST: "4" });
      const scenario = scenarios(world, tokens).find((candidate) => candidate.name === "create-delete")!;
      const result = await measure(server, scenario, connections, warmup, duration);
      rows.push(toRow(scenario, connections, result, "BCRYPT_COST=4"));
    }

    const twoServers = serverCount === 2 ? await measureTwoServers(work, env, server, scenarios(world, tokens), connections, warmup, duration) : undefined;

    const ceiling = results.typename?.requestsPerSecond;
    const page = results.domains;
    const summary: Record<string, unknown> = {
      database: database.kind,
      machine: machine(),
      date: new Date().toISOString(),
      seeded: world.counts,
      server: { process: "separate (bench/bench-server.ts, startApp)", NODE_ENV: "production", LOG_LEVEL: logLevel, BCRYPT_COST: bcryptCost },
      durationSeconds: duration,
      rows,
      ...(twoServers ? { twoServers } : {}),
    };
    if (ceiling && page) {
      const share = round((100 * page.requestsPerSecond) / ceiling, 1);
      summary.domainsPage = {
        percentOfCeiling: share,
        targetPercentOfCeilingMet: share >= 40,
        p99Ms: page.p99Ms,
        targetP99Met: page.p99Ms < 50,
      };
    }
    const errors = server.errorLines();
    summary.serverErrorLines = errors.length;
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n\n`);
    process.stdout.write(
      `| scenario (${database.kind}) | requests/s | p50 ms | p99 ms | server CPU ms/request | failures | server errors |\n| --- | --- | --- | --- | --- | --- | --- |\n`,
    );
    for (const row of rows) {
      const rate = row.operationsPerSecond !== row.requestsPerSecond ? `${row.requestsPerSecond} (${row.operationsPerSecond} pairs/s)` : String(row.requestsPerSecond);
      process.stdout.write(
        `| ${row.scenario}${row.note ? `, ${row.note}` : ""} | ${rate} | ${row.p50Ms} | ${row.p99Ms} | ${row.serverCpuMsPerRequest} | ${row.failures} | ${row.serverErrors} |\n`,
      );
    }
    if (errors.length > 0) process.stderr.write(`server error lines:\n${errors.slice(0, 5).join("\n")}\n`);
    if (rows.some((row) => row.failures > 0) || errors.length > 0) process.exitCode = 1;
  } finally {
    await finishBench(work, database, server);
  }
}

runBench(main);
