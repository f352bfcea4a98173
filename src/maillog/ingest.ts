// Storing parsed delivery-log lines. Ingestion is idempotent: a record's
// fingerprint is unique in the database, so the same delivery reported by two
// log servers, or a file read twice, is stored once, in any order.
//
// A batch travels to PostgreSQL in one of two forms: COPY text into a
// temporary table (the collector, on PostgreSQL: PostgreSQL reads it at about
// half the cost of the same rows in JSON, and the collector writes the rows as
// it parses, keeping no objects for them), or one JSON parameter (Prisma,
// which cannot COPY, and the embedded database). Both end in the same
// INSERT ... SELECT, which also links each record to the hosted account and
// domain it concerns: in the database, without a round trip to look them up.
import { parseLogLine, type ParsedLogLine } from "./parse";
import { joinPostfixEvents, parsePostfixLine, queueKeysOf, type PostfixEvent, type PostfixRecord, type QueueState } from "./postfix";
import type { SqlExecutor } from "./sql";

/** How a source writes its log: the service's EZML servers, or Postfix (docs/postfix-log.md). */
export type LogFormatName = "ezml" | "postfix";

export interface RejectedLine {
  lineNumber: number;
  reason: string;
  line: string;
}

export interface IngestResult {
  /** Records stored as new (EZML: lines; Postfix: delivery attempts and rejections). */
  accepted: number;
  /** Records already stored. */
  duplicates: number;
  rejected: RejectedLine[];
  /** Postfix: lines that are no record themselves (from=, client=, connections, other programs); 0 for EZML. */
  otherLines: number;
  /** Lines read but dated before the retention: not stored (pruning would delete them at once), only counted. */
  tooOld: number;
}

export interface LogLineInput {
  /** Raw bytes (UTF-8 or Big5) or text already decoded. */
  content: Uint8Array | string;
  lineNumber: number;
}

/** How a batch travels to the database: COPY text (executors with copyFrom) or JSON. */
export type BatchFormat = "copy" | "json";

/** A batch of lines, parsed. */
export type ParsedBatch = {
  /** Lines read as records (a line repeated within the batch counts twice: the insert skips the second). */
  recordCount: number;
  rejected: RejectedLine[];
  /** Lines read as records but dated before `notBefore`: left out of the batch. */
  tooOld: number;
} & ({ format: "copy"; copyRows: Buffer } | { format: "json"; records: ParsedLogLine[] });

const RECORD_COLUMNS = `"fingerprint", "loggedAt", "queueId", "queuedAt", "direction", "sender", "recipient", "subject",
       "sizeBytes", "status", "retryCount", "reason", "rawLine", "localAddress", "accountId", "domainId", "sourceName"`;

/**
 * Inserts the records of `batch` (a FROM item with the columns f, l, q, qa,
 * d, s, r, su, sz, st, rc, re, raw, the times as timestamps), linked to the
 * local party: the sender of outbound mail, the recipient of inbound mail,
 * and when the direction is unknown whichever of the two is hosted here (an
 * account, or an address of a hosted domain). The record keeps that address,
 * its account when there is one, and its domain when hosted. A fingerprint
 * already stored is skipped; the count is what was new.
 *
 * Addresses from the parser hold exactly one "@": split_part(address, '@', 2) is the domain.
 */
/** Whether an address is hosted here: an account, or an address of a hosted domain. */
const hosted = (address: string) =>
  `(EXISTS (SELECT 1 FROM "account" WHERE "address" = ${address}) OR EXISTS (SELECT 1 FROM "domain" WHERE "name" = split_part(${address}, '@', 2)))`;

