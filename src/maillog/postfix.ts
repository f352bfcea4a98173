// Parser of Postfix's log (docs/postfix-log.md). Postfix writes several lines
// per message, which share its queue id:
//
//   Dec 05 12:04:47 mx postfix/smtpd[12355]: A38F820C264: client=localhost[127.0.0.1]
//   Dec 05 12:04:47 mx postfix/qmgr[12350]: A38F820C264: from=<sender@hosted.test>, size=418, nrcpt=1 (queue active)
//   Dec 05 12:04:47 mx postfix/virtual[12359]: A38F820C264: to=<alice@hosted.test>, relay=virtual, delay=0.03, delays=0.01/0.02/0/0, dsn=2.0.0, status=sent (delivered to maildir)
//   Dec 05 12:04:47 mx postfix/qmgr[12350]: A38F820C264: removed
//   Dec 05 12:04:47 mx postfix/smtpd[12355]: NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.1 <ghost@hosted.test>: Recipient address rejected: ...; from=<a@b> to=<ghost@hosted.test> proto=ESMTP helo=<c>
//
// Parsing is per line and pure (parsePostfixLine: a line becomes an event, or
// nothing when it carries no delivery fact, or a rejection when it cannot be
// read); joining the events of one queue id into delivery records
// (joinPostfixEvents) needs what earlier lines said (the sender and size of
// qmgr's from= line, the deferrals so far), which the caller loads from and
// saves to the database with the records (ingest.ts), so that the lines of
// one message may arrive in different collector passes.
//
// Like the EZML parser (parse.ts) this is the hot path of ingestion: it scans
// with indexOf and character codes, never throws, and makes no substring of
// the many lines that carry no delivery fact (connections, client=, message-id=).
import { daysInMonth, fingerprintOf, fingerprintOfLastLine, instantOfWallClock, lineTextOf, wallClockAt, type DeliveryStatus, type ParsedLogLine } from "./parse";

const MAX_LINE_LENGTH = 16_384;
const MAX_SIZE = 2 ** 31 - 1;

/** What Postfix said of a recipient's delivery (status=). */
export type PostfixDeliveryStatus = "sent" | "deferred" | "bounced";

interface EventBase {
  /** Host and queue id ("mx/A38F820C264"): queue ids are unique per Postfix instance, not across the hosts of one log. */
  key: string;
  queueId: string;
  /** Unix milliseconds of the line. */
  at: number;
}

/** qmgr: the message entered the active queue (its sender and size). */
export interface QueuedEvent extends EventBase {
  kind: "queued";
  sender: string | null;
  size: number;
}

/** A delivery agent's attempt for one recipient (smtp, lmtp, local, virtual, pipe, error...). */
export interface DeliveryEvent extends EventBase {
  kind: "delivery";
  agent: string;
  recipient: string | null;
  originalRecipient: string | null;
  relay: string | null;
  delaySeconds: number | null;
  dsn: string | null;
  status: PostfixDeliveryStatus;
  /** The text in parentheses after the status: the remote's reply or what the agent did. */
  reply: string | null;
  rawLine: string;
  fingerprint: string;
}

/** qmgr: the message stayed in the queue longer than maximal_queue_lifetime and was returned to its sender. */
export interface ExpiredEvent extends EventBase {
  kind: "expired";
  sender: string | null;
  rawLine: string;
}

/** qmgr: the message left the queue; nothing more will be logged for it. */
export interface RemovedEvent extends EventBase {
  kind: "removed";
}

/** smtpd or cleanup refused a recipient or a message (NOQUEUE when no queue file was made). */
export interface RejectEvent {
  kind: "reject";
  key: string | null;
  queueId: string | null;
  at: number;
  sender: string | null;
  recipient: string | null;
  /** The SMTP reply code (550), its enhanced code (5.1.1), and the whole reply text. */
  code: number | null;
  dsn: string | null;
  reply: string;
  rawLine: string;
  fingerprint: string;
}

