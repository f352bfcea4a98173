// Benchmark: check 1,000 domains against local NSD servers with the DNS
// validator (concurrently, as support's sweep does), then send exactly the
// same queries with dig, one after the other, and compare.
//
//   npm run bench:dns                      (as root: the nameservers listen on port 53 of 127.x.y.z)
//   npm run bench:dns -- --domains 200 --concurrency 50
//
// Everything runs on loopback addresses; nothing leaves the machine.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config";
import { createDnsChecker } from "../src/dns/dns.checker";
import { createUdpTransport, type DnsQuery, type DnsServer, type DnsTransport } from "../src/dns/dns.transport";
import type { DnsSetup, DomainDnsProfile } from "../src/dns/dns.records";
import { mailServiceOf } from "../src/dns/dns.service";
import { startDnsWorld } from "../test/helpers/dns-world";
import { newDkimKey, rightParts, zoneBody } from "../test/dns/zones";

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive whole number`);
  return value;
}

const DOMAINS = option("domains", 1000);
const CONCURRENCY = option("concurrency", 50);
const SETUPS: DnsSetup[] = ["A_ONLY", "MX", "MX_WEB", "MX_WEB_BACKUP"];
const WEB = "192.0.2.80";

/** Records every query the validator sends, so that dig can send the same ones. */
function recording(transport: DnsTransport, log: { server: DnsServer; query: DnsQuery }[]): DnsTransport {
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

async function main(): Promise<void> {
  const dkimKey = newDkimKey();
  const profiles: DomainDnsProfile[] = Array.from({ length: DOMAINS }, (_, index) => {
    const setup = SETUPS[index % SETUPS.length]!;
    return { name: `bench${index}.example`, setup, webServerAddress: setup.startsWith("MX_WEB") ? WEB : null, dkimPublicKey: dkimKey };
  });
  process.stdout.write(`starting NSD with ${DOMAINS} zones on loopback ... `);
  const startedWorld = performance.now();
  const world = await startDnsWorld(profiles.map((profile) => ({ name: profile.name, records: zoneBody(rightParts(profile.setup, { web: WEB, dkimKey })) })));
  process.stdout.write(`${seconds(performance.now() - startedWorld)}\n`);
  const work = mkdtempSync(join(tmpdir(), "mailadmin-bench-"));
  try {
    // The settings a deployment would use, with the default query timeouts.
    const config = loadConfig({ ...world.config, DNS_QUERY_TIMEOUT_MS: "2000", DNS_CHECK_TIMEOUT_MS: "15000", DNS_CHECK_CONCURRENCY: String(CONCURRENCY) });
    const run = async (concurrency: number) => {
      const log: { server: DnsServer; query: DnsQuery }[] = [];
      const checker = createDnsChecker({
        transport: recording(createUdpTransport(), log),
        resolvers: config.DNS_SERVERS!,
        queryTimeoutMs: config.DNS_QUERY_TIMEOUT_MS,
        queryAttempts: config.DNS_QUERY_ATTEMPTS,
        checkTimeoutMs: config.DNS_CHECK_TIMEOUT_MS,
        service: mailServiceOf(config),
        clock: () => new Date(),
      });
      const started = performance.now();
      const results = await checker.checkMany(profiles, concurrency);
      return { ms: performance.now() - started, results, log };
    };

    // A warm-up round, so that neither side pays for NSD's first answers or JIT compilation.
    await run(CONCURRENCY);
    const concurrent = await run(CONCURRENCY);
    const sequential = await run(1);
    const passed = concurrent.results.filter((result) => result.status === "PASS").length;
    if (passed !== DOMAINS) {
      const failing = concurrent.results.find((result) => result.status !== "PASS")!;
      throw new Error(`${DOMAINS - passed} domains did not pass, e.g. ${failing.domain}: ${JSON.stringify(failing.findings.filter((item) => item.status !== "PASS"))}`);
    }

    // The same queries for dig, one per line of a batch file (dig -f runs them in order, one at a time).
    const batch = concurrent.log
      .map(({ server, query }) => `@${server.host} -p ${server.port} ${query.name} ${query.type} ${query.recursionDesired ? "+recurse" : "+norecurse"}`)
      .join("\n");
    writeFileSync(join(work, "queries.txt"), `${batch}\n`);
    const digStarted = performance.now();
    const dig = spawnSync("dig", ["+tries=1", "+time=2", "+bufsize=1232", "+noall", "+answer", "-f", join(work, "queries.txt")], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 64 * 1024 * 1024 });
    const digMs = performance.now() - digStarted;
    if (dig.error || dig.status !== 0) throw new Error(`dig failed (install bind9-dnsutils): ${dig.error?.message ?? dig.stderr.toString()}`);

    const queries = concurrent.log.length;
    const rows: [string, string, string, string][] = [
      ["validator, concurrent", `${CONCURRENCY} domains at a time`, seconds(concurrent.ms), `${(concurrent.ms / DOMAINS).toFixed(2)} ms`],
      ["validator, sequential", "1 domain at a time", seconds(sequential.ms), `${(sequential.ms / DOMAINS).toFixed(2)} ms`],
      ["dig -f, sequential", "1 query at a time", seconds(digMs), `${(digMs / DOMAINS).toFixed(2)} ms`],
    ];
    process.stdout.write(`\n${DOMAINS} domains (the four set-ups in turn, all passing), ${queries} DNS queries (${(queries / DOMAINS).toFixed(1)} per domain)\n\n`);
    process.stdout.write(`| run | how | total | per domain |\n| --- | --- | --- | --- |\n`);
    for (const row of rows) process.stdout.write(`| ${row.join(" | ")} |\n`);
    process.stdout.write(`\nconcurrent validator vs dig: ${(digMs / concurrent.ms).toFixed(1)}x faster; vs itself sequential: ${(sequential.ms / concurrent.ms).toFixed(1)}x\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    await world.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
