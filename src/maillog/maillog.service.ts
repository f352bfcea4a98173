// Reading delivery records ("what happened to this user's mail"), pushing
// lines from log shippers, and pruning what is older than the retention.
import type { MailLogRecord, Prisma, PrismaClient } from "../generated/prisma/client";
import type { Caller, ServiceDeps } from "../service-deps";
import type { Principal } from "../auth/principal";
import { authorize } from "../auth/policy";
import { writeAudit } from "../audit/audit.service";
import { BadInputError, NotFoundError, type ObjectDescription } from "../errors";
import { message } from "../i18n/messages";
import { toConnection } from "../shared/connection";
import { pageTotal, rawRows } from "../db/raw";
import { decodeCursor, likeEscaped, parseAddress, parseBigintId, parseInstantMs, parsePageSize, parseSearch } from "../shared/validation";
import { ingestLines, pruneQueueStates, type IngestResult, type LogFormatName } from "./ingest";
import { prismaExecutor } from "./sql";
import { DEFAULT_PARTITION, dropExpiredPartitions } from "./partitions";
import { isValidTimeZone, wallClockAt, zonedTimeToInstant } from "./parse";

export type MailLogRange = "TODAY" | "LAST_6_MONTHS";

export interface MailLogQuery {
  address: string;
  range?: MailLogRange | null;
  direction?: "OUTBOUND" | "INBOUND" | null;
  status?: "OK" | "RETRY" | "FAIL" | null;
  /** Part of the other party's address. */
  counterpart?: string | null;
  /** Part of the subject. */
  subject?: string | null;
  first?: number | null;
  after?: string | null;
}

/** Start of the calendar day containing `now` in a time zone. */
export function startOfDay(now: Date, timeZone: string): Date {
  const [year, month, day] = wallClockAt(now, timeZone);
  return zonedTimeToInstant([year, month, day, 0, 0, 0], timeZone);
}

/**
 * Who may read an address's records: support staff any; a domain
 * administrator any address of its own domain; a user its own address.
 * Anything else answers as not found.
 */
async function authorizeAddress(db: PrismaClient, principal: Principal, address: string): Promise<void> {
  if (principal.kind === "support") return;
  const describe: ObjectDescription = ["delivery records for", address, "many"];
  // The caller's own address: authentication has just read its account (its id and domain), no statement needed.
  if (principal.kind === "account" && principal.name === address && principal.domainId) {
    authorize(principal, "maillog.read", { domainId: principal.domainId, accountId: principal.id }, describe);
    return;
  }
  const domainName = address.slice(address.lastIndexOf("@") + 1);
  const [found] = await rawRows<{ domainId: string; accountId: string | null }>(
    db,
    `SELECT d."id" AS "domainId", (SELECT a."id" FROM "account" a WHERE a."address" = $2) AS "accountId" FROM "domain" d WHERE d."name" = $1`,
    [domainName, address],
  );
  if (!found) throw new NotFoundError(...describe);
  authorize(principal, "maillog.read", { domainId: found.domainId, accountId: found.accountId ?? undefined }, describe);
}

// Read through the pg pool (db/raw.ts): a user's log of today is what the
// portal shows most after the domain list. The id is bigint, which pg gives as text.
type RecordRow = Omit<MailLogRecord, "id"> & { id: string; totalCount: string };

/**
 * The columns a log page shows as the portal asks for it: "brief" leaves out
 * the raw line, the fingerprint and Postfix's details (most of each row's
 * bytes); "all" is every column (the REST API, and any selection of a field
 * outside the brief set).
 */
export type MailLogColumns = "brief" | "all";
export const MAIL_LOG_BRIEF_COLUMNS = [
  "id",
  "loggedAt",
  "queueId",
  "queuedAt",
  "direction",
  "sender",
  "recipient",
  "subject",
  "sizeBytes",
  "status",
  "retryCount",
  "reason",
  "localAddress",
] as const satisfies readonly (keyof MailLogRecord)[];
const RECORD_COLUMNS: Record<MailLogColumns, string> = {
  brief: MAIL_LOG_BRIEF_COLUMNS.map((column) => `r."${column}"`).join(", "),
  all: "r.*",
};