export type PostfixEvent = QueuedEvent | DeliveryEvent | ExpiredEvent | RemovedEvent | RejectEvent;

export type PostfixParseResult = { ok: true; event: PostfixEvent | null } | { ok: false; reason: string; rawLine: string };

const IGNORED: PostfixParseResult = Object.freeze({ ok: true, event: null });

function rejected(rawLine: string, reason: string): PostfixParseResult {
  return { ok: false, reason, rawLine };
}

// ---------------------------------------------------------------------------
// Timestamps: "Dec 05 12:04:45" (Postfix's maillog_file, journald), "Dec  5 12:04:45"
// (classic syslog), both without a year; "2026-12-05T12:04:45.123456+01:00"
// (RFC 3339: rsyslog's default on Debian 12, journalctl -o short-iso).

const MONTHS = new Map(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map((name, index) => [monthKey(name, 0), index + 1]));

function monthKey(text: string, from: number): number {
  return text.charCodeAt(from) * 65_536 + text.charCodeAt(from + 1) * 256 + text.charCodeAt(from + 2);
}

/** Month (1-12) of the three-letter English abbreviation at the start of text, else 0 (no substring made). */
function monthOf(text: string): number {
  return MONTHS.get(monthKey(text, 0)) ?? 0;
}

function digitAt(text: string, index: number): number {
  const digit = text.charCodeAt(index) - 48;
  return digit >= 0 && digit <= 9 ? digit : -1;
}

function twoDigitsAt(text: string, from: number): number {
  const tens = digitAt(text, from);
  const units = digitAt(text, from + 1);
  return tens >= 0 && units >= 0 ? tens * 10 + units : -1;
}

/** Where the timestamp ended (the index of the blank after it), set by timestampOf. */
let timestampEnd = 0;

/** hh:mm:ss at `from` as milliseconds of the day, or -1 (-2 when the fields are out of range). */
function timeOfDayAt(text: string, from: number): number {
  const hour = twoDigitsAt(text, from);
  const minute = twoDigitsAt(text, from + 3);
  const second = twoDigitsAt(text, from + 6);
  if (hour < 0 || minute < 0 || second < 0 || text.charCodeAt(from + 2) !== 58 || text.charCodeAt(from + 5) !== 58) return -1;
  if (hour > 23 || minute > 59 || second > 60) return -2;
  return hour * 3_600_000 + minute * 60_000 + Math.min(second, 59) * 1000;
}

/** Milliseconds of a fraction ".123456" at `from` (0 when there is none); sets fractionEnd. */
let fractionEnd = 0;
function fractionAt(text: string, from: number): number {
  fractionEnd = from;
  if (text.charCodeAt(from) !== 46) return 0;
  let index = from + 1;
  let milliseconds = 0;
  let scale = 100;
  while (index < text.length && digitAt(text, index) >= 0) {
    if (scale >= 1) milliseconds += digitAt(text, index) * scale;
    scale /= 10;
    index++;
  }
  if (index === from + 1) return -1;
  fractionEnd = index;
  return milliseconds;
}

/**
 * Year inference for the year-less forms: the reference time's year in the
 * zone, or the year before when that would put the line more than a day
 * after the reference (a December line read in January), going further back
 * for a 29 February that the year lacks. One computation per reference and zone.
 */
let referenceZone = "";
let referenceMs = Number.NaN;
let referenceYear = 0;
let referenceLimit = 0;
const FUTURE_TOLERANCE_MS = 86_400_000;

function yearlessInstant(month: number, day: number, timeOfDay: number, timeZone: string, reference: number): number {
  if (timeZone !== referenceZone || reference !== referenceMs) {
    referenceYear = wallClockAt(reference, timeZone)[0];
    referenceLimit = reference + FUTURE_TOLERANCE_MS;
    referenceZone = timeZone;
    referenceMs = reference;
  }
  for (let year = referenceYear; year > referenceYear - 8; year--) {
    if (day > daysInMonth(year, month)) continue;
    const instant = instantOfWallClock(Date.UTC(year, month - 1, day) + timeOfDay, timeZone);
    if (instant <= referenceLimit) return instant;
  }
  return -2;
}

