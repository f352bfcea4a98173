// Import jobs, kept in this process's memory: their state, what the API shows
// of them, and the registry of one server's jobs (imports.service.ts is the
// public API, imports.run.ts runs a job).
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Caller, ServiceDeps } from "../service-deps";
import type { Principal } from "../auth/principal";
import { ConflictError, NotFoundError } from "../errors";
import { parseId } from "../shared/validation";
import type { ImportFormat, RowError } from "./imports.parse";

/** The services' dependencies, and a logger for the imports that fail in the background. */
export type ImportDeps = ServiceDeps & { logger: Pick<Logger, "error"> };

export type ImportMode = "ALL_OR_NOTHING" | "PER_ROW";
export type ImportPhase = "UPLOADING" | "VALIDATING" | "HASHING" | "WRITING" | "DONE" | "FAILED";

/** Unfinished imports (uploading or running) one caller may have at a time: each holds its file in memory. */
const MAX_OPEN_IMPORTS_PER_CALLER = 2;

export interface ImportJob {
  id: string;
  owner: string;
  caller: Caller;
  format: ImportFormat;
  mode: ImportMode;
  dryRun: boolean;
  parts: string[];
  bytes: number;
  phase: ImportPhase;
  rowsTotal: number;
  phaseDone: number;
  phaseTotal: number;
  validCount: number;
  createdCount: number;
  errors: RowError[];
  failedRows: Set<number>;
  failure: string | null;
  createdAt: Date;
  /** Last upload or end: retention counts from here. */
  touchedAt: Date;
  finishedAt: Date | null;
  running: Promise<void> | null;
  stopping: boolean;
}

/** What the API shows of an import: a copy, so that a reader never sees it change half-way. */
export interface AccountImportView {
  id: string;
  format: ImportFormat;
  mode: ImportMode;
  dryRun: boolean;
  phase: ImportPhase;
  rowsTotal: number;
  phaseDone: number;
  phaseTotal: number;
  validCount: number;
  createdCount: number;
  failedCount: number;
  errors: RowError[];
  failure: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export function viewOf(job: ImportJob): AccountImportView {
  return {
    id: job.id,
    format: job.format,
    mode: job.mode,
    dryRun: job.dryRun,
    phase: job.phase,
    rowsTotal: job.rowsTotal,
    phaseDone: job.phaseDone,
    phaseTotal: job.phaseTotal,
    validCount: job.validCount,
    createdCount: job.createdCount,
    failedCount: job.failedRows.size,
    errors: [...job.errors],
    failure: job.failure,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
  };
}

function ownerOf(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/** The imports of one server (keyed by its dependencies, so that several test servers in one process stay apart). */
class ImportJobs {
  private readonly jobs = new Map<string, ImportJob>();

  constructor(private readonly deps: ServiceDeps) {}

  private prune(): void {
    const cutoff = this.deps.now().getTime() - this.deps.config.IMPORT_JOB_RETENTION_SECONDS * 1000;
    for (const [id, job] of this.jobs) {
      if (!job.running && job.touchedAt.getTime() < cutoff) this.jobs.delete(id);
    }
  }

  create(caller: Caller, format: ImportFormat, mode: ImportMode, dryRun: boolean): ImportJob {
    this.prune();
    const owner = ownerOf(caller.principal);
    const open = [...this.jobs.values()].filter((job) => job.owner === owner && job.phase !== "DONE" && job.phase !== "FAILED");
    if (open.length >= MAX_OPEN_IMPORTS_PER_CALLER) {
      throw new ConflictError(`You already have ${open.length} imports uploading or running; wait for one to finish (accountImport) before starting another.`);
    }
    const now = this.deps.now();
    const job: ImportJob = {
      id: randomUUID(),
      owner,
      caller,
      format,
      mode,
      dryRun,
      parts: [],
      bytes: 0,
      phase: "UPLOADING",
      rowsTotal: 0,
      phaseDone: 0,
      phaseTotal: 0,
      validCount: 0,
      createdCount: 0,
      errors: [],
      failedRows: new Set(),
      failure: null,
      createdAt: now,
      touchedAt: now,
      finishedAt: null,
      running: null,
      stopping: false,
    };
    this.jobs.set(job.id, job);
    return job;
  }

  /** The caller's own import; anyone else's answers as a missing one. */
  find(principal: Principal, id: string): ImportJob {
    this.prune();
    const job = this.jobs.get(parseId(id));
    if (!job || job.owner !== ownerOf(principal)) throw new NotFoundError("import", `with id ${id}`);
    return job;
  }

  discard(job: ImportJob): void {
    this.jobs.delete(job.id);
  }

  /** Asks every running import to stop at its next safe point, and waits for them (server shutdown). */
  async stopAll(): Promise<void> {
    const running = [...this.jobs.values()].filter((job): job is ImportJob & { running: Promise<void> } => job.running !== null);
    for (const job of running) job.stopping = true;
    await Promise.all(running.map((job) => job.running));
  }
}

const registries = new WeakMap<object, ImportJobs>();

export function importJobsOf(deps: ServiceDeps): ImportJobs {
  let jobs = registries.get(deps);
  if (!jobs) {
    jobs = new ImportJobs(deps);
    registries.set(deps, jobs);
  }
  return jobs;
}
