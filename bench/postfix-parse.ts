// Postfix log parser benchmark: lines parsed a second on one core (the
// target is 300,000, as for EZML lines), and parsed and joined into records.
//
//   npm run bench:postfix -- --lines 500000 --passes 5
//   npm run bench:postfix -- --ingest                              # and through the collector, embedded database
//   DATABASE_URL=postgresql://.../mailadmin_bench npm run bench:postfix -- --ingest
//
// With --ingest the lines are also written to a file and collected as a
// postfix-format source (read, parse, join with the stored queue state,
// link, store, offsets) into a fresh database: a PostgreSQL database must
// have "bench" in its name (its schema is emptied).
//
// The input is generated in the shape of the real lines of Debian's Postfix
// 3.7 (test/maillog/fixtures/postfix-maillog_file.log): per message its
// smtpd connect, client=, cleanup message-id=, qmgr from=, one or two
// delivery attempts (virtual, lmtp or smtp: sent, some deferred or bounced),
// qmgr removed and the disconnect; a rejection at RCPT time now and then.
// Lines are bytes, as the collector reads them; the best pass is reported.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { joinPostfixEvents, parsePostfixLine, type PostfixEvent, type QueueState } from "../src/maillog/postfix";
import { collectSource } from "../src/maillog/collector";
import { createPgLogStore } from "../src/maillog/sql";
import { emptyDatabase } from "../src/db/reset";
import { startEmbeddedDatabase } from "../src/db/embedded";
import { runMigrations } from "../src/db/migrate";

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const lineCount = argument("lines", 500_000);
const passes = argument("passes", 5);

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/** A deterministic pseudo-random sequence (mulberry32): every run parses the same bytes. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let value = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function generate(count: number): Buffer[] {
  const next = random(42);
  const lines: string[] = [];
  // 1 December 2026, UTC, one message every 0.4 s.
  let clock = Date.UTC(2026, 11, 1);
  let queue = 0x20c000;
  const stampOf = (at: number) => {
    const date = new Date(at);
    return `${MONTHS[date.getUTCMonth()]} ${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  };
  const line = (at: number, program: string, text: string) => lines.push(`${stampOf(at)} mx1 postfix/${program}[${1000 + Math.floor(next() * 30000)}]: ${text}`);
  while (lines.length < count) {
    clock += 400;
    const client = `mail${Math.floor(next() * 500)}.remote${Math.floor(next() * 50)}.example[192.0.2.${Math.floor(next() * 250)}]`;
    const user = `user${Math.floor(next() * 100_000)}@domain${Math.floor(next() * 3000)}.example`;
    const remote = `someone${Math.floor(next() * 100_000)}@remote${Math.floor(next() * 500)}.example`;
    line(clock, "smtpd", `connect from ${client}`);
    if (next() < 0.1) {
      line(
        clock,
        "smtpd",
        `NOQUEUE: reject: RCPT from ${client}: 550 5.1.1 <${user}>: Recipient address rejected: User unknown in virtual mailbox table; from=<${remote}> to=<${user}> proto=ESMTP helo=<mail.remote.example>`,
      );
      line(clock, "smtpd", `disconnect from ${client} ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4`);
      continue;
    }
    const id = (queue++).toString(16).toUpperCase() + "C2B9";
    const inbound = next() < 0.6;
    const [from, to] = inbound ? [remote, user] : [user, remote];
    line(clock, "smtpd", `${id}: client=${client}`);
    line(clock, "cleanup", `${id}: message-id=<${clock}.${id}@mx1.example>`);
    line(clock, "qmgr", `${id}: from=<${from}>, size=${1000 + Math.floor(next() * 200_000)}, nrcpt=1 (queue active)`);
    line(clock, "smtpd", `disconnect from ${client} ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5`);
    if (inbound) {
      line(clock + 20, "lmtp", `${id}: to=<${to}>, relay=mail.example[private/dovecot-lmtp], delay=0.15, delays=0/0.03/0.12/0, dsn=2.0.0, status=sent (250 2.0.0 <${to}> Saved)`);
    } else if (next() < 0.15) {
      line(clock + 30, "smtp", `connect to remote.example[198.51.100.7]:25: Connection timed out`);
      line(
        clock + 30,
        "smtp",
        `${id}: to=<${to}>, relay=none, delay=30, delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to remote.example[198.51.100.7]:25: Connection timed out)`,
      );
      continue;
    } else if (next() < 0.1) {
      line(
        clock + 50,
        "smtp",
        `${id}: to=<${to}>, relay=mx.remote.example[198.51.100.7]:25, delay=0.5, delays=0.01/0/0.2/0.29, dsn=5.1.1, status=bounced (host mx.remote.example[198.51.100.7] said: 550 5.1.1 <${to}>: Recipient address rejected: User unknown (in reply to RCPT TO command))`,
      );
    } else {
      line(
        clock + 50,
        "smtp",
        `${id}: to=<${to}>, relay=mx.remote.example[198.51.100.7]:25, delay=0.5, delays=0.01/0/0.2/0.29, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4F2A1B3C)`,
      );
    }
    line(clock + 60, "qmgr", `${id}: removed`);
  }
  return lines.slice(0, count).map((text) => Buffer.from(text, "utf8"));
}

const input = generate(lineCount);
const reference = Date.UTC(2026, 11, 20);
let bestParse = Infinity;
let bestJoin = Infinity;
let checksum = 0;
let records = 0;
let rejected = 0;
for (let pass = 0; pass < passes; pass++) {
  const events: PostfixEvent[] = [];
  let started = process.hrtime.bigint();
  for (const bytes of input) {
    const result = parsePostfixLine(bytes, "UTC", reference);
    if (!result.ok) rejected++;
    else if (result.event) {
      events.push(result.event);
      checksum = (checksum + result.event.at) % 1_000_000_007;
    }
  }
  bestParse = Math.min(bestParse, Number(process.hrtime.bigint() - started) / 1e9);
  started = process.hrtime.bigint();
  const joined = joinPostfixEvents(events, new Map<string, QueueState>());
  bestJoin = Math.min(bestJoin, Number(process.hrtime.bigint() - started) / 1e9);
  records = joined.records.length;
}
if (rejected > 0) throw new Error(`${rejected} generated lines were rejected`);
const results: Record<string, unknown> = {
  lines: lineCount,
  passes,
  records,
  parseBestSeconds: Number(bestParse.toFixed(4)),
  parseLinesPerSecond: Math.round(lineCount / bestParse),
  joinBestSeconds: Number(bestJoin.toFixed(4)),
  parseAndJoinLinesPerSecond: Math.round(lineCount / (bestParse + bestJoin)),
  target: 300_000,
  checksum,
};

async function ingest(): Promise<void> {
  const externalUrl = process.env.DATABASE_URL;
  const work = mkdtempSync(join(tmpdir(), "mailadmin-bench-postfix-"));
  let embedded;
  try {
    const path = join(work, "postfix.log");
    writeFileSync(path, Buffer.concat(input.flatMap((line) => [line, Buffer.from("\n")])));
    let url: string;
    if (externalUrl) {
      await emptyDatabase(externalUrl, "bench");
      url = externalUrl;
    } else {
      embedded = await startEmbeddedDatabase(join(work, "db"));
      url = embedded.url;
    }
    await runMigrations(url);
    const store = createPgLogStore(url, 1);
    try {
      const started = process.hrtime.bigint();
      const report = await collectSource(store, { name: "mx-1", path, timeZone: "UTC", format: "postfix" });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (report.errors.length > 0) throw new Error(`collection failed: ${report.errors.join("; ")}`);
      results.ingest = {
        database: externalUrl ? "postgresql" : "embedded (PGlite)",
        linesRead: report.linesRead,
        accepted: report.accepted,
        seconds: Number(seconds.toFixed(1)),
        linesPerSecond: Math.round(report.linesRead / seconds),
      };
    } finally {
      await store.close();
    }
  } finally {
    await embedded?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

(process.argv.includes("--ingest") ? ingest() : Promise.resolve())
  .then(() => process.stdout.write(`${JSON.stringify(results)}\n`))
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
