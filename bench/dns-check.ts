// Benchmark: check 1,000 domains against local NSD servers with the DNS
// validator (concurrently, as support's sweep does), then send exactly the
// same queries with dig, one after the other, and compare. Two sweeps:
//
//   healthy    every domain set up right
//   dead NS    the same, but 2% of the domains have a nameserver that never
//              answers (a common sight in a nightly sweep of real customers)
//
// On loopback an answer takes microseconds, so in the healthy sweep both
// sides are bound by CPU and concurrency has nothing to hide; a nameserver
// that does not answer costs its full timeout, which is where running
// domains side by side pays.
//
//   npm run bench:dns          (as root: the nameservers listen on port 53 of 127.x.y.z)
//   npm run bench:dns -- --domains 200 --concurrency 50 --dead-percent 2 --dig-sample 25
//
// Everything runs on loopback addresses; nothing leaves the machine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config";
import { createDnsChecker, type DnsCheckResult } from "../src/dns/dns.checker";
import { createUdpTransport, type DnsQuery, type DnsServer, type DnsTransport } from "../src/dns/dns.transport";
import type { DnsSetup, DomainDnsProfile } from "../src/dns/dns.records";
import { mailServiceOf } from "../src/dns/dns.service";
import { startDnsWorld, type ChildZone } from "../test/helpers/dns-world";
import { newDkimKey, rightParts, zoneBody } from "../test/dns/zones";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number, 0 or more`);
  return value;
}

const DOMAINS = option("domains", 1000);
const CONCURRENCY = option("concurrency", 50);
const DEAD_PERCENT = option("dead-percent", 2);
/** Domains whose lookups are also run with one dig process each: a dig process takes ~40 ms to start here. */
const DIG_SAMPLE = option("dig-sample", 25);
const SETUPS: DnsSetup[] = ["A_ONLY", "MX", "MX_WEB", "MX_WEB_BACKUP"];
const WEB = "192.0.2.80";
/** dig's options matching the validator's defaults: 2 s per try, one try per recorded query (the validator's retries are recorded queries too). */
const DIG_OPTIONS = ["+tries=1", "+time=2", "+bufsize=1232", "+noall", "+answer"];

type Logged = { server: DnsServer; query: DnsQuery };

/** Records every query the validator sends, so that dig can send the same ones. */
function recording(transport: DnsTransport, log: Logged[]): DnsTransport {
  return {
    query(server, query, timeoutMs) {
      log.push({ server, query });
      return transport.query(server, query, timeoutMs);
    },
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function digArguments({ server, query }: Logged): string[] {
  return [`@${server.host}`, "-p", String(server.port), query.name, query.type, query.recursionDesired ? "+recurse" : "+norecurse"];
}

async function main(): Promise<void> {
  const dkimKey = newDkimKey();
  const profile = (prefix: string, index: number): DomainDnsProfile => {
    const setup = SETUPS[index % SETUPS.length]!;
    return { name: `${prefix}${index}.example`, setup, webServerAddress: setup.startsWith("MX_WEB") ? WEB : null, dkimPublicKey: dkimKey };
  };
  const healthy = Array.from({ length: DOMAINS }, (_, index) => profile("healthy", index));
  const withDead = Array.from({ length: DOMAINS }, (_, index) => profile("deadns", index));
  // Spread evenly through the list, as broken domains are through a real one.
  const deadEvery = DEAD_PERCENT > 0 ? Math.round(100 / DEAD_PERCENT) : Infinity;
  const isDead = (index: number) => index % deadEvery === deadEvery - 1;
  const zones: ChildZone[] = [
    ...healthy.map((item) => ({ name: item.name, records: zoneBody(rightParts(item.setup, { web: WEB, dkimKey })) })),
    ...withDead.map((item, index) => ({
      name: item.name,
      records: zoneBody(rightParts(item.setup, { web: WEB, dkimKey })),
      ...(isDead(index) ? { nameservers: ["ns1", "silent"] as ("ns1" | "silent")[] } : {}),
    })),
  ];
  process.stdout.write(`starting NSD with ${zones.length} zones on loopback ... `);
  const startedWorld = performance.now();
  const world = await startDnsWorld(zones);
  process.stdout.write(`${seconds(performance.now() - startedWorld)}\n`);
  const work = mkdtempSync(join(tmpdir(), "mailadmin-bench-"));
  try {
    // The settings of a deployment: default timeouts and tries.
    const config = loadConfig({ ...world.config, DNS_QUERY_TIMEOUT_MS: "2000", DNS_QUERY_ATTEMPTS: "2", DNS_CHECK_TIMEOUT_MS: "15000" });
    const run = async (profiles: DomainDnsProfile[], concurrency: number) => {
      const log: Logged[] = [];
      const checker = createDnsChecker({
        transport: recording(createUdpTransport(), log),
        resolvers: config.DNS_SERVERS!,
        queryTimeoutMs: config.DNS_QUERY_TIMEOUT_MS,
        queryAttempts: config.DNS_QUERY_ATTEMPTS,
        checkTimeoutMs: config.DNS_CHECK_TIMEOUT_MS,
        service: mailServiceOf(config),
        clock: () => new Date(),
        allowPrivate: config.DNS_ALLOW_PRIVATE,
      });
      const started = performance.now();
      const results = await checker.checkMany(profiles, concurrency);
      return { ms: performance.now() - started, results, log };
    };
    const digBatch = (log: Logged[], file: string) => {
      writeFileSync(join(work, file), `${log.map((entry) => digArguments(entry).join(" ")).join("\n")}\n`);
      const started = performance.now();
      const result = spawnSync("dig", [...DIG_OPTIONS, "-f", join(work, file)], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 });
      // Exit status 9 is dig's "no reply from server": expected for the dead nameservers.
      if (result.error || (result.status !== 0 && result.status !== 9)) {
        throw new Error(`dig -f failed (apt-get install bind9-dnsutils): ${result.error?.message ?? `exit ${result.status} ${result.stderr.toString()}`}`);
      }
      return performance.now() - started;
    };
    const expectOutcome = (results: DnsCheckResult[], dead: (index: number) => boolean) => {
      results.forEach((result, index) => {
        const wanted = dead(index) ? "ERROR" : "PASS";
        if (result.status !== wanted)
          throw new Error(`${result.domain}: ${result.status}, expected ${wanted}: ${JSON.stringify(result.findings.filter((item) => item.status !== "PASS"))}`);
      });
    };

    // A warm-up round, so that neither side pays for NSD's first answers or JIT compilation.
    await run(healthy.slice(0, Math.min(200, DOMAINS)), CONCURRENCY);

    process.stdout.write("healthy sweep ... ");
    const concurrent = await run(healthy, CONCURRENCY);
    const sequential = await run(healthy, 1);
    expectOutcome(concurrent.results, () => false);
    expectOutcome(sequential.results, () => false);
    // The one-domain-at-a-time run asked domain after domain: its first queries are those of the first domains.
    const sampleDomains = Math.min(DIG_SAMPLE, DOMAINS);
    const sample = sequential.log.slice(0, Math.round((sequential.log.length * sampleDomains) / DOMAINS));
    const perProcessStarted = performance.now();
    for (const entry of sample) {
      const result = spawnSync("dig", [...DIG_OPTIONS, ...digArguments(entry)], { stdio: "ignore" });
      if (result.error || result.status !== 0) throw new Error(`dig failed (apt-get install bind9-dnsutils): ${result.error?.message ?? `exit ${result.status}`}`);
    }
    const perProcessMs = sampleDomains > 0 ? ((performance.now() - perProcessStarted) * DOMAINS) / sampleDomains : NaN;
    const batchMs = digBatch(sequential.log, "healthy.txt");
    process.stdout.write("done\n");

    process.stdout.write(`sweep with ${DEAD_PERCENT}% dead nameservers ... `);
    const deadConcurrent = await run(withDead, CONCURRENCY);
    const deadSequential = await run(withDead, 1);
    expectOutcome(deadConcurrent.results, isDead);
    expectOutcome(deadSequential.results, isDead);
    const deadBatchMs = digBatch(deadSequential.log, "dead.txt");
    process.stdout.write("done\n");

    const perDomain = (ms: number) => `${(ms / DOMAINS).toFixed(2)} ms`;
    const queries = (log: Logged[]) => `${log.length} queries`;
    process.stdout.write(`\n${DOMAINS} domains per sweep (the four set-ups in turn), ${cpus().length} CPUs, Node ${process.version}\n\n`);
    process.stdout.write("| sweep | run | total | per domain |\n| --- | --- | --- | --- |\n");
    const rows: [string, string, number][] = [
      [`healthy (${queries(concurrent.log)})`, `validator, ${CONCURRENCY} domains at a time`, concurrent.ms],
      ["", "validator, 1 domain at a time", sequential.ms],
      ["", "dig -f, the same queries one after the other", batchMs],
      ["", `dig, one process per query${sampleDomains < DOMAINS ? ` (timed on ${sampleDomains} domains' queries, scaled)` : ""}`, perProcessMs],
      [`${DEAD_PERCENT}% dead nameserver (${queries(deadConcurrent.log)})`, `validator, ${CONCURRENCY} domains at a time`, deadConcurrent.ms],
      ["", "validator, 1 domain at a time", deadSequential.ms],
      ["", "dig -f, the same queries one after the other", deadBatchMs],
    ];
    for (const [sweep, how, ms] of rows) process.stdout.write(`| ${sweep} | ${how} | ${seconds(ms)} | ${perDomain(ms)} |\n`);
    process.stdout.write(
      `\nhealthy: validator ${(batchMs / concurrent.ms).toFixed(2)}x dig -f, ${(perProcessMs / concurrent.ms).toFixed(0)}x dig per query, ` +
        `${(sequential.ms / concurrent.ms).toFixed(2)}x itself one domain at a time\n` +
        `dead NS: validator ${(deadBatchMs / deadConcurrent.ms).toFixed(1)}x dig -f, ${(deadSequential.ms / deadConcurrent.ms).toFixed(1)}x itself one domain at a time\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
    await world.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
