// Storing parsed delivery-log lines. Ingestion is idempotent: a record's
// fingerprint is unique in the database, so the same delivery reported by two
// log servers, or a file read twice, is stored once, in any order.
import type { Prisma, PrismaClient } from "../generated/prisma/client";
import { parseLogLine, type ParsedLogLine } from "./parse";

export interface RejectedLine {
  lineNumber: number;
  reason: string;
  line: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: RejectedLine[];
}

export interface LogLineInput {
  /** Raw bytes (UTF-8 or Big5) or text already decoded. */
  content: Uint8Array | string;
  lineNumber: number;
}

type Db = PrismaClient | Prisma.TransactionClient;

/** The local party of a record: the sender of outbound mail, the recipient of inbound mail. */
function localPartyOf(record: ParsedLogLine): string | null {
  if (record.direction === "OUTBOUND") return record.sender;
  if (record.direction === "INBOUND") return record.recipient;
  return null;
}

/**
 * Finds the hosted accounts and domains the records concern, with two
 * queries per batch. Records whose direction is unknown are linked to
 * whichever of their addresses is hosted here.
 */
async function linkRecords(db: Db, records: ParsedLogLine[]) {
  const addresses = new Set<string>();
  for (const record of records) {
    for (const address of [record.sender, record.recipient]) if (address) addresses.add(address);
  }
  const domainNames = new Set([...addresses].map((address) => address.slice(address.lastIndexOf("@") + 1)));
  const [accounts, domains] = await Promise.all([
    db.account.findMany({ where: { address: { in: [...addresses] } }, select: { id: true, address: true, domainId: true } }),
    db.domain.findMany({ where: { name: { in: [...domainNames] } }, select: { id: true, name: true } }),
  ]);
  const accountByAddress = new Map(accounts.map((account) => [account.address, account]));
  const domainByName = new Map(domains.map((domain) => [domain.name, domain.id]));
  const domainOf = (address: string) => domainByName.get(address.slice(address.lastIndexOf("@") + 1)) ?? null;

  return records.map((record) => {
    let local = localPartyOf(record);
    if (local === null) {
      local = [record.sender, record.recipient].find((address) => address && (accountByAddress.has(address) || domainOf(address))) ?? null;
    }
    const account = local ? accountByAddress.get(local) : undefined;
    return {
      fingerprint: record.fingerprint,
      loggedAt: record.loggedAt,
      queueId: record.queueId,
      queuedAt: record.queuedAt,
      direction: record.direction,
      sender: record.sender,
      recipient: record.recipient,
      subject: record.subject,
      sizeBytes: record.sizeBytes,
      status: record.status,
      retryCount: record.retryCount,
      reason: record.reason,
      rawLine: record.rawLine,
      localAddress: local,
      accountId: account?.id ?? null,
      domainId: account?.domainId ?? (local ? domainOf(local) : null),
    };
  });
}

/**
 * Parses and stores a batch of lines from one source inside the given
 * transaction (or client). Rejected lines are kept with their reason.
 */
export async function ingestLines(
  db: Db,
  source: { name: string; timeZone: string; path?: string | null },
  lines: LogLineInput[],
): Promise<IngestResult> {
  const parsed: ParsedLogLine[] = [];
  const rejected: RejectedLine[] = [];
  const seen = new Set<string>();
  let duplicatesInBatch = 0;
  for (const line of lines) {
    const result = parseLogLine(line.content, source.timeZone);
    if (result.ok) {
      if (seen.has(result.record.fingerprint)) {
        duplicatesInBatch++;
        continue;
      }
      seen.add(result.record.fingerprint);
      parsed.push(result.record);
    } else {
      rejected.push({ lineNumber: line.lineNumber, reason: result.reason, line: result.rawLine });
    }
  }
  let accepted = 0;
  if (parsed.length > 0) {
    const rows = await linkRecords(db, parsed);
    const created = await db.mailLogRecord.createMany({ data: rows.map((row) => ({ ...row, sourceName: source.name })), skipDuplicates: true });
    accepted = created.count;
  }
  if (rejected.length > 0) {
    await db.rejectedLogLine.createMany({
      data: rejected.map((line) => ({ sourceName: source.name, path: source.path ?? null, lineNumber: line.lineNumber, rawLine: line.line, reason: line.reason })),
    });
  }
  return { accepted, duplicates: parsed.length - accepted + duplicatesInBatch, rejected };
}