function insertLinkedRecords(batch: string, sourceParameter: string): string {
  return `INSERT INTO "mail_log_record" (${RECORD_COLUMNS})
  SELECT b.f, b.l, b.q, b.qa, b.d, b.s, b.r, b.su, b.sz, b.st, b.rc, b.re, b.raw, party.address, a."id", COALESCE(a."domainId", dm."id"), ${sourceParameter}
  FROM ${batch}
  CROSS JOIN LATERAL (
    SELECT CASE b.d WHEN 'OUTBOUND' THEN b.s WHEN 'INBOUND' THEN b.r
      ELSE CASE WHEN b.s IS NOT NULL AND ${hosted("b.s")} THEN b.s WHEN b.r IS NOT NULL AND ${hosted("b.r")} THEN b.r END
    END AS address) AS party
  LEFT JOIN "account" a ON a."address" = party.address
  LEFT JOIN "domain" dm ON a."id" IS NULL AND dm."name" = split_part(party.address, '@', 2)
  ON CONFLICT ("fingerprint", "loggedAt") DO NOTHING`;
}

// The COPY path: the batch is copied into a temporary table of the session,
// emptied at each commit. Times travel as Unix milliseconds; integer interval
// arithmetic makes them the UTC timestamps the columns hold (timestamp without
// time zone, in UTC).
const STAGING_TABLE = `CREATE TEMP TABLE IF NOT EXISTS "mail_log_batch" (
  f text, l bigint, q text, qa bigint, d "MailDirection", s text, r text, su text,
  sz int, st "DeliveryStatus", rc int, re text, raw text) ON COMMIT DELETE ROWS`;
const INSERT_FROM_STAGING = insertLinkedRecords(
  `(SELECT f, timestamp 'epoch' + l * interval '1 millisecond' AS l, q, timestamp 'epoch' + qa * interval '1 millisecond' AS qa,
           d, s, r, su, sz, st, rc, re, raw FROM "mail_log_batch") AS b`,
  "$1",
);

// The JSON path: one parameter holding every row, which PostgreSQL parses
// faster than sixteen array literals, and far faster than one parameter per
// value (Prisma's createMany is about twenty times slower on thousands of rows).
const INSERT_FROM_JSON = insertLinkedRecords(
  `(SELECT f, l, q, qa, d::"MailDirection" AS d, s, r, su, sz, st::"DeliveryStatus" AS st, rc, re, raw
    FROM json_to_recordset($1::json) AS batch(f text, l timestamp, q text, qa timestamp, d text, s text, r text, su text,
                                            sz int, st text, rc int, re text, raw text)) AS b`,
  "$2",
);

/** What COPY's text format must escape: its delimiter (tab), row end, carriage return, and the escape itself. */
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const COPY_NULL = "\\N";

function copyText(value: string | null): string {
  if (value === null) return COPY_NULL;
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIALS, (special) => COPY_ESCAPES[special]!) : value;
}

function copyPlainText(value: string | null): string {
  return value === null ? COPY_NULL : value;
}

/** A record as a COPY text row of the staging table, without its line end. */
function copyRow(record: ParsedLogLine): string {
  // Every text field of a record is a piece of its line: a line with nothing
  // to escape spares the test of each field. Fingerprints are hex. (One join
  // writes the row at once; a template literal would build it from dozens of
  // partial strings.)
  const text = COPY_SPECIAL.test(record.rawLine) ? copyText : copyPlainText;
  return [
    record.fingerprint,
    record.loggedAt.getTime(),
    text(record.queueId),
    record.queuedAt === null ? COPY_NULL : record.queuedAt.getTime(),
    record.direction ?? COPY_NULL,
    text(record.sender),
    text(record.recipient),
    text(record.subject),
    record.sizeBytes,
    record.status,
    record.retryCount ?? COPY_NULL,
    text(record.reason),
    text(record.rawLine),
  ].join("\t");
}

/**
 * Parses a batch (CPU only; the collector runs it for the next batch while
 * the database stores the current one). In the COPY format the records
 * become text rows at once, and only those are kept until the batch is
 * stored: thousands of records with their strings and dates would outlive
 * the young generation and make garbage collection a fifth of the work.
 */
