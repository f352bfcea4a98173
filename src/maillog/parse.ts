// Parser of the service's delivery-log lines (domain notes, section 2):
//
//   DATE TIME QUEUE-ID DIRECTION SENDER RECIPIENT - (SUBJECT/SIZE)STATUS REASON
//   2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL - (FW: 痘痘學/719433)FAIL Destination mailbox exceeds quota
//
// Every part between the time and " - (" may be missing. Subjects hold "/",
// "(", ")" and any script, so the size is the last "/digits)" that a status
// follows. Lines arrive as bytes in UTF-8 or Big5. The parser never throws:
// a line it cannot read comes back as a rejection with the reason.
//
// This is the hot path of ingestion (hundreds of thousands of lines a
// second), so it scans with charCodeAt and offsets instead of regular
// expressions, split() and intermediate substrings, and it hashes a line's
// own bytes when they already are the UTF-8 of its text. What it accepts and
// what it returns are those of the plain version it replaced: the tests
// compare the two on generated lines (test/maillog/parse-equivalence.test.ts).
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

const MAX_SIZE = 2 ** 31 - 1;
const MAX_LINE_LENGTH = 16_384;

// iconv.decode() looks its codec up by name and builds a decoder on every
// call; one decoder, reused, decodes the same (end() resets it, and cp950 has
// no byte-order mark to strip).
const big5Decoder = iconv.getDecoder("cp950");

/**
 * Decodes Big5 (cp950) bytes as iconv.decode(buffer, "cp950") does, giving
 * iconv only the part from the first to the last non-ASCII byte (and the byte
 * after it, which may be a second byte). Its decoder costs some eighty
 * instructions a byte; bytes below 0x80 outside a two-byte character are
 * ASCII in cp950, and latin1 decodes them the same.
 */