/**
 * The instant (ms) of the timestamp at the start of the line, -1 when the line
 * does not start with one, -2 when its date or time does not exist. Sets
 * timestampEnd.
 */
function timestampOf(text: string, timeZone: string, reference: number): number {
  const first = text.charCodeAt(0);
  if (first >= 65 && first <= 90) {
    // "Mmm dd hh:mm:ss" or "Mmm  d hh:mm:ss", optionally with a fraction.
    const month = monthOf(text);
    if (month === 0 || text.charCodeAt(3) !== 32) return -1;
    const tens = text.charCodeAt(4) === 32 ? 0 : digitAt(text, 4);
    const units = digitAt(text, 5);
    if (tens < 0 || units < 0 || text.charCodeAt(6) !== 32) return -1;
    const day = tens * 10 + units;
    const timeOfDay = timeOfDayAt(text, 7);
    if (timeOfDay === -1) return -1;
    const fraction = fractionAt(text, 15);
    if (fraction < 0 || (fractionEnd < text.length && text.charCodeAt(fractionEnd) !== 32)) return -1;
    if (timeOfDay === -2 || day < 1 || day > 31) return -2;
    timestampEnd = fractionEnd;
    return yearlessInstant(month, day, timeOfDay + fraction, timeZone, reference);
  }
  if (first >= 48 && first <= 57) {
    // RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM); without an offset, the source's zone.
    const century = twoDigitsAt(text, 0);
    const yearOfCentury = twoDigitsAt(text, 2);
    if (century < 0 || yearOfCentury < 0) return -1;
    const year = century * 100 + yearOfCentury;
    const month = twoDigitsAt(text, 5);
    const day = twoDigitsAt(text, 8);
    if (month < 0 || day < 0 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || (text.charCodeAt(10) !== 84 && text.charCodeAt(10) !== 116)) return -1;
    const timeOfDay = timeOfDayAt(text, 11);
    if (timeOfDay === -1) return -1;
    const fraction = fractionAt(text, 19);
    if (fraction < 0) return -1;
    let index = fractionEnd;
    const sign = text.charCodeAt(index);
    let offset: number | null = null;
    if (sign === 90 || sign === 122) {
      offset = 0;
      index++;
    } else if (sign === 43 || sign === 45) {
      const hours = twoDigitsAt(text, index + 1);
      const colon = text.charCodeAt(index + 3) === 58;
      const minutes = twoDigitsAt(text, index + (colon ? 4 : 3));
      if (hours < 0 || minutes < 0 || hours > 23 || minutes > 59) return -1;
      offset = (sign === 45 ? -1 : 1) * (hours * 60 + minutes) * 60_000;
      index += colon ? 6 : 5;
    }
    if (index < text.length && text.charCodeAt(index) !== 32) return -1;
    if (timeOfDay === -2 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return -2;
    timestampEnd = index;
    const wall = Date.UTC(year, month - 1, day) + timeOfDay + fraction;
    return offset === null ? instantOfWallClock(wall, timeZone) : wall - offset;
  }
  return -1;
}

// ---------------------------------------------------------------------------
// The line after its timestamp: "HOST PROGRAM[PID]: MESSAGE".

/**
 * Agents that can only deliver into mailboxes on this host: their recipients
 * are local (inbound mail). lmtp and pipe also feed content filters (amavis,
 * spamassassin) with outbound mail, so their records are left to the
 * database, which calls inbound what goes to a hosted recipient (Dovecot's
 * LMTP delivering mailadmin's mailboxes included).
 */
const LOCAL_AGENTS = new Set(["local", "virtual"]);

/** An address between < and > at text[from, to) in lower case; null for the null address <>. */
function addressBetween(text: string, from: number, to: number): string | null {
  if (to <= from) return null;
  const address = text.slice(from, to);
  for (let index = 0; index < address.length; index++) {
    const code = address.charCodeAt(index);
    if ((code >= 65 && code <= 90) || code >= 128) return address.toLowerCase();
  }
  return address;
}

/** Whether text[from, to) looks like a Postfix queue id: letters and digits, 5 to 20 of them. */
function isQueueId(text: string, from: number, to: number): boolean {
  if (to - from < 5 || to - from > 20) return false;
  for (let index = from; index < to; index++) {
    const code = text.charCodeAt(index);
    if (!((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122))) return false;
  }
  return true;
}

/** The value of `name=` in text[from, until), up to the next ", " (or `until`); null when absent. */
function valueOf(text: string, name: string, from: number, until: number): string | null {
  const at = text.indexOf(name, from);
  if (at === -1 || at >= until) return null;
  const start = at + name.length;
  let end = text.indexOf(", ", start);
  if (end === -1 || end > until) end = until;
  return text.slice(start, end);
}

/** A decimal number (digits, an optional fraction) or null. */
function numberOf(value: string | null): number | null {
  if (value === null || value.length === 0 || value.length > 20) return null;
  let dots = 0;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code === 46) dots++;
    else if (code < 48 || code > 57) return null;
  }
  if (dots > 1 || value.charCodeAt(0) === 46) return null;
  return Number(value);
}