export function parseBatch(lines: LogLineInput[], timeZone: string, format: BatchFormat = "json", notBefore?: Date): ParsedBatch {
  const records: ParsedLogLine[] = [];
  const rows: string[] = [];
  const rejected: RejectedLine[] = [];
  // Records older than the retention are not stored: the next prune would
  // delete them, and until then they would count in no query's range.
  const oldest = notBefore ? notBefore.getTime() : -Infinity;
  let tooOld = 0;
  for (const line of lines) {
    const result = parseLogLine(line.content, timeZone);
    if (!result.ok) rejected.push({ lineNumber: line.lineNumber, reason: result.reason, line: result.rawLine });
    else if (result.record.loggedAt.getTime() < oldest) tooOld++;
    else if (format === "copy") rows.push(copyRow(result.record));
    else records.push(result.record);
  }
  return format === "copy"
    ? { format, recordCount: rows.length, copyRows: Buffer.from(rows.length > 0 ? `${rows.join("\n")}\n` : "", "utf8"), rejected, tooOld }
    : { format, recordCount: records.length, records, rejected, tooOld };
}

/** Timestamps travel as UTC text: the columns are timestamp without time zone, in UTC. */
function utc(date: Date | null): string | null {
  return date ? date.toISOString().replace("T", " ").replace("Z", "") : null;
}

/** The columns both log formats fill, under the short keys the INSERT ... FROM json statements read. */
function jsonFields(record: Omit<PostfixRecord, "dsn" | "relay" | "delaySeconds" | "originalRecipient">) {
  return {
    f: record.fingerprint,
    l: utc(record.loggedAt),
    q: record.queueId,
    qa: utc(record.queuedAt),
    d: record.direction,
    s: record.sender,
    r: record.recipient,
    sz: record.sizeBytes,
    st: record.status,
    rc: record.retryCount,
    re: record.reason,
    raw: record.rawLine,
  };
}

async function insertRecords(sql: SqlExecutor, sourceName: string, batch: ParsedBatch): Promise<number> {
  if (batch.format === "copy") {
    if (!sql.copyFrom) throw new Error("this database connection cannot COPY: parse the batch as JSON");
    // After the first batch of a session the table exists, and PostgreSQL says so with a notice, which pg ignores.
    await sql.execute(STAGING_TABLE, []);
    await sql.copyFrom(`COPY "mail_log_batch" FROM STDIN`, batch.copyRows);
    return sql.execute(INSERT_FROM_STAGING, [sourceName]);
  }
  const json = JSON.stringify(batch.records.map((record) => ({ ...jsonFields(record), su: record.subject })));
  return sql.execute(INSERT_FROM_JSON, [json, sourceName]);
}

async function storeRejected(sql: SqlExecutor, source: { name: string; path?: string | null }, rejected: RejectedLine[]): Promise<void> {
  if (rejected.length === 0) return;
  await sql.execute(
    `INSERT INTO "rejected_log_line" ("sourceName", "path", "lineNumber", "rawLine", "reason")
     SELECT $1, $2, n, raw, reason FROM unnest($3::int[], $4::text[], $5::text[]) AS batch(n, raw, reason)`,
    [source.name, source.path ?? null, rejected.map((line) => line.lineNumber), rejected.map((line) => line.line), rejected.map((line) => line.reason)],
  );
}

// ---------------------------------------------------------------------------
// Postfix's log. Parsing a batch (CPU only, run ahead like EZML batches)
// turns its lines into events; joining them into records needs what earlier
// batches said of the same queue ids, so it happens in the storing
// transaction: the state of the batch's queue ids is read (and locked), the
// events are joined, and the records, the new state and the collector's
// offset commit together. A pass that dies loses neither a message's sender
// and size nor a deferral count, and stores no record twice.

/** A batch of Postfix lines, parsed into events. */
export interface PostfixParsedBatch {
  format: "postfix";
  events: PostfixEvent[];
  otherLines: number;
  rejected: RejectedLine[];
  /** Records dated before this (the retention) are counted as tooOld, not stored. */
  notBefore?: Date;
}

