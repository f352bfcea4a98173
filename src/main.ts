// Entry point: read the configuration, start everything, listen, and shut down
// cleanly on SIGTERM / SIGINT.
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "./config";
import { developmentJwtSecret } from "./auth/development-secret";
import { createLogger } from "./logger";
import { startApp } from "./app";
import { shutDown, startDraining } from "./observability/shutdown";

async function main(): Promise<void> {
  // Settings from ./.env, when present; the real environment wins.
  if (existsSync(".env")) process.loadEnvFile(".env");
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`mailadmin: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  if (config.jwtSecretGenerated) {
    // Development only (production refuses to start without JWT_SECRET).
    const kept = developmentJwtSecret(config.DATA_DIR, config.JWT_SECRET);
    config = { ...config, JWT_SECRET: kept.secret };
    logger.warn(
      { path: kept.path, created: kept.created },
      "JWT_SECRET is not set: using the development secret kept in the data directory, so logins survive restarts. Set JWT_SECRET outside development.",
    );
  }
  const app = await startApp(config, logger);
  await app.server.listen({ host: config.HOST, port: config.PORT });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (config.SHUTDOWN_DRAIN_SECONDS > 0) {
      startDraining(app.server);
      logger.info({ signal, drainSeconds: config.SHUTDOWN_DRAIN_SECONDS }, "draining: /readyz answers 503 while requests are still served");
      await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_SECONDS * 1000));
    }
    logger.info({ signal, timeoutSeconds: config.SHUTDOWN_TIMEOUT_SECONDS }, "shutting down: no new connections; finishing the requests and the log collection under way");
    process.exit(await shutDown(() => app.close(), config.SHUTDOWN_TIMEOUT_SECONDS, logger));
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`mailadmin: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
