// Storing parsed delivery-log lines. Ingestion is idempotent: a record's
// fingerprint is unique in the database, so the same delivery reported by two
// log servers, or a file read twice, is stored once, in any order.
import { parseLogLine, type ParsedLogLine } from "./parse";
import type { SqlExecutor } from "./sql";

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
async function linkRecords(sql: SqlExecutor, records: ParsedLogLine[]) {
  const addresses = new Set<string>();
  for (const record of records) {
    for (const address of [record.sender, record.recipient]) if (address) addresses.add(address);
  }
  const domainNames = new Set([...addresses].map((address) => address.slice(address.lastIndexOf("@") + 1)));
  // One after the other: inside a transaction both share one connection.
  const accounts = await sql.query<{ id: string; address: string; domainId: string }>(
    `SELECT "id", "address", "domainId" FROM "account" WHERE "address" = ANY($1::text[])`,
    [[...addresses]],
  );
  const domains = await sql.query<{ id: string; name: string }>(`SELECT "id", "name" FROM "domain" WHERE "name" = ANY($1::text[])`, [[...domainNames]]);
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

type RecordRow = Awaited<ReturnType<typeof linkRecords>>[number];

/**
 * Inserts a batch with one statement. Prisma's createMany binds one
 * parameter per value and is about twenty times slower on batches of thousands. A fingerprint already stored
 * is skipped (ON CONFLICT DO NOTHING); the count returned is what was new.
 */
async function insertRecords(sql: SqlExecutor, sourceName: string, rows: RecordRow[]): Promise<number> {
  // Timestamps travel as UTC text: the columns are timestamp without time zone, in UTC.
  const utc = (date: Date | null) => (date ? date.toISOString().replace("T", " ").replace("Z", "") : null);
  // One JSON parameter holding every row: PostgreSQL parses it faster than
  // sixteen array literals, and far faster than one parameter per value.
  const json = JSON.stringify(
    rows.map((row) => ({
      f: row.fingerprint,
      l: utc(row.loggedAt),
      q: row.queueId,
      qa: utc(row.queuedAt),
      d: row.direction,
      s: row.sender,
      r: row.recipient,
      su: row.subject,
      sz: row.sizeBytes,
      st: row.status,
      rc: row.retryCount,
      re: row.reason,
      raw: row.rawLine,
      la: row.localAddress,
      a: row.accountId,
      dm: row.domainId,
    })),
  );
  return sql.execute(
    `INSERT INTO "mail_log_record" ("fingerprint", "loggedAt", "queueId", "queuedAt", "direction", "sender", "recipient", "subject",
       "sizeBytes", "status", "retryCount", "reason", "rawLine", "localAddress", "accountId", "domainId", "sourceName")
     SELECT f, l, q, qa, d::"MailDirection", s, r, su, sz, st::"DeliveryStatus", rc, re, raw, la, a, dm, $2
     FROM json_to_recordset($1::json) AS batch(f text, l timestamp, q text, qa timestamp, d text, s text, r text, su text,
                                              sz int, st text, rc int, re text, raw text, la text, a text, dm text)
     ON CONFLICT ("fingerprint") DO NOTHING`,
    [json, sourceName],
  );
}

/**
 * Parses and stores a batch of lines from one source inside the given
 * transaction (or client). Rejected lines are kept with their reason.
 */
export interface ParsedBatch {
  records: ParsedLogLine[];
  rejected: RejectedLine[];
  /** Lines repeated within the batch itself. */
  duplicatesInBatch: number;
}

/** Parses a batch (CPU only; the collector runs it for the next batch while the database stores the current one). */
export function parseBatch(lines: LogLineInput[], timeZone: string): ParsedBatch {
  const records: ParsedLogLine[] = [];
  const rejected: RejectedLine[] = [];
  const seen = new Set<string>();
  let duplicatesInBatch = 0;
  for (const line of lines) {
    const result = parseLogLine(line.content, timeZone);
    if (result.ok) {
      if (seen.has(result.record.fingerprint)) {
        duplicatesInBatch++;
        continue;
      }
      seen.add(result.record.fingerprint);
      records.push(result.record);
    } else {
      rejected.push({ lineNumber: line.lineNumber, reason: result.reason, line: result.rawLine });
    }
  }
  return { records, rejected, duplicatesInBatch };
}

/** Stores a parsed batch: new records, linked to accounts, and the rejected lines. */
export async function storeBatch(sql: SqlExecutor, source: { name: string; path?: string | null }, batch: ParsedBatch): Promise<IngestResult> {
  const { records, rejected, duplicatesInBatch } = batch;
  let accepted = 0;
  if (records.length > 0) {
    accepted = await insertRecords(sql, source.name, await linkRecords(sql, records));
  }
  if (rejected.length > 0) {
    await sql.execute(
      `INSERT INTO "rejected_log_line" ("sourceName", "path", "lineNumber", "rawLine", "reason")
       SELECT $1, $2, n, raw, reason FROM unnest($3::int[], $4::text[], $5::text[]) AS batch(n, raw, reason)`,
      [source.name, source.path ?? null, rejected.map((line) => line.lineNumber), rejected.map((line) => line.line), rejected.map((line) => line.reason)],
    );
  }
  return { accepted, duplicates: records.length - accepted + duplicatesInBatch, rejected };
}

/** Parses and stores a batch of lines from one source. */
export function ingestLines(sql: SqlExecutor, source: { name: string; timeZone: string; path?: string | null }, lines: LogLineInput[]): Promise<IngestResult> {
  return storeBatch(sql, source, parseBatch(lines, source.timeZone));
}
