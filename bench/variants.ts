// A/B of mailadmin builds on one seeded database: the same page (and `me`)
// served in turn by each build's bench server, over several rounds (each
// round in the other order), for changes whose gain is a few percent of CPU
// and would drown in the noise of runs made minutes apart.
//
//   npm run bench:variants -- --variants base=/path/to/other/worktree/dist-bench,branch=dist-bench
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mailadmin_bench npm run bench:variants -- --variants ...
//
// A variant is name=<a compiled dist-bench folder>[=node flags]: build each
// work tree with `npx tsc -p tsconfig.bench.json` first (this command builds
// its own). Its bench-support.js starts its own bench-server.js, so each
// variant runs its own code; the database is seeded once, by the first.
// `branch=dist-bench=--max-semi-space-size=64` runs the same build with a flag.
//
// Per round, variant and scenario: autocannon at --connections (default 50)
// for --warmup (default 2) then --duration (default 8) seconds; the server
// process's CPU ms per request (/proc), requests/s, the garbage collector's
// collections per 1,000 requests and ms per request (the collections count
// follows the bytes allocated per request and is the figure a busy machine
// moves least), and the load average. Prints each measurement as a JSON line,
// then medians per variant as a table.
//
// Options: --variants (required), --rounds N (default 3), --duration S,
// --warmup S, --connections N, --scenarios domains,me (me: `me` as support),
// --records N (delivery records seeded, default 20000), --port P (default 0).
// DATABASE_URL: as for bench:http (its name must hold "bench"); unset: a new
// embedded database, which each server opens in turn.
import { loadavg } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { numberOption, runBench, stringOption } from "./bench-support";
import { DOMAINS_PAGE, ME } from "./queries";

type Support = typeof import("./bench-support");

interface Variant {
  name: string;
  support: Support;
  flags: string[];
}

interface Measurement {
  round: number;
  variant: string;
  scenario: string;
  requestsPerSecond: number;
  cpuMsPerRequest: number;
  collectionsPer1000: number;
  gcMsPerRequest: number;
  failures: number;
  loadAverage: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const fixed = (value: number, digits: number) => Number(value.toFixed(digits));

function variantsOption(): Variant[] {
  const given = stringOption("variants", "");
  if (!given) throw new Error("--variants name=dist-bench-folder[=node flags],... is required");
  return given.split(",").map((spec) => {
    const [name, folder, ...flags] = spec.split("=");
    if (!name || !folder) throw new Error(`a variant is name=folder[=flags], not "${spec}"`);
    const path = isAbsolute(folder) ? folder : resolve(folder);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- each variant's own compiled bench support, chosen at run time
    const support = require(`${path}/bench/bench-support.js`) as Support;
    return { name, support, flags: flags.join("=").split(" ").filter(Boolean) };
  });
}

runBench(async () => {
  const variants = variantsOption();
  const rounds = numberOption("rounds", 3);
  const duration = numberOption("duration", 8);
  const warmup = numberOption("warmup", 2);
  const connections = numberOption("connections", 50);
  const scenarios = stringOption("scenarios", "domains,me").split(",");
  const first = variants[0]!.support;
  const work = first.newWorkDir("variants");
  const database = await first.prepareDatabase(work);
  try {
    const world = await first.seed(database.url, { domains: 200, usersPerDomain: 4, logRecords: numberOption("records", 20_000), todayRecords: 300, bcryptCost: 4 });
    await database.release();
    const env = first.benchServerEnv({ ...database.serverEnv, BCRYPT_COST: "4", PORT: String(numberOption("port", 0)) });
    const measurements: Measurement[] = [];
    const answers = new Map<string, string>();
    for (let round = 1; round <= rounds; round++) {
      for (const variant of round % 2 ? variants : [...variants].reverse()) {
        const server = await variant.support.startBenchServer(work, env, variant.flags);
        try {
          const token = await first.login(server.url, world.supportUsername);
          const queries: Record<string, string> = { domains: DOMAINS_PAGE, me: ME };
          for (const scenario of scenarios) {
            const query = queries[scenario];
            if (!query) throw new Error(`unknown scenario ${scenario} (domains, me)`);
            // Every variant must answer the same, byte for byte.
            const answer = JSON.stringify(await first.graphql(server.url, query, {}, token));
            const expected = answers.get(scenario);
            if (expected === undefined) answers.set(scenario, answer);
            else if (expected !== answer) throw new Error(`${variant.name} answers ${scenario} differently:\n${answer.slice(0, 500)}\n${expected.slice(0, 500)}`);
            const requests = [first.graphqlRequest(query, token)];
            if (warmup > 0) await first.runLoad(`${server.url}/graphql`, requests, { connections, duration: warmup });
            await first.waitUntilIdle(server, 10);
            await server.gcPauses();
            const loadBefore = loadavg()[0]!;
            const cpuBefore = server.cpuSeconds();
            const load = await first.runLoad(`${server.url}/graphql`, requests, { connections, duration });
            await first.waitUntilIdle(server, 10);
            const cpu = server.cpuSeconds() - cpuBefore;
            const gc = await server.gcPauses();
            const measurement: Measurement = {
              round,
              variant: variant.name,
              scenario,
              requestsPerSecond: load.requestsPerSecond,
              cpuMsPerRequest: fixed((cpu * 1000) / load.requests, 3),
              collectionsPer1000: fixed((gc.count * 1000) / load.requests, 1),
              gcMsPerRequest: fixed(gc.totalMs / load.requests, 3),
              failures: load.failures,
              loadAverage: fixed((loadBefore + loadavg()[0]!) / 2, 2),
            };
            measurements.push(measurement);
            process.stdout.write(`${JSON.stringify(measurement)}\n`);
          }
        } finally {
          await server.stop();
        }
      }
    }
    process.stdout.write(`\n${database.kind}, ${first.machine()}, ${rounds} rounds of ${duration} s at ${connections} connections, medians\n\n`);
    process.stdout.write("| scenario | variant | CPU ms/req per round | CPU ms/req | req/s | collections per 1,000 req | GC ms/req | load average per round |\n");
    process.stdout.write("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (const scenario of scenarios) {
      for (const variant of variants) {
        const rows = measurements.filter((row) => row.scenario === scenario && row.variant === variant.name);
        const of = (pick: (row: Measurement) => number) => rows.map(pick);
        process.stdout.write(
          `| ${scenario} | ${variant.name} | ${of((row) => row.cpuMsPerRequest).join(", ")} | ${median(of((row) => row.cpuMsPerRequest)).toFixed(2)} | ${Math.round(median(of((row) => row.requestsPerSecond)))} | ${median(of((row) => row.collectionsPer1000)).toFixed(1)} | ${median(of((row) => row.gcMsPerRequest)).toFixed(3)} | ${of((row) => row.loadAverage).join(", ")} |\n`,
        );
      }
    }
  } finally {
    await first.finishBench(work, database, undefined);
  }
});
