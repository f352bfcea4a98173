import iconv from "iconv-lite";
import { ingestLines, type LogLineInput } from "../../src/maillog/ingest";
import { prismaExecutor, type LogStore } from "../../src/maillog/sql";
import type { TestApp } from "../helpers/test-app";
import { useLogStore, useTestApp } from "../helpers/use-test-app";
import { makeAccount, makeDomain, uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";

// A batch reaches the database as COPY text (the collector's executors on
// PostgreSQL) or as JSON (Prisma, which pushes use, and the embedded
// database, which cannot COPY); both must store and link the same.
describe("storing parsed delivery-log lines", () => {
  let app: TestApp;
  let store: LogStore;
  useTestApp((started) => (app = started.app));
  useLogStore((opened) => (store = opened));

  const ways = {
    "the collector's connection (COPY on PostgreSQL)": (source: string, lines: LogLineInput[]) =>
      store.transaction((sql) => ingestLines(sql, { name: source, timeZone: "Asia/Taipei" }, lines)),
    "Prisma (JSON)": (source: string, lines: LogLineInput[]) => ingestLines(prismaExecutor(app.deps.db), { name: source, timeZone: "Asia/Taipei" }, lines),
  };
  const numbered = (contents: (string | Uint8Array)[]): LogLineInput[] => contents.map((content, index) => ({ content, lineNumber: index + 1 }));
  const storedRecords = (sourceName: string) =>
    app.deps.db.mailLogRecord.findMany({
      where: { sourceName },
      orderBy: { id: "asc" },
      omit: { id: true, ingestedAt: true, sourceName: true },
    });

  it("copies on PostgreSQL and sends JSON to the embedded database, which cannot COPY", async () => {
    expect(await store.supportsCopy()).toBe(process.env.TEST_DATABASE_KIND !== "pglite");
  });

  it("gives the embedded database's executors no COPY at all", async () => {
    const offered = await store.transaction(async (sql) => typeof sql.copyFrom);
    expect(offered).toBe(process.env.TEST_DATABASE_KIND === "pglite" ? "undefined" : "function");
  });

  // Only PostgreSQL is asked to COPY (the test above holds the embedded database to that).
  const copyTest = (name: string, test: () => Promise<void>) => {
    if (process.env.TEST_DATABASE_KIND !== "pglite") it(name, test);
  };
  copyTest("reports a failed COPY as an error and keeps the connection usable (PostgreSQL)", async () => {
    const copyInto = (table: string, data: string) =>
      store.transaction(async (sql) => {
        await sql.execute(`CREATE TEMP TABLE IF NOT EXISTS "copy_check" (word text, number int) ON COMMIT DELETE ROWS`, []);
        const copied = await sql.copyFrom!(`COPY "${table}" FROM STDIN`, Buffer.from(data));
        return [copied, await sql.query<{ word: string; number: number }>(`SELECT * FROM "copy_check" ORDER BY number`, [])] as const;
      });
    await expect(copyInto("copy_check", "one\tnot a number\n")).rejects.toThrow('invalid input syntax for type integer: "not a number"');
    await expect(copyInto("no_such_table", "one\t1\n")).rejects.toThrow('relation "no_such_table" does not exist');
    expect(await copyInto("copy_check", "one\t1\ntwo\\tthree\t2\n")).toEqual([
      2,
      [
        { word: "one", number: 1 },
        { word: "two\tthree", number: 2 },
      ],
    ]);
  });

  it("stores the same records whichever way the batch travels, whatever the line holds", async () => {
    const { domain } = await makeDomain(app);
    const mary = await makeAccount(app, domain);
    const tag = uniqueName("same");
    const lines = numbered([
      logLine({
        direction: "LR",
        sender: mary.address,
        recipient: "bob@remote.example",
        subject: `${tag} tab\there, back\\slash, \\N and \\.`,
        status: "RETRY.2 Connection\trefused",
      }),
      `${logLine({ direction: "RL", sender: "bob@remote.example", recipient: mary.address, subject: `${tag} carriage\rreturn and line\nfeed` })}`,
      iconv.encode(logLine({ direction: "RL", recipient: `ghost@${domain.name}`, subject: `${tag} 會議記錄 (第2版)`, status: "FAIL Destination mailbox exceeds quota" }), "cp950"),
      Buffer.from(`${logLine({ subject: `${tag} 痘痘學 😀` })} \u0000\r\n`, "utf8"),
      `2005/06/01 15:20:56 - (${tag} no header/402)OK`,
    ]);
    const [first, second] = Object.values(ways);
    const sourceOne = uniqueName("one");
    expect(await first!(sourceOne, lines)).toEqual({ accepted: 5, duplicates: 0, rejected: [], otherLines: 0, tooOld: 0 });
    const one = await storedRecords(sourceOne);
    // Stored once: the second way finds them already there, until they are gone.
    expect(await second!(uniqueName("again"), lines)).toEqual({ accepted: 0, duplicates: 5, rejected: [], otherLines: 0, tooOld: 0 });
    await app.deps.db.mailLogRecord.deleteMany({ where: { sourceName: sourceOne } });
    const sourceTwo = uniqueName("two");
    expect(await second!(sourceTwo, lines)).toEqual({ accepted: 5, duplicates: 0, rejected: [], otherLines: 0, tooOld: 0 });
    expect(await storedRecords(sourceTwo)).toEqual(one);
    expect(one.map((record) => [record.subject, record.reason, record.localAddress, record.accountId, record.domainId])).toEqual([
      [`${tag} tab\there, back\\slash, \\N and \\.`, "Connection\trefused", mary.address, mary.id, domain.id],
      [`${tag} carriage\rreturn and line\nfeed`, null, mary.address, mary.id, domain.id],
      [`${tag} 會議記錄 (第2版)`, "Destination mailbox exceeds quota", `ghost@${domain.name}`, null, domain.id],
      [`${tag} 痘痘學 😀`, null, null, null, null],
      [`${tag} no header`, null, null, null, null],
    ]);
  });

  it.each(Object.entries(ways))("links a record without a direction to whichever of its addresses is hosted here (%s)", async (_way, ingest) => {
    const { domain } = await makeDomain(app);
    const mary = await makeAccount(app, domain);
    const tag = uniqueName("undirected");
    const source = uniqueName("link");
    const line = (subject: string, parts: string) => `2026/11/28 09:00:01 ${parts} - (${tag} ${subject}/100)OK`;
    const result = await ingest(
      source,
      numbered([
        line("hosted sender", `${mary.address} bob@remote.example`),
        line("hosted recipient", `bob@remote.example ${mary.address}`),
        line("hosted domain", `bob@remote.example ghost@${domain.name}`),
        line("nobody hosted", "bob@remote.example alice@elsewhere.example"),
        line("sender only", mary.address),
        line("outbound from outside", `Mail.LR bob@remote.example ${mary.address}`),
      ]),
    );
    expect(result).toEqual({ accepted: 6, duplicates: 0, rejected: [], otherLines: 0, tooOld: 0 });
    const records = await storedRecords(source);
    expect(records.map((record) => [record.subject, record.localAddress, record.accountId, record.domainId])).toEqual([
      [`${tag} hosted sender`, mary.address, mary.id, domain.id],
      [`${tag} hosted recipient`, mary.address, mary.id, domain.id],
      [`${tag} hosted domain`, `ghost@${domain.name}`, null, domain.id],
      [`${tag} nobody hosted`, null, null, null],
      [`${tag} sender only`, mary.address, mary.id, domain.id],
      // The direction decides: outbound mail concerns its sender, hosted here or not.
      [`${tag} outbound from outside`, "bob@remote.example", null, null],
    ]);
  });

  it.each(Object.entries(ways))("counts a line repeated within one batch as a duplicate (%s)", async (_way, ingest) => {
    const [repeated, other] = [logLine({ subject: uniqueName("twice") }), logLine({ subject: uniqueName("once") })];
    const source = uniqueName("repeat");
    expect(await ingest(source, numbered([repeated, other, `${repeated}\r`, "not a log line"]))).toEqual({
      accepted: 2,
      duplicates: 1,
      rejected: [{ lineNumber: 4, reason: expect.stringContaining("does not start with a date"), line: "not a log line" }],
      otherLines: 0,
      tooOld: 0,
    });
    expect(await app.deps.db.mailLogRecord.count({ where: { sourceName: source } })).toBe(2);
  });
});
