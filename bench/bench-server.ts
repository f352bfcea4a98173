// The server under measurement, as its own process (forked by
// bench/bench-support.ts): the application started exactly as src/main.ts
// starts it (startApp with the environment's configuration), plus an IPC
// channel through which the benchmark asks for the process's memory and for a
// clean stop. A separate process keeps the load generator's CPU and heap out
// of the server's figures.
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/logger";
import { startApp } from "../src/app";

export type ServerMessage =
  | { type: "listening"; port: number }
  | { type: "memory"; rssBytes: number; heapUsedBytes: number; heapTotalBytes: number; externalBytes: number }
  | { type: "eventLoop"; p50Ms: number; p99Ms: number; maxMs: number }
  | { type: "gc"; count: number; totalMs: number; maxMs: number; pauses: number[]; minorMaxMs: number; majorCount: number; majorMaxMs: number }
  | { type: "stopped" };

export type ControlMessage = { type: "memory"; collectGarbage: boolean } | { type: "eventLoop"; reset: boolean } | { type: "gc"; reset: boolean } | { type: "stop" };

async function main(): Promise<void> {
  const send = (message: ServerMessage) => process.send?.(message);
  const config = loadConfig(process.env);
  const logger = createLogger(config.LOG_LEVEL);
  const app = await startApp(config, logger);
  await app.server.listen({ host: config.HOST, port: config.PORT });
  const address = app.server.server.address();
  if (!address || typeof address === "string") throw new Error("server has no TCP address");

  // How late the event loop runs its timers: what a blocking call (a
  // synchronous bcrypt, say) would show as delay for every other request.
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  // The garbage collector's pauses (each stops the event loop for its duration).
  // By kind: a scavenge of the young generation (minor) is paid by the bytes a
  // request allocates; the rest (mark-compact, its incremental steps, weak
  // callbacks: "major") by what the process keeps.
  let pauses: number[] = [];
  let minor: number[] = [];
  let major: number[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      pauses.push(entry.duration);
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      (kind === constants.NODE_PERFORMANCE_GC_MINOR ? minor : major).push(entry.duration);
    }
  }).observe({ entryTypes: ["gc"] });

  process.on("message", (message: ControlMessage) => {
    if (message.type === "eventLoop") {
      const ms = (nanoseconds: number) => Math.round(nanoseconds / 1e4) / 100;
      send({ type: "eventLoop", p50Ms: ms(loopDelay.percentile(50)), p99Ms: ms(loopDelay.percentile(99)), maxMs: ms(loopDelay.max) });
      if (message.reset) loopDelay.reset();
    } else if (message.type === "gc") {
      const ms = (value: number) => Math.round(value * 100) / 100;
      send({
        type: "gc",
        count: pauses.length,
        totalMs: ms(pauses.reduce((sum, pause) => sum + pause, 0)),
        maxMs: ms(Math.max(0, ...pauses)),
        pauses: pauses.map(ms),
        minorMaxMs: ms(Math.max(0, ...minor)),
        majorCount: major.length,
        majorMaxMs: ms(Math.max(0, ...major)),
      });
      if (message.reset) [pauses, minor, major] = [[], [], []];
    } else if (message.type === "memory") {
      // After a full collection the heap figure is what is really kept alive,
      // which is what a leak would grow; started with --expose-gc.
      if (message.collectGarbage) (globalThis as { gc?: () => void }).gc?.();
      const usage = process.memoryUsage();
      send({ type: "memory", rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, heapTotalBytes: usage.heapTotal, externalBytes: usage.external });
    } else if (message.type === "stop") {
      void app.close().then(
        () => {
          send({ type: "stopped" });
          process.exit(0);
        },
        (error: unknown) => {
          process.stderr.write(`bench server: close failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
    }
  });
  // The parent gone (a crashed or interrupted benchmark): do not linger.
  process.on("disconnect", () => void app.close().finally(() => process.exit(0)));
  send({ type: "listening", port: address.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench server: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