/** The length of the enhanced status code (RFC 3463: 2.0.0, 5.1.1, 4.4.1...) at `from`, followed by a blank, ";" or the end; 0 when there is none. */
function enhancedCodeLength(text: string, from: number): number {
  const klass = text.charCodeAt(from);
  if (klass !== 50 && klass !== 52 && klass !== 53) return 0;
  if (text.charCodeAt(from + 1) !== 46) return 0;
  let index = from + 2;
  let digits = 0;
  while (digits < 3 && digitAt(text, index) >= 0) {
    index++;
    digits++;
  }
  if (digits === 0 || text.charCodeAt(index) !== 46) return 0;
  index++;
  digits = 0;
  while (digits < 3 && digitAt(text, index) >= 0) {
    index++;
    digits++;
  }
  if (digits === 0) return 0;
  const after = text.charCodeAt(index);
  return index === text.length || after === 32 || after === 59 ? index - from : 0;
}

/**
 * A delivery agent's "QID: to=<...>, [orig_to=<...>, ]relay=..., delay=...,
 * delays=..., dsn=..., status=... (text)" from `from` (just after "QID: ").
 */
function deliveryEvent(text: string, from: number, key: string, queueId: string, at: number, agent: string): PostfixParseResult {
  const close = text.indexOf(">, ", from + 4);
  if (close === -1) return rejected(text, "unreadable delivery line: to=<address> is not closed");
  const statusAt = text.indexOf(", status=", close);
  if (statusAt === -1) return rejected(text, "unreadable delivery line: no status=");
  let statusEnd = text.indexOf(" ", statusAt + 9);
  if (statusEnd === -1) statusEnd = text.length;
  const word = text.slice(statusAt + 9, statusEnd);
  let status: PostfixDeliveryStatus;
  if (word === "sent") status = "sent";
  else if (word === "deferred") status = "deferred";
  else if (word === "bounced") status = "bounced";
  // Address verification probes (verify(8)): not deliveries.
  else if (word === "deliverable" || word === "undeliverable") return IGNORED;
  else return rejected(text, `unknown delivery status "${word.slice(0, 40)}"`);
  let reply: string | null = null;
  if (text.charCodeAt(statusEnd) === 32 && text.charCodeAt(statusEnd + 1) === 40) {
    const last = text.charCodeAt(text.length - 1) === 41 ? text.length - 1 : text.length;
    reply = text.slice(statusEnd + 2, last);
  }
  const recipient = addressBetween(text, from + 4, close);
  let originalRecipient: string | null = null;
  let fieldsFrom = close + 3;
  if (text.startsWith("orig_to=<", fieldsFrom)) {
    const originalClose = text.indexOf(">", fieldsFrom + 9);
    if (originalClose === -1 || originalClose > statusAt) return rejected(text, "unreadable delivery line: orig_to=<address> is not closed");
    originalRecipient = addressBetween(text, fieldsFrom + 9, originalClose);
    fieldsFrom = originalClose + 1;
  }
  const relay = valueOf(text, "relay=", fieldsFrom, statusAt);
  const delay = numberOf(valueOf(text, " delay=", fieldsFrom, statusAt));
  const dsnText = valueOf(text, " dsn=", fieldsFrom, statusAt);
  const dsn = dsnText !== null && enhancedCodeLength(dsnText, 0) === dsnText.length ? dsnText : null;
  return {
    ok: true,
    event: {
      kind: "delivery",
      key,
      queueId,
      at,
      agent,
      recipient,
      originalRecipient,
      relay,
      delaySeconds: delay,
      dsn,
      status,
      reply,
      rawLine: text,
      fingerprint: fingerprintOfLastLine(text),
    },
  };
}

