// Wires the running application: database (embedded or real), migrations,
// services, first support admin, HTTP server. main.ts and the tests both use it.
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { Config } from "./config";
import { startEmbeddedDatabase, type EmbeddedDatabase } from "./db/embedded";
import { migrateIfNeeded } from "./db/migrate";
import { createPrismaClient } from "./db/prisma";
import { createPasswordHasher } from "./auth/passwords";
import { createTokenService } from "./auth/tokens";
import { bootstrapSupportAdmin, LoginThrottle } from "./auth/auth.service";
import { createServer } from "./server";
import { Metrics } from "./observability/metrics";
import { LogCollectionScheduler, runCollectionPass } from "./maillog/scheduler";
import { createPgLogStore } from "./maillog/sql";
import { ensureMailLogPartitions } from "./maillog/partitions";
import { CollectorLeadership } from "./maillog/leadership";
import type { AppDeps } from "./app-deps";

export interface RunningApp {
  server: FastifyInstance;
  deps: AppDeps;
  databaseUrl: string;
  close(): Promise<void>;
}

export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.DATABASE_URL;
  if (!databaseUrl) {
    embedded = await startEmbeddedDatabase(config.DATA_DIR, config.EMBEDDED_DB_PORT);
    databaseUrl = embedded.url;
    logger.info({ dataDir: config.DATA_DIR }, "embedded database (PGlite) started");
  }
  try {
    if (config.MIGRATE_ON_START) {
      const applied = await migrateIfNeeded(databaseUrl);
      logger.info({ applied }, applied.length > 0 ? "database migrations applied" : "database schema is up to date");
    }
    // PGlite is one Postgres session: a single connection keeps transactions apart.
    // The embedded database lives in this process: no timeouts to fail fast on.
    // Its reads are prepared statements too (planning the page of domains cost PGlite
    // as much as running it): see DatabasePoolOptions.sharedSession.
    const db = createPrismaClient(
      databaseUrl,
      embedded ? { max: 1, sharedSession: true } : { max: config.DB_POOL_MAX, connectTimeoutMs: config.DB_CONNECT_TIMEOUT_MS, statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS },
    );
    const metrics = new Metrics({ processMetrics: true });
    const now = () => new Date();
    const passwords = createPasswordHasher(config.BCRYPT_COST, config.PASSWORD_HASH_THREADS);
    const deps: AppDeps = {
      db,
      config,
      passwords,
      tokens: createTokenService(config.JWT_SECRET, config.JWT_EXPIRES_IN_SECONDS, now),
      now,
      logger,
      throttle: new LoginThrottle(db, config, now),
      metrics,
    };
    // The delivery log's weekly partitions of this week and the next (maillog/partitions.ts). Not fatal:
    // without them, records land in the default partition and the collector's next pass moves them.
    await ensureMailLogPartitions(db, now()).then(
      (upkeep) => upkeep.created.length > 0 && logger.info(upkeep, "delivery log partitions made"),
      (error: unknown) => logger.warn({ err: error }, "delivery log partitions not made now; the collector tries again"),
    );
    const bootstrap = await bootstrapSupportAdmin(db, passwords, config);
    if (bootstrap.created) {
      logger.info({ username: bootstrap.username }, "first support admin created");
      if (bootstrap.generatedPassword) {
        // Deliberately not through the logger: a one-time secret for the
        // person starting the server, never stored in log files.
        process.stderr.write(
          `\n  First support admin created: username "${bootstrap.username}", password "${bootstrap.generatedPassword}"\n` +
            "  This password is shown once. Log in and change it (changePassword).\n\n",
        );
      }
    }
    const server = await createServer(deps);
    // PostgreSQL stores several log servers' lines at once; the embedded database is one session.
    const collectorConnections = embedded ? 1 : Math.max(1, Math.min(4, config.LOG_SOURCES.length));
    const logStore = createPgLogStore(databaseUrl, collectorConnections);
    // Of the servers on one database, the holder of the collector's lock collects (maillog/leadership.ts).
    const leadership = new CollectorLeadership(embedded ? databaseUrl : (config.DATABASE_DIRECT_URL ?? databaseUrl), logger, (leading) => metrics.setCollectorLeader(leading));
    const collect = metrics.timeCollectionPass(() =>
      runCollectionPass(db, logStore, config.LOG_SOURCES, config.MAIL_LOG_RETENTION_DAYS, now, logger, collectorConnections, config.POSTFIX_QUEUE_STATE_DAYS),
    );
    const collector = new LogCollectionScheduler(async () => ((await leadership.lead()) ? collect() : null), config.LOG_COLLECT_INTERVAL_SECONDS, logger);
    collector.start();
    // Lag is reported only for sources this process collects (not when cron does).
    if (config.LOG_COLLECT_INTERVAL_SECONDS > 0) metrics.watchLogSources(config.LOG_SOURCES.map((source) => source.name));
    return {
      server,
      deps,
      databaseUrl,
      async close() {
        // Stop taking requests and let the collection pass under way finish, side by side.
        await Promise.all([server.close(), collector.stop()]);
        // After the pass under way: the next server's pass starts where this one's last batch ended.
        await leadership.release();
        await logStore.close();
        await passwords.close();
        await db.$disconnect();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
