// Parser of the service's delivery-log lines (domain notes, section 2):
//
//   DATE TIME QUEUE-ID DIRECTION SENDER RECIPIENT - (SUBJECT/SIZE)STATUS REASON
//   2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL - (FW: 痘痘學/719433)FAIL Destination mailbox exceeds quota
//
// Every part between the time and " - (" may be missing. Subjects hold "/",
// "(", ")" and any script, so the size is the last "/digits)" that a status
// follows. Lines arrive as bytes in UTF-8 or Big5. The parser never throws:
// a line it cannot read comes back as a rejection with the reason.
import { isUtf8 } from "node:buffer";
import { xxh3 } from "@node-rs/xxhash";
import iconv from "iconv-lite";

export type Direction = "OUTBOUND" | "INBOUND";
export type DeliveryStatus = "OK" | "RETRY" | "FAIL";

export interface ParsedLogLine {
  loggedAt: Date;
  queueId: string | null;
  /** When the message was queued: the hex Unix time inside the queue id. */
  queuedAt: Date | null;
  direction: Direction | null;
  sender: string | null;
  recipient: string | null;
  subject: string;
  sizeBytes: number;
  status: DeliveryStatus;
  /** n of RETRY.n */
  retryCount: number | null;
  reason: string | null;
  /** The line as text (decoded, without its line ending). */
  rawLine: string;
  /** Identifies the delivery whatever server reported it: see fingerprintOf. */
  fingerprint: string;
}

export type ParseResult = { ok: true; record: ParsedLogLine } | { ok: false; reason: string; rawLine: string };

const HEAD = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?: |$)/;
const QUEUE_ID = /^\d+-([0-9A-Fa-f]{8})\.[0-9A-Fa-f]+$/;
const MAX_SIZE = 2 ** 31 - 1;

/** Decodes a line's bytes: UTF-8 when they are valid UTF-8, otherwise Big5 (cp950, as Taiwanese mail of that era). */
export function decodeLine(bytes: Uint8Array): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isUtf8(buffer) ? buffer.toString("utf8") : iconv.decode(buffer, "cp950");
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

export type WallClock = [year: number, month: number, day: number, hour: number, minute: number, second: number];

/** The wall-clock time in a time zone at an instant. */
export function wallClockAt(instant: Date | number, timeZone: string): WallClock {
  let format = offsetFormatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    offsetFormatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
  return [Number(parts.year), Number(parts.month), Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)];
}

/** Offset of a time zone from UTC at an instant, in milliseconds. */
function zoneOffsetMs(timeZone: string, instant: number): number {
  const [year, month, day, hour, minute, second] = wallClockAt(instant, timeZone);
  return Date.UTC(year, month - 1, day, hour, minute, second) - Math.floor(instant / 1000) * 1000;
}

// Offsets change only at transitions, which fall on quarter hours: one
// computation per zone and wall-clock quarter hour serves every line in it
// (Intl is the slowest step of parsing by far).
const QUARTER_HOUR = 15 * 60 * 1000;
const offsetCache = new Map<string, number>();
let lastBucket = Number.NaN;
let lastZone = "";
let lastOffset = 0;

