import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { startApp, type RunningApp } from "../../src/app";
import { poolOf } from "../../src/db/prisma";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format (the lines prom-client writes). */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of match[2]?.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g) ?? []) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with that name and exactly those labels, or undefined. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((sample) => sample.name === name && JSON.stringify(Object.entries(sample.labels).sort()) === JSON.stringify(Object.entries(labels).sort()));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} appears ${found.length} times`);
  return found[0]?.value;
}

async function scrape(url: string, token?: string): Promise<Sample[]> {
  const response = await fetch(`${url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text());
}

describe("GET /metrics", () => {
  describe("on a server with traffic", () => {
    let app: TestApp;
    beforeAll(async () => {
      // DNS_SERVERS is a closed loopback port in tests: short timeouts make the DNS check and the probe give up quickly.
      app = await startTestApp({ DNS_QUERY_TIMEOUT_MS: "100", DNS_QUERY_ATTEMPTS: "1", DNS_CHECK_TIMEOUT_MS: "1000" });
    });
    afterAll(() => app.close());

    it("counts requests by route and GraphQL operation, errors by code, DNS checks and probes, and reports the database pool", async () => {
      const token = await tokenFor(app, await supportAdmin(app));
      const { domain } = await makeDomain(app);
      for (let index = 0; index < 3; index++) expect((await app.gql(`query Me { me { role } }`, {}, token)).data.me.role).toBe("SUPPORT_ADMIN");
      expect((await app.gql(`{ __typename }`, {})).data.__typename).toBe("Query");
      expect((await app.gql(`query Me { me { role } }`, {})).errors![0]!.extensions.code).toBe("UNAUTHENTICATED");
      expect((await app.gql(`query Broken { nothingHere }`, {}, token)).errors![0]!.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
      const check = await app.gql(`mutation Check($d: String!) { checkDomainDns(domain: $d) { status durationMs } }`, { d: domain.name }, token);
      expect(check.errors).toBeUndefined();
      const probe = await app.gql(`query Probe { probeMailServer(domain: "remote.example") { status durationMs } }`, {}, token);
      expect(probe.errors).toBeUndefined();
      expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${app.url}/no-such-page`)).status).toBe(404);

      const samples = await scrape(app.url);
      const graphql = { method: "POST", route: "/graphql" };
      expect(valueOf(samples, "mailadmin_http_requests_total", { ...graphql, status_code: "200" })).toBeGreaterThanOrEqual(7);
      expect(valueOf(samples, "mailadmin_http_requests_total", { method: "GET", route: "/healthz", status_code: "200" })).toBe(1);
      expect(valueOf(samples, "mailadmin_http_requests_total", { method: "GET", route: "(unmatched)", status_code: "404" })).toBe(1);
      expect(valueOf(samples, "mailadmin_http_request_duration_seconds_count", { method: "GET", route: "/healthz", status_code: "200" })).toBe(1);
      expect(valueOf(samples, "mailadmin_http_request_duration_seconds_bucket", { method: "GET", route: "/healthz", status_code: "200", le: "+Inf" })).toBe(1);

      expect(valueOf(samples, "mailadmin_graphql_operations_total", { operation_name: "Me", operation_type: "query" })).toBe(4);
      expect(valueOf(samples, "mailadmin_graphql_operation_duration_seconds_count", { operation_name: "Me", operation_type: "query" })).toBe(4);
      expect(valueOf(samples, "mailadmin_graphql_operation_duration_seconds_sum", { operation_name: "Me", operation_type: "query" })).toBeGreaterThan(0);
      expect(valueOf(samples, "mailadmin_graphql_operations_total", { operation_name: "(anonymous)", operation_type: "query" })).toBe(1);
      expect(valueOf(samples, "mailadmin_graphql_operations_total", { operation_name: "(invalid)", operation_type: "unknown" })).toBe(1);
      expect(valueOf(samples, "mailadmin_graphql_operations_total", { operation_name: "Check", operation_type: "mutation" })).toBe(1);
      expect(valueOf(samples, "mailadmin_graphql_errors_total", { code: "UNAUTHENTICATED" })).toBe(1);
      expect(valueOf(samples, "mailadmin_graphql_errors_total", { code: "GRAPHQL_VALIDATION_FAILED" })).toBe(1);

      const checkStatus = check.data.checkDomainDns.status as string;
      expect(valueOf(samples, "mailadmin_dns_check_duration_seconds_count", { status: checkStatus })).toBe(1);
      expect(valueOf(samples, "mailadmin_dns_check_duration_seconds_sum", { status: checkStatus })).toBeCloseTo(check.data.checkDomainDns.durationMs / 1000, 3);
      const probeStatus = probe.data.probeMailServer.status as string;
      expect(valueOf(samples, "mailadmin_probe_duration_seconds_count", { status: probeStatus })).toBe(1);
      expect(valueOf(samples, "mailadmin_probe_duration_seconds_sum", { status: probeStatus })).toBeCloseTo(probe.data.probeMailServer.durationMs / 1000, 3);

      const pool = poolOf(app.deps.db)!;
      expect(valueOf(samples, "mailadmin_db_pool_max_connections")).toBe(pool.options.max);
      expect(valueOf(samples, "mailadmin_db_pool_open_connections")).toBeGreaterThanOrEqual(1);
      expect(valueOf(samples, "mailadmin_db_pool_open_connections")).toBeLessThanOrEqual(pool.options.max);
      expect(valueOf(samples, "mailadmin_db_pool_idle_connections")).toBe(valueOf(samples, "mailadmin_db_pool_open_connections"));
      expect(valueOf(samples, "mailadmin_db_pool_waiting_requests")).toBe(0);
    });

    it("counts a cached DNS check as an operation, not as another DNS check", async () => {
      const token = await tokenFor(app, await supportAdmin(app));
      const { domain } = await makeDomain(app);
      const before = valueOf(await scrape(app.url), "mailadmin_dns_check_duration_seconds_count", { status: "ERROR" }) ?? 0;
      const first = await app.gql(`mutation { checkDomainDns(domain: "${domain.name}") { status cached } }`, {}, token);
      const second = await app.gql(`mutation { checkDomainDns(domain: "${domain.name}") { status cached } }`, {}, token);
      expect([first.data.checkDomainDns, second.data.checkDomainDns]).toEqual([
        { status: "ERROR", cached: false },
        { status: "ERROR", cached: true },
      ]);
      expect(valueOf(await scrape(app.url), "mailadmin_dns_check_duration_seconds_count", { status: "ERROR" })).toBe(before + 1);
    });

    it("keeps client-chosen operation names from growing the registry without bound", async () => {
      for (let index = 0; index < 120; index++) await app.gql(`query Spam${index} { __typename }`, {});
      const names = new Set((await scrape(app.url)).filter((sample) => sample.name === "mailadmin_graphql_operations_total").map((sample) => sample.labels.operation_name));
      const chosen = [...names].filter((name) => !name!.startsWith("("));
      expect(chosen.length).toBeLessThanOrEqual(100);
      expect(chosen).toContain("Spam0");
      expect(names).toContain("(other)");
    });
  });

  it("asks for METRICS_TOKEN when it is set", async () => {
    const token = "metrics-token-0123456789abcdef";
    const app = await startTestApp({ METRICS_TOKEN: token });
    try {
      const anonymous = await fetch(`${app.url}/metrics`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect((await fetch(`${app.url}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789abcdef" } })).status).toBe(401);
      expect(valueOf(await scrape(app.url, token), "mailadmin_http_requests_total", { method: "GET", route: "/metrics", status_code: "401" })).toBe(2);
    } finally {
      await app.close();
    }
  });

  it("is absent with METRICS_ENABLED=false", async () => {
    const app = await startTestApp({ METRICS_ENABLED: "false" });
    try {
      expect((await fetch(`${app.url}/metrics`)).status).toBe(404);
    } finally {
      await app.close();
    }
  });

  describe("in the running application", () => {
    let running: RunningApp;
    let url: string;
    let directory: string;
    const source = uniqueName("m2k");
    const missing = uniqueName("gone");
    beforeAll(async () => {
      directory = mkdtempSync(join(tmpdir(), "mailadmin-metrics-"));
      const recipient = `${uniqueName("u")}@${uniqueName("d")}.example`;
      writeFileSync(join(directory, "maillog"), `${[logLine({ recipient }), logLine({ recipient }), logLine({ recipient }), "not a log line"].join("\n")}\n`);
      const config = loadConfig({
        NODE_ENV: "test",
        DATABASE_URL: process.env.DATABASE_URL,
        JWT_SECRET: "test-secret-that-is-long-enough-for-hs256-0123456789",
        BCRYPT_COST: "4",
        DB_POOL_MAX: "2",
        BOOTSTRAP_ADMIN_USERNAME: uniqueName("bootstrap"),
        BOOTSTRAP_ADMIN_PASSWORD: "a bootstrap password",
        LOG_SOURCES: JSON.stringify([
          { name: source, path: join(directory, "maillog") },
          { name: missing, path: join(directory, "no-such-log") },
        ]),
        LOG_COLLECT_INTERVAL_SECONDS: "1",
      });
      running = await startApp(config, createLogger("silent"));
      await running.server.listen({ host: "127.0.0.1", port: 0 });
      const address = running.server.server.address();
      url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    });
    afterAll(async () => {
      await running.close();
      rmSync(directory, { recursive: true, force: true });
    });

    it("reports log collection per source (lines, failures, time since the last good pass) and the process", async () => {
      let samples = await scrape(url);
      for (let attempt = 0; attempt < 300 && valueOf(samples, "mailadmin_log_collection_last_success_timestamp_seconds", { source }) === undefined; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        samples = await scrape(url);
      }
      const lastSuccess = valueOf(samples, "mailadmin_log_collection_last_success_timestamp_seconds", { source })!;
      expect(lastSuccess * 1000).toBeLessThanOrEqual(Date.now());
      const lag = valueOf(samples, "mailadmin_log_collection_lag_seconds", { source })!;
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThanOrEqual(Date.now() / 1000 - lastSuccess + 1);
      expect(valueOf(samples, "mailadmin_log_collected_lines_total", { source, outcome: "accepted" })).toBe(3);
      expect(valueOf(samples, "mailadmin_log_collected_lines_total", { source, outcome: "rejected" })).toBe(1);
      // A source that cannot be read has no good pass: its lag counts from the start, and its failures are counted.
      expect(valueOf(samples, "mailadmin_log_collection_last_success_timestamp_seconds", { source: missing })).toBeUndefined();
      expect(valueOf(samples, "mailadmin_log_collection_lag_seconds", { source: missing })).toBeGreaterThan(0);
      expect(valueOf(samples, "mailadmin_log_collection_failures_total", { source: missing })).toBeGreaterThanOrEqual(1);
      expect(valueOf(samples, "mailadmin_log_collection_duration_seconds_count")).toBeGreaterThanOrEqual(1);
      expect(valueOf(samples, "mailadmin_db_pool_max_connections")).toBe(2);
      expect(valueOf(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
    });
  });
});
