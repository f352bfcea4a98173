// Running an import job in the background: check every row, hash the
// passwords of the rows to create, write them (in one transaction for
// ALL_OR_NOTHING, a thousand per transaction for PER_ROW), and record the
// outcome on the job (imports.jobs.ts).
import { randomBytes } from "node:crypto";
import { Prisma } from "../generated/prisma/client";
import type { ServiceDeps } from "../service-deps";
import { changedFields, SECRET_CHANGED, writeAudits, type AuditRecord } from "../audit/audit.service";
import { insertAlias, lockAliasGraph } from "../aliases/aliases.service";
import { fromDatabaseError } from "../shared/db-errors";
import { message } from "../i18n/messages";
import { readImportFile, type ImportColumn, type RawRow, type RowError } from "./imports.parse";
import { checkRowsAgainstDomains, checkRowValues, loadDomainState, type AcceptedRow, type CheckedRow } from "./imports.rows";
import { type ImportDeps, type ImportJob, PROGRESS_INTERVAL_MS, countCreated, importJobsOf } from "./imports.jobs";

/** Accounts per INSERT statement. */
const WRITE_BATCH = 1000;

/**
 * A time-ordered id (UUID version 7, RFC 9562), as Prisma's @default(uuid(7))
 * makes for rows it creates itself.
 */