/**
 * smtpd's "reject: RCPT from host[addr]: 550 5.1.1 <x>: Recipient address
 * rejected: ...; from=<a> to=<b> proto=ESMTP helo=<h>" and cleanup's "reject:
 * header Subject: ... from host[addr]; from=<a> to=<b> proto=ESMTP helo=<h>: 5.7.1 text",
 * from `from` (just after "reject: ").
 */
function rejectEvent(text: string, from: number, key: string | null, queueId: string | null, at: number): PostfixParseResult {
  const envelope = text.lastIndexOf("; from=<");
  // Connection-level refusals (postscreen's "CONNECT from [addr]:port: too many connections") concern no address.
  if (envelope === -1 || envelope < from) return IGNORED;
  let reply: string;
  let replyFrom: number;
  if (text.startsWith("header ", from) || text.startsWith("body ", from)) {
    const helo = text.indexOf(">: ", envelope);
    if (helo === -1) return rejected(text, "unreadable reject line: no reply after the envelope");
    replyFrom = helo + 3;
    reply = text.slice(replyFrom);
  } else {
    // The reply follows the client: "RCPT from host[addr]: 550 ..." (smtpd), "RCPT from [addr]:port: 550 ..." (postscreen).
    replyFrom = -1;
    for (let colon = text.indexOf(": ", from); colon !== -1 && colon < envelope; colon = text.indexOf(": ", colon + 2)) {
      const first = digitAt(text, colon + 2);
      if ((first === 4 || first === 5) && digitAt(text, colon + 3) >= 0 && digitAt(text, colon + 4) >= 0 && text.charCodeAt(colon + 5) === 32) {
        replyFrom = colon + 2;
        break;
      }
    }
    if (replyFrom === -1) return rejected(text, "unreadable reject line: no SMTP reply code before the envelope");
    reply = text.slice(replyFrom, envelope);
  }
  let code: number | null = null;
  let dsn: string | null = null;
  const first = digitAt(text, replyFrom);
  if ((first === 4 || first === 5) && digitAt(text, replyFrom + 1) >= 0 && digitAt(text, replyFrom + 2) >= 0 && text.charCodeAt(replyFrom + 3) === 32) {
    code = first * 100 + digitAt(text, replyFrom + 1) * 10 + digitAt(text, replyFrom + 2);
    const length = enhancedCodeLength(text, replyFrom + 4);
    if (length > 0) dsn = text.slice(replyFrom + 4, replyFrom + 4 + length);
  } else {
    const length = enhancedCodeLength(text, replyFrom);
    if (length > 0) dsn = text.slice(replyFrom, replyFrom + length);
  }
  const senderClose = text.indexOf(">", envelope + 8);
  if (senderClose === -1) return rejected(text, "unreadable reject line: from=<sender> is not closed");
  const sender = addressBetween(text, envelope + 8, senderClose);
  let recipient: string | null = null;
  // " to=<" (smtpd) or ", to=<" (postscreen).
  const recipientFrom = text.startsWith(" to=<", senderClose + 1) ? senderClose + 6 : text.startsWith(", to=<", senderClose + 1) ? senderClose + 7 : -1;
  if (recipientFrom !== -1) {
    const recipientClose = text.indexOf(">", recipientFrom);
    if (recipientClose === -1) return rejected(text, "unreadable reject line: to=<recipient> is not closed");
    recipient = addressBetween(text, recipientFrom, recipientClose);
  }
  return { ok: true, event: { kind: "reject", key, queueId, at, sender, recipient, code, dsn, reply, rawLine: text, fingerprint: fingerprintOfLastLine(text) } };
}

