// Graceful shutdown: stop accepting, let the requests and the log collection
// under way finish, close the database; past SHUTDOWN_TIMEOUT_SECONDS, give up.
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";

/**
 * While the server closes, answers close their connection: a client's idle
 * keep-alive connection would otherwise hold the close open until its
 * keep-alive timeout.
 */
export function closeConnectionsWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
}

const draining = new WeakSet<FastifyInstance>();

/**
 * The first step of a graceful shutdown behind a load balancer: /readyz
 * answers 503 "draining" while requests are still served, so that the
 * balancer's health checks take the server out before it stops listening.
 */
export function startDraining(app: FastifyInstance): void {
  draining.add(app);
}

export function isDraining(app: FastifyInstance): boolean {
  return draining.has(app);
}

/** Runs close() within the bound; resolves with the exit code (0: everything finished, 1: timed out or failed). */
export async function shutDown(close: () => Promise<void>, timeoutSeconds: number, logger: Logger): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timed out">((resolve) => {
    timer = setTimeout(() => resolve("timed out"), timeoutSeconds * 1000);
  });
  try {
    const outcome = await Promise.race([close().then(() => "closed" as const), timedOut]);
    if (outcome === "timed out") {
      logger.error({ timeoutSeconds }, "shutdown did not finish within SHUTDOWN_TIMEOUT_SECONDS: exiting with requests or log collection unfinished");
      return 1;
    }
    logger.info("shut down cleanly");
    return 0;
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    return 1;
  } finally {
    clearTimeout(timer);
  }
}
