// Reading delivery records ("what happened to this user's mail"), pushing
// lines from log shippers, and pruning what is older than the retention.
import type { Prisma, PrismaClient } from "../generated/prisma/client";
import type { Caller, ServiceDeps } from "../shared/deps";
import type { Principal } from "../auth/principal";
import { authorize } from "../auth/policy";
import { writeAudit } from "../audit/audit.service";
import { BadInputError, NotFoundError } from "../errors";
import { toConnection } from "../shared/connection";
import { decodeCursor, likeEscaped, parseAddress, parsePageSize, parseSearch } from "../shared/validation";
import { ingestLines, type IngestResult } from "./ingest";
import { prismaExecutor } from "./sql";
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
  if (principal.role === "SUPPORT_ADMIN") return;
  const domainName = address.slice(address.lastIndexOf("@") + 1);
  const domain = await db.domain.findUnique({ where: { name: domainName }, select: { id: true } });
  const account = await db.account.findUnique({ where: { address }, select: { id: true } });
  const describe: [string, string] = ["delivery records for", address];
  if (!domain) throw new NotFoundError(...describe);
  authorize(principal, "maillog.read", { domainId: domain.id, accountId: account?.id }, describe);
}

export async function readMailLog(deps: Pick<ServiceDeps, "db" | "config" | "now">, principal: Principal, query: MailLogQuery) {
  const address = parseAddress(query.address).address;
  await authorizeAddress(deps.db, principal, address);
  const first = parsePageSize(query.first, 50);
  const counterpartText = parseSearch(query.counterpart, "counterpart");
  const subjectText = parseSearch(query.subject, "subject");
  const counterpart = counterpartText === undefined ? undefined : likeEscaped(counterpartText.toLowerCase());
  const subject = subjectText === undefined ? undefined : likeEscaped(subjectText);
  const now = deps.now();
  const since =
    (query.range ?? "TODAY") === "TODAY"
      ? startOfDay(now, deps.config.SERVICE_TIME_ZONE)
      : new Date(now.getTime() - deps.config.MAIL_LOG_RETENTION_DAYS * 86_400_000);

  const cursor = decodeCursor(query.after);
  let before: { loggedAt: Date; id: bigint } | undefined;
  if (cursor !== undefined) {
    const match = /^(\d{1,15})\|(\d{1,19})$/.exec(cursor);
    if (!match) throw new BadInputError("after", "after is not a cursor returned by this API.");
    before = { loggedAt: new Date(Number(match[1])), id: BigInt(match[2]!) };
  }

  const counterpartFilter: Prisma.MailLogRecordWhereInput | undefined = counterpart
    ? {
        OR: [
          { direction: "OUTBOUND", recipient: { contains: counterpart } },
          { direction: "INBOUND", sender: { contains: counterpart } },
          { direction: null, OR: [{ sender: { contains: counterpart } }, { recipient: { contains: counterpart } }] },
        ],
      }
    : undefined;
  const where: Prisma.MailLogRecordWhereInput = {
    localAddress: address,
    loggedAt: { gte: since },
    ...(query.direction ? { direction: query.direction } : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(subject ? { subject: { contains: subject, mode: "insensitive" as const } } : {}),
    ...(counterpartFilter ? { AND: [counterpartFilter] } : {}),
  };
  const pageWhere: Prisma.MailLogRecordWhereInput = before
    ? { AND: [where, { OR: [{ loggedAt: { lt: before.loggedAt } }, { loggedAt: before.loggedAt, id: { lt: before.id } }] }] }
    : where;
  const [rows, totalCount] = await Promise.all([
    deps.db.mailLogRecord.findMany({ where: pageWhere, orderBy: [{ loggedAt: "desc" }, { id: "desc" }], take: first + 1 }),
    deps.db.mailLogRecord.count({ where }),
  ]);
  return toConnection(rows, first, totalCount, (row) => `${row.loggedAt.getTime()}|${row.id}`);
}

/** Lines the parser could not read (support staff): what a log server writes that mailadmin does not understand. */
export async function listRejectedLines(
  deps: Pick<ServiceDeps, "db">,
  principal: Principal,
  query: { source?: string | null; first?: number | null; after?: string | null },
) {
  authorize(principal, "maillog.rejected", {}, ["log source", query.source ?? ""]);
  const first = parsePageSize(query.first, 50);
  const source = parseSearch(query.source, "source");
  const after = decodeCursor(query.after);
  if (after !== undefined && !/^\d{1,19}$/.test(after)) throw new BadInputError("after", "after is not a cursor returned by this API.");
  const where: Prisma.RejectedLogLineWhereInput = source ? { sourceName: source } : {};
  const [rows, totalCount] = await Promise.all([
    deps.db.rejectedLogLine.findMany({ where: after ? { AND: [where, { id: { lt: BigInt(after) } }] } : where, orderBy: { id: "desc" }, take: first + 1 }),
    deps.db.rejectedLogLine.count({ where }),
  ]);
  return toConnection(rows, first, totalCount, (row) => row.id.toString());
}

const MAX_PUSHED_LINES = 10_000;

/** Lines pushed by a log shipper (ingestMailLog): text, or raw bytes (REST text/plain) that the parser decodes as it does files. */
export async function pushMailLog(
  deps: Pick<ServiceDeps, "db" | "config">,
  caller: Caller,
  input: { source: string; lines: (string | Uint8Array)[]; timeZone?: string | null },
): Promise<IngestResult> {
  authorize(caller.principal, "maillog.ingest", {}, ["log source", input.source]);
  const source = parseSearch(input.source, "source");
  if (!source || !/^[A-Za-z0-9._-]{1,64}$/.test(source)) {
    throw new BadInputError("source", "source must be 1 to 64 letters, digits, dots, dashes or underscores (such as m2k-1).");
  }
  const timeZone = input.timeZone ?? deps.config.SERVICE_TIME_ZONE;
  if (!isValidTimeZone(timeZone)) throw new BadInputError("timeZone", `${timeZone} is not an IANA time zone such as Asia/Taipei.`);
  if (input.lines.length > MAX_PUSHED_LINES) throw new BadInputError("lines", `At most ${MAX_PUSHED_LINES} lines per call (got ${input.lines.length}).`);
  input.lines.forEach((line, index) => {
    if (line.length > 16_384) throw new BadInputError("lines", `Line ${index + 1} is longer than 16384 characters.`);
    if (typeof line === "string" && !line.isWellFormed()) throw new BadInputError("lines", `Line ${index + 1} is not valid Unicode text.`);
  });
  return deps.db.$transaction(async (tx) => {
    const result = await ingestLines(prismaExecutor(tx), { name: source, timeZone }, input.lines.map((content, index) => ({ content, lineNumber: index + 1 })));
    await writeAudit(tx, caller.actor, {
      action: "maillog.ingest",
      objectType: "log_source",
      objectId: source,
      changes: [
        { field: "accepted", before: null, after: result.accepted },
        { field: "duplicates", before: null, after: result.duplicates },
        { field: "rejected", before: null, after: result.rejected.length },
      ],
    });
    return result;
  });
}

/**
 * Deletes records older than the retention in small batches, each its own
 * short statement, so that reads and ingestion are never held up for long.
 */
export async function pruneMailLog(db: PrismaClient, olderThan: Date, batchSize = 5_000): Promise<number> {
  let deleted = 0;
  for (;;) {
    const count = await db.$executeRaw`
      DELETE FROM "mail_log_record" WHERE "id" IN (
        SELECT "id" FROM "mail_log_record" WHERE "loggedAt" < ${olderThan}::timestamp LIMIT ${batchSize})`;
    deleted += count;
    if (count < batchSize) break;
  }
  await db.rejectedLogLine.deleteMany({ where: { receivedAt: { lt: olderThan } } });
  return deleted;
}