/**
 * Parses one line of Postfix's log. `reference` (Unix ms, the ingest time)
 * dates the year-less timestamps, in `timeZone` (as EZML lines are).
 * Returns an event, null for a readable line that carries no delivery fact
 * (connections, client=, message-id=, other programs' lines), or a rejection
 * with the reason. Never throws.
 */
export function parsePostfixLine(input: Uint8Array | string, timeZone: string, reference: number): PostfixParseResult {
  const text = lineTextOf(input);
  const length = text.length;
  if (length === 0) return rejected(text, "empty line");
  if (length > MAX_LINE_LENGTH) return rejected(text, "line longer than 16384 characters");
  const at = timestampOf(text, timeZone, reference);
  if (at === -1) return rejected(text, "does not start with a syslog time stamp (Mmm dd hh:mm:ss or RFC 3339)");
  if (at === -2) return rejected(text, `invalid date or time ${text.slice(0, Math.min(length, 32))}`);

  // HOST PROGRAM[PID]: MESSAGE
  const hostFrom = timestampEnd + 1;
  const hostEnd = text.indexOf(" ", hostFrom);
  if (hostEnd === -1 || hostEnd === hostFrom) return rejected(text, "no host and program after the time stamp");
  const colon = text.indexOf(": ", hostEnd + 1);
  if (colon === -1) return rejected(text, "no program name after the host");
  let programEnd = colon;
  if (text.charCodeAt(colon - 1) === 93) {
    const bracket = text.lastIndexOf("[", colon);
    if (bracket > hostEnd) programEnd = bracket;
  }
  // postfix/smtpd, postfix-out/smtp, postfix/submission/smtpd: the daemon is the last part.
  const slash = text.lastIndexOf("/", programEnd - 1);
  if (slash <= hostEnd) return IGNORED;
  const daemonFrom = slash + 1;
  const messageFrom = colon + 2;

  // "QUEUEID: ..." or "NOQUEUE: ..."
  const idEnd = text.indexOf(": ", messageFrom);
  if (idEnd === -1) return IGNORED;
  if (idEnd - messageFrom === 7 && text.startsWith("NOQUEUE", messageFrom)) {
    if (text.startsWith("reject: ", idEnd + 2)) return rejectEvent(text, idEnd + 10, null, null, at);
    if (text.startsWith("milter-reject: ", idEnd + 2)) return rejectEvent(text, idEnd + 17, null, null, at);
    return IGNORED;
  }
  if (!isQueueId(text, messageFrom, idEnd)) return IGNORED;
  const body = idEnd + 2;
  // Most lines (client=, message-id=, connections) end here, before any substring is made.
  const isQmgr = programEnd - daemonFrom === 4 && text.startsWith("qmgr", daemonFrom);
  // Only delivery agents write "QID: to=<...>": smtp, lmtp, local, virtual, pipe, error, discard, and the
  // same programs under a service's own syslog_name (Debian's master.cf logs its relay transport as postfix/relay).
  const isDelivery = !isQmgr && text.startsWith("to=<", body);
  const rejectFrom = isQmgr || isDelivery ? -1 : text.startsWith("reject: ", body) ? body + 8 : text.startsWith("milter-reject: ", body) ? body + 15 : -1;
  if (!isQmgr && !isDelivery && rejectFrom === -1) return IGNORED;
  const queueId = text.slice(messageFrom, idEnd);
  const key = `${text.slice(hostFrom, hostEnd)}/${queueId}`;
  if (isQmgr) {
    if (text.startsWith("from=<", body)) {
      const close = text.indexOf(">", body + 6);
      if (close === -1) return rejected(text, "unreadable qmgr line: from=<sender> is not closed");
      const sender = addressBetween(text, body + 6, close);
      if (text.startsWith(", size=", close + 1)) {
        let end = close + 8;
        while (end < length && digitAt(text, end) >= 0) end++;
        const digits = end - (close + 8);
        const size = digits > 0 && digits <= 10 && (end === length || text.startsWith(", ", end)) ? Number(text.slice(close + 8, end)) : Number.NaN;
        if (!(size <= MAX_SIZE)) return rejected(text, "unreadable qmgr line: size= is not a size in bytes");
        return { ok: true, event: { kind: "queued", key, queueId, at, sender, size } };
      }
      if (text.startsWith(", status=expired", close + 1)) return { ok: true, event: { kind: "expired", key, queueId, at, sender, rawLine: text } };
      return IGNORED;
    }
    if (body + 7 === length && text.startsWith("removed", body)) return { ok: true, event: { kind: "removed", key, queueId, at } };
    return IGNORED;
  }
  if (isDelivery) return deliveryEvent(text, body, key, queueId, at, text.slice(daemonFrom, programEnd));
  return rejectEvent(text, rejectFrom, key, queueId, at);
}

