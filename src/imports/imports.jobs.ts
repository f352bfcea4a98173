// Import jobs, kept in the database (table account_import) so that any server
// reads an import's progress and outcome, whichever server runs it: their
// state, what the API shows of them, and the imports this server runs
// (imports.service.ts is the public API, imports.run.ts runs a job).
//
// The file's parts are appended to the row as they arrive (any server may take
// the next part); the request with the last part claims the import and runs it
// on its server, which writes the progress to the row a few times a second
// with a heartbeat. An import whose server stopped without finishing it (a
// crash, a kill) is ended by any server that reads it once its heartbeat is
// older than STALE_HEARTBEAT_SECONDS: FAILED, saying what was created, which
// the database holds exactly (a PER_ROW batch commits its count with its rows;
// ALL_OR_NOTHING writes everything or nothing). It is never resumed: run again,
// the rows created already are refused as existing.
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Caller, ServiceDeps } from "../service-deps";
import type { Principal } from "../auth/principal";
import type { AccountImport, Prisma } from "../generated/prisma/client";
import { AppError, BadInputError, ConflictError } from "../errors";
import { message } from "../i18n/messages";
import { textFromJSON, writeText, writtenFor, type Text } from "../i18n/text";
import type { Language } from "../i18n/language";
import { parseId } from "../shared/validation";
import type { ImportFormat, RowError } from "./imports.parse";

/** The services' dependencies, and a logger for the imports that fail in the background. */
export type ImportDeps = ServiceDeps & { logger: Pick<Logger, "error"> };

export type ImportMode = "ALL_OR_NOTHING" | "PER_ROW";
export type ImportPhase = "UPLOADING" | "VALIDATING" | "HASHING" | "WRITING" | "DONE" | "FAILED";

/** Unfinished imports (uploading or running) one caller may have at a time. */
const MAX_OPEN_IMPORTS_PER_CALLER = 2;
const RUNNING_PHASES = ["VALIDATING", "HASHING", "WRITING"];
/** How often a running import's progress and heartbeat are written. */
export const PROGRESS_INTERVAL_MS = 200;
/** A running import whose heartbeat is older than this lost its server. */
export const STALE_HEARTBEAT_SECONDS = 15;

