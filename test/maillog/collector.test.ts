import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import iconv from "iconv-lite";
import { collectSource, type LogSource } from "../../src/maillog/collector";
import { pruneMailLog } from "../../src/maillog/maillog.service";
import { createPgLogStore, type LogStore } from "../../src/maillog/sql";
import type { TestApp } from "../helpers/test-app";
import { useLogStore, useTestApp } from "../helpers/use-test-app";
import { makeAccount, makeDomain, uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";

describe("delivery-log collector", () => {
  let app: TestApp;
  let store: LogStore;
  let directory: string;
  useTestApp((started) => (app = started.app));
  useLogStore((opened) => (store = opened));
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "mailadmin-logs-"));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  function source(file = "maillog", name = uniqueName("src")): LogSource {
    return { name, path: join(directory, file), timeZone: "Asia/Taipei" };
  }
  const lines = (count: number, tag = uniqueName("s")) => Array.from({ length: count }, (_, index) => logLine({ subject: `${tag} ${index}` }));
  const stored = (sourceName: string) => app.deps.db.mailLogRecord.count({ where: { sourceName } });

  it("reads a file, then only what was appended; an unfinished last line waits for its end", async () => {
    const src = source();
    writeFileSync(src.path, `${lines(3).join("\n")}\n`);
    expect(await collectSource(store, src)).toMatchObject({ linesRead: 3, accepted: 3, duplicates: 0, rejected: 0, errors: [] });
    const [fourth, fifth, sixth] = lines(3);
    appendFileSync(src.path, `${fourth}\n${fifth}\n${sixth!.slice(0, 20)}`);
    expect(await collectSource(store, src)).toMatchObject({ linesRead: 2, accepted: 2 });
    appendFileSync(src.path, `${sixth!.slice(20)}\n`);
    expect(await collectSource(store, src)).toMatchObject({ linesRead: 1, accepted: 1, rejected: 0 });
    expect(await collectSource(store, src)).toMatchObject({ linesRead: 0, accepted: 0 });
    expect(await stored(src.name)).toBe(6);
  });

  it("counts lines older than the retention (notBefore, as the scheduler sets it) as tooOld and stores only the others", async () => {
    const src = { ...source(), notBefore: new Date(Date.now() - 183 * 86_400_000) };
    const old = "2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL - (FW: 痘痘學-有照片參考位置/719433)FAIL Destination mailbox exceeds quota";
    writeFileSync(src.path, `${old}\n${lines(2).join("\n")}\n`);
    expect(await collectSource(store, src)).toMatchObject({ linesRead: 3, accepted: 2, tooOld: 1, rejected: 0, errors: [] });
    expect(await stored(src.name)).toBe(2);
  });

  it("survives rotation: finishes the renamed file, then reads the new one from its start", async () => {
    const src = source();
    writeFileSync(src.path, `${lines(2).join("\n")}\n`);
    await collectSource(store, src);
    appendFileSync(src.path, `${lines(1)[0]}\n`);
    renameSync(src.path, `${src.path}.1`);
    writeFileSync(src.path, `${lines(2).join("\n")}\n`);
    expect(await collectSource(store, src)).toMatchObject({ files: 2, linesRead: 3, accepted: 3, duplicates: 0 });
    expect(await stored(src.name)).toBe(5);
  });

  it("survives truncation: a file that shrank is read again from its start", async () => {
    const src = source();
    writeFileSync(src.path, `${lines(3).join("\n")}\n`);
    await collectSource(store, src);
    truncateSync(src.path, 0);
    appendFileSync(src.path, `${lines(2).join("\n")}\n`);
    expect(await collectSource(store, src)).toMatchObject({ linesRead: 2, accepted: 2, duplicates: 0 });
    expect(await stored(src.name)).toBe(5);
  });

  it("resumes after a restart exactly where it stopped, neither re-reading nor skipping", async () => {
    const src = source();
    writeFileSync(src.path, `${lines(4).join("\n")}\n`);
    await collectSource(store, src);
    // A new process: a new database connection, nothing in memory.
    const restarted = createPgLogStore(process.env.DATABASE_URL!);
    try {
      expect(await collectSource(restarted, src)).toMatchObject({ linesRead: 0, accepted: 0 });
      appendFileSync(src.path, `${lines(2).join("\n")}\n`);
      expect(await collectSource(restarted, src)).toMatchObject({ linesRead: 2, accepted: 2, duplicates: 0 });
    } finally {
      await restarted.close();
    }
    expect(await stored(src.name)).toBe(6);
  });

  it("stores a delivery once when two servers report it, whatever the overlap and order", async () => {
    const all = lines(8);
    const master = source("m2k-1.log", uniqueName("m2k-1-"));
    const slave = source("m2k-2.log", uniqueName("m2k-2-"));
    writeFileSync(master.path, `${all.slice(0, 5).join("\n")}\n`);
    writeFileSync(slave.path, `${all.slice(2).join("\r\n")}\r\n`);
    const fromSlave = await collectSource(store, slave);
    const fromMaster = await collectSource(store, master);
    expect(fromSlave).toMatchObject({ linesRead: 6, accepted: 6, duplicates: 0 });
    expect(fromMaster).toMatchObject({ linesRead: 5, accepted: 2, duplicates: 3 });
    expect((await stored(master.name)) + (await stored(slave.name))).toBe(8);
  });

  it("keeps unreadable lines as rejected, with their line number and reason, and reads Big5 lines", async () => {
    const src = source();
    const tag = uniqueName("b5");
    const big5 = iconv.encode(`${logLine({ subject: `${tag} 會議記錄` })}\n`, "big5");
    writeFileSync(src.path, Buffer.concat([Buffer.from(`${lines(1)[0]}\nthis is not a log line\n\n`), big5]));
    expect(await collectSource(store, src)).toMatchObject({ linesRead: 4, accepted: 2, rejected: 2 });
    const rejected = await app.deps.db.rejectedLogLine.findMany({ where: { sourceName: src.name }, orderBy: { lineNumber: "asc" } });
    expect(rejected.map((line) => [line.lineNumber, line.rawLine, line.reason])).toEqual([
      [2, "this is not a log line", expect.stringContaining("does not start with a date")],
      [3, "", "empty line"],
    ]);
    expect(await app.deps.db.mailLogRecord.count({ where: { subject: `${tag} 會議記錄` } })).toBe(1);
  });

  it("links records to the local account they concern, and keeps unknown addresses too", async () => {
    const { domain } = await makeDomain(app);
    const mary = await makeAccount(app, domain);
    const src = source();
    const tag = uniqueName("link");
    writeFileSync(
      src.path,
      [
        logLine({ direction: "LR", sender: mary.address, recipient: "bob@remote.example", subject: `${tag} out` }),
        logLine({ direction: "RL", sender: "bob@remote.example", recipient: mary.address, subject: `${tag} in` }),
        logLine({ direction: "RL", sender: "bob@remote.example", recipient: `ghost@${domain.name}`, subject: `${tag} ghost` }),
        "",
      ].join("\n"),
    );
    await collectSource(store, src);
    const records = await app.deps.db.mailLogRecord.findMany({ where: { sourceName: src.name }, orderBy: { id: "asc" } });
    expect(records.map((record) => [record.subject, record.localAddress, record.accountId, record.domainId])).toEqual([
      [`${tag} out`, mary.address, mary.id, domain.id],
      [`${tag} in`, mary.address, mary.id, domain.id],
      [`${tag} ghost`, `ghost@${domain.name}`, null, domain.id],
    ]);
  });

  it("prunes records older than the retention and keeps the rest", async () => {
    const src = source();
    const tag = uniqueName("old");
    const day = 86_400_000;
    writeFileSync(src.path, `${[400, 200, 10].map((days) => logLine({ at: new Date(Date.now() - days * day), subject: `${tag} ${days}` })).join("\n")}\n`);
    await collectSource(store, src);
    await pruneMailLog(app.deps.db, new Date(Date.now() - 183 * day), { batchSize: 1 });
    const left = await app.deps.db.mailLogRecord.findMany({ where: { sourceName: src.name }, select: { subject: true } });
    expect(left.map((record) => record.subject)).toEqual([`${tag} 10`]);
  });

  it("reports a missing source as an error instead of failing", async () => {
    const report = await collectSource(store, { name: uniqueName("gone"), path: join(directory, "nope", "maillog"), timeZone: "UTC" });
    expect(report.errors).toEqual([expect.stringContaining("cannot list")]);
  });
});
