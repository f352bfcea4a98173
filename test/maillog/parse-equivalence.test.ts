// The parser's fast paths (ASCII, UTF-8 and Big5 lines decoded apart, Big5
// decoded only where it is not ASCII, scanning by character codes, hashing a
// line's own bytes) against the plain parser they replaced, kept below as the
// reference: the same records, the same rejections and the same fingerprints.
// Fingerprints must not change: stored records carry them, and re-ingesting a
// file after an upgrade must still find its lines already stored.
import { isUtf8 } from "node:buffer";
import { xxh3 } from "@node-rs/xxhash";
import fc from "fast-check";
import iconv from "iconv-lite";
import { decodeLine, parseLogLine, zonedTimeToInstant, type ParsedLogLine, type ParseResult, type WallClock } from "../../src/maillog/parse";

// ---------------------------------------------------------------------------
// The reference: the parser as it was before the fast paths, unchanged but for
// the time zone conversion, which it shares (zonedTimeToInstant).

const HEAD = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?: |$)/;
const QUEUE_ID = /^\d+-([0-9A-Fa-f]{8})\.[0-9A-Fa-f]+$/;

function referenceDecodeLine(bytes: Uint8Array): string {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isUtf8(buffer) ? buffer.toString("utf8") : iconv.decode(buffer, "cp950");
}

function referenceSplitBody(body: string): string[] | null {
  if (!body.startsWith("(")) return null;
  for (let close = body.lastIndexOf(")"); close > 0; close = body.lastIndexOf(")", close - 1)) {
    const status = referenceStatusAt(body, close + 1);
    if (!status) continue;
    let digits = close;
    while (digits > 1 && /\d/.test(body[digits - 1]!)) digits--;
    if (digits === close || body[digits - 1] !== "/") continue;
    return [body, body.slice(1, digits - 1), body.slice(digits, close), status[0], status[1]!, status[2]!];
  }
  return null;
}

function referenceStatusAt(text: string, from: number): [string, string | undefined, string | undefined] | null {
  let end: number;
  let retry: string | undefined;
  if (text.startsWith("OK", from)) end = from + 2;
  else if (text.startsWith("FAIL", from)) end = from + 4;
  else if (text.startsWith("RETRY.", from)) {
    end = from + 6;
    while (end < text.length && /\d/.test(text[end]!)) end++;
    if (end === from + 6) return null;
    retry = text.slice(from + 6, end);
  } else return null;
  if (end < text.length && !/\s/.test(text[end]!)) return null;
  const reason = end < text.length ? text.slice(end).trim() : undefined;
  return [text.slice(from, retry === undefined ? end : from + 5), retry, reason === "" ? undefined : reason];
}

function referenceIsAddressToken(token: string): boolean {
  if (token === "<>") return true;
  const at = token.indexOf("@");
  if (at <= 0 || at >= token.length - 1 || token.indexOf("@", at + 1) !== -1) return false;
  const inner = token.startsWith("<") && token.endsWith(">") ? token.slice(1, -1) : token;
  return !inner.includes("<") && !inner.includes(">") && inner.indexOf("@") > 0 && inner.indexOf("@") < inner.length - 1;
}

function referenceBareAddress(token: string): string {
  const start = token.startsWith("<") ? 1 : 0;
  const end = token.endsWith(">") ? token.length - 1 : token.length;
  return token.slice(start, end).toLowerCase();
}

function referenceDaysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
}

