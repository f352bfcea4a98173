// GET /metrics in the Prometheus text format: HTTP requests by route, GraphQL
// operations by name, errors by code, the database pool, delivery-log
// collection, and DNS check and probe timings. Every server instance has its
// own registry (tests run many servers in one process). What GraphQL
// reports comes through its Apollo plugin (src/graphql/metrics-plugin.ts).
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Pool } from "pg";
import type { PrismaClient } from "../generated/prisma/client";
import type { Config } from "../config";
import { poolOf } from "../db/prisma";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SLOW_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60];

// Operation names come from clients: past this many distinct names (or this
// length) they are counted as "(other)", so that no client can grow the
// registry without bound.
const MAX_OPERATION_NAMES = 100;
const MAX_OPERATION_NAME_LENGTH = 64;

/** What a delivery-log collection pass reports per source (maillog/scheduler.ts's CollectionPass). */
export interface CollectionPassCounts {
  reports: { source: string; accepted: number; duplicates: number; rejected: number; otherLines: number; errors: readonly unknown[] }[];
}

export interface MetricsOptions {
  /** Process metrics (CPU, memory, event loop lag, ...): once per process, so main's server only. */
  processMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();
  private pool: Pool | undefined;
  private readonly operationNames = new Set<string>();
  /** Last successful collection of each source (ms since the epoch); sources not yet collected count from startedAt. */
  private readonly lastCollected = new Map<string, number | undefined>();
  private readonly startedAt = Date.now();