// ---------------------------------------------------------------------------
// Joining the events of one queue id into delivery records.

/** What is known of a queued message between lines (and collector passes). */
export interface QueueState {
  /** From qmgr's from= line; undefined until it is seen (null: the null sender <>). */
  sender?: string | null;
  size?: number;
  /** Per recipient: deferrals so far, the last one's time (ms) and what it said, for the expiry. */
  deferrals?: Record<string, { count: number; at: number; dsn: string | null; reply: string | null; relay: string | null }>;
}

/** A delivery record from Postfix's log: the EZML record's fields and what only Postfix says. */
export interface PostfixRecord extends Omit<ParsedLogLine, "sizeBytes"> {
  /** From qmgr's from= line; null when the log never said (a rejection before queueing, a message queued before the log starts). */
  sizeBytes: number | null;
  dsn: string | null;
  relay: string | null;
  delaySeconds: number | null;
  originalRecipient: string | null;
}

const STATUS_OF: Record<PostfixDeliveryStatus, DeliveryStatus> = { sent: "OK", deferred: "RETRY", bounced: "FAIL" };

function record(fields: Omit<PostfixRecord, "subject" | "queuedAt"> & { queuedAt?: Date | null }): PostfixRecord {
  // Postfix logs no subject; the API's subject is "" as for an EZML line without one.
  return { subject: "", queuedAt: null, ...fields };
}

export interface JoinResult {
  records: PostfixRecord[];
  /** Queue keys whose state changed (save them). */
  changed: Set<string>;
  /** Queue keys whose message left the queue (delete their state). */
  removed: Set<string>;
}

/**
 * Joins events, in log order, into delivery records: a delivery attempt takes
 * its message's sender and size from the state (qmgr's from= line, possibly
 * from an earlier pass), a deferral counts the recipient's earlier ones
 * (retryCount), an expiry fails the recipients still deferred, a rejection is
 * a record of its own. `states` holds what earlier batches left (loaded by
 * the caller for the events' keys) and is updated in place.
 *
 * A delivery by virtual or local (which store only into mailboxes here) makes
 * the record INBOUND; otherwise the direction stays null and the database
 * decides (inbound when the recipient is hosted here, see ingest.ts).
 */
