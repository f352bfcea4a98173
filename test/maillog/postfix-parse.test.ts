// The Postfix parser on the real lines of Debian 12's Postfix 3.7.11
// (test/maillog/fixtures/postfix-*.log, captured by
// scripts/postfix-capture/capture.sh), in every time-stamp form it meets,
// joined into records in one batch or split anywhere; and on arbitrary input,
// where it must never throw.
import fc from "fast-check";
import { joinPostfixEvents, parsePostfixLine, queueKeysOf, type PostfixEvent, type PostfixRecord, type QueueState } from "../../src/maillog/postfix";
import { capturedAt, postfixFixture, restamp, type StampStyle } from "../helpers/postfix-lines";

const CAPTURED = postfixFixture("maillog_file");
/** An hour after the capture: the year-less stamps are dated relative to the ingest time. */
const REFERENCE = Date.parse("2026-12-05T13:00:00Z");

function eventsOf(lines: string[], timeZone = "UTC", reference = REFERENCE): PostfixEvent[] {
  const events: PostfixEvent[] = [];
  for (const line of lines) {
    const result = parsePostfixLine(line, timeZone, reference);
    if (!result.ok) throw new Error(`rejected: ${result.reason}: ${line}`);
    if (result.event) events.push(result.event);
  }
  return events;
}

const recordsOf = (lines: string[], timeZone = "UTC", reference = REFERENCE) => joinPostfixEvents(eventsOf(lines, timeZone, reference), new Map()).records;

type Row = [
  string,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  number | null,
  string,
  number | null,
  string | null,
  string | null,
  number | null,
  string | null,
];
const row = (record: PostfixRecord): Row => [
  record.loggedAt.toISOString().slice(11, 19),
  record.queueId,
  record.direction,
  record.sender,
  record.recipient,
  record.originalRecipient,
  record.sizeBytes,
  record.status,
  record.retryCount,
  record.dsn,
  record.relay,
  record.delaySeconds,
  record.reason,
];

