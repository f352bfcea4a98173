import fc from "fast-check";
import iconv from "iconv-lite";
import { parseLogLine, type ParsedLogLine } from "../../src/maillog/parse";
import { startOfDay } from "../../src/maillog/maillog.service";

function parsed(line: string | Uint8Array): ParsedLogLine {
  const result = parseLogLine(line);
  if (!result.ok) throw new Error(`expected the line to parse, got: ${result.reason}`);
  return result.record;
}

describe("parseLogLine", () => {
  it("reads the line with no queue id, direction or addresses", () => {
    expect(parsed("2005/06/01 15:20:56 - (test/402)OK")).toMatchObject({
      loggedAt: new Date("2005-06-01T15:20:56+08:00"),
      queueId: null,
      queuedAt: null,
      direction: null,
      sender: null,
      recipient: null,
      subject: "test",
      sizeBytes: 402,
      status: "OK",
      retryCount: null,
      reason: null,
    });
  });

  it("reads an outbound retry with a CJK subject, and dates the message from its queue id", () => {
    expect(parsed("2005/06/01 16:24:17 25729-429D69CB.000CFFE5 Mail.LR - (Fw: Fw: 房間有螞蟻怎麼辦?/1092)RETRY.0 Operation timed out")).toMatchObject({
      loggedAt: new Date("2005-06-01T16:24:17+08:00"),
      queueId: "25729-429D69CB.000CFFE5",
      queuedAt: new Date("2005-06-01T15:54:51+08:00"),
      direction: "OUTBOUND",
      subject: "Fw: Fw: 房間有螞蟻怎麼辦?",
      sizeBytes: 1092,
      status: "RETRY",
      retryCount: 0,
      reason: "Operation timed out",
    });
  });

  it("reads an outbound retry whose subject holds digits and spaces", () => {
    expect(parsed("2005/06/02 10:21:08 97286-429E6C31.000CE691 Mail.LR - (RE: DRL-200 30000pcs/178323)RETRY.0 Operation timed out")).toMatchObject({
      loggedAt: new Date("2005-06-02T10:21:08+08:00"),
      queueId: "97286-429E6C31.000CE691",
      queuedAt: new Date(0x429e6c31 * 1000),
      direction: "OUTBOUND",
      subject: "RE: DRL-200 30000pcs",
      sizeBytes: 178323,
      status: "RETRY",
      retryCount: 0,
      reason: "Operation timed out",
    });
  });

  it.each([
    [
      "2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL - (FW: 痘痘學-有照片參考位置/719433)FAIL Destination mailbox exceeds quota",
      "19581-429D733B.0008B021",
      "2005-06-01T16:35:07+08:00",
      "FW: 痘痘學-有照片參考位置",
      719433,
      "2005-06-01T16:35:10+08:00",
    ],
    [
      "2005/06/01 16:35:25 43442-429D734C.000987D2 Mail.RL - (FW: 誰說光頭不能用髮膠/1939757)FAIL Destination mailbox exceeds quota",
      "43442-429D734C.000987D2",
      "2005-06-01T16:35:24+08:00",
      "FW: 誰說光頭不能用髮膠",
      1939757,
      "2005-06-01T16:35:25+08:00",
    ],
  ])("reads an inbound quota failure: %s", (line, queueId, queuedAt, subject, sizeBytes, loggedAt) => {
    expect(parsed(line)).toMatchObject({
      loggedAt: new Date(loggedAt),
      queueId,
      queuedAt: new Date(queuedAt),
      direction: "INBOUND",
      subject,
      sizeBytes,
      status: "FAIL",
      retryCount: null,
      reason: "Destination mailbox exceeds quota",
    });
  });

  it("reads sender and recipient when present, in lower case", () => {
    expect(parsed("2026/11/28 09:00:01 1234-6928F0A1.0001 Mail.LR Mary@Example.TW <bob@remote.example> - (Quote/2048)RETRY.3 Connection refused")).toMatchObject({
      direction: "OUTBOUND",
      sender: "mary@example.tw",
      recipient: "bob@remote.example",
      retryCount: 3,
      reason: "Connection refused",
    });
  });

  it("takes the size from the last /digits) of the group, whatever the subject holds", () => {
    expect(parsed("2005/06/01 15:20:56 - (a/b (c) d/12)/55)OK")).toMatchObject({ subject: "a/b (c) d/12)", sizeBytes: 55 });
    expect(parsed("2005/06/01 15:20:56 - (/0)OK")).toMatchObject({ subject: "", sizeBytes: 0 });
    expect(parsed("2005/06/01 15:20:56 - (報價單 (第2版)/1)OK")).toMatchObject({ subject: "報價單 (第2版)", sizeBytes: 1 });
  });

  it("decodes Big5 bytes without mangling them, and UTF-8 as UTF-8", () => {
    const big5 = iconv.encode("2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL - (會議記錄/12)OK", "big5");
    expect(parsed(big5).subject).toBe("會議記錄");
    expect(parsed(Buffer.from("2005/06/01 16:35:10 - (會議記錄/12)OK", "utf8")).subject).toBe("會議記錄");
  });

  it("ignores CRLF endings, trailing blanks and NULs", () => {
    const record = parsed("2005/06/01 15:20:56 - (test/402)OK   \u0000\r\n");
    expect(record).toMatchObject({ subject: "test", status: "OK", reason: null, rawLine: "2005/06/01 15:20:56 - (test/402)OK" });
    expect(record.fingerprint).toBe(parsed("2005/06/01 15:20:56 - (test/402)OK").fingerprint);
  });

  it("keeps trailing text after a status as its reason", () => {
    expect(parsed("2005/06/01 15:20:56 - (test/402)FAIL 550 5.1.1 user unknown ###junk###")).toMatchObject({ reason: "550 5.1.1 user unknown ###junk###" });
  });

  it("converts the log server's local time with the source's time zone", () => {
    expect(parseLogLine("2005/06/01 15:20:56 - (x/1)OK", "UTC")).toMatchObject({ ok: true, record: { loggedAt: new Date("2005-06-01T15:20:56Z") } });
    expect(parseLogLine("2026/07/01 12:00:00 - (x/1)OK", "Europe/Berlin")).toMatchObject({ ok: true, record: { loggedAt: new Date("2026-07-01T10:00:00Z") } });
  });

  it.each([
    ["", "empty line"],
    ["hello world", "does not start with a date and time"],
    ["2005/13/01 15:20:56 - (x/1)OK", "invalid date or time"],
    ["2005/02/30 15:20:56 - (x/1)OK", "invalid date or time"],
    ["2005/06/01 15:20:56 (x/1)OK", 'no " - (SUBJECT/SIZE)STATUS" part'],
    ["2005/06/01 15:20:56 - (no size)OK", "unreadable"],
    ["2005/06/01 15:20:56 - (x/1)DEFERRED", "unreadable"],
    ["2005/06/01 15:20:56 Mail.XX - (x/1)OK", 'unexpected "Mail.XX"'],
    ["2005/06/01 15:20:56 - (x/99999999999)OK", "out of range"],
  ])("rejects %j with the reason", (line, reason) => {
    const result = parseLogLine(line);
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.reason).toContain(reason);
  });

  it("never throws, whatever the bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.string({ maxLength: 200 }), (bytes, text) => {
        for (const input of [bytes, text, `2005/06/01 15:20:56 ${text}`, Buffer.concat([Buffer.from("2005/06/01 15:20:56 - ("), bytes])]) {
          const result = parseLogLine(input);
          expect(typeof result.ok).toBe("boolean");
          if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe("startOfDay (the TODAY range)", () => {
  it("starts today at midnight in the service's time zone, not in UTC", () => {
    expect(startOfDay(new Date("2026-11-28T16:00:33Z"), "Asia/Taipei")).toEqual(new Date("2026-11-28T16:00:00Z"));
    expect(startOfDay(new Date("2026-11-28T15:59:59Z"), "Asia/Taipei")).toEqual(new Date("2026-11-27T16:00:00Z"));
    expect(startOfDay(new Date("2026-03-29T12:00:00Z"), "Europe/Berlin")).toEqual(new Date("2026-03-28T23:00:00Z"));
  });
});
