// Mailbox usage: what the mail stores report, and the mailboxes near or over
// their quota. Usage is the mail server's number. Dovecot writes it into
// mailbox_usage itself (quota_clone through its SQL dict); the service's
// other stores (EZML) push it here; both land in mailbox_usage, whose trigger
// copies it into the account (usedMb, messageCount, usageUpdatedAt), so the
// two ways cannot disagree about what a report does. See docs/usage.md.
import { Prisma, type Account } from "../generated/prisma/client";
import type { Principal } from "../auth/principal";
import { authorize } from "../auth/policy";
import { writeAudit } from "../audit/audit.service";
import { AppError, BadInputError, NotFoundError } from "../errors";
import { message } from "../i18n/messages";
import { toConnection } from "../shared/connection";
import type { Caller, ServiceDeps } from "../service-deps";
import { decodeCursor, parseAddress, parseId, parsePageSize } from "../shared/validation";

export const BYTES_PER_MIB = 1024 * 1024;
/** Rows one push may carry, as for delivery-log lines: a larger store sends several pushes. */
export const MAX_USAGE_ROWS = 10_000;
/** A figure above this would lose precision as a JSON number. */
const MAX_BYTES = Number.MAX_SAFE_INTEGER;
const MAX_INT = 2 ** 31 - 1;
const MAX_MESSAGES = MAX_INT;
const MAX_PERCENT = 1000;

export interface MailboxUsageReport {
  address: string;
  bytes: number;
  messages: number;
}

/** A row of a push that was not stored, and why. */
export interface MailboxUsageRowError {
  /** Position of the row in the push, from 0. */
  index: number;
  address: string;
  field: string;
  code: "BAD_USER_INPUT" | "NOT_FOUND";
  message: string;
}

export interface MailboxUsageRow {
  username: string;
  bytes: bigint;
  messages: bigint;
}

/**
 * Writes rows into mailbox_usage as Dovecot's SQL dict does (insert, or
 * update the figures of an existing row); the table's triggers do the rest.
 * One statement whatever the number of rows. The usernames must differ even
 * in lower case (as the trigger stores them): one INSERT ... ON CONFLICT
 * cannot update a row twice.
 */
export async function storeMailboxUsage(db: Prisma.TransactionClient, unordered: readonly MailboxUsageRow[]): Promise<void> {
  if (unordered.length === 0) return;
  // In one order (by address), so that two pushes naming the same mailboxes
  // lock their rows (and, through the trigger, their accounts) in the same
  // order instead of deadlocking.
  const rows = [...unordered].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  await db.$executeRaw`
    INSERT INTO "mailbox_usage" ("username", "bytes", "messages")
    SELECT * FROM unnest(${rows.map((row) => row.username)}::text[], ${rows.map((row) => row.bytes.toString())}::text[]::bigint[], ${rows.map((row) => row.messages.toString())}::text[]::bigint[])
    ON CONFLICT ("username") DO UPDATE SET "bytes" = EXCLUDED."bytes", "messages" = EXCLUDED."messages"`;
}

function wholeNumberError(value: unknown, field: "bytes" | "messages", most: number): string | undefined {
  if (typeof value !== "number" || !Number.isInteger(value)) return `${field} must be a whole number.`;
  if (value < 0) return `${field} cannot be negative (got ${value}).`;
  if (value > most) return `${field} can be at most ${most} (got ${value}).`;
  return undefined;
}

/**
 * A push of usage figures from a mail store (support staff, or a service
 * token with the USAGE scope). Rows that cannot be stored (a malformed or
 * unknown address, a negative figure, an address given twice) are reported
 * one by one; the others are stored together, with one audit entry for the
 * whole push.
 */
export async function reportMailboxUsage(deps: Pick<ServiceDeps, "db">, caller: Caller, reports: readonly MailboxUsageReport[]) {
  authorize(caller.principal, "usage.report", {}, ["mailbox usage", ""]);
  if (reports.length === 0) throw new BadInputError("input", message("usage.empty"));
  if (reports.length > MAX_USAGE_ROWS) {
    throw new BadInputError("input", message("usage.too_many_rows", { max: MAX_USAGE_ROWS, count: reports.length }));
  }
  const rejected: MailboxUsageRowError[] = [];
  const valid = new Map<string, { index: number; report: MailboxUsageReport }>();
  reports.forEach((report, index) => {
    const refuse = (field: string, message: string) => rejected.push({ index, address: String(report.address ?? ""), field, code: "BAD_USER_INPUT", message });
    let address: string;
    try {
      address = parseAddress(report.address).address;
    } catch (error) {
      if (error instanceof AppError) return refuse("address", error.message);
      throw error;
    }
    const problem = wholeNumberError(report.bytes, "bytes", MAX_BYTES) ?? wholeNumberError(report.messages, "messages", MAX_MESSAGES);
    if (problem) return refuse(problem.startsWith("bytes") ? "bytes" : "messages", problem);
    const earlier = valid.get(address);
    if (earlier) return refuse("address", `${address} is already given in row ${earlier.index} of this push: give each mailbox once.`);
    valid.set(address, { index, report });
  });

  return deps.db.$transaction(async (tx) => {
    const accounts = await tx.account.findMany({
      where: { address: { in: [...valid.keys()] } },
      select: { address: true, domainId: true, domain: { select: { name: true } } },
    });
    const known = new Map(accounts.map((account) => [account.address, account]));
    const rows: MailboxUsageRow[] = [];
    for (const [address, { index, report }] of valid) {
      if (!known.has(address)) {
        rejected.push({ index, address, field: "address", code: "NOT_FOUND", message: `No account ${address} exists: usage is only kept for mailboxes mailadmin manages.` });
        continue;
      }
      rows.push({ username: address, bytes: BigInt(report.bytes), messages: BigInt(report.messages) });
    }
    await storeMailboxUsage(tx, rows);
    // One entry per push. When every stored row is of one domain it is filed
    // under that domain, so its administrator sees it in the domain's audit trail.
    const domains = new Set(rows.map((row) => known.get(row.username)!.domainId));
    const single = domains.size === 1 ? known.get(rows[0]!.username)! : undefined;
    await writeAudit(tx, caller.actor, {
      action: "mailbox_usage.report",
      objectType: "mailbox_usage",
      objectId: null,
      domainId: single?.domainId ?? null,
      domainName: single?.domain.name ?? null,
      changes: [
        { field: "accepted", before: null, after: rows.length },
        { field: "rejected", before: null, after: rejected.length },
      ],
    });
    rejected.sort((a, b) => a.index - b.index);
    return { accepted: rows.length, rejected };
  });
}