function referenceParseLogLine(input: Uint8Array | string, timeZone = "Asia/Taipei"): ParseResult {
  const decoded = typeof input === "string" ? input : referenceDecodeLine(input);
  const text = (decoded.includes("\u0000") ? decoded.replaceAll("\u0000", "") : decoded).trimEnd();
  const reject = (reason: string): ParseResult => ({ ok: false, reason, rawLine: text });
  if (text.length === 0) return reject("empty line");
  if (text.length > 16_384) return reject("line longer than 16384 characters");
  const head = HEAD.exec(text);
  if (!head) return reject("does not start with a date and time (YYYY/MM/DD HH:MM:SS)");
  const fields = head.slice(1, 7).map(Number) as WallClock;
  const [year, month, day, hour, minute, second] = fields;
  if (month < 1 || month > 12 || day < 1 || day > referenceDaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return reject(`invalid date or time ${text.slice(0, 19)}`);
  }
  const rest = text.slice(text.length > 19 ? 20 : 19);
  const separator = rest.startsWith("- (") ? 0 : rest.indexOf(" - (") + 1;
  if (separator === 0 && !rest.startsWith("- (")) return reject('no " - (SUBJECT/SIZE)STATUS" part');
  const headerTokens =
    separator === 0
      ? []
      : rest
          .slice(0, separator)
          .split(" ")
          .filter((token) => token !== "");
  const body = referenceSplitBody(rest.slice(separator + 2));
  if (!body) return reject('the "(SUBJECT/SIZE)STATUS" part is unreadable: no "/size)" followed by OK, RETRY.n or FAIL');
  let queueId: string | null = null;
  let queuedAt: Date | null = null;
  let direction: "OUTBOUND" | "INBOUND" | null = null;
  const addresses: string[] = [];
  for (const token of headerTokens) {
    const queue = QUEUE_ID.exec(token);
    if (queue && queueId === null && direction === null && addresses.length === 0) {
      queueId = token;
      queuedAt = new Date(Number.parseInt(queue[1]!, 16) * 1000);
    } else if ((token === "Mail.LR" || token === "Mail.RL") && direction === null && addresses.length === 0) {
      direction = token === "Mail.LR" ? "OUTBOUND" : "INBOUND";
    } else if (referenceIsAddressToken(token) && addresses.length < 2) {
      addresses.push(token === "<>" ? "" : referenceBareAddress(token));
    } else {
      return reject(`unexpected "${token.slice(0, 80)}" before " - ("`);
    }
  }
  const [sender, recipient] =
    addresses.length === 2 ? [addresses[0]!, addresses[1]!] : addresses.length === 1 && direction === "INBOUND" ? [null, addresses[0]!] : [addresses[0] ?? null, null];
  const size = Number(body[2]);
  if (!Number.isSafeInteger(size) || size > 2 ** 31 - 1) return reject(`size ${body[2]!.slice(0, 20)} is out of range`);
  const retryCount = body[4] !== undefined ? Number(body[4]) : null;
  if (retryCount !== null && !Number.isSafeInteger(retryCount)) return reject("retry number out of range");
  const record: ParsedLogLine = {
    loggedAt: zonedTimeToInstant(fields, timeZone),
    queueId,
    queuedAt,
    direction,
    sender: sender === "" ? null : sender,
    recipient: recipient === "" ? null : recipient,
    subject: body[1]!,
    sizeBytes: size,
    status: body[3] === "OK" ? "OK" : body[3] === "FAIL" ? "FAIL" : "RETRY",
    retryCount,
    reason: body[5]?.trim() || null,
    rawLine: text,
    fingerprint: xxh3.xxh128(text).toString(16).padStart(32, "0"),
  };
  return { ok: true, record };
}

// ---------------------------------------------------------------------------
// Lines like the log servers', and like what goes wrong with them.

const pad = (value: number, width: number) => String(value).padStart(width, "0");
const dateTime = fc
  .oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        y: fc.integer({ min: 1995, max: 2030 }),
        mo: fc.integer({ min: 1, max: 12 }),
        d: fc.integer({ min: 1, max: 28 }),
        h: fc.integer({ min: 0, max: 23 }),
        mi: fc.integer({ min: 0, max: 59 }),
        s: fc.integer({ min: 0, max: 59 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        y: fc.integer({ min: 0, max: 9999 }),
        mo: fc.integer({ min: 0, max: 13 }),
        d: fc.integer({ min: 0, max: 32 }),
        h: fc.integer({ min: 0, max: 25 }),
        mi: fc.integer({ min: 0, max: 61 }),
        s: fc.integer({ min: 0, max: 61 }),
      }),
    },
  )
  .map(({ y, mo, d, h, mi, s }) => `${pad(y, 4)}/${pad(mo, 2)}/${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`);