// time, queue id, direction (virtual: INBOUND; null: the database decides from the hosted domains), sender, recipient, orig_to, size, status, retry, dsn, relay, delay, reason
const EXPECTED: Row[] = [
  ["12:14:07", "C94A520C2B9", "INBOUND", "sender@hosted.test", "alice@hosted.test", null, 418, "OK", null, "2.0.0", "virtual", 0.03, "delivered to maildir"],
  ["12:14:07", "DCA1920C2B9", "INBOUND", "someone@remote.test", "alice@hosted.test", null, 414, "OK", null, "2.0.0", "virtual", 0.01, "delivered to maildir"],
  ["12:14:07", "F0BD920C2C2", "INBOUND", "someone@remote.test", "alice@hosted.test", "info@hosted.test", 413, "OK", null, "2.0.0", "virtual", 0, "delivered to maildir"],
  ["12:14:08", "DCA1920C2B9", null, "someone@remote.test", "bob@lmtp.test", null, 414, "OK", null, "2.0.0", "127.0.0.47[127.0.0.47]:24241", 0.15, "250 OK: message accepted"],
  [
    "12:14:08",
    null,
    null,
    "someone@remote.test",
    "ghost@hosted.test",
    null,
    null,
    "FAIL",
    null,
    "5.1.1",
    null,
    null,
    "550 5.1.1 <ghost@hosted.test>: Recipient address rejected: User unknown in virtual mailbox table",
  ],
  [
    "12:14:08",
    null,
    null,
    "someone@remote.test",
    "full2@hosted.test",
    null,
    null,
    "FAIL",
    null,
    "5.2.2",
    null,
    null,
    "552 5.2.2 <full2@hosted.test>: Recipient address rejected: Mailbox is full",
  ],
  [
    "12:14:08",
    "96BB120C2C4",
    null,
    "sender@hosted.test",
    "full@lmtp.test",
    null,
    413,
    "FAIL",
    null,
    "5.2.2",
    "127.0.0.47[127.0.0.47]:24241",
    0.12,
    "host 127.0.0.47[127.0.0.47] said: 552 5.2.2 <full@lmtp.test> Quota exceeded (mailbox for user is full) (in reply to RCPT TO command)",
  ],
  ["12:14:08", "B4C8120C021", "INBOUND", null, "sender@hosted.test", null, 2355, "OK", null, "2.0.0", "virtual", 0, "delivered to maildir"],
  [
    "12:14:08",
    "A8FBD20C2C5",
    null,
    "sender@hosted.test",
    "nobody@bouncing.test",
    null,
    422,
    "FAIL",
    null,
    "5.1.1",
    "127.0.0.47[127.0.0.47]:25251",
    0.13,
    "host 127.0.0.47[127.0.0.47] said: 550 5.1.1 <nobody@bouncing.test>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command)",
  ],
  ["12:14:08", "C908120C2CD", "INBOUND", null, "sender@hosted.test", null, 2449, "OK", null, "2.0.0", "virtual", 0, "delivered to maildir"],
  [
    "12:14:08",
    "D2C4020C2C5",
    null,
    "sender@hosted.test",
    "friend@remote.test",
    null,
    419,
    "RETRY",
    0,
    "4.4.1",
    "none",
    0,
    "connect to 127.0.0.48[127.0.0.48]:9: Connection refused",
  ],
  ["12:14:08", "BDF0220C021", null, "sender@hosted.test", "friend@bouncing.test", null, 428, "OK", null, "2.0.0", "127.0.0.47[127.0.0.47]:25251", 0.13, "250 OK: message queued"],
  [
    "12:14:15",
    "D2C4020C2C5",
    null,
    "sender@hosted.test",
    "friend@remote.test",
    null,
    419,
    "RETRY",
    1,
    "4.4.1",
    "none",
    7.1,
    "connect to 127.0.0.48[127.0.0.48]:9: Connection refused",
  ],
  [
    "12:14:25",
    "D2C4020C2C5",
    null,
    "sender@hosted.test",
    "friend@remote.test",
    null,
    419,
    "RETRY",
    2,
    "4.4.1",
    "none",
    17,
    "connect to 127.0.0.48[127.0.0.48]:9: Connection refused",
  ],
  [
    "12:14:35",
    "D2C4020C2C5",
    null,
    "sender@hosted.test",
    "friend@remote.test",
    null,
    419,
    "RETRY",
    3,
    "4.4.1",
    "none",
    27,
    "connect to 127.0.0.48[127.0.0.48]:9: Connection refused",
  ],
  [
    "12:14:35",
    "D2C4020C2C5",
    null,
    "sender@hosted.test",
    "friend@remote.test",
    null,
    419,
    "FAIL",
    null,
    "4.4.1",
    "none",
    null,
    "expired after 4 attempts, returned to sender (last: connect to 127.0.0.48[127.0.0.48]:9: Connection refused)",
  ],
  ["12:14:35", "E7F5820C03E", "INBOUND", null, "sender@hosted.test", null, 2254, "OK", null, "2.0.0", "virtual", 0.01, "delivered to maildir"],
];

