// Bulk import of accounts. An import is a job kept in this process's memory:
// its file arrives in one or more parts, then it runs in the background
// (check every row, hash the passwords of the rows to create, write them:
// in one transaction for ALL_OR_NOTHING, a thousand per transaction for
// PER_ROW) while its progress can be read; importAccounts runs one and waits
// for its report. Jobs are per process: on several server processes, read an
// import's progress from the one that started it. This file is the public
// API; the jobs are in imports.jobs.ts, running one in imports.run.ts.
import type { Caller, ServiceDeps } from "../service-deps";
import type { Principal } from "../auth/principal";
import { can } from "../auth/policy";
import { ConflictError, ForbiddenError } from "../errors";
import { message } from "../i18n/messages";
import type { ImportFormat } from "./imports.parse";
import { type AccountImportView, type ImportDeps, type ImportMode, importJobsOf, viewOf } from "./imports.jobs";
import { appendPart, startRunning } from "./imports.run";

export { type ImportDeps, type ImportMode, type ImportPhase, type AccountImportView, type WrittenImportView, importJobsOf, writtenImportView } from "./imports.jobs";

/**
 * On server close (server.ts calls this), imports stop at the next safe point: before writing
 * (nothing written), or for PER_ROW between two batches of a thousand rows.
 * An ALL_OR_NOTHING import that is writing finishes its transaction.
 */
export function stopAccountImports(deps: ServiceDeps): Promise<void> {
  return importJobsOf(deps).stopAll();
}

/** Support staff import into any domain, a domain administrator into its own; a user not at all. */
function requireImporter(principal: Principal): void {
  if (principal.role === "SUPPORT_READONLY") throw new ForbiddenError(message("imports.read_only_support"));
  const mayCreateAccounts = principal.kind === "support" || can(principal, "account.create", { domainId: principal.domainId });
  if (!mayCreateAccounts) throw new ForbiddenError(message("imports.not_importer"));
}

export interface ImportAccountsInput {
  format?: ImportFormat | null;
  content: string;
  mode?: ImportMode | null;
  dryRun?: boolean | null;
}

export interface StartAccountImportInput extends ImportAccountsInput {
  more?: boolean | null;
}

/** The whole file in one request; answers when the import is finished. */
export async function importAccounts(deps: ImportDeps, caller: Caller, input: ImportAccountsInput): Promise<AccountImportView> {
  const view = await startAccountImport(deps, caller, { ...input, more: false });
  const job = importJobsOf(deps).find(caller.principal, view.id);
  await job.running;
  return viewOf(job);
}

export async function startAccountImport(deps: ImportDeps, caller: Caller, input: StartAccountImportInput): Promise<AccountImportView> {
  requireImporter(caller.principal);
  const job = importJobsOf(deps).create(caller, input.format ?? "CSV", input.mode ?? "ALL_OR_NOTHING", input.dryRun ?? false);
  appendPart(deps, job, input.content);
  if (!input.more) startRunning(deps, job, caller);
  return viewOf(job);
}

export async function appendAccountImportContent(deps: ImportDeps, caller: Caller, id: string, content: string, more: boolean): Promise<AccountImportView> {
  requireImporter(caller.principal);
  const job = importJobsOf(deps).find(caller.principal, id);
  if (job.phase !== "UPLOADING") throw new ConflictError(message("imports.already_uploaded", { id: job.id, phase: job.phase }), "id");
  appendPart(deps, job, content);
  if (!more) startRunning(deps, job, caller);
  return viewOf(job);
}

export async function findAccountImport(deps: ServiceDeps, principal: Principal, id: string): Promise<AccountImportView> {
  return viewOf(importJobsOf(deps).find(principal, id));
}