/** The instant at which a wall-clock time happens in a time zone. */
export function zonedTimeToInstant(fields: WallClock, timeZone: string): Date {
  const [year, month, day, hour, minute, second] = fields;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const bucket = Math.floor(wall / QUARTER_HOUR) * QUARTER_HOUR;
  // Log lines come in time order: the previous line's quarter hour is the usual answer.
  if (bucket === lastBucket && timeZone === lastZone) return new Date(wall - lastOffset);
  const key = `${timeZone}|${bucket}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    // Two passes settle the offset around daylight-saving changes.
    offset = zoneOffsetMs(timeZone, bucket);
    offset = zoneOffsetMs(timeZone, bucket - offset);
    if (offsetCache.size > 200_000) offsetCache.clear();
    offsetCache.set(key, offset);
  }
  lastBucket = bucket;
  lastZone = timeZone;
  lastOffset = offset;
  return new Date(wall - offset);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The same delivery reported by two log servers yields the same line; its
 * fingerprint is a hash of the line's text with the line ending and trailing
 * blanks removed.
 */
export function fingerprintOf(text: string): string {
  // XXH3-128: non-cryptographic but with a negligible chance of collision
  // among billions of lines, and several times cheaper than SHA-256, which
  // would dominate the parse. The lines come from our own log servers or
  // support staff, not from parties who could craft collisions.
  return xxh3.xxh128(text).toString(16).padStart(32, "0");
}


/**
 * Splits "(SUBJECT/SIZE)STATUS REASON" at the last ")" that a status follows
 * and "/digits" precedes (what a greedy regular expression would find, without
 * its backtracking cost on long lines). Returns the same groups as BODY.
 */
function splitBody(body: string): RegExpExecArray | string[] | null {
  if (!body.startsWith("(")) return null;
  for (let close = body.lastIndexOf(")"); close > 0; close = body.lastIndexOf(")", close - 1)) {
    const status = statusAt(body, close + 1);
    if (!status) continue;
    let digits = close;
    while (digits > 1 && isDigit(body.charCodeAt(digits - 1))) digits--;
    if (digits === close || body[digits - 1] !== "/") continue;
    return [body, body.slice(1, digits - 1), body.slice(digits, close), status[0], status[1]!, status[2]!];
  }
  return null;
}

function digitsAt(text: string, from: number, length: number): number {
  let value = 0;
  for (let index = from; index < from + length; index++) value = value * 10 + text.charCodeAt(index) - 48;
  return value;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** [status, retry number, reason] when `text` holds OK, RETRY.n or FAIL at `from`, then the end or a blank. */
function statusAt(text: string, from: number): [string, string | undefined, string | undefined] | null {
  let end: number;
  let retry: string | undefined;
  if (text.startsWith("OK", from)) end = from + 2;
  else if (text.startsWith("FAIL", from)) end = from + 4;
  else if (text.startsWith("RETRY.", from)) {
    end = from + 6;
    while (end < text.length && isDigit(text.charCodeAt(end))) end++;
    if (end === from + 6) return null;
    retry = text.slice(from + 6, end);
  } else return null;
  if (end < text.length && !/\s/.test(text[end]!)) return null;
  const reason = end < text.length ? text.slice(end).trim() : undefined;
  return [text.slice(from, retry === undefined ? end : from + 5), retry, reason === "" ? undefined : reason];
}

/** A token of the header that is an address: "<>" (the null sender), user@host or <user@host>. Tokens hold no blanks. */
function isAddressToken(token: string): boolean {
  if (token === "<>") return true;
  const at = token.indexOf("@");
  if (at <= 0 || at >= token.length - 1 || token.indexOf("@", at + 1) !== -1) return false;
  const inner = token.startsWith("<") && token.endsWith(">") ? token.slice(1, -1) : token;
  return !inner.includes("<") && !inner.includes(">") && inner.indexOf("@") > 0 && inner.indexOf("@") < inner.length - 1;
}

function bareAddress(token: string): string {
  const start = token.startsWith("<") ? 1 : 0;
  const end = token.endsWith(">") ? token.length - 1 : token.length;
  return token.slice(start, end).toLowerCase();
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

export function parseLogLine(input: Uint8Array | string, timeZone = "Asia/Taipei"): ParseResult {
  const decoded = typeof input === "string" ? input : decodeLine(input);
  // CRLF endings, trailing blanks and stray NULs are transport noise, not content.
  const text = (decoded.includes("\u0000") ? decoded.replaceAll("\u0000", "") : decoded).trimEnd();
  const reject = (reason: string): ParseResult => ({ ok: false, reason, rawLine: text });
  if (text.length === 0) return reject("empty line");
  if (text.length > 16_384) return reject("line longer than 16384 characters");

  if (!HEAD.test(text)) return reject("does not start with a date and time (YYYY/MM/DD HH:MM:SS)");
  // Digits at fixed places: read them directly rather than through regex groups (hot path).
  const fields: WallClock = [
    digitsAt(text, 0, 4),
    digitsAt(text, 5, 2),
    digitsAt(text, 8, 2),
    digitsAt(text, 11, 2),
    digitsAt(text, 14, 2),
    digitsAt(text, 17, 2),
  ];
  const [year, month, day, hour, minute, second] = fields;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return reject(`invalid date or time ${text.slice(0, 19)}`);
  }

  const rest = text.slice(text.length > 19 ? 20 : 19);
  // The header (queue id, direction, addresses) never holds " - (", the body starts with it.
  const separator = rest.startsWith("- (") ? 0 : rest.indexOf(" - (") + 1;
  if (separator === 0 && !rest.startsWith("- (")) return reject('no " - (SUBJECT/SIZE)STATUS" part');
  const headerTokens = separator === 0 ? [] : rest.slice(0, separator).split(" ").filter((token) => token !== "");
  const body = splitBody(rest.slice(separator + 2));
  if (!body) return reject('the "(SUBJECT/SIZE)STATUS" part is unreadable: no "/size)" followed by OK, RETRY.n or FAIL');

  let queueId: string | null = null;
  let queuedAt: Date | null = null;
  let direction: Direction | null = null;
  const addresses: string[] = [];
  for (const token of headerTokens) {
    const queue = isDigit(token.charCodeAt(0)) ? QUEUE_ID.exec(token) : null;
    if (queue && queueId === null && direction === null && addresses.length === 0) {
      queueId = token;
      queuedAt = new Date(Number.parseInt(queue[1]!, 16) * 1000);
    } else if ((token === "Mail.LR" || token === "Mail.RL") && direction === null && addresses.length === 0) {
      // Compared, not looked up in an object: keying a property lookup by a
      // freshly sliced string costs more than all the rest of the parse.
      direction = token === "Mail.LR" ? "OUTBOUND" : "INBOUND";
    } else if (isAddressToken(token) && addresses.length < 2) {
      addresses.push(token === "<>" ? "" : bareAddress(token));
    } else {
      return reject(`unexpected "${token.slice(0, 80)}" before " - ("`);
    }
  }
  // With one address only, it is the local party: the sender of outbound mail, the recipient of inbound mail.
  const [sender, recipient] =
    addresses.length === 2 ? [addresses[0]!, addresses[1]!] : addresses.length === 1 && direction === "INBOUND" ? [null, addresses[0]!] : [addresses[0] ?? null, null];

  const size = Number(body[2]);
  if (!Number.isSafeInteger(size) || size > MAX_SIZE) return reject(`size ${body[2]!.slice(0, 20)} is out of range`);
  const statusText = body[3]!;
  const status: DeliveryStatus = statusText === "OK" ? "OK" : statusText === "FAIL" ? "FAIL" : "RETRY";
  const retryCount = body[4] !== undefined ? Number(body[4]) : null;
  if (retryCount !== null && !Number.isSafeInteger(retryCount)) return reject("retry number out of range");
  const reason = body[5]?.trim() || null;

  return {
    ok: true,
    record: {
      loggedAt: zonedTimeToInstant(fields, timeZone),
      queueId,
      queuedAt,
      direction,
      sender: sender === "" ? null : sender,
      recipient: recipient === "" ? null : recipient,
      subject: body[1]!,
      sizeBytes: size,
      status,
      retryCount,
      reason,
      rawLine: text,
      fingerprint: fingerprintOf(text),
    },
  };
}

/** Splits a buffer into lines on LF; the bytes after the last LF are returned apart (an unfinished line). */
export function splitLines(buffer: Buffer): { lines: Buffer[]; rest: Buffer } {
  const lines: Buffer[] = [];
  let start = 0;
  for (let index = buffer.indexOf(10); index !== -1; index = buffer.indexOf(10, start)) {
    lines.push(buffer.subarray(start, index));
    start = index + 1;
  }
  return { lines, rest: buffer.subarray(start) };
}