describe("Postfix's log: the real lines of Debian's Postfix 3.7", () => {
  it("reads what the mail stack's Postfix wrote in the end-to-end test: LMTP into Dovecot, refusals at RCPT, a submission", () => {
    // test/maillog/fixtures/postfix-mailstack.log: the maillog_file of test/mailstack/end-to-end.test.ts, unedited.
    const lines = postfixFixture("mailstack");
    const records = recordsOf(lines, "UTC", Date.parse("2026-12-05T18:00:00Z"));
    const DOVECOT = "127.0.0.26[127.0.0.26]:20024";
    const summary = records.map((record) => [
      record.status,
      record.dsn,
      record.queueId === null ? "NOQUEUE" : "queued",
      record.relay,
      (record.reason ?? "").replace(/<[^>]*>/g, "<>").slice(0, 48),
    ]);
    expect(summary).toEqual([
      ["FAIL", "5.1.1", "NOQUEUE", null, "550 5.1.1 <>: Recipient address rejected: User u"],
      ["FAIL", "5.2.1", "NOQUEUE", null, "550 5.2.1 <>: Recipient address rejected: This a"],
      ["OK", "2.0.0", "queued", DOVECOT, expect.stringMatching(/^250 2\.0\.0 <> /)],
      ["OK", "2.0.0", "queued", DOVECOT, expect.stringMatching(/^250 2\.0\.0 <> /)],
      ["OK", "2.0.0", "queued", DOVECOT, expect.stringMatching(/^250 2\.0\.0 <> /)],
      ["OK", "2.0.0", "queued", DOVECOT, expect.stringMatching(/^250 2\.0\.0 <> /)],
      ["FAIL", "5.1.1", "NOQUEUE", null, "550 5.1.1 <>: Recipient address rejected: User u"],
      ["FAIL", "5.2.2", "NOQUEUE", null, "552 5.2.2 <>: Recipient address rejected: Mailbo"],
      ["FAIL", "5.2.2", "queued", DOVECOT, "host 127.0.0.26[127.0.0.26] said: 552 5.2.2 <> Q"],
      // The bounce to the remote sender, stopped by the stack's error transport.
      ["FAIL", "5.7.0", "queued", "none", "the mailadmin development stack sends no mail of"],
      ["OK", "2.0.0", "queued", DOVECOT, expect.stringMatching(/^250 2\.0\.0 <> /)],
      // Submission: sending as another user's address is refused (syslog name postfix/submission/smtpd).
      ["FAIL", "5.7.1", "NOQUEUE", null, "553 5.7.1 <>: Sender address rejected: not owned"],
      ["OK", "2.0.0", "queued", DOVECOT, expect.stringMatching(/^250 2\.0\.0 <> /)],
      ["OK", "2.0.0", "queued", DOVECOT, expect.stringMatching(/^250 2\.0\.0 <> /)],
    ]);
    // Every line was read: those that are not about a delivery (connect, disconnect, the master's start) are skipped, none rejected.
    for (const line of lines) expect(parsePostfixLine(line, "UTC", REFERENCE).ok).toBe(true);
  });

  it("reads every captured line, and joins a message's lines into one record per recipient and attempt", () => {
    const records = recordsOf(CAPTURED);
    expect(records.map(row)).toEqual(EXPECTED);
    // Each record keeps the line it came from, dated on 5 December of the ingest year.
    for (const record of records) {
      expect(CAPTURED).toContain(record.rawLine);
      expect(record.loggedAt.toISOString().slice(0, 10)).toBe("2026-12-05");
      expect(record.subject).toBe("");
    }
    // The queuing time is the attempt's time less its delay (whole seconds: the lines have no finer time).
    const retry = records.find((record) => record.retryCount === 2)!;
    expect(retry.queuedAt).toEqual(new Date("2026-12-05T12:14:08Z"));
  });

  it("gives every record its own fingerprint: one line, one record, but an expiry's per recipient", () => {
    const fingerprints = recordsOf(CAPTURED).map((record) => record.fingerprint);
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
  });

  it("reads Postfix's other lines as no record (connections, client=, message-id=, warnings, bounce notices, start-up)", () => {
    const results = CAPTURED.map((line) => parsePostfixLine(line, "UTC", REFERENCE));
    expect(results.every((result) => result.ok)).toBe(true);
    const silent = CAPTURED.filter((_, index) => results[index]!.ok && (results[index] as { event: unknown }).event === null);
    expect(silent.some((line) => line.includes(": connect from "))).toBe(true);
    expect(silent.some((line) => line.includes(": client="))).toBe(true);
    expect(silent.some((line) => line.includes("sender non-delivery notification"))).toBe(true);
    expect(silent.some((line) => line.includes("queue file size limit exceeded"))).toBe(true);
    expect(silent.some((line) => line.includes("starting the Postfix mail system"))).toBe(true);
  });

  it("reads the long queue ids of enable_long_queue_ids = yes", () => {
    const lines = postfixFixture("long-queue-ids");
    const records = joinPostfixEvents(eventsOf(lines, "UTC", capturedAt(lines[0]!).getTime() + 3_600_000), new Map()).records;
    // The same messages (their order and the number of retries before the expiry depend on timing).
    const outcomes = (rows: [string | null, string, string][]) => [...new Set(rows.map((entry) => JSON.stringify(entry)))].sort();
    expect(outcomes(records.map((record) => [record.recipient, record.status, record.sizeBytes === null ? "no size" : "size"]))).toEqual(
      outcomes(EXPECTED.map((expected) => [expected[4], expected[7], expected[6] === null ? "no size" : "size"])),
    );
    const queueIds = records.flatMap((record) => (record.queueId ? [record.queueId] : []));
    expect(queueIds.every((queueId) => /^[0-9A-Za-z]{12,}$/.test(queueId) && !/^[0-9A-F]+$/.test(queueId))).toBe(true);
  });

  it.each<[StampStyle, string]>([
    ["syslog", "Dec  5 12:14:07"],
    ["rfc3339", "2026-12-05T12:14:07.000123+00:00"],
    ["short-iso", "2026-12-05T12:14:07+0000"],
  ])("reads the same records from %s time stamps (%s)", (style) => {
    const lines = restamp(CAPTURED, { style });
    expect(recordsOf(lines).map(row)).toEqual(EXPECTED);
  });

  it("converts year-less stamps from the source's time zone and RFC 3339 stamps by their own offset", () => {
    const inTaipei = restamp(CAPTURED, { timeZone: "Asia/Taipei" });
    expect(recordsOf(inTaipei, "Asia/Taipei").map((record) => record.loggedAt)).toEqual(recordsOf(CAPTURED).map((record) => record.loggedAt));
    const rfc = restamp(CAPTURED, { style: "rfc3339" });
    expect(recordsOf(rfc, "Asia/Taipei").map((record) => record.loggedAt)).toEqual(recordsOf(CAPTURED).map((record) => record.loggedAt));
    const line = "2026-12-05T20:14:07.5+08:00 mx postfix/qmgr[1]: C94A520C2B9: removed";
    expect(parsePostfixLine(line, "UTC", REFERENCE)).toMatchObject({ ok: true, event: { kind: "removed", at: Date.parse("2026-12-05T12:14:07.5Z") } });
  });

  it("infers the year: last December when read in January, a 29 February in the last leap year", () => {
    const at = (stamp: string, reference: string, timeZone = "Asia/Taipei") => {
      const result = parsePostfixLine(`${stamp} mx postfix/qmgr[1]: C94A520C2B9: removed`, timeZone, Date.parse(reference));
      return result.ok && result.event ? new Date(result.event.at).toISOString() : result;
    };
    expect(at("Dec 31 23:59:59", "2027-01-01T00:10:00+08:00")).toBe("2026-12-31T15:59:59.000Z");
    expect(at("Jan 01 00:00:05", "2027-01-01T00:10:00+08:00")).toBe("2026-12-31T16:00:05.000Z");
    // A line a few hours ahead of the ingest clock stays in this year.
    expect(at("Jun 10 12:00:00", "2027-06-10T09:00:00+08:00")).toBe("2027-06-10T04:00:00.000Z");
    expect(at("Feb 29 10:00:00", "2027-03-01T00:00:00Z", "UTC")).toBe("2024-02-29T10:00:00.000Z");
    expect(at("Feb 30 10:00:00", "2027-03-01T00:00:00Z", "UTC")).toMatchObject({ ok: false, reason: expect.stringContaining("invalid date") });
  });

  it("keeps a message's sender and size across batches, wherever the log is cut", () => {
    const events = eventsOf(CAPTURED);
    for (let cut = 0; cut <= events.length; cut++) {
      // What the database keeps between passes: the state of the keys the batch touched, as JSON.
      const database = new Map<string, string>();
      const records: PostfixRecord[] = [];
      for (const batch of [events.slice(0, cut), events.slice(cut)]) {
        const states = new Map<string, QueueState>();
        for (const key of queueKeysOf(batch)) if (database.has(key)) states.set(key, JSON.parse(database.get(key)!) as QueueState);
        const joined = joinPostfixEvents(batch, states);
        for (const key of joined.changed) database.set(key, JSON.stringify(states.get(key)));
        for (const key of joined.removed) database.delete(key);
        records.push(...joined.records);
      }
      expect(records.map(row)).toEqual(EXPECTED);
      // Every message of the capture left the queue: nothing stays pending.
      expect(database.size).toBe(0);
    }
  });

  it("counts a deferral read twice (a file read again from its start) once", () => {
    const events = eventsOf(CAPTURED);
    const states = new Map<string, QueueState>();
    const deferrals = events.filter((event) => event.kind === "queued" || (event.kind === "delivery" && event.status === "deferred"));
    const first = joinPostfixEvents(deferrals, states).records.map((record) => record.retryCount);
    const again = joinPostfixEvents(deferrals, states).records.map((record) => record.retryCount);
    expect(first).toEqual([0, 1, 2, 3]);
    expect(again).toEqual([3, 3, 3, 3]);
  });
});

