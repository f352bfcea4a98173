// Soak: a steady mixed load for a long while, against a server process on
// seeded data; every answer must be free of errors, and the server's memory
// must stay flat. Reports the server's RSS and heap (after a full garbage
// collection) at the start, every minute and at the end.
//
//   npm run bench:soak                                   # 10 minutes, embedded database
//   npm run bench:soak -- --minutes 1
//   DATABASE_URL=postgresql://.../mailadmin_bench npm run bench:soak
//
// Options: --minutes M (default 10), --rate R (requests per second, all
// connections together, default 60), --connections N (default 10),
// --bcrypt-cost N (the server's, default 4: the mix creates accounts, and at
// the production cost of 12 the soak would measure bcrypt rather than
// memory), --log-level L (default info).
// Exit status 1 when any request failed.
import type autocannon from "autocannon";
import {
  benchServerEnv,
  graphqlRequest,
  login,
  machine,
  newWorkDir,
  numberOption,
  prepareDatabase,
  round,
  runLoad,
  seed,
  startBenchServer,
  stringOption,
  type BenchServer,
  type Memory,
  finishBench,
  runBench,
} from "./bench-support";

const CREATE_ACCOUNT = `mutation Create($input: CreateAccountInput!) { createAccount(input: $input) { account { id address } } }`;
const DELETE_ACCOUNT = `mutation Delete($id: ID!) { deleteAccount(id: $id) { deletedAccountId } }`;
const UPDATE_ACCOUNT = `mutation Update($id: ID!, $quota: Int!) { updateAccount(id: $id, input: { quotaMb: $quota }) { account { id quotaMb } } }`;

async function main() {
  const minutes = numberOption("minutes", 10);
  const rate = numberOption("rate", 60);
  const connections = numberOption("connections", 10);
  const bcryptCost = numberOption("bcrypt-cost", 4);
  const logLevel = stringOption("log-level", "info");
  const work = newWorkDir("bench-soak");
  const database = await prepareDatabase(work);
  let server: BenchServer | undefined;
  try {
    process.stderr.write(`seeding the ${database.kind} database\n`);
    const world = await seed(database.url, { domains: 200, usersPerDomain: 4, logRecords: 100_000, todayRecords: 300, bcryptCost });
    await database.release();
    server = await startBenchServer(work, benchServerEnv({ ...database.serverEnv, BCRYPT_COST: String(bcryptCost), LOG_LEVEL: logLevel }));
    const support = await login(server.url, world.supportUsername);
    const admin = await login(server.url, world.adminAddress);
    const user = await login(server.url, world.userAddress);

    // One round of the mix: reads by every role, a page of domains, a log, an
    // audit page, and writes (create, update, delete an account).
    let sequence = 0;
    const runTag = Date.now().toString(36);
    const mix: autocannon.Request[] = [
      graphqlRequest(`{ me { __typename role loginName } }`, user),
      graphqlRequest(`{ domains(first: 50) { totalCount nodes { id name accountCount allocatedQuotaMb usedMb admin { address } } } }`, support),
      graphqlRequest(`{ mailLog(address: "${world.userAddress}", range: TODAY, first: 50) { totalCount nodes { id loggedAt subject status reason } } }`, user),
      graphqlRequest(`{ domain(name: "${world.domainNames[0]}") { name accounts(first: 20) { totalCount nodes { address quotaMb usedMb role } } } }`, admin),
      graphqlRequest(`{ auditLog(first: 20) { totalCount nodes { at action actorName objectId } } }`, support),
      {
        ...graphqlRequest(CREATE_ACCOUNT, support),
        setupRequest: (request) => {
          sequence++;
          const domainId = world.domainIds[sequence % world.domainIds.length];
          return {
            ...request,
            body: JSON.stringify({
              query: CREATE_ACCOUNT,
              variables: { input: { domainId, localPart: `soak-${runTag}-${sequence}`, password: "soak password 0123", quotaMb: 50 } },
            }),
          };
        },
        onResponse: (_status, body, context) => {
          (context as { accountId?: string }).accountId = /"id":"([^"]+)"/.exec(body)?.[1];
        },
      },
      {
        ...graphqlRequest(UPDATE_ACCOUNT, support),
        setupRequest: (request, context) => {
          const accountId = (context as { accountId?: string }).accountId;
          return accountId
            ? { ...request, body: JSON.stringify({ query: UPDATE_ACCOUNT, variables: { id: accountId, quota: 60 } }) }
            : (undefined as unknown as autocannon.Request);
        },
      },
      {
        ...graphqlRequest(DELETE_ACCOUNT, support),
        setupRequest: (request, context) => {
          const accountId = (context as { accountId?: string }).accountId;
          return accountId ? { ...request, body: JSON.stringify({ query: DELETE_ACCOUNT, variables: { id: accountId } }) } : (undefined as unknown as autocannon.Request);
        },
      },
    ];

    // A short warm-up first, so that the start figure is the warm server's, not the freshly loaded one's.
    await runLoad(server.url, mix, { connections, duration: 10, overallRate: rate });
    const samples: { at: string; memory: Memory; responses: number; failures: number }[] = [];
    const start = await server.memory();
    samples.push({ at: "start", memory: start, responses: 0, failures: 0 });
    process.stderr.write(`minute 0: RSS ${start.rssMb} MB, heap ${start.heapUsedMb} MB\n`);

    let latest = { responses: 0, failures: 0 };
    let minute = 0;
    const running = server;
    const sampler = setInterval(() => {
      minute++;
      const at = minute;
      const sofar = latest;
      void running.memory().then((memory) => {
        samples.push({ at: `minute ${at}`, memory, ...sofar });
        process.stderr.write(`minute ${at}: RSS ${memory.rssMb} MB, heap ${memory.heapUsedMb} MB, ${sofar.responses} answers, ${sofar.failures} failures\n`);
      });
    }, 60_000);
    const result = await runLoad(server.url, mix, {
      connections,
      duration: minutes * 60,
      overallRate: rate,
      onTick: (sofar) => (latest = sofar),
    });
    clearInterval(sampler);
    const end = await server.memory();
    samples.push({ at: "end", memory: end, responses: result.requests, failures: result.failures });
    const errorLines = server.errorLines();
    const summary = {
      database: database.kind,
      machine: machine(),
      date: new Date().toISOString(),
      minutes,
      targetRatePerSecond: rate,
      connections,
      server: { NODE_ENV: "production", LOG_LEVEL: logLevel, BCRYPT_COST: bcryptCost },
      requests: result.requests,
      requestsPerSecond: result.requestsPerSecond,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      failures: result.failures,
      failureDetail: result.failureDetail,
      failureSamples: result.failureSamples,
      serverErrorLines: errorLines.length,
      memory: samples.map((sample) => ({ at: sample.at, rssMb: sample.memory.rssMb, heapUsedMb: sample.memory.heapUsedMb, answers: sample.responses, failures: sample.failures })),
      rssGrowthMb: round(end.rssMb - start.rssMb, 1),
      heapGrowthMb: round(end.heapUsedMb - start.heapUsedMb, 1),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (errorLines.length > 0) process.stderr.write(`server error lines:\n${errorLines.slice(0, 5).join("\n")}\n`);
    if (result.failures > 0 || errorLines.length > 0) process.exitCode = 1;
  } finally {
    await finishBench(work, database, server);
  }
}

runBench(main);
