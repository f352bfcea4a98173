// Runs log collection and pruning inside the server process, every
// LOG_COLLECT_INTERVAL_SECONDS, one pass at a time. stop() waits for the
// pass under way, so a shutdown never cuts a batch in half (and a batch is
// one transaction anyway).
import type { Logger } from "pino";
import type { PrismaClient } from "../generated/prisma/client";
import { collectAll, type CollectionReport, type LogSource } from "./collector";
import { pruneMailLog } from "./maillog.service";
import { ensureMailLogPartitions, type PartitionUpkeep } from "./partitions";
import type { LogStore } from "./sql";

export interface CollectionPass {
  reports: CollectionReport[];
  pruned: number;
  /** Partitions made ahead, and rows moved out of the default partition. */
  partitions: PartitionUpkeep;
}

export async function runCollectionPass(
  db: PrismaClient,
  store: LogStore,
  sources: LogSource[],
  retentionDays: number,
  now: () => Date,
  logger?: Logger,
  concurrency = 1,
  queueStateDays = 10,
): Promise<CollectionPass> {
  const cutoff = new Date(now().getTime() - retentionDays * 86_400_000);
  // Lines older than the retention are counted (tooOld), not stored only to be pruned below.
  const reports = await collectAll(
    store,
    sources.map((source) => ({ ...source, notBefore: cutoff })),
    logger,
    concurrency,
  );
  const pruned = await pruneMailLog(db, cutoff, { queueStateDays });
  // After pruning, so that no partition is made for rows about to go.
  const partitions = await ensureMailLogPartitions(db, now());
  return { reports, pruned, partitions };
}

export class LogCollectionScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    /** A pass, or null when this server does not collect now (another one holds the collector's lock). */
    private readonly run: () => Promise<CollectionPass | null>,
    private readonly intervalSeconds: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.intervalSeconds <= 0) return;
    this.schedule(1_000);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.run()
        .then((pass) => {
          if (pass) this.logger.info({ collection: pass.reports, pruned: pass.pruned, partitions: pass.partitions }, "delivery logs collected");
        })
        .catch((error: unknown) => this.logger.error({ err: error }, "delivery log collection failed"))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.intervalSeconds * 1000);
        });
    }, delayMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