/** A page of an address's delivery records; with `columns: "brief"` each record holds only MAIL_LOG_BRIEF_COLUMNS. */
export async function readMailLog(deps: Pick<ServiceDeps, "db" | "config" | "now">, principal: Principal, query: MailLogQuery, columns: MailLogColumns = "all") {
  const address = parseAddress(query.address).address;
  await authorizeAddress(deps.db, principal, address);
  const first = parsePageSize(query.first, 50);
  const counterpartText = parseSearch(query.counterpart, "counterpart");
  const subjectText = parseSearch(query.subject, "subject");
  const now = deps.now();
  const since = (query.range ?? "TODAY") === "TODAY" ? startOfDay(now, deps.config.SERVICE_TIME_ZONE) : new Date(now.getTime() - deps.config.MAIL_LOG_RETENTION_DAYS * 86_400_000);

  const cursor = decodeCursor(query.after);
  let before: { loggedAt: Date; id: bigint } | undefined;
  if (cursor !== undefined) {
    const match = /^(\d{1,15})\|(\d{1,19})$/.exec(cursor);
    if (!match) throw new BadInputError("after", message("input.cursor", { field: "after" }));
    before = { loggedAt: parseInstantMs(match[1]!, "after"), id: parseBigintId(match[2]!, "after") };
  }

  // Timestamps go as UTC text: the columns hold UTC without a zone.
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const conditions = [`"localAddress" = ${param(address)}`, `"loggedAt" >= ${param(since.toISOString())}`];
  if (query.direction) conditions.push(`"direction" = ${param(query.direction)}`);
  if (query.status) conditions.push(`"status" = ${param(query.status)}`);
  if (subjectText !== undefined) conditions.push(`"subject" ILIKE ${param(`%${likeEscaped(subjectText)}%`)}`);
  if (counterpartText !== undefined) {
    // The other party: the recipient of outbound mail, the sender of inbound mail, either when the line has no direction.
    const pattern = param(`%${likeEscaped(counterpartText.toLowerCase())}%`);
    conditions.push(
      `(("direction" = 'OUTBOUND' AND "recipient" LIKE ${pattern}) OR ("direction" = 'INBOUND' AND "sender" LIKE ${pattern})` +
        ` OR ("direction" IS NULL AND ("sender" LIKE ${pattern} OR "recipient" LIKE ${pattern})))`,
    );
  }
  const filter = conditions.join(" AND ");
  const filterValues = values.length;
  const pageFilter = before
    ? (() => {
        const loggedAt = param(before.loggedAt.toISOString());
        return `${filter} AND ("loggedAt" < ${loggedAt} OR ("loggedAt" = ${loggedAt} AND "id" < ${param(before.id.toString())}))`;
      })()
    : filter;
  const rows = await rawRows<RecordRow>(
    deps.db,
    `SELECT ${RECORD_COLUMNS[columns]}, (SELECT count(*) FROM "mail_log_record" WHERE ${filter}) AS "totalCount"
     FROM "mail_log_record" r WHERE ${pageFilter} ORDER BY r."loggedAt" DESC, r."id" DESC LIMIT ${param(first + 1)}`,
    values,
  );
  const totalCount = await pageTotal(deps.db, rows, { table: "mail_log_record", filter, filterValues: values.slice(0, filterValues), afterCursor: before !== undefined });
  const records = rows.map(({ totalCount: _totalCount, id, ...record }): MailLogRecord => ({ id: BigInt(id), ...record }));
  return toConnection(records, first, totalCount, (row) => `${row.loggedAt.getTime()}|${row.id}`, cursor);
}

/** Lines the parser could not read (support staff): what a log server writes that mailadmin does not understand. */
export async function listRejectedLines(deps: Pick<ServiceDeps, "db">, principal: Principal, query: { source?: string | null; first?: number | null; after?: string | null }) {
  authorize(principal, "maillog.rejected", {}, ["log source", query.source ?? ""]);
  const first = parsePageSize(query.first, 50);
  const source = parseSearch(query.source, "source");
  const afterKey = decodeCursor(query.after);
  const after = afterKey === undefined ? undefined : parseBigintId(afterKey, "after");
  const where: Prisma.RejectedLogLineWhereInput = source ? { sourceName: source } : {};
  const [rows, totalCount] = await Promise.all([
    deps.db.rejectedLogLine.findMany({ where: after ? { AND: [where, { id: { lt: after } }] } : where, orderBy: { id: "desc" }, take: first + 1 }),
    deps.db.rejectedLogLine.count({ where }),
  ]);
  return toConnection(rows, first, totalCount, (row) => row.id.toString(), afterKey);
}