const malformedDateTime = fc.constantFrom("2005/6/01 15:20:56", "2005-06-01 15:20:56", "2005/06/01 15:20", "2005/06/01T15:20:56", "");
const token = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("19581-429D733B.0008B021", "Mail.LR", "Mail.RL", "mary@example.tw", "<bob@remote.example>") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "19581-429D733B.0008B021",
      "1-abcdefAB.0",
      "12-429D733B.",
      "429D733B",
      "Mail.LR",
      "Mail.RL",
      "Mail.lr",
      "Mail.XX",
      "<>",
      "<mary@example.tw>",
      "Mary@Example.TW",
      "bob@remote.example",
      "ÄNNE@bücher.de",
      "İ@x.y",
      "a@@b",
      "@b",
      "a@",
      "<a@b",
      "a@b>",
      "<a<b@c>",
      "會議@記錄.tw",
      "a\tb@c",
      "-",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const subject = fc.oneof(
  fc.constantFrom("test", "", "a/b (c) d/12)", "報價單 (第2版)", "FW: 痘痘學-有照片參考位置", "x/1)OK", "Fw: Fw: 房間有螞蟻怎麼辦?", "😀", "tab\there", "back\\slash", "Ä"),
  fc.string({ maxLength: 20, unit: "grapheme" }),
);
const size = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map(String) },
  { weight: 1, arbitrary: fc.constantFrom("402", "0", "", "00012", "2147483647", "2147483648", "99999999999", "0000000000000000000017") },
);
const status = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("OK", "FAIL", "RETRY.0", "RETRY.12") },
  { weight: 1, arbitrary: fc.constantFrom("RETRY.", "RETRY.0000000000000000000003", "RETRY.99999999999999999999", "OKAY", "DEFERRED") },
);
const reason = fc.oneof(
  fc.constantFrom("", " ", " Operation timed out", "  550 5.1.1 user unknown ###junk###", "\tx", " 容量不足", "\u3000全形", " a)OK b", "x"),
  fc.string({ maxLength: 20 }),
);
const ending = fc.constantFrom("", "", "", "\r", "  \r", " \u0000\r", "\u3000", "\u00a0", "\ufeff", "\u2028", "\t\t", "\u0000");
const separator = fc.constantFrom(" - (", " - (", " - (", " - (", " - (", "- (", " (", "  - (");
const address = fc.constantFrom("mary@example.tw", "<bob@remote.example>", "Mary@Example.TW", "<>", "ÄNNE@bücher.de", "會議@記錄.tw", "a\tb@c");
// Mostly headers as the servers write them (each part optional, in order), sometimes any tokens.
const header = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.option(fc.constantFrom("19581-429D733B.0008B021", "1-abcdefAB.0")), fc.option(fc.constantFrom("Mail.LR", "Mail.RL")), fc.array(address, { maxLength: 2 }))
      .map(([queue, direction, addresses]) => [queue, direction, ...addresses].filter((part) => part !== null).map(String)),
  },
  { weight: 1, arbitrary: fc.array(token, { maxLength: 5 }) },
);
const logText = fc
  .tuple(
    fc.oneof({ weight: 9, arbitrary: dateTime }, { weight: 1, arbitrary: malformedDateTime }),
    header,
    fc.boolean(),
    separator,
    subject,
    fc.boolean(),
    size,
    status,
    reason,
    ending,
  )
  .map(
    ([head, tokens, doubleBlank, sep, subj, noSlash, sz, st, why, end]) =>
      `${head}${tokens.map((part) => (doubleBlank ? `  ${part}` : ` ${part}`)).join("")}${sep}${subj}${noSlash && sz === "" ? "" : "/"}${sz})${st}${why}${end}`,
  );

const RUNS = { numRuns: 3000 };

