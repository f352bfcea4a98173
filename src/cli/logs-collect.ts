// Collects the configured delivery-log sources and prunes old records, for
// cron: `npm run logs:collect -- --once`. Without --once it keeps running,
// one pass every LOG_COLLECT_INTERVAL_SECONDS.
//
// On the embedded database this command opens DATA_DIR itself, which only one
// process can do: run it while the server is stopped, or let the server
// collect (it does by default). On PostgreSQL it runs beside the servers and,
// like them, collects only while it holds the collector's lock
// (src/maillog/leadership.ts): a pass is skipped while a server collects.
import { existsSync } from "node:fs";
import { loadConfig } from "../config";
import { createLogger } from "../logger";
import { startEmbeddedDatabase } from "../db/embedded";
import { migrateIfNeeded } from "../db/migrate";
import { createPrismaClient } from "../db/prisma";
import { runCollectionPass } from "../maillog/scheduler";
import { createPgLogStore } from "../maillog/sql";
import { CollectorLeadership } from "../maillog/leadership";
import { cliMessages } from "./language";

const { text } = cliMessages();

async function main(): Promise<void> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const once = process.argv.includes("--once");
  const embedded = config.DATABASE_URL ? undefined : await startEmbeddedDatabase(config.DATA_DIR);
  const url = config.DATABASE_URL ?? embedded!.url;
  await migrateIfNeeded(url);
  const db = createPrismaClient(url, 1);
  const connections = embedded ? 1 : Math.max(1, Math.min(4, config.LOG_SOURCES.length));
  const store = createPgLogStore(url, connections);
  const now = () => new Date();
  const leadership = new CollectorLeadership(embedded ? url : (config.DATABASE_DIRECT_URL ?? url), logger);
  try {
    do {
      if (!(await leadership.lead())) {
        process.stdout.write(`${JSON.stringify({ skipped: "another process holds the log collector's lock and collects" })}\n`);
        if (!once) await new Promise((resolve) => setTimeout(resolve, config.LOG_COLLECT_INTERVAL_SECONDS * 1000));
        continue;
      }
      const pass = await runCollectionPass(db, store, config.LOG_SOURCES, config.MAIL_LOG_RETENTION_DAYS, now, logger, connections, config.POSTFIX_QUEUE_STATE_DAYS);
      process.stdout.write(`${JSON.stringify(pass)}\n`);
      if (!once) await new Promise((resolve) => setTimeout(resolve, config.LOG_COLLECT_INTERVAL_SECONDS * 1000));
    } while (!once);
  } finally {
    await leadership.release();
    await db.$disconnect();
    await store.close();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${text("cli.logs_collect.failed", { error: error instanceof Error ? error.message : String(error) })}\n`);
  process.exit(1);
});