const MAX_PUSHED_LINES = 10_000;

/** Lines pushed by a log shipper (ingestMailLog): text, or raw bytes (REST text/plain) that the parser decodes as it does files. */
export async function pushMailLog(
  deps: Pick<ServiceDeps, "db" | "config" | "now">,
  caller: Caller,
  input: { source: string; lines: (string | Uint8Array)[]; timeZone?: string | null; format?: LogFormatName | null },
): Promise<IngestResult> {
  authorize(caller.principal, "maillog.ingest", {}, ["log source", input.source]);
  const source = parseSearch(input.source, "source");
  if (!source || !/^[A-Za-z0-9._-]{1,64}$/.test(source)) {
    throw new BadInputError("source", message("maillog.source"));
  }
  const timeZone = input.timeZone ?? deps.config.SERVICE_TIME_ZONE;
  if (!isValidTimeZone(timeZone)) throw new BadInputError("timeZone", message("maillog.time_zone", { timeZone }));
  if (input.lines.length > MAX_PUSHED_LINES) throw new BadInputError("lines", message("maillog.too_many_lines", { max: MAX_PUSHED_LINES, count: input.lines.length }));
  input.lines.forEach((line, index) => {
    if (line.length > 16_384) throw new BadInputError("lines", message("maillog.line_too_long", { line: index + 1, max: 16384 }));
    if (typeof line === "string" && !line.isWellFormed()) throw new BadInputError("lines", message("maillog.line_unicode", { line: index + 1 }));
  });
  const notBefore = new Date(deps.now().getTime() - deps.config.MAIL_LOG_RETENTION_DAYS * 86_400_000);
  return deps.db.$transaction(async (tx) => {
    const result = await ingestLines(
      prismaExecutor(tx),
      { name: source, timeZone, format: input.format ?? "ezml" },
      input.lines.map((content, index) => ({ content, lineNumber: index + 1 })),
      deps.now().getTime(),
      notBefore,
    );
    await writeAudit(tx, caller.actor, {
      action: "maillog.ingest",
      objectType: "log_source",
      objectId: source,
      changes: [
        { field: "accepted", before: null, after: result.accepted },
        { field: "duplicates", before: null, after: result.duplicates },
        { field: "rejected", before: null, after: result.rejected.length },
        { field: "tooOld", before: null, after: result.tooOld },
        { field: "format", before: null, after: input.format ?? "ezml" },
      ],
    });
    return result;
  });
}

/**
 * The retention: drops the weekly partitions of mail_log_record that ended
 * before `olderThan` (partitions.ts: whole weeks, no mass DELETE), and deletes
 * the default partition's older rows (rows whose week had no partition: few)
 * in small batches, each its own short statement.
 */
export async function pruneMailLog(db: PrismaClient, olderThan: Date, options: { batchSize?: number; queueStateDays?: number } = {}): Promise<number> {
  const batchSize = options.batchSize ?? 5_000;
  let deleted = (await dropExpiredPartitions(db, olderThan)).rows;
  for (;;) {
    const count = await db.$executeRawUnsafe(
      `DELETE FROM "${DEFAULT_PARTITION}" WHERE ("id", "loggedAt") IN (
        SELECT "id", "loggedAt" FROM "${DEFAULT_PARTITION}" WHERE "loggedAt" < $1::timestamp LIMIT $2)`,
      olderThan.toISOString().replace("T", " ").replace("Z", ""),
      batchSize,
    );
    deleted += count;
    if (count < batchSize) break;
  }
  await db.rejectedLogLine.deleteMany({ where: { receivedAt: { lt: olderThan } } });
  // Postfix messages whose end ("removed") the log never showed.
  await pruneQueueStates(prismaExecutor(db), options.queueStateDays ?? 10);
  return deleted;
}