/** This server process, as an import's runner. */
const RUNNER = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/** What an import is, as the API shows it and as the server running it holds it. */
interface ImportState {
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
  errors: RowError[];
  /** Why the import stopped (phase FAILED): a Message, written in the reader's language. */
  failure: Text | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** An import this server runs: its state in memory, written to its row as it goes. */
export interface ImportJob extends ImportState {
  owner: string;
  caller: Caller;
  failedRows: Set<number>;
  running: Promise<void> | null;
  stopping: boolean;
}

/** What the API shows of an import. */
export interface AccountImportView extends ImportState {
  failedCount: number;
}

/** An import's row without its file (the reads leave it out). */
type ImportRow = Omit<AccountImport, "content">;

function viewOfRow(row: ImportRow): AccountImportView {
  return {
    id: row.id,
    format: row.format as ImportFormat,
    mode: row.mode as ImportMode,
    dryRun: row.dryRun,
    phase: row.phase as ImportPhase,
    rowsTotal: row.rowsTotal,
    phaseDone: row.phaseDone,
    phaseTotal: row.phaseTotal,
    validCount: row.validCount,
    createdCount: row.createdCount,
    failedCount: row.failedCount,
    errors: (row.errors as unknown as (Omit<RowError, "message"> & { message: unknown })[]).map((error) => ({ ...error, message: textFromJSON(error.message) ?? "" })),
    failure: textFromColumn(row.failure),
    createdAt: row.createdAt,
    finishedAt: row.finishedAt,
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

/**
 * A text as the failure column keeps it: a Message as its JSON (id and values),
 * so that it is written in each reader's language; a plain string as it is.
 */
function textToColumn(text: Text | null): string | null {
  return text === null || typeof text === "string" ? text : JSON.stringify(text);
}

function textFromColumn(column: string | null): Text | null {
  if (column === null || !column.startsWith("{") || !column.includes('"messageId"')) return column;
  try {
    return textFromJSON(JSON.parse(column)) ?? column;
  } catch {
    return column;
  }
}

function ownerOf(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/** The imports of one server (keyed by its dependencies, so that several test servers in one process stay apart). */
class ImportJobs {
  /** The imports this server runs now. */
  private readonly running = new Map<string, ImportJob>();
  /** Progress writes of each running import, one at a time and in order. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(private readonly deps: ServiceDeps) {}

  /**
   * Deletes the finished imports past their retention (and uploads abandoned
   * as long), and ends the running imports whose server stopped beating.
   */
  private async prune(): Promise<void> {
    const cutoff = new Date(this.deps.now().getTime() - this.deps.config.IMPORT_JOB_RETENTION_SECONDS * 1000);
    await this.deps.db.accountImport.deleteMany({ where: { phase: { notIn: RUNNING_PHASES }, touchedAt: { lt: cutoff } } });
    await this.deps.db.$executeRaw`
      UPDATE "account_import" SET "phase" = 'FAILED', "runner" = NULL, "finishedAt" = ${this.deps.now()}, "touchedAt" = ${this.deps.now()},
        "failure" = jsonb_build_object('messageId', 'imports.failure.server_gone', 'values', jsonb_build_object('created',
          CASE WHEN "createdCount" = 0 THEN jsonb_build_object('messageId', 'imports.failure.nothing_created', 'values', '{}'::jsonb)
          ELSE jsonb_build_object('messageId', 'imports.failure.some_created', 'values', jsonb_build_object('count', "createdCount"::text)) END))::text
      WHERE "phase" IN ('VALIDATING', 'HASHING', 'WRITING') AND "runner" IS DISTINCT FROM ${RUNNER}
        AND "heartbeatAt" < (now() AT TIME ZONE 'UTC') - make_interval(secs => ${STALE_HEARTBEAT_SECONDS})`;
  }

  async create(caller: Caller, format: ImportFormat, mode: ImportMode, dryRun: boolean, content: string): Promise<AccountImportView> {
    await this.prune();
    const owner = ownerOf(caller.principal);
    const bytes = this.checkSize(0, content);
    const now = this.deps.now();
    const row = await this.deps.db.$transaction(async (tx) => {
      // One caller's imports are counted and created one at a time, whichever server gets them.
      await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${`mailadmin.import ${owner}`}))::text AS "locked"`;
      const open = await tx.accountImport.count({ where: { owner, phase: { notIn: ["DONE", "FAILED"] } } });
      if (open >= MAX_OPEN_IMPORTS_PER_CALLER) {
        throw new ConflictError(message("imports.too_many_open", { count: String(open) }));
      }
      return tx.accountImport.create({
        data: {
          id: randomUUID(),
          owner,
          caller: caller.actor as unknown as Prisma.InputJsonValue,
          format,
          mode,
          dryRun,
          phase: "UPLOADING",
          content,
          bytes,
          createdAt: now,
          touchedAt: now,
        },
      });
    });
    return viewOfRow(row);
  }

  /** Refuses a file past IMPORT_MAX_MB; returns its size with `content`. */
  private checkSize(bytesBefore: number, content: string): number {
    const bytes = bytesBefore + Buffer.byteLength(content, "utf8");
    if (bytes > this.deps.config.IMPORT_MAX_MB * 1024 * 1024) {
      throw new BadInputError("content", message("imports.file.too_large", { max: String(this.deps.config.IMPORT_MAX_MB) }));
    }
    return bytes;
  }

  /** The caller's own import; anyone else's answers as a missing one. */
  async find(principal: Principal, id: string): Promise<AccountImportView> {
    await this.prune();
    const row = await this.deps.db.accountImport.findUnique({ where: { id: parseId(id) }, omit: { content: true } });
    if (!row || row.owner !== ownerOf(principal)) throw new AppError("NOT_FOUND", message("imports.not_found", { id }));
    return viewOfRow(row);
  }

  /** Adds a part to an uploading import; a file past IMPORT_MAX_MB is discarded whole. */
  async append(view: AccountImportView, content: string): Promise<void> {
    const [row] = await this.deps.db.$queryRaw<{ bytes: number }[]>`
      UPDATE "account_import" SET "content" = "content" || ${content}, "bytes" = "bytes" + ${Buffer.byteLength(content, "utf8")}, "touchedAt" = ${this.deps.now()}
      WHERE "id" = ${view.id} AND "phase" = 'UPLOADING' RETURNING "bytes"`;
    if (!row) throw new ConflictError(message("imports.content_complete", { id: view.id }), "id");
    if (row.bytes > this.deps.config.IMPORT_MAX_MB * 1024 * 1024) {
      await this.discard(view.id);
      this.checkSize(row.bytes, "");
    }
  }

  /**
   * Claims an uploaded import for this server (once: a second request for it
   * finds it claimed) and returns its file; the row's copy is emptied.
   */
  async claim(view: AccountImportView, caller: Caller): Promise<{ job: ImportJob; content: string }> {
    const [row] = await this.deps.db.$queryRaw<{ content: string }[]>`
      UPDATE "account_import" AS i SET "phase" = 'VALIDATING', "content" = '', "runner" = ${RUNNER}, "heartbeatAt" = (now() AT TIME ZONE 'UTC'),
        "caller" = ${JSON.stringify(caller.actor)}::jsonb, "touchedAt" = ${this.deps.now()}
      FROM (SELECT "id", "content" FROM "account_import" WHERE "id" = ${view.id} AND "phase" = 'UPLOADING' FOR UPDATE) AS old
      WHERE i."id" = old."id" RETURNING old."content" AS "content"`;
    if (!row) throw new ConflictError(message("imports.content_complete", { id: view.id }), "id");
    const job: ImportJob = {
      id: view.id,
      owner: ownerOf(caller.principal),
      caller,
      format: view.format,
      mode: view.mode,
      dryRun: view.dryRun,
      phase: "VALIDATING",
      rowsTotal: 0,
      phaseDone: 0,
      phaseTotal: 0,
      validCount: 0,
      createdCount: 0,
      errors: [],
      failedRows: new Set(),
      failure: null,
      createdAt: view.createdAt,
      finishedAt: null,
      running: null,
      stopping: false,
    };
    this.running.set(job.id, job);
    return { job, content: row.content };
  }

  async discard(id: string): Promise<void> {
    this.running.delete(id);
    await this.deps.db.accountImport.deleteMany({ where: { id } });
  }

  /**
   * Writes the job's progress and a heartbeat to its row, after the writes
   * before it. The created count is not written here: the transactions that
   * create accounts write it with them (countCreated).
   */
  saveProgress(job: ImportJob, final = false): Promise<void> {
    const previous = this.writes.get(job.id) ?? Promise.resolve();
    const write = previous.then(async () => {
      await this.deps.db.$executeRaw`
        UPDATE "account_import" SET "phase" = ${job.phase}, "rowsTotal" = ${job.rowsTotal}, "phaseDone" = ${job.phaseDone}, "phaseTotal" = ${job.phaseTotal},
          "validCount" = ${job.validCount}, "failedCount" = ${job.failedRows.size}, "errors" = ${JSON.stringify(job.errors)}::jsonb, "failure" = ${textToColumn(job.failure)},
          "heartbeatAt" = (now() AT TIME ZONE 'UTC'), "finishedAt" = ${job.finishedAt}, "touchedAt" = ${this.deps.now()},
          "runner" = ${final ? null : RUNNER}
        WHERE "id" = ${job.id}`;
    });
    const settled = write.catch(() => undefined);
    this.writes.set(job.id, settled);
    if (final) void settled.then(() => this.writes.get(job.id) === settled && this.writes.delete(job.id));
    return write;
  }

  finished(job: ImportJob): void {
    this.running.delete(job.id);
  }

  /** Asks every running import to stop at its next safe point, and waits for them (server shutdown). */
  async stopAll(): Promise<void> {
    const running = [...this.running.values()].filter((job): job is ImportJob & { running: Promise<void> } => job.running !== null);
    for (const job of running) job.stopping = true;
    await Promise.all(running.map((job) => job.running));
  }
}

/** Writes, in an import's writing transaction, the accounts it has created so far (committed with them). */
export async function countCreated(tx: Prisma.TransactionClient, job: ImportJob, created: number): Promise<void> {
  await tx.$executeRaw`UPDATE "account_import" SET "createdCount" = ${created} WHERE "id" = ${job.id}`;
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