describe("Postfix lines that are not what they should be", () => {
  const parse = (line: string) => parsePostfixLine(line, "UTC", REFERENCE);

  it.each(
    [
      ["", "empty line"],
      ["hello world", "does not start with a syslog time stamp"],
      ["2026/12/05 12:00:00 - (test/402)OK", "does not start with a syslog time stamp"],
      ["Dec 05 25:00:00 mx postfix/qmgr[1]: C94A520C2B9: removed", "invalid date or time"],
      ["2026-02-30T10:00:00Z mx postfix/qmgr[1]: C94A520C2B9: removed", "invalid date or time"],
      ["Dec 05 12:00:00", "no host and program"],
      ["Dec 05 12:00:00 mx", "no host and program"],
      ["Dec 05 12:00:00 mx postfix/smtp", "no program name"],
      ["Dec 05 12:00:00 mx postfix/smtp[1]: C94A520C2B9: to=<a@b.example>, relay=none, delay=0", "no status="],
      ["Dec 05 12:00:00 mx postfix/smtp[1]: C94A520C2B9: to=<a@b.example, relay=none", "is not closed"],
      ["Dec 05 12:00:00 mx postfix/smtp[1]: C94A520C2B9: to=<a@b.example>, relay=none, delay=0, dsn=4.4.1, status=wobbly (x)", 'unknown delivery status "wobbly"'],
      ["Dec 05 12:00:00 mx postfix/qmgr[1]: C94A520C2B9: from=<a@b.example>, size=12x, nrcpt=1 (queue active)", "size= is not a size"],
      ["Dec 05 12:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[1.2.3.4]: bad; from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<x>", "no SMTP reply code"],
      [`Dec 05 12:00:00 mx postfix/qmgr[1]: ${"x".repeat(17_000)}`, "longer than 16384"],
    ].map(([line, reason]) => ({ line: line!, reason: reason!, shown: JSON.stringify(line!.slice(0, 100)) })),
  )("rejects $shown: $reason", ({ line, reason }) => {
    const result = parse(line);
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining(reason) });
  });

  it("reads other programs' lines, address verification probes and refusals of a connection as no record", () => {
    expect(parse("Dec 05 12:00:00 mx postfix/postscreen[1]: NOQUEUE: reject: CONNECT from [192.0.2.1]:5678: too many connections")).toEqual({ ok: true, event: null });
    expect(parse("Dec 05 12:00:00 mx dovecot: imap-login: Login: user=<alice@hosted.test>")).toEqual({ ok: true, event: null });
    expect(parse("Dec 05 12:00:00 mx kernel: [1.2] eth0 up")).toEqual({ ok: true, event: null });
    expect(
      parse("Dec 05 12:00:00 mx postfix/smtp[1]: C94A520C2B9: to=<a@b.example>, relay=x[1.2.3.4]:25, delay=1, delays=0/0/0/1, dsn=2.1.5, status=deliverable (250 ok)"),
    ).toEqual({
      ok: true,
      event: null,
    });
  });

  it("reads a delivery by a transport logging under its own name (Debian's relay: syslog_name=postfix/$service_name) or a named instance", () => {
    const relayed = parse(
      "Dec 05 12:00:00 mx postfix/relay[1]: C94A520C2B9: to=<a@b.example>, relay=smarthost.example[198.51.100.1]:587, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
    );
    expect(relayed).toMatchObject({ ok: true, event: { kind: "delivery", agent: "relay", recipient: "a@b.example", dsn: "2.0.0", status: "sent" } });
    expect(joinPostfixEvents([(relayed as { event: PostfixEvent }).event], new Map()).records[0]).toMatchObject({ direction: null, status: "OK" });
    const dovecot = parse(
      "Dec 05 12:00:00 mx postfix-in/pipe[1]: C94A520C2B9: to=<a@b.example>, relay=dovecot, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered via dovecot service)",
    );
    // pipe and lmtp also feed content filters: the database decides by the recipient (null here).
    expect(joinPostfixEvents([(dovecot as { event: PostfixEvent }).event], new Map()).records[0]).toMatchObject({ direction: null, relay: "dovecot" });
  });

  it("reads a rejection at RCPT time with a queue id, a temporary one, a milter's and cleanup's", () => {
    const temporary = parse(
      "Dec 05 12:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 450 4.7.1 <a@b.example>: Recipient address rejected: try later; from=<s@r.example> to=<a@b.example> proto=ESMTP helo=<x>",
    );
    expect(temporary).toMatchObject({ ok: true, event: { kind: "reject", code: 450, dsn: "4.7.1", sender: "s@r.example", recipient: "a@b.example" } });
    expect(joinPostfixEvents([(temporary as { event: PostfixEvent }).event], new Map()).records[0]).toMatchObject({ status: "RETRY", dsn: "4.7.1" });
    expect(
      parse(
        "Dec 05 12:00:00 mx postfix/smtpd[1]: 4F2A1B3C: reject: RCPT from x[2001:db8::1]: 554 5.7.1 <a@c.example>: Relay access denied; from=<S@R.example> to=<a@c.example> proto=ESMTP helo=<x>",
      ),
    ).toMatchObject({ ok: true, event: { kind: "reject", queueId: "4F2A1B3C", key: "mx/4F2A1B3C", code: 554, dsn: "5.7.1", sender: "s@r.example", recipient: "a@c.example" } });
    // postscreen's form, as its documentation shows it: the client's port after the address, commas in the envelope.
    expect(
      parse(
        "Dec 05 12:00:00 mx postfix/postscreen[1]: NOQUEUE: reject: RCPT from [192.0.2.1]:5678: 550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org; from=<s@r.example>, to=<a@b.example>, proto=ESMTP, helo=<x>",
      ),
    ).toMatchObject({
      ok: true,
      event: {
        kind: "reject",
        code: 550,
        dsn: "5.7.1",
        sender: "s@r.example",
        recipient: "a@b.example",
        reply: "550 5.7.1 Service unavailable; client [192.0.2.1] blocked using zen.spamhaus.org",
      },
    });
    expect(parse("Dec 05 12:00:00 mx postfix/smtpd[1]: NOQUEUE: milter-reject: MAIL from x[192.0.2.1]: 550 5.7.1 Spam; from=<> proto=ESMTP helo=<x>")).toMatchObject({
      ok: true,
      event: { kind: "reject", dsn: "5.7.1", sender: null, recipient: null },
    });
    expect(
      parse(
        "Dec 05 12:00:00 mx postfix/cleanup[1]: 4F2A1B3C: reject: header Subject: win big from x[192.0.2.1]; from=<s@r.example> to=<a@b.example> proto=ESMTP helo=<x>: 5.7.1 No spam",
      ),
    ).toMatchObject({ ok: true, event: { kind: "reject", code: null, dsn: "5.7.1", reply: "5.7.1 No spam", recipient: "a@b.example" } });
  });
});