describe("parseLogLine, against the parser it replaced", () => {
  it("reads text the same", () => {
    let read = 0;
    fc.assert(
      fc.property(logText, fc.constantFrom("Asia/Taipei", "Europe/Berlin", "UTC"), (line, timeZone) => {
        const result = parseLogLine(line, timeZone);
        expect(result).toEqual(referenceParseLogLine(line, timeZone));
        if (result.ok) read++;
      }),
      RUNS,
    );
    // The lines are built to be read often enough, not only rejected.
    expect(read).toBeGreaterThan(RUNS.numRuns / 10);
  });

  it("reads UTF-8 bytes the same (ASCII lines and lines with CJK, accents or emoji)", () => {
    fc.assert(
      fc.property(logText, (line) => {
        expect(parseLogLine(Buffer.from(line, "utf8"))).toEqual(referenceParseLogLine(Buffer.from(line, "utf8")));
      }),
      RUNS,
    );
  });

  it("reads Big5 bytes the same", () => {
    fc.assert(
      fc.property(logText, (line) => {
        const big5 = iconv.encode(line, "big5");
        expect(parseLogLine(big5)).toEqual(referenceParseLogLine(big5));
      }),
      RUNS,
    );
  });

  it("reads damaged bytes the same: a byte changed, or any bytes at all", () => {
    fc.assert(
      fc.property(logText, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 200 }), (line, at, byte, noise) => {
        const damaged = Buffer.from(line, "utf8");
        if (damaged.length > 0) damaged[at % damaged.length] = byte;
        expect(parseLogLine(damaged)).toEqual(referenceParseLogLine(damaged));
        expect(parseLogLine(noise)).toEqual(referenceParseLogLine(noise));
        const afterHeader = Buffer.concat([Buffer.from("2005/06/01 15:20:56 - ("), noise]);
        expect(parseLogLine(afterHeader)).toEqual(referenceParseLogLine(afterHeader));
      }),
      RUNS,
    );
  });

  it("gives the same fields for the same line as text, UTF-8 bytes and Big5 bytes", () => {
    fc.assert(
      fc.property(logText, (line) => {
        const big5 = iconv.encode(line, "cp950");
        // Only lines Big5 (cp950, what the parser decodes) can carry, and whose
        // Big5 bytes are not also valid UTF-8 (those read as UTF-8, as always).
        fc.pre(iconv.decode(big5, "cp950") === line && (!isUtf8(big5) || big5.equals(Buffer.from(line, "utf8"))));
        const fromText = parseLogLine(line);
        expect(parseLogLine(Buffer.from(line, "utf8"))).toEqual(fromText);
        expect(parseLogLine(big5)).toEqual(fromText);
      }),
      RUNS,
    );
  });

  it("decodes any bytes as before: UTF-8 when valid, else Big5 (cp950)", () => {
    const big5Pair = fc.tuple(fc.integer({ min: 0x81, max: 0xfe }), fc.integer({ min: 0x40, max: 0xfe })).map(([lead, trail]) => [lead, trail]);
    const chunk = fc.oneof(
      big5Pair,
      fc.integer({ min: 0, max: 255 }).map((byte) => [byte]),
      fc.constantFrom([0x20], [0x41], [0x29], [0x0d]),
    );
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 40 }), (chunks) => {
        const bytes = Buffer.from(chunks.flat());
        expect(decodeLine(bytes)).toBe(referenceDecodeLine(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it("keeps the fingerprints records were stored with", () => {
    // Values of the parser before the fast paths.
    const fingerprint = (line: string | Buffer) => {
      const result = parseLogLine(line);
      return result.ok ? result.record.fingerprint : result.reason;
    };
    expect(fingerprint("2005/06/01 15:20:56 - (test/402)OK")).toBe("956a9395c9c411ee1489e99ac97eda83");
    expect(fingerprint("2005/06/01 16:24:17 25729-429D69CB.000CFFE5 Mail.LR - (Fw: Fw: 房間有螞蟻怎麼辦?/1092)RETRY.0 Operation timed out")).toBe(
      "d2636f457f6428be5954be4edd0017c2",
    );
    expect(fingerprint("2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL - (FW: 痘痘學-有照片參考位置/719433)FAIL Destination mailbox exceeds quota")).toBe(
      "ddc8c50e7268fc08ec5e0b280b6e7e05",
    );
    expect(fingerprint("2026/11/28 09:00:01 1234-6928F0A1.0001 Mail.LR Mary@Example.TW <bob@remote.example> - (Quote/2048)RETRY.3 Connection refused")).toBe(
      "551fa425ffbc8a54bc6925e6f1e2ae7f",
    );
    expect(fingerprint(iconv.encode("2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL - (會議記錄/12)OK", "big5"))).toBe("13f96dac40749fbcd9ebbad6b90bebec");
    expect(fingerprint(Buffer.from("2005/06/01 16:35:10 - (會議記錄\t報告/12)OK \u3000\r\n", "utf8"))).toBe("c5d98c7593f6c485a34152148a41e7d4");
  });
});