  readonly httpRequests: Counter<"method" | "route" | "status_code">;
  readonly httpDuration: Histogram<"method" | "route" | "status_code">;
  readonly graphqlOperations: Counter<"operation_name" | "operation_type">;
  readonly graphqlDuration: Histogram<"operation_name" | "operation_type">;
  readonly graphqlErrors: Counter<"code">;
  readonly dnsCheckDuration: Histogram<"status">;
  readonly probeDuration: Histogram<"status">;
  readonly collectionRunning: Gauge;
  readonly collectorLeader: Gauge;
  private following = false;
  readonly collectionDuration: Histogram;
  readonly collectedLines: Counter<"source" | "outcome">;
  readonly collectionFailures: Counter<"source">;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: "mailadmin_http_requests_total",
      help: "HTTP requests answered, by method, route (the route pattern; (unmatched) for 404s) and status code.",
      labelNames: ["method", "route", "status_code"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "mailadmin_http_request_duration_seconds",
      help: "Time to answer an HTTP request, by method, route and status code.",
      labelNames: ["method", "route", "status_code"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.graphqlOperations = new Counter({
      name: "mailadmin_graphql_operations_total",
      help: "GraphQL operations executed, by operation name ((anonymous) when unnamed, (invalid) when the document did not parse or validate) and type.",
      labelNames: ["operation_name", "operation_type"],
      registers,
    });
    this.graphqlDuration = new Histogram({
      name: "mailadmin_graphql_operation_duration_seconds",
      help: "Time from receiving a GraphQL operation to its response, by operation name and type.",
      labelNames: ["operation_name", "operation_type"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.graphqlErrors = new Counter({
      name: "mailadmin_graphql_errors_total",
      help: "Errors in GraphQL responses, by extensions.code.",
      labelNames: ["code"],
      registers,
    });
    this.dnsCheckDuration = new Histogram({
      name: "mailadmin_dns_check_duration_seconds",
      help: "Time one domain's DNS check took (checks answered from the cache are not counted), by result status.",
      labelNames: ["status"],
      buckets: SLOW_BUCKETS,
      registers,
    });
    this.probeDuration = new Histogram({
      name: "mailadmin_probe_duration_seconds",
      help: "Time one probe of a domain's mail servers took, by result status.",
      labelNames: ["status"],
      buckets: SLOW_BUCKETS,
      registers,
    });
    this.collectionRunning = new Gauge({
      name: "mailadmin_log_collection_running",
      help: "1 while a delivery-log collection pass is under way in this process.",
      registers,
    });
    this.collectorLeader = new Gauge({
      name: "mailadmin_log_collector_leader",
      help: "1 while this server holds the log collector's lock (of the servers on one database, exactly one collects).",
      registers,
    });
    this.collectionDuration = new Histogram({
      name: "mailadmin_log_collection_duration_seconds",
      help: "Time a whole collection pass (every source, then pruning) took.",
      buckets: SLOW_BUCKETS,
      registers,
    });
    this.collectedLines = new Counter({
      name: "mailadmin_log_collected_lines_total",
      help:
        "Delivery-log lines read by the collector, by source and outcome (accepted, duplicate, rejected; for Postfix sources accepted and duplicate " +
        "count delivery records, and other the lines that are no record themselves).",
      labelNames: ["source", "outcome"],
      registers,
    });
    this.collectionFailures = new Counter({
      name: "mailadmin_log_collection_failures_total",
      help: "Collection passes in which a source could not be read completely.",
      labelNames: ["source"],
      registers,
    });
    const lastCollected = this.lastCollected;
    const startedAt = this.startedAt;
    const follows = () => this.following;
    new Gauge({
      name: "mailadmin_log_collection_lag_seconds",
      help: "Seconds since the last collection pass that read the source without error (since the server started, before the first).",
      labelNames: ["source"],
      registers,
      collect() {
        // Another server collects: its lag is its own to report.
        this.reset();
        if (follows()) return;
        const now = Date.now();
        for (const [source, at] of lastCollected) this.set({ source }, (now - (at ?? startedAt)) / 1000);
      },
    });
    new Gauge({
      name: "mailadmin_log_collection_last_success_timestamp_seconds",
      help: "When the source was last collected without error (Unix time); absent before the first success.",
      labelNames: ["source"],
      registers,
      collect() {
        this.reset();
        for (const [source, at] of lastCollected) if (at !== undefined) this.set({ source }, at / 1000);
      },
    });
    const watchedPool = () => this.pool;
    const poolGauge = (name: string, help: string, read: (pool: Pool) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const pool = watchedPool();
          if (pool) this.set(read(pool));
        },
      });
    poolGauge("mailadmin_db_pool_open_connections", "Connections to the database the pool holds open (idle and in use).", (pool) => pool.totalCount);
    poolGauge("mailadmin_db_pool_idle_connections", "Open connections waiting for work.", (pool) => pool.idleCount);
    poolGauge("mailadmin_db_pool_waiting_requests", "Queries waiting for a free connection.", (pool) => pool.waitingCount);
    poolGauge("mailadmin_db_pool_max_connections", "Most connections the pool opens (DB_POOL_MAX; 1 on the embedded database).", (pool) => pool.options.max);
  }

  /** The database pool whose state is reported. */
  watchDatabase(db: PrismaClient): void {
    this.pool = poolOf(db);
  }

  /** Sources collected by this process: their lag is reported from now on. */
  /** Whether this server holds the collector's lock (maillog/leadership.ts); a server that does not reports no lag. */
  setCollectorLeader(leading: boolean): void {
    this.collectorLeader.set(leading ? 1 : 0);
    this.following = !leading;
  }

  watchLogSources(names: string[]): void {
    for (const name of names) if (!this.lastCollected.has(name)) this.lastCollected.set(name, undefined);
  }

  /** Wraps a collection pass so that its outcome is counted. */
  timeCollectionPass<T extends CollectionPassCounts>(run: () => Promise<T>): () => Promise<T> {
    return async () => {
      this.collectionRunning.set(1);
      const stopTimer = this.collectionDuration.startTimer();
      try {
        const pass = await run();
        const finishedAt = Date.now();
        for (const report of pass.reports) {
          this.collectedLines.inc({ source: report.source, outcome: "accepted" }, report.accepted);
          this.collectedLines.inc({ source: report.source, outcome: "duplicate" }, report.duplicates);
          this.collectedLines.inc({ source: report.source, outcome: "rejected" }, report.rejected);
          if (report.otherLines > 0) this.collectedLines.inc({ source: report.source, outcome: "other" }, report.otherLines);
          if (report.errors.length === 0) this.lastCollected.set(report.source, finishedAt);
          else this.collectionFailures.inc({ source: report.source });
        }
        return pass;
      } catch (error) {
        for (const source of this.lastCollected.keys()) this.collectionFailures.inc({ source });
        throw error;
      } finally {
        stopTimer();
        this.collectionRunning.set(0);
      }
    };
  }

  /** A client's operation name as a label: bounded in number and length. */
  operationLabel(name: string | null | undefined, resolved: boolean): string {
    if (!resolved) return "(invalid)";
    if (!name) return "(anonymous)";
    if (this.operationNames.has(name)) return name;
    if (name.length > MAX_OPERATION_NAME_LENGTH || this.operationNames.size >= MAX_OPERATION_NAMES) return "(other)";
    this.operationNames.add(name);
    return name;
  }
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/**
 * GET /metrics (unless METRICS_ENABLED=false; with METRICS_TOKEN, only for
 * `Authorization: Bearer <token>`), and the HTTP request counters. Returns the
 * metrics, which the GraphQL server reports to (metricsPlugin).
 */
export function registerMetrics(app: FastifyInstance, deps: { db: PrismaClient; config: Config; metrics?: Metrics }): Metrics {
  const metrics = deps.metrics ?? new Metrics();
  metrics.watchDatabase(deps.db);
  app.addHook("onResponse", async (request, reply) => {
    const labels = { method: request.method, route: request.routeOptions.url ?? "(unmatched)", status_code: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
  if (!deps.config.METRICS_ENABLED) return metrics;
  const token = deps.config.METRICS_TOKEN;
  app.get("/metrics", async (request, reply) => {
    if (token) {
      const presented = /^Bearer (.+)$/i.exec(request.headers.authorization ?? "")?.[1] ?? "";
      // Digests have one length, so the comparison takes the same time whatever was sent.
      if (!timingSafeEqual(digest(presented), digest(token))) {
        return reply.code(401).header("www-authenticate", 'Bearer realm="metrics"').send({ error: "METRICS_TOKEN required: Authorization: Bearer <token>" });
      }
    }
    return reply.header("content-type", metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return metrics;
}