export function joinPostfixEvents(events: PostfixEvent[], states: Map<string, QueueState>): JoinResult {
  const records: PostfixRecord[] = [];
  const changed = new Set<string>();
  const removed = new Set<string>();
  const stateOf = (key: string) => {
    let state = states.get(key);
    if (!state) {
      state = {};
      states.set(key, state);
    }
    removed.delete(key);
    changed.add(key);
    return state;
  };
  for (const event of events) {
    switch (event.kind) {
      case "queued": {
        const state = stateOf(event.key);
        state.sender = event.sender;
        state.size = event.size;
        break;
      }
      case "delivery": {
        const state = states.get(event.key);
        let retryCount: number | null = null;
        if (event.status === "deferred" && event.recipient !== null) {
          const writable = stateOf(event.key);
          const deferrals = (writable.deferrals ??= {});
          const previous = deferrals[event.recipient];
          // A line read again (a file re-read from its start) is not counted twice: its record is a duplicate anyway.
          const count = previous ? (event.at > previous.at ? previous.count + 1 : previous.count) : 0;
          retryCount = count;
          deferrals[event.recipient] = { count, at: Math.max(event.at, previous?.at ?? 0), dsn: event.dsn, reply: event.reply, relay: event.relay };
        } else if (event.recipient !== null && state?.deferrals?.[event.recipient]) {
          const writable = stateOf(event.key);
          delete writable.deferrals![event.recipient];
        }
        records.push(
          record({
            loggedAt: new Date(event.at),
            queueId: event.queueId,
            // The line's time is whole seconds: a finer queuing time would be invented.
            queuedAt: event.delaySeconds !== null ? new Date(event.at - Math.round(event.delaySeconds) * 1000) : null,
            direction: LOCAL_AGENTS.has(event.agent) ? "INBOUND" : null,
            sender: state?.sender ?? null,
            recipient: event.recipient,
            sizeBytes: state?.size ?? null,
            status: STATUS_OF[event.status],
            retryCount,
            reason: event.reply,
            rawLine: event.rawLine,
            fingerprint: event.fingerprint,
            dsn: event.dsn,
            relay: event.relay,
            delaySeconds: event.delaySeconds,
            originalRecipient: event.originalRecipient,
          }),
        );
        break;
      }
      case "expired": {
        const state = states.get(event.key);
        const deferred = Object.entries(state?.deferrals ?? {});
        for (const [recipient, last] of deferred) {
          records.push(
            record({
              loggedAt: new Date(event.at),
              queueId: event.queueId,
              direction: null,
              sender: event.sender,
              recipient,
              sizeBytes: state?.size ?? null,
              status: "FAIL",
              retryCount: null,
              reason: `expired after ${last.count + 1} attempt${last.count === 0 ? "" : "s"}, returned to sender${last.reply ? ` (last: ${last.reply})` : ""}`,
              rawLine: event.rawLine,
              // One line, one record per recipient still deferred.
              fingerprint: fingerprintOf(`${event.rawLine}\n${recipient}`),
              dsn: last.dsn,
              relay: last.relay,
              delaySeconds: null,
              originalRecipient: null,
            }),
          );
        }
        if (deferred.length > 0) stateOf(event.key).deferrals = {};
        break;
      }
      case "removed":
        states.delete(event.key);
        changed.delete(event.key);
        removed.add(event.key);
        break;
      case "reject":
        records.push(
          record({
            loggedAt: new Date(event.at),
            queueId: event.queueId,
            direction: null,
            sender: event.sender,
            recipient: event.recipient,
            sizeBytes: (event.key !== null ? states.get(event.key)?.size : undefined) ?? null,
            status: event.code !== null && event.code < 500 ? "RETRY" : event.dsn?.startsWith("4.") ? "RETRY" : "FAIL",
            retryCount: null,
            reason: event.reply,
            rawLine: event.rawLine,
            fingerprint: event.fingerprint,
            dsn: event.dsn,
            relay: null,
            delaySeconds: null,
            originalRecipient: null,
          }),
        );
        break;
    }
  }
  return { records, changed, removed };
}

/** The queue keys whose state joining these events needs (load them before joinPostfixEvents). */
export function queueKeysOf(events: PostfixEvent[]): string[] {
  const keys = new Set<string>();
  for (const event of events) if (event.key !== null) keys.add(event.key);
  return [...keys];
}
