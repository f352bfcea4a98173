// Bulk import of accounts. An import is a job kept in the database (any
// server reads it, imports.jobs.ts): its file arrives in one or more parts
// (to any server), then it runs in the background on the server that got the last part
// (check every row, hash the passwords of the rows to create, write them:
// in one transaction for ALL_OR_NOTHING, a thousand per transaction for
// PER_ROW) while its progress can be read; importAccounts runs one and waits
// for its report. This file is the public
// API; the jobs are in imports.jobs.ts, running one in imports.run.ts.
import type { Caller, ServiceDeps } from "../service-deps";
import type { Principal } from "../auth/principal";
import { can } from "../auth/policy";
import { ConflictError, ForbiddenError } from "../errors";
import { message } from "../i18n/messages";
import type { ImportFormat } from "./imports.parse";
import { type AccountImportView, type ImportDeps, type ImportMode, importJobsOf } from "./imports.jobs";
import { startRunning } from "./imports.run";

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
  requireImporter(caller.principal);
  const jobs = importJobsOf(deps);
  const view = await jobs.create(caller, input.format ?? "CSV", input.mode ?? "ALL_OR_NOTHING", input.dryRun ?? false, input.content);
  const { job, content } = await jobs.claim(view, caller);
  await startRunning(deps, job, content);
  await job.running;
  return jobs.find(caller.principal, view.id);
}

export async function startAccountImport(deps: ImportDeps, caller: Caller, input: StartAccountImportInput): Promise<AccountImportView> {
  requireImporter(caller.principal);
  const jobs = importJobsOf(deps);
  const view = await jobs.create(caller, input.format ?? "CSV", input.mode ?? "ALL_OR_NOTHING", input.dryRun ?? false, input.content);
  if (input.more) return view;
  return run(deps, caller, view);
}

/** Claims the uploaded import and starts it on this server; answers its state once it runs. */
async function run(deps: ImportDeps, caller: Caller, view: AccountImportView): Promise<AccountImportView> {
  const jobs = importJobsOf(deps);
  const { job, content } = await jobs.claim(view, caller);
  await startRunning(deps, job, content);
  return jobs.find(caller.principal, view.id);
}

export async function appendAccountImportContent(deps: ImportDeps, caller: Caller, id: string, content: string, more: boolean): Promise<AccountImportView> {
  requireImporter(caller.principal);
  const jobs = importJobsOf(deps);
  const view = await jobs.find(caller.principal, id);
  if (view.phase !== "UPLOADING") throw new ConflictError(message("imports.already_uploaded", { id: view.id, phase: view.phase }), "id");
  await jobs.append(view, content);
  if (more) return jobs.find(caller.principal, id);
  return run(deps, caller, view);
}

export async function findAccountImport(deps: ServiceDeps, principal: Principal, id: string): Promise<AccountImportView> {
  return importJobsOf(deps).find(principal, id);
}
