// Import jobs, kept in this process's memory: their state, what the API shows
// of them, and the registry of one server's jobs (imports.service.ts is the
// public API, imports.run.ts runs a job).
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Caller, ServiceDeps } from "../service-deps";
import type { Principal } from "../auth/principal";
import { AppError, ConflictError } from "../errors";
import { message } from "../i18n/messages";
import { writeText, writtenFor, type Text } from "../i18n/text";
import type { Language } from "../i18n/language";
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
  /** Why the import stopped (phase FAILED): a Message, written in the reader's language. */
  failure: Text | null;
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
  failure: Text | null;
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

/** A row error as answered: its message written in one language. */
export type WrittenRowError = Omit<RowError, "message"> & { message: string };

/** An import as answered: its texts written in one language. */
export type WrittenImportView = Omit<AccountImportView, "errors" | "failure"> & { errors: WrittenRowError[]; failure: string | null };

/**
 * An import's row errors and failure written in the language of the answer
 * (GraphQL context.language, REST languageOfRequest): a job keeps them as
 * Messages, so one job reads in English to one caller and in Chinese to the
 * next. The language is worked out only when there is a text to write.
 */
export async function writtenImportView(view: AccountImportView, languageOf: () => Promise<Language>): Promise<WrittenImportView> {
  const failure = await writtenFor(languageOf, view.failure);
  const language = view.errors.length > 0 ? await languageOf() : "en";
  return { ...view, failure, errors: view.errors.map((error) => ({ ...error, message: writeText(error.message, language) ?? "" })) };
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
      throw new ConflictError(message("imports.too_many_open", { count: String(open.length) }));
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
    if (!job || job.owner !== ownerOf(principal)) throw new AppError("NOT_FOUND", message("imports.not_found", { id }));
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