function uuidv7(): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(Date.now(), 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

class ImportStopped extends Error {}

/** Stops the import at a safe point when the server shuts down. */
function checkStopping(job: ImportJob): void {
  if (job.stopping) throw new ImportStopped();
}

/** Runs `work` on every item, at most `limit` at a time, in order of start. */
async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>, stop: () => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      stop();
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function record(job: ImportJob, rows: { errors: RowError[]; row: number }[]): void {
  for (const row of rows) {
    if (row.errors.length === 0) continue;
    job.failedRows.add(row.row);
    job.errors.push(...row.errors);
  }
}

function auditRecordOf(id: string, row: AcceptedRow): AuditRecord {
  const account = { address: row.address, displayName: row.displayName, status: row.status, quotaMb: row.quota, usedMb: 0 };
  return {
    action: "account.create",
    objectType: "account",
    objectId: id,
    domainId: row.domain.id,
    domainName: row.domain.name,
    // The same entry createAccount writes.
    changes: [...changedFields(null, account, ["address", "displayName", "status", "quotaMb", "usedMb"]), { field: "password", before: null, after: SECRET_CHANGED }],
  };
}

/** Signals ALL_OR_NOTHING's rollback when the check under lock refuses a row. */
class RefusedUnderLock extends Error {
  constructor(readonly rows: CheckedRow[]) {
    super("rows refused under lock");
  }
}

/**
 * Locks the rows' domains, checks the rows again against what the database
 * holds now (someone may have created an account or changed a quota since
 * the validation), and inserts the rows that still pass, with their audit
 * entries. Returns the rows refused by that second check.
 */
async function writeBatch(tx: Prisma.TransactionClient, job: ImportJob, rows: AcceptedRow[], hashes: Map<number, string>): Promise<CheckedRow[]> {
  // Alias changes take the alias graph's lock before any domain's (as createAlias does), so they cannot deadlock.
  if (rows.some((row) => row.destinations)) await lockAliasGraph(tx);
  const domainIds = [...new Set(rows.map((row) => row.domain.id))].sort();
  // In id order, so that two imports touching the same domains cannot deadlock.
  await tx.$queryRaw`SELECT "id" FROM "domain" WHERE "id" IN (${Prisma.join(domainIds)}) ORDER BY "id" FOR UPDATE`;
  const fresh: CheckedRow[] = rows.map((row) => ({ ...row, errors: [] }));
  const checked = await checkRowsAgainstDomains(fresh, await loadDomainState(tx, fresh), job.caller.principal);
  const refused = fresh.filter((row) => row.errors.length > 0);
  if (refused.length > 0 && job.mode === "ALL_OR_NOTHING") throw new RefusedUnderLock(refused);
  const accepted = checked.filter((row) => !row.destinations);
  for (let start = 0; start < accepted.length; start += WRITE_BATCH) {
    const batch = accepted.slice(start, start + WRITE_BATCH);
    const ids = batch.map(() => uuidv7());
    // One statement per thousand rows: Prisma's createMany takes seconds per thousand.
    await tx.$executeRaw`
      INSERT INTO "account" ("id", "domainId", "localPart", "address", "displayName", "passwordHash", "quotaMb", "status", "updatedAt")
      SELECT r."id", r."domainId", r."localPart", r."address", r."displayName", r."passwordHash", r."quotaMb", r."status"::"AccountStatus", CURRENT_TIMESTAMP
      FROM unnest(
        ${ids}::text[], ${batch.map((row) => row.domain.id)}::text[], ${batch.map((row) => row.localPart)}::text[],
        ${batch.map((row) => row.address)}::text[], ${batch.map((row) => row.displayName)}::text[],
        ${batch.map((row) => hashes.get(row.row)!)}::text[], ${batch.map((row) => row.quota)}::int[], ${batch.map((row) => row.status)}::text[]
      ) AS r("id", "domainId", "localPart", "address", "displayName", "passwordHash", "quotaMb", "status")`;
    await writeAudits(
      tx,
      job.caller.actor,
      batch.map((row, index) => auditRecordOf(ids[index]!, row)),
    );
    job.phaseDone += batch.length;
  }
  for (const row of checked.filter((entry) => entry.destinations)) {
    const error = await writeAliasRow(tx, job, row);
    if (error) {
      const refusedRow = { ...row, errors: [error] };
      if (job.mode === "ALL_OR_NOTHING") throw new RefusedUnderLock([refusedRow]);
      refused.push(refusedRow);
    }
    job.phaseDone++;
  }
  job.phaseDone += refused.length;
  return refused;
}

/** Which import column an alias rule's field stands for. */
function aliasColumn(field: string | undefined): ImportColumn {
  return field === "destinations" ? "destinations" : "address";
}

/**
 * Writes one alias row with createAlias's rules (insertAlias), inside a
 * savepoint so that a refused row leaves the transaction usable for the
 * next. Returns the row's error, or null when it was created.
 */
async function writeAliasRow(tx: Prisma.TransactionClient, job: ImportJob, row: AcceptedRow): Promise<RowError | null> {
  await tx.$executeRaw`SAVEPOINT import_alias_row`;
  try {
    await insertAlias(tx, job.caller, row.domain.id, row.localPart, row.destinations!);
    await tx.$executeRaw`RELEASE SAVEPOINT import_alias_row`;
    return null;
  } catch (error) {
    await tx.$executeRaw`ROLLBACK TO SAVEPOINT import_alias_row`;
    const known = fromDatabaseError(error);
    if (!known) throw error;
    const field = typeof known.extensions.field === "string" ? known.extensions.field : undefined;
    return { row: row.row, line: row.line, field: aliasColumn(field), code: known.code, message: known.localized ?? known.message, address: row.rawAddress };
  }
}

/** Thousands of rows take longer than Prisma's default five seconds for a transaction. */
function transactionLimits(rows: number) {
  return { maxWait: 60_000, timeout: 120_000 + rows * 50 };
}

/**
 * ALL_OR_NOTHING: every row in one transaction, rolled back whole when the
 * check under lock refuses one. PER_ROW: one transaction per thousand rows,
 * so that the domains are not locked (and, on the embedded database, the one
 * connection not held) for the whole import. Returns the refused rows.
 */
async function writeRows(deps: ServiceDeps, job: ImportJob, acceptedRows: AcceptedRow[], hashes: Map<number, string>): Promise<CheckedRow[]> {
  // Alias rows after every account row, so that an alias may point at a mailbox anywhere in the file.
  const rows = [...acceptedRows.filter((row) => !row.destinations), ...acceptedRows.filter((row) => row.destinations)];
  if (job.mode === "ALL_OR_NOTHING") {
    const refused = await deps.db.$transaction(async (tx) => {
      const refusedHere = await writeBatch(tx, job, rows, hashes);
      // The count commits with the accounts: a server stopping later leaves it exact.
      await countCreated(tx, job, rows.length - refusedHere.length);
      return refusedHere;
    }, transactionLimits(rows.length));
    job.createdCount = rows.length - refused.length;
    return refused;
  }
  const refused: CheckedRow[] = [];
  for (let start = 0; start < rows.length; start += WRITE_BATCH) {
    checkStopping(job);
    const batch = rows.slice(start, start + WRITE_BATCH);
    const refusedHere = await deps.db.$transaction(async (tx) => {
      const refusedInBatch = await writeBatch(tx, job, batch, hashes);
      await countCreated(tx, job, job.createdCount + batch.length - refusedInBatch.length);
      return refusedInBatch;
    }, transactionLimits(batch.length));
    job.createdCount += batch.length - refusedHere.length;
    refused.push(...refusedHere);
  }
  return refused;
}

async function runImport(deps: ServiceDeps, job: ImportJob, rawRows: RawRow[]): Promise<void> {
  job.phase = "VALIDATING";
  job.phaseTotal = rawRows.length;
  job.phaseDone = 0;
  const rows = rawRows.map(checkRowValues);
  checkStopping(job);
  const state = await loadDomainState(deps.db, rows);
  const accepted = await checkRowsAgainstDomains(rows, state, job.caller.principal, (done) => {
    job.phaseDone = done;
    checkStopping(job);
  });
  job.validCount = accepted.length;
  record(job, rows);
  if (job.dryRun || accepted.length === 0 || (job.mode === "ALL_OR_NOTHING" && job.failedRows.size > 0)) return;

  job.phase = "HASHING";
  const hashes = new Map<number, string>();
  const toHash = accepted.filter((row) => row.password !== undefined);
  for (const row of accepted) if (row.passwordHash !== undefined) hashes.set(row.row, row.passwordHash);
  job.phaseTotal = toHash.length;
  job.phaseDone = 0;
  await forEachLimited(
    toHash,
    deps.config.IMPORT_HASH_CONCURRENCY,
    async (row) => {
      hashes.set(row.row, await deps.passwords.hash(row.password!));
      job.phaseDone++;
    },
    () => checkStopping(job),
  );
  checkStopping(job);

  job.phase = "WRITING";
  job.phaseTotal = accepted.length;
  job.phaseDone = 0;
  try {
    const refused = await writeRows(deps, job, accepted, hashes);
    record(job, refused);
  } catch (error) {
    if (!(error instanceof RefusedUnderLock)) throw error;
    record(job, error.rows);
  }
  job.validCount = job.createdCount;
  if (job.errors.length > 0) job.errors.sort((a, b) => a.row - b.row);
}

/**
 * Parses the whole file, then runs the import in the background on this
 * server, writing its progress to its row every PROGRESS_INTERVAL_MS (any
 * server reads it there) and its outcome at the end.
 */
export async function startRunning(deps: ImportDeps, job: ImportJob, content: string): Promise<void> {
  const jobs = importJobsOf(deps);
  let rawRows: RawRow[];
  try {
    rawRows = readImportFile(content, job.format, deps.config.IMPORT_MAX_ROWS);
  } catch (error) {
    // A file that cannot be read is refused whole, and the import with it.
    await jobs.discard(job.id);
    throw error;
  }
  job.rowsTotal = rawRows.length;
  job.phase = "VALIDATING";
  const caller = job.caller;
  const progress = setInterval(() => {
    jobs.saveProgress(job).catch((error: unknown) => deps.logger.error({ err: error, importId: job.id }, "account import: progress not written"));
  }, PROGRESS_INTERVAL_MS);
  progress.unref();
  job.running = (async () => {
    try {
      await jobs.saveProgress(job);
      await runImport(deps, job, rawRows);
      job.phase = "DONE";
      job.phaseDone = job.phaseTotal;
    } catch (error) {
      job.phase = "FAILED";
      // ALL_OR_NOTHING counts its accounts only once committed; PER_ROW's earlier batches stay.
      const created = job.createdCount === 0 ? message("imports.failure.nothing_created") : message("imports.failure.some_created", { count: String(job.createdCount) });
      const known = fromDatabaseError(error);
      if (error instanceof ImportStopped) {
        job.failure = message("imports.failure.stopped", { created });
      } else if (known) {
        job.failure = message("imports.failure.database", { error: known.localized ?? known.message, created });
      } else {
        job.failure = message("imports.failure.internal", { created, id: job.id });
        deps.logger.error({ err: error, importId: job.id, requestId: caller.actor.requestId }, "account import failed");
      }
    } finally {
      clearInterval(progress);
      job.finishedAt = deps.now();
      // The outcome is written before anyone awaiting the import hears of it.
      await jobs.saveProgress(job, true).catch((error: unknown) => deps.logger.error({ err: error, importId: job.id }, "account import: outcome not written"));
      jobs.finished(job);
      job.running = null;
    }
  })();
}