/** Parses a batch of Postfix lines; `reference` (ms, the ingest time) dates year-less time stamps. */
export function parsePostfixBatch(lines: LogLineInput[], timeZone: string, reference: number, notBefore?: Date): PostfixParsedBatch {
  const events: PostfixEvent[] = [];
  const rejected: RejectedLine[] = [];
  let otherLines = 0;
  for (const line of lines) {
    const result = parsePostfixLine(line.content, timeZone, reference);
    if (!result.ok) rejected.push({ lineNumber: line.lineNumber, reason: result.reason, line: result.rawLine });
    else if (result.event === null) otherLines++;
    else {
      events.push(result.event);
      if (result.event.kind === "queued" || result.event.kind === "removed") otherLines++;
    }
  }
  return { format: "postfix", events, otherLines, rejected, notBefore };
}

/**
 * Inserts Postfix records (one JSON parameter: they are few, one per
 * recipient and attempt among many lines). A record without a direction
 * (an smtp delivery, a rejection) is inbound when its recipient is hosted
 * here, else outbound; the local party is then linked as for EZML records.
 */
const INSERT_POSTFIX_FROM_JSON = `INSERT INTO "mail_log_record" (${RECORD_COLUMNS}, "format", "dsn", "relay", "delaySeconds", "originalRecipient")
  SELECT b.f, b.l, b.q, b.qa, dir.d, b.s, b.r, '', b.sz, b.st::"DeliveryStatus", b.rc, b.re, b.raw,
         party.address, a."id", COALESCE(a."domainId", dm."id"), $2, 'POSTFIX', b.dsn, b.relay, b.delay, b.orig
  FROM json_to_recordset($1::json) AS b(f text, l timestamp, q text, qa timestamp, d text, s text, r text, sz int, st text, rc int, re text, raw text,
                                        dsn text, relay text, delay double precision, orig text)
  CROSS JOIN LATERAL (
    SELECT COALESCE(b.d, CASE WHEN b.r IS NOT NULL AND ${hosted("b.r")} THEN 'INBOUND' ELSE 'OUTBOUND' END)::"MailDirection" AS d) AS dir
  CROSS JOIN LATERAL (SELECT CASE dir.d WHEN 'OUTBOUND' THEN b.s ELSE b.r END AS address) AS party
  LEFT JOIN "account" a ON a."address" = party.address
  LEFT JOIN "domain" dm ON a."id" IS NULL AND dm."name" = split_part(party.address, '@', 2)
  ON CONFLICT ("fingerprint", "loggedAt") DO NOTHING`;

function insertPostfixRecords(sql: SqlExecutor, sourceName: string, records: PostfixRecord[]): Promise<number> {
  const json = JSON.stringify(
    records.map((record) => ({
      ...jsonFields(record),
      dsn: record.dsn,
      relay: record.relay,
      delay: record.delaySeconds,
      orig: record.originalRecipient,
    })),
  );
  return sql.execute(INSERT_POSTFIX_FROM_JSON, [json, sourceName]);
}

/** The state of a source's queue ids, locked until the transaction ends (a concurrent pass over the same source waits). */
async function loadQueueStates(sql: SqlExecutor, sourceName: string, keys: string[]): Promise<Map<string, QueueState>> {
  const states = new Map<string, QueueState>();
  if (keys.length === 0) return states;
  const rows = await sql.query<{ queueKey: string; state: QueueState | string }>(
    `SELECT "queueKey", "state" FROM "postfix_queue_state" WHERE "sourceName" = $1 AND "queueKey" = ANY($2::text[]) FOR UPDATE`,
    [sourceName, keys],
  );
  for (const row of rows) states.set(row.queueKey, typeof row.state === "string" ? (JSON.parse(row.state) as QueueState) : row.state);
  return states;
}

