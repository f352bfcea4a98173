// Of several servers on one database, exactly one collects the delivery logs:
// the holder of a session-level advisory lock (src/maillog/leadership.ts),
// released with its connection. A batch also checks the offset it starts from,
// so that two collectors believing they lead never store a line twice.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Client } from "pg";
import { CollectorLeadership } from "../../src/maillog/leadership";
import { collectSource, type LogSource } from "../../src/maillog/collector";
import type { LogStore } from "../../src/maillog/sql";
import type { TestApp } from "../helpers/test-app";
import { useLogStore, useTestApp } from "../helpers/use-test-app";
import { uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";

const silent = pino({ level: "silent" });
const onPostgres = process.env.TEST_DATABASE_KIND === "postgresql";

describe("log collector leadership", () => {
  let app: TestApp;
  let store: LogStore;
  let directory: string;
  useTestApp((started) => (app = started.app));
  useLogStore((opened) => (store = opened));
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "mailadmin-lead-"));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  (onPostgres ? it : it.skip)("PostgreSQL: one of two servers leads; when its connection ends, the other takes over at its next try", async () => {
    const changes: string[] = [];
    const first = new CollectorLeadership(process.env.DATABASE_URL!, silent, (leading) => changes.push(`first ${leading}`));
    const second = new CollectorLeadership(process.env.DATABASE_URL!, silent, (leading) => changes.push(`second ${leading}`));
    try {
      expect(await first.lead()).toBe(true);
      expect(await second.lead()).toBe(false);
      // Asking again changes nothing: the holder keeps it, the other still waits.
      expect(await first.lead()).toBe(true);
      expect(await second.lead()).toBe(false);
      await first.release();
      expect(await second.lead()).toBe(true);
      expect(changes).toEqual(["first true", "first false", "second true"]);
    } finally {
      await first.release();
      await second.release();
    }
  });

  (onPostgres ? it : it.skip)("PostgreSQL: a holder whose session dies (its backend terminated) loses the lock, and the other server gets it", async () => {
    const first = new CollectorLeadership(process.env.DATABASE_URL!, silent);
    const second = new CollectorLeadership(process.env.DATABASE_URL!, silent);
    const admin = new Client({ connectionString: process.env.DATABASE_URL! });
    await admin.connect();
    try {
      expect(await first.lead()).toBe(true);
      const holders = await admin.query<{ pid: number }>(
        `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1835100524 AND objid = 1668246636 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(holders.rows).toHaveLength(1);
      await admin.query("SELECT pg_terminate_backend($1)", [holders.rows[0]!.pid]);
      expect(await second.lead()).toBe(true);
      // The old holder notices on its next try and does not collect.
      expect(await first.lead()).toBe(false);
    } finally {
      await admin.end();
      await first.release();
      await second.release();
    }
  });

  (onPostgres ? it.skip : it)("embedded database: one session, so the one server always leads", async () => {
    const only = new CollectorLeadership(process.env.DATABASE_URL!, silent);
    try {
      expect(await only.lead()).toBe(true);
      expect(await only.lead()).toBe(true);
    } finally {
      await only.release();
    }
    expect(await only.lead()).toBe(false);
  });

  it("a batch whose file another collector moved on meanwhile is not stored: nothing twice", async () => {
    const src: LogSource = { name: uniqueName("src"), path: join(directory, "maillog"), timeZone: "Asia/Taipei" };
    writeFileSync(src.path, `${Array.from({ length: 4 }, (_, index) => logLine({ subject: `${src.name} ${index}` })).join("\n")}\n`);
    // The other collector stores the offset between this pass's reading it and its first batch.
    let transactions = 0;
    const racing: LogStore = {
      ...store,
      async transaction(work) {
        transactions++;
        if (transactions === 2) {
          await store.transaction(async (sql) => {
            const [row] = await sql.query<{ fileId: string }>(`SELECT "fileId" FROM "log_file_offset" WHERE "sourceName" = $1`, [src.name]);
            expect(row).toBeUndefined();
            await sql.execute(
              `INSERT INTO "log_file_offset" ("sourceName", "fileId", "path", "offset", "lineNumber", "headHash", "updatedAt") SELECT $1, $2, $3, 0, 0, 'x', now()`,
              [src.name, await fileIdOf(src.path), src.path],
            );
          });
        }
        return store.transaction(work);
      },
    };
    const report = await collectSource(racing, src);
    expect(report.accepted).toBe(0);
    expect(report.errors).toEqual([expect.stringMatching(/another collector stored lines of this file during this pass; left to it/)]);
    expect(await app.deps.db.mailLogRecord.count({ where: { sourceName: src.name } })).toBe(0);
    // The next pass (of whoever collects) reads from the stored offset.
    expect(await collectSource(store, src)).toMatchObject({ linesRead: 4, accepted: 4, duplicates: 0 });
  });
});

async function fileIdOf(path: string): Promise<string> {
  const { stat } = await import("node:fs/promises");
  const info = await stat(path);
  return `${info.dev}:${info.ino}`;
}
