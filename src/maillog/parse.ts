// Parser of the service's delivery-log lines (domain notes, section 2):
//
//   DATE TIME QUEUE-ID DIRECTION SENDER RECIPIENT - (SUBJECT/SIZE)STATUS REASON
//   2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL - (FW: 痘痘學/719433)FAIL Destination mailbox exceeds quota
//
// Every part between the time and " - (" may be missing. Subjects hold "/",
// "(", ")" and any script, so the size is the last "/digits)" that a status
// follows. Lines arrive as bytes in UTF-8 or Big5. The parser never throws:
// a line it cannot read comes back as a rejection with the reason.
import { createHash } from "node:crypto";
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
const DIRECTIONS: Record<string, Direction> = { "Mail.LR": "OUTBOUND", "Mail.RL": "INBOUND" };
// Greedy subject: the size is the last "/digits)" followed by a status.
const BODY = /^\((.*)\/(\d+)\)(OK|RETRY\.(\d+)|FAIL)(?:\s+(.*))?$/s;
const MAX_SIZE = 2 ** 31 - 1;

/** Decodes a line's bytes: UTF-8 when they are valid UTF-8, otherwise Big5 (cp950, as Taiwanese mail of that era). */
export function decodeLine(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return iconv.decode(Buffer.from(bytes), "cp950");
  }
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of a time zone from UTC at an instant, in milliseconds. */
function zoneOffsetMs(timeZone: string, instant: number): number {
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
  const parts = Object.fromEntries(format.formatToParts(new Date(instant)).map((part) => [part.type, part.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant at which a wall-clock time happens in a time zone. */
export function zonedTimeToInstant(fields: [number, number, number, number, number, number], timeZone: string): Date {
  const [year, month, day, hour, minute, second] = fields;
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  // Two passes settle the offset around daylight-saving changes.
  let instant = wall - zoneOffsetMs(timeZone, wall);
  instant = wall - zoneOffsetMs(timeZone, instant);
  return new Date(instant);
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
  return createHash("sha256").update(text, "utf8").digest("base64url");
}

function isAddressToken(token: string): boolean {
  return token === "<>" || /^<?[^\s<>]+@[^\s<>]+>?$/.test(token);
}

function bareAddress(token: string): string {
  return token.replace(/^<|>$/g, "").toLowerCase();
}

export function parseLogLine(input: Uint8Array | string, timeZone = "Asia/Taipei"): ParseResult {
  const decoded = typeof input === "string" ? input : decodeLine(input);
  // CRLF endings, trailing blanks and stray NULs are transport noise, not content.
  const text = decoded.replace(/\r?\n$/, "").replace(/\u0000/g, "").replace(/[\s\r]+$/, "");
  const reject = (reason: string): ParseResult => ({ ok: false, reason, rawLine: text });
  if (text.length === 0) return reject("empty line");
  if (text.length > 16_384) return reject("line longer than 16384 characters");

  const head = HEAD.exec(text);
  if (!head) return reject("does not start with a date and time (YYYY/MM/DD HH:MM:SS)");
  const fields = head.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = fields;
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (month < 1 || month > 12 || calendar.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    return reject(`invalid date or time ${head[0].trim()}`);
  }

  const rest = text.slice(head[0].length);
  // The header (queue id, direction, addresses) never holds " - (", the body starts with it.
  const separator = rest.startsWith("- (") ? 0 : rest.indexOf(" - (") + 1;
  if (separator === 0 && !rest.startsWith("- (")) return reject('no " - (SUBJECT/SIZE)STATUS" part');
  const headerTokens = rest.slice(0, separator).trim().split(/\s+/).filter(Boolean);
  const body = BODY.exec(rest.slice(separator + 2));
  if (!body) return reject('the "(SUBJECT/SIZE)STATUS" part is unreadable: no "/size)" followed by OK, RETRY.n or FAIL');

  let queueId: string | null = null;
  let queuedAt: Date | null = null;
  let direction: Direction | null = null;
  const addresses: string[] = [];
  for (const token of headerTokens) {
    const queue = QUEUE_ID.exec(token);
    if (queue && queueId === null && direction === null && addresses.length === 0) {
      queueId = token;
      queuedAt = new Date(Number.parseInt(queue[1]!, 16) * 1000);
    } else if (DIRECTIONS[token] && direction === null && addresses.length === 0) {
      direction = DIRECTIONS[token]!;
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