function decodeBig5(buffer: Buffer): string {
  let first = 0;
  while (first < buffer.length && buffer[first]! < 0x80) first++;
  if (first === buffer.length) return buffer.toString("latin1");
  let last = buffer.length - 1;
  while (buffer[last]! < 0x80) last--;
  const end = Math.min(last + 2, buffer.length);
  const middle = big5Decoder.write(buffer.subarray(first, end));
  const trail = big5Decoder.end();
  const decoded = trail ? middle + trail : middle;
  return (first > 0 ? buffer.toString("latin1", 0, first) : "") + decoded + (end < buffer.length ? buffer.toString("latin1", end) : "");
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decodes a line's bytes: UTF-8 when they are valid UTF-8, otherwise Big5 (cp950, as Taiwanese mail of that era). */
export function decodeLine(bytes: Uint8Array): string {
  const buffer = asBuffer(bytes);
  return isUtf8(buffer) ? buffer.toString("utf8") : decodeBig5(buffer);
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

/** The instant (ms) at which a wall-clock time, given as if it were UTC (Date.UTC of its fields), happens in a time zone. */
export function instantOfWallClock(wall: number, timeZone: string): number {
  const bucket = Math.floor(wall / QUARTER_HOUR) * QUARTER_HOUR;
  // Log lines come in time order: the previous line's quarter hour is the usual answer.
  if (bucket === lastBucket && timeZone === lastZone) return wall - lastOffset;
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
  return wall - offset;
}

/** The instant at which a wall-clock time happens in a time zone. */
export function zonedTimeToInstant(fields: WallClock, timeZone: string): Date {
  const [year, month, day, hour, minute, second] = fields;
  return new Date(instantOfWallClock(Date.UTC(year, month - 1, day, hour, minute, second), timeZone));
}

export { isValidTimeZone } from "../shared/time-zones";

/**
 * The same delivery reported by two log servers yields the same line; its
 * fingerprint is a hash of the line's text with the line ending and trailing
 * blanks removed (of its UTF-8 bytes: hashing those bytes directly, as the
 * parser does when a line arrives in UTF-8, gives the same value).
 */
export function fingerprintOf(text: string | Uint8Array): string {
  // XXH3-128: non-cryptographic but with a negligible chance of collision
  // among billions of lines, and several times cheaper than SHA-256, which
  // would dominate the parse. The lines come from our own log servers or
  // support staff, not from parties who could craft collisions.
  return xxh3.xxh128(text).toString(16).padStart(32, "0");
}

// ---------------------------------------------------------------------------
// Decoding. The text of a line is its bytes decoded, without NULs, without
// trailing white space.

/**
 * What the fingerprint of the line being parsed hashes: the line's own bytes
 * when they are the UTF-8 of its text (ASCII and UTF-8 lines, the usual
 * case), else null and the text is hashed (Big5 lines, text input, the rare
 * lines holding NULs or ending in non-ASCII white space), which the hash
 * reads as UTF-8: the same value either way. Module state rather than a
 * returned pair: parsing is synchronous, and this saves an allocation a line.
 */
let lineBytes: Uint8Array | null = null;

function isAsciiBlank(byte: number): boolean {
  // What trimEnd() removes among ASCII: tab, LF, VT, FF, CR, space.
  return byte === 32 || (byte >= 9 && byte <= 13);
}

/** The general path, as the parser always did it: decode, drop NULs, trim the end. */
function textOf(decoded: string): string {
  return (decoded.includes("\u0000") ? decoded.replaceAll("\u0000", "") : decoded).trimEnd();
}

/**
 * The text of a line as the parsers read it: decoded (UTF-8, else Big5),
 * without NULs and trailing white space. Its fingerprint is
 * fingerprintOfLastLine(text), called before the next line is decoded.
 */
export function lineTextOf(input: Uint8Array | string): string {
  lineBytes = null;
  if (typeof input === "string") return textOf(input);
  const buffer = asBuffer(input);
  if (!isUtf8(buffer)) return textOf(decodeBig5(buffer));
  // NULs are looked for in the bytes: in the text of a CJK line (two bytes a
  // character) V8 finds a zero byte in nearly every character, and is slow.
  if (buffer.indexOf(0) !== -1) return textOf(buffer.toString("utf8"));
  // An ASCII blank is never part of a multi-byte sequence: cutting them off the bytes cuts them off the text.
  let end = buffer.length;
  while (end > 0 && isAsciiBlank(buffer[end - 1]!)) end--;
  const text = buffer.toString("utf8", 0, end);
  if (end > 0 && buffer[end - 1]! >= 0x80) {
    // The line may end in non-ASCII white space (U+3000 ...): trimEnd() decides, and the text is hashed.
    const trimmed = text.trimEnd();
    if (trimmed.length !== text.length) return trimmed;
  }
  lineBytes = end === buffer.length ? buffer : buffer.subarray(0, end);
  return text;
}

/** The fingerprint of the text lineTextOf returned last: of the line's own bytes when they are its UTF-8. */
export function fingerprintOfLastLine(text: string): string {
  return fingerprintOf(lineBytes ?? text);
}

// ---------------------------------------------------------------------------
// Scanning, with charCodeAt and offsets into the text.

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** Value of each ASCII hex digit, -1 for every other character below 128. */
const HEX_VALUES = Int8Array.from({ length: 128 }, (_, code) =>
  code >= 48 && code <= 57 ? code - 48 : code >= 65 && code <= 70 ? code - 55 : code >= 97 && code <= 102 ? code - 87 : -1,
);

function hexValue(code: number): number {
  return code < 128 ? HEX_VALUES[code]! : -1;
}

const WHITE_SPACE = /\s/;

/** What /\s/ matches and trim() removes; non-ASCII characters are left to the regular expression itself. */
function isWhiteSpace(code: number): boolean {
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return WHITE_SPACE.test(String.fromCharCode(code));
}

/** Value of the decimal digits text[from, to): exact, as Number() of their text. */
function decimalValue(text: string, from: number, to: number): number {
  // Up to 15 digits the sum is exact; longer runs (rejected unless leading zeros) go through Number().
  if (to - from > 15) return Number(text.slice(from, to));
  let value = 0;
  for (let index = from; index < to; index++) value = value * 10 + text.charCodeAt(index) - 48;
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!;
}

// Date.UTC of the last line's date: lines come in time order, so most lines
// only add their time of day to it.
let lastDateKey = -1;
let lastDateMs = 0;

function utcMidnightOf(year: number, month: number, day: number): number {
  const key = year * 10_000 + month * 100 + day;
  if (key !== lastDateKey) {
    lastDateMs = Date.UTC(year, month - 1, day);
    lastDateKey = key;
  }
  return lastDateMs;
}

/**
 * The date and time "YYYY/MM/DD HH:MM:SS" at the start of the line (then its
 * end or a space), as UTC milliseconds of those wall-clock fields (Date.UTC);
 * -1 when the line does not start so, -2 when the date or time does not exist
 * (whole seconds are multiples of 1000: neither value is a time).
 */
function wallClockOf(text: string): number {
  if (text.length < 19 || (text.length > 19 && text.charCodeAt(19) !== 32)) return -1;
  // Digits at 0-3, 5-6, 8-9, 11-12, 14-15, 17-18; "/" at 4 and 7, " " at 10, ":" at 13 and 16.
  let year = 0;
  for (let index = 0; index < 4; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return -1;
    year = year * 10 + digit;
  }
  const month = twoDigitsAt(text, 5);
  const day = twoDigitsAt(text, 8);
  const hour = twoDigitsAt(text, 11);
  const minute = twoDigitsAt(text, 14);
  const second = twoDigitsAt(text, 17);
  if (
    month < 0 ||
    day < 0 ||
    hour < 0 ||
    minute < 0 ||
    second < 0 ||
    text.charCodeAt(4) !== 47 ||
    text.charCodeAt(7) !== 47 ||
    text.charCodeAt(10) !== 32 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return -1;
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return -2;
  return utcMidnightOf(year, month, day) + hour * 3_600_000 + minute * 60_000 + second * 1000;
}

/** The number of two decimal digits at `from`, or -1. */
function twoDigitsAt(text: string, from: number): number {
  const tens = text.charCodeAt(from) - 48;
  const units = text.charCodeAt(from + 1) - 48;
  return tens >= 0 && tens <= 9 && units >= 0 && units <= 9 ? tens * 10 + units : -1;
}

// The status found by statusAt, in module state (see lineBytes for why).
let foundStatus: DeliveryStatus = "OK";
/** Digits of RETRY.n: [retryFrom, retryTo), empty for OK and FAIL. */
let retryFrom = 0;
let retryTo = 0;
/** Where the reason starts (its leading white space skipped); the text's length when there is none. */
let reasonFrom = 0;

/**
 * Whether text holds OK, RETRY.n or FAIL at `from`, then the end or white
 * space; sets foundStatus, retryFrom/retryTo and reasonFrom.
 */
function statusAt(text: string, from: number): boolean {
  let end: number;
  retryFrom = retryTo = 0;
  const code = text.charCodeAt(from);
  if (code === 79 && text.charCodeAt(from + 1) === 75) {
    end = from + 2; // OK
    foundStatus = "OK";
  } else if (code === 70 && text.startsWith("AIL", from + 1)) {
    end = from + 4;
    foundStatus = "FAIL";
  } else if (code === 82 && text.startsWith("ETRY.", from + 1)) {
    end = from + 6;
    while (end < text.length && isDigit(text.charCodeAt(end))) end++;
    if (end === from + 6) return false;
    foundStatus = "RETRY";
    retryFrom = from + 6;
    retryTo = end;
  } else return false;
  if (end < text.length && !isWhiteSpace(text.charCodeAt(end))) return false;
  // The text's end is trimmed already: skipping leading white space is trim().
  while (end < text.length && isWhiteSpace(text.charCodeAt(end))) end++;
  reasonFrom = end;
  return true;
}

/**
 * The address of the token text[from, to) when it is an address token, else
 * null: "<>" (the null sender) gives "", user@host and <user@host> give
 * user@host in lower case. An address has one "@" with text on both sides,
 * and no other "<" or ">".
 */
function addressOf(text: string, from: number, to: number): string | null {
  const angled = text.charCodeAt(from) === 60 && text.charCodeAt(to - 1) === 62;
  if (angled && to - from === 2) return "";
  const start = angled ? from + 1 : from;
  const end = angled ? to - 1 : to;
  let at = -1;
  let upper = false;
  // One pass over the token: the "@", stray angle brackets, and whether lower-casing can change anything.
  for (let index = from; index < to; index++) {
    const code = text.charCodeAt(index);
    if (code === 64) {
      if (at !== -1) return null;
      at = index;
    } else if (code === 60 || code === 62) {
      if (index >= start && index < end) return null;
    } else if ((code >= 65 && code <= 90) || code >= 128) upper = true;
  }
  if (at <= start || at >= end - 1) return null;
  const address = text.slice(start, end);
  // toLowerCase() costs more than the rest of the token: only when something could change.
  return upper ? address.toLowerCase() : address;
}

/** The queue id's hex time (PID-HEXTIME.HEXSEQ) when text[from, to) is a queue id, else -1. */
function queueTimeOf(text: string, from: number, to: number): number {
  let index = from;
  while (index < to && isDigit(text.charCodeAt(index))) index++;
  if (index === from || index + 10 >= to || text.charCodeAt(index) !== 45 || text.charCodeAt(index + 9) !== 46) return -1;
  let time = 0;
  for (let digit = index + 1; digit < index + 9; digit++) {
    const value = hexValue(text.charCodeAt(digit));
    if (value === -1) return -1;
    time = time * 16 + value;
  }
  for (let digit = index + 10; digit < to; digit++) if (hexValue(text.charCodeAt(digit)) === -1) return -1;
  return time;
}

/** "Mail.LR" (outbound) or "Mail.RL" (inbound) at text[from, to), else null. */
function directionOf(text: string, from: number, to: number): Direction | null {
  if (to - from !== 7 || !text.startsWith("Mail.", from)) return null;
  const first = text.charCodeAt(from + 5);
  const second = text.charCodeAt(from + 6);
  if (first === 76 && second === 82) return "OUTBOUND";
  if (first === 82 && second === 76) return "INBOUND";
  return null;
}

function rejected(rawLine: string, reason: string): ParseResult {
  return { ok: false, reason, rawLine };
}

export function parseLogLine(input: Uint8Array | string, timeZone = "Asia/Taipei"): ParseResult {
  // CRLF endings, trailing blanks and stray NULs are transport noise, not content.
  const text = lineTextOf(input);
  const length = text.length;
  if (length === 0) return rejected(text, "empty line");
  if (length > MAX_LINE_LENGTH) return rejected(text, "line longer than 16384 characters");

  const wall = wallClockOf(text);
  if (wall === -1) return rejected(text, "does not start with a date and time (YYYY/MM/DD HH:MM:SS)");
  if (wall === -2) return rejected(text, `invalid date or time ${text.slice(0, 19)}`);

  // The header (queue id, direction, addresses) never holds " - (", the body starts with it.
  const headerFrom = length > 19 ? 20 : 19;
  let headerTo: number;
  if (text.startsWith("- (", headerFrom)) headerTo = headerFrom;
  else {
    const separator = text.indexOf(" - (", headerFrom);
    if (separator === -1) return rejected(text, 'no " - (SUBJECT/SIZE)STATUS" part');
    headerTo = separator + 1;
  }
  const bodyFrom = headerTo + 2;

  // "(SUBJECT/SIZE)STATUS REASON": split at the last ")" that a status follows
  // and "/digits" precedes (what a greedy regular expression would find,
  // without its backtracking cost on long lines).
  let sizeFrom = -1;
  let sizeTo = -1;
  for (let close = text.lastIndexOf(")"); close > bodyFrom; close = text.lastIndexOf(")", close - 1)) {
    if (!statusAt(text, close + 1)) continue;
    let digits = close;
    while (digits > bodyFrom + 1 && isDigit(text.charCodeAt(digits - 1))) digits--;
    if (digits === close || text.charCodeAt(digits - 1) !== 47) continue;
    sizeFrom = digits;
    sizeTo = close;
    break;
  }
  if (sizeFrom === -1) return rejected(text, 'the "(SUBJECT/SIZE)STATUS" part is unreadable: no "/size)" followed by OK, RETRY.n or FAIL');

  // The header's tokens, between blanks: a queue id first, then a direction, then at most two addresses.
  let queueId: string | null = null;
  let queuedAt: Date | null = null;
  let direction: Direction | null = null;
  let addressCount = 0;
  let firstAddress = "";
  let secondAddress = "";
  for (let from = headerFrom; from < headerTo;) {
    let to = text.indexOf(" ", from);
    if (to === -1 || to > headerTo) to = headerTo;
    if (to === from) {
      from++;
      continue;
    }
    const queueTime: number = queueId === null && direction === null && addressCount === 0 && isDigit(text.charCodeAt(from)) ? queueTimeOf(text, from, to) : -1;
    const tokenDirection: Direction | null = queueTime === -1 && direction === null && addressCount === 0 ? directionOf(text, from, to) : null;
    const address = queueTime === -1 && tokenDirection === null && addressCount < 2 ? addressOf(text, from, to) : null;
    if (queueTime !== -1) {
      queueId = text.slice(from, to);
      queuedAt = new Date(queueTime * 1000);
    } else if (tokenDirection !== null) {
      direction = tokenDirection;
    } else if (address !== null) {
      if (addressCount++ === 0) firstAddress = address;
      else secondAddress = address;
    } else {
      return rejected(text, `unexpected "${text.slice(from, Math.min(to, from + 80))}" before " - ("`);
    }
    from = to + 1;
  }
  // With one address only, it is the local party: the sender of outbound mail, the recipient of inbound mail.
  let sender: string | null = null;
  let recipient: string | null = null;
  if (addressCount === 2) {
    sender = firstAddress;
    recipient = secondAddress;
  } else if (addressCount === 1) {
    if (direction === "INBOUND") recipient = firstAddress;
    else sender = firstAddress;
  }

  const size = decimalValue(text, sizeFrom, sizeTo);
  if (!Number.isSafeInteger(size) || size > MAX_SIZE) return rejected(text, `size ${text.slice(sizeFrom, Math.min(sizeTo, sizeFrom + 20))} is out of range`);
  const retryCount = retryTo > retryFrom ? decimalValue(text, retryFrom, retryTo) : null;
  if (retryCount !== null && !Number.isSafeInteger(retryCount)) return rejected(text, "retry number out of range");

  return {
    ok: true,
    record: {
      loggedAt: new Date(instantOfWallClock(wall, timeZone)),
      queueId,
      queuedAt,
      direction,
      sender: sender === "" ? null : sender,
      recipient: recipient === "" ? null : recipient,
      subject: text.slice(bodyFrom + 1, sizeFrom - 1),
      sizeBytes: size,
      status: foundStatus,
      retryCount,
      reason: reasonFrom < length ? text.slice(reasonFrom) : null,
      rawLine: text,
      fingerprint: fingerprintOf(lineBytes ?? text),
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