/**
 * The deprecated hand-typed usedMb of updateAccount (support staff only), kept
 * for the clients that send it: stored as a report of usedMb MiB with the
 * message count unchanged, so it goes the same way as the mail store's
 * figures (and the store's next report replaces it).
 */
export async function storeHandTypedUsage(tx: Prisma.TransactionClient, account: Pick<Account, "address" | "messageCount">, usedMb: number): Promise<void> {
  await storeMailboxUsage(tx, [{ username: account.address, bytes: BigInt(usedMb) * BigInt(BYTES_PER_MIB), messages: BigInt(account.messageCount) }]);
}

export interface MailboxesAboveQuotaQuery {
  percent?: number | null;
  domainId?: string | null;
  first?: number | null;
  after?: string | null;
}

/**
 * usedMb as a whole percentage of quotaMb (rounded down); null for a login
 * without a mailbox (quota 0). At most GraphQL's largest Int: a store may
 * report far more than a tiny quota.
 */
export function usagePercentOf(account: Pick<Account, "usedMb" | "quotaMb">): number | null {
  return account.quotaMb > 0 ? Math.min(Math.floor((account.usedMb * 100) / account.quotaMb), MAX_INT) : null;
}

function parsePercent(percent: number | null | undefined, fallback: number): number {
  if (percent == null) return fallback;
  if (!Number.isInteger(percent) || percent < 1 || percent > MAX_PERCENT) {
    throw new BadInputError("percent", message("usage.percent", { max: MAX_PERCENT }));
  }
  return percent;
}

/**
 * Mailboxes using at least `percent` of their quota (default: the lowest of
 * QUOTA_WARNING_PERCENTS), by address. Support staff: every domain, or the one
 * named; a domain administrator: its own domain (another is NOT_FOUND); an
 * ordinary user: FORBIDDEN. Logins without a mailbox (quota 0) are never listed.
 */
export async function listMailboxesAboveQuota(deps: Pick<ServiceDeps, "db" | "config">, principal: Principal, query: MailboxesAboveQuotaQuery) {
  const percent = parsePercent(query.percent, deps.config.QUOTA_WARNING_PERCENTS[0] ?? 80);
  const first = parsePageSize(query.first, 50);
  const after = decodeCursor(query.after);
  let domainId = query.domainId == null ? undefined : parseId(query.domainId, "domainId");
  if (domainId === undefined && principal.kind === "account") domainId = principal.domainId;
  if (domainId !== undefined) {
    const exists = await deps.db.domain.findUnique({ where: { id: domainId }, select: { id: true } });
    if (!exists) throw new NotFoundError("domain", `with id ${domainId}`);
    authorize(principal, "domain.list_accounts", { domainId }, ["domain", `with id ${domainId}`]);
  } else {
    // Only support reaches here (an account always has its domain).
    authorize(principal, "domain.list_accounts", {}, ["domain", "of every domain"]);
  }
  const conditions = [Prisma.sql`a."quotaMb" > 0`, Prisma.sql`a."usedMb"::bigint * 100 >= ${percent}::bigint * a."quotaMb"`];
  if (domainId !== undefined) conditions.push(Prisma.sql`a."domainId" = ${domainId}`);
  // Across every domain, support's test mailboxes are left out (docs/test-domain.md); named, a test domain is listed.
  else conditions.push(Prisma.sql`NOT EXISTS (SELECT 1 FROM "domain" d WHERE d."id" = a."domainId" AND d."isTestDomain")`);
  const where = Prisma.join(conditions, " AND ");
  const [rows, counted] = await Promise.all([
    deps.db.$queryRaw<Account[]>`
      SELECT a.* FROM "account" a
      WHERE ${where} ${after !== undefined ? Prisma.sql`AND a."address" > ${after}` : Prisma.empty}
      ORDER BY a."address" LIMIT ${first + 1}`,
    deps.db.$queryRaw<{ count: bigint }[]>`SELECT count(*) AS "count" FROM "account" a WHERE ${where}`,
  ]);
  return toConnection(rows, first, Number(counted[0]?.count ?? 0), (account) => account.address, after);
}