describe("the Postfix parser on arbitrary input", () => {
  // Pieces of real lines, recombined: close enough to the grammar to reach every branch.
  const pieces = [...new Set(CAPTURED.flatMap((line) => line.split(/(?<=[ :,=<>()[\]])/)))];
  const lineLike = fc
    .array(fc.oneof(fc.constantFrom(...pieces), fc.string({ maxLength: 12 }), fc.constantFrom(" ", ": ", ", ", "<", ">", "=", "(", ")")), { maxLength: 40 })
    .map((parts) => parts.join(""));
  const mutated = fc.tuple(fc.constantFrom(...CAPTURED), fc.nat(), fc.nat(), fc.string({ maxLength: 8 })).map(([line, from, length, insert]) => {
    const start = from % (line.length + 1);
    return line.slice(0, start) + insert + line.slice(Math.min(line.length, start + (length % 12)));
  });

  function checked(input: string | Uint8Array) {
    const result = parsePostfixLine(input, "Asia/Taipei", REFERENCE);
    if (!result.ok) {
      expect(result.reason.length).toBeGreaterThan(0);
      expect(typeof result.rawLine).toBe("string");
    } else if (result.event) {
      expect(Number.isFinite(result.event.at)).toBe(true);
    }
    return result;
  }

  it("never throws on bytes, text, recombined or mutated lines; a rejection always says why", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => void checked(bytes)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => void checked(text)),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(lineLike, (text) => void checked(text)),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(mutated, (text) => void checked(text)),
      { numRuns: 3000 },
    );
  });

  it("never throws joining whatever events arbitrary lines make, in any order, with stored state", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(mutated, fc.constantFrom(...CAPTURED)), { maxLength: 60 }), fc.nat(60), (lines, cut) => {
        const events: PostfixEvent[] = [];
        for (const line of lines) {
          const result = parsePostfixLine(line, "UTC", REFERENCE);
          if (result.ok && result.event) events.push(result.event);
        }
        const states = new Map<string, QueueState>();
        const first = joinPostfixEvents(events.slice(0, cut), states);
        const second = joinPostfixEvents(events.slice(cut), new Map([...states].map(([key, state]) => [key, JSON.parse(JSON.stringify(state)) as QueueState])));
        for (const record of [...first.records, ...second.records]) {
          expect(["OK", "RETRY", "FAIL"]).toContain(record.status);
          expect(record.fingerprint).toMatch(/^[0-9a-f]{32}$/);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