async function saveQueueStates(sql: SqlExecutor, sourceName: string, states: Map<string, QueueState>, changed: Set<string>, removed: Set<string>): Promise<void> {
  if (changed.size > 0) {
    const keys = [...changed];
    // updatedAt in UTC, as every timestamp column; pruned by age (pruneQueueStates).
    await sql.execute(
      `INSERT INTO "postfix_queue_state" ("sourceName", "queueKey", "state", "updatedAt")
       SELECT $1, k, s::jsonb, now() AT TIME ZONE 'UTC' FROM unnest($2::text[], $3::text[]) AS batch(k, s)
       ON CONFLICT ("sourceName", "queueKey") DO UPDATE SET "state" = EXCLUDED."state", "updatedAt" = EXCLUDED."updatedAt"`,
      [sourceName, keys, keys.map((key) => JSON.stringify(states.get(key) ?? {}))],
    );
  }
  if (removed.size > 0) {
    await sql.execute(`DELETE FROM "postfix_queue_state" WHERE "sourceName" = $1 AND "queueKey" = ANY($2::text[])`, [sourceName, [...removed]]);
  }
}

async function storePostfixBatch(sql: SqlExecutor, source: { name: string; path?: string | null }, batch: PostfixParsedBatch): Promise<IngestResult> {
  const states = await loadQueueStates(sql, source.name, queueKeysOf(batch.events));
  const { records: joined, changed, removed } = joinPostfixEvents(batch.events, states);
  // The join still sees old lines (a message's state), but records older than
  // the retention are not stored: the next prune would delete them.
  const oldest = batch.notBefore ? batch.notBefore.getTime() : -Infinity;
  const records = joined.filter((record) => record.loggedAt.getTime() >= oldest);
  const tooOld = joined.length - records.length;
  const accepted = records.length > 0 ? await insertPostfixRecords(sql, source.name, records) : 0;
  await saveQueueStates(sql, source.name, states, changed, removed);
  await storeRejected(sql, source, batch.rejected);
  return { accepted, duplicates: records.length - accepted, rejected: batch.rejected, otherLines: batch.otherLines, tooOld };
}

/** Deletes the state of queue ids not seen for `days` days (messages whose end the log never showed). */
export function pruneQueueStates(sql: SqlExecutor, days: number): Promise<number> {
  return sql.execute(`DELETE FROM "postfix_queue_state" WHERE "updatedAt" < (now() AT TIME ZONE 'UTC') - make_interval(days => $1)`, [days]);
}

// ---------------------------------------------------------------------------

/** Stores a parsed batch inside the given transaction: new records, linked to accounts, and the rejected lines with their reason. */
export async function storeBatch(sql: SqlExecutor, source: { name: string; path?: string | null }, batch: ParsedBatch | PostfixParsedBatch): Promise<IngestResult> {
  if (batch.format === "postfix") return storePostfixBatch(sql, source, batch);
  const accepted = batch.recordCount > 0 ? await insertRecords(sql, source.name, batch) : 0;
  await storeRejected(sql, source, batch.rejected);
  return { accepted, duplicates: batch.recordCount - accepted, rejected: batch.rejected, otherLines: 0, tooOld: batch.tooOld };
}

/** Parses a batch of a source's lines in its format (see parseBatch and parsePostfixBatch). */
export function parseSourceBatch(
  lines: LogLineInput[],
  source: { timeZone: string; format?: LogFormatName },
  options: { copy: boolean; reference: number; notBefore?: Date },
): ParsedBatch | PostfixParsedBatch {
  return source.format === "postfix"
    ? parsePostfixBatch(lines, source.timeZone, options.reference, options.notBefore)
    : parseBatch(lines, source.timeZone, options.copy ? "copy" : "json", options.notBefore);
}

/**
 * Parses and stores a batch of lines from one source; `reference` dates
 * Postfix's year-less time stamps (default: now); records dated before
 * `notBefore` (the retention) are counted, not stored.
 */
export function ingestLines(
  sql: SqlExecutor,
  source: { name: string; timeZone: string; path?: string | null; format?: LogFormatName },
  lines: LogLineInput[],
  reference = Date.now(),
  notBefore?: Date,
): Promise<IngestResult> {
  return storeBatch(sql, source, parseSourceBatch(lines, source, { copy: sql.copyFrom !== undefined, reference, notBefore }));
}
