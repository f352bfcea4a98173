// Issue 20: the delivery-log table is partitioned by week of loggedAt
// (src/maillog/partitions.ts). Partitions are made ahead when a server starts;
// rows of a week without a partition land in the default partition and are
// moved into their week's partition by the next upkeep; retention drops whole
// partitions; a read of a time range is planned on its partitions only; and
// the keys that include loggedAt still store a delivery once.
import { ensureMailLogPartitions, listMailLogPartitions, partitionName, weekStart, DEFAULT_PARTITION } from "../../src/maillog/partitions";
import { pruneMailLog } from "../../src/maillog/maillog.service";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";

const INGEST = `mutation($source: String!, $lines: [String!]!) {
  ingestMailLog(source: $source, lines: $lines) { accepted duplicates tooOld rejected { lineNumber reason } }
}`;
const DAY = 86_400_000;

describe("the delivery-log table's weekly partitions", () => {
  let app: TestApp;
  let support: string;
  beforeAll(async () => {
    app = await startTestApp({ MAIL_LOG_RETENTION_DAYS: "400" });
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(() => app.close());

  /** The partition each record of a subject prefix is stored in. */
  async function homes(tag: string): Promise<{ subject: string; partition: string }[]> {
    return app.deps.db.$queryRawUnsafe(`SELECT "subject", tableoid::regclass::text AS partition FROM "mail_log_record" WHERE "subject" LIKE $1 ORDER BY "loggedAt"`, `${tag}%`);
  }

  async function ingest(source: string, lines: string[]) {
    const response = await app.gql(INGEST, { source, lines }, support);
    expect(response.errors).toBeUndefined();
    return response.data.ingestMailLog as { accepted: number; duplicates: number; tooOld: number };
  }

  it("has the partitions of this week and the coming weeks once a server has started, and a default partition", async () => {
    const names = (await listMailLogPartitions(app.deps.db)).map((partition) => partition.name);
    const thisWeek = weekStart(new Date());
    for (let ahead = 0; ahead <= 4; ahead++) expect(names).toContain(partitionName(new Date(thisWeek.getTime() + ahead * 7 * DAY)));
    expect(names).toContain(DEFAULT_PARTITION);
    expect(await app.deps.db.$queryRawUnsafe(`SELECT relkind FROM pg_class WHERE relname = 'mail_log_record'`)).toEqual([{ relkind: "p" }]);
  });

  it("stores a record of a week without a partition (the insert does not fail), then moves it into a partition of its week", async () => {
    const { user } = await makeWorld(app);
    const tag = uniqueName("wk");
    const at = new Date(Date.now() - 100 * DAY);
    const lines = [
      logLine({ at, direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} old` }),
      logLine({ direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} today` }),
    ];
    expect(await ingest(uniqueName("src"), lines)).toMatchObject({ accepted: 2, duplicates: 0 });
    const before = await homes(tag);
    // Today's record is in this week's partition from the start (made when the server started).
    expect(before[1]).toEqual({ subject: `${tag} today`, partition: partitionName(weekStart(new Date())) });
    expect([DEFAULT_PARTITION, partitionName(weekStart(at))]).toContain(before[0]!.partition);

    await ensureMailLogPartitions(app.deps.db, new Date());
    expect(await homes(tag)).toEqual([
      { subject: `${tag} old`, partition: partitionName(weekStart(at)) },
      { subject: `${tag} today`, partition: partitionName(weekStart(new Date())) },
    ]);
    const [left] = await app.deps.db.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${DEFAULT_PARTITION}" WHERE "loggedAt" >= $1::timestamp AND "loggedAt" < $2::timestamp`,
      weekStart(at).toISOString(),
      new Date(weekStart(at).getTime() + 7 * DAY).toISOString(),
    );
    expect(left!.n).toBe(0);
    // Upkeep again changes nothing for that week.
    expect((await ensureMailLogPartitions(app.deps.db, new Date())).created).not.toContain(partitionName(weekStart(at)));
  });

  it("plans a read of today on this week's partitions only, never on the older weeks'", async () => {
    const { user } = await makeWorld(app);
    const old = new Date(Date.now() - 60 * DAY);
    await ingest(uniqueName("src"), [logLine({ at: old, direction: "LR", sender: user.address, recipient: "x@remote.example", subject: uniqueName("ex") })]);
    await ensureMailLogPartitions(app.deps.db, new Date());
    const since = new Date(Date.now() - 3_600_000).toISOString();
    // The shape of readMailLog's statement (maillog.service.ts): an address and a lower bound on loggedAt.
    const plan = (
      await app.deps.db.$queryRawUnsafe<{ "QUERY PLAN": string }[]>(
        `EXPLAIN SELECT * FROM "mail_log_record" WHERE "localAddress" = '${user.address}' AND "loggedAt" >= '${since}'::timestamp ORDER BY "loggedAt" DESC LIMIT 51`,
      )
    )
      .map((row) => row["QUERY PLAN"])
      .join("\n");
    const scanned = new Set([...plan.matchAll(/ on (mail_log_record_\w+)/g)].map((match) => match[1]!));
    expect(scanned).toContain(partitionName(weekStart(new Date())));
    expect(scanned).not.toContain(partitionName(weekStart(old)));
    // Only partitions whose week ends after `since` (and the default one, which has no bound) are planned.
    for (const partition of await listMailLogPartitions(app.deps.db)) {
      if (partition.to && partition.to.getTime() <= Date.parse(since)) expect(scanned).not.toContain(partition.name);
    }
  });

  it("stores a delivery once when its line is pushed twice at the same time, and again later (the unique key is fingerprint and loggedAt)", async () => {
    const { user } = await makeWorld(app);
    const tag = uniqueName("dup");
    const lines = [0, 1, 2].map((index) => logLine({ direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} ${index}` }));
    const [first, second] = await Promise.all([ingest(uniqueName("a"), lines), ingest(uniqueName("b"), lines)]);
    expect(first.accepted + second.accepted).toBe(3);
    expect(first.duplicates + second.duplicates).toBe(3);
    expect(await ingest(uniqueName("c"), lines)).toMatchObject({ accepted: 0, duplicates: 3 });
    expect(await app.deps.db.mailLogRecord.count({ where: { subject: { startsWith: tag } } })).toBe(3);
    // The database refuses a second row of the same fingerprint and time, whatever writes it.
    const [row] = await app.deps.db.mailLogRecord.findMany({ where: { subject: `${tag} 0` } });
    await expect(
      app.deps.db.$executeRawUnsafe(
        `INSERT INTO "mail_log_record" ("fingerprint", "loggedAt", "status", "rawLine", "sourceName") VALUES ($1, $2::timestamp, 'OK', 'x', 'x')`,
        row!.fingerprint,
        row!.loggedAt.toISOString(),
      ),
    ).rejects.toThrow(/mail_log_record_\w*fingerprint|unique/i);
  });

  it("drops the partitions of weeks older than the retention, whole, and keeps the rest", async () => {
    const { user } = await makeWorld(app);
    const tag = uniqueName("ret");
    const line = (days: number) =>
      logLine({ at: new Date(Date.now() - days * DAY), direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} ${days}` });
    // The week of a record 195 days old ended more than 183 days ago, whatever the weekday.
    await ingest(uniqueName("src"), [line(195), line(20)]);
    await ensureMailLogPartitions(app.deps.db, new Date());
    const oldWeek = partitionName(weekStart(new Date(Date.now() - 195 * DAY)));
    expect((await listMailLogPartitions(app.deps.db)).map((partition) => partition.name)).toContain(oldWeek);

    await pruneMailLog(app.deps.db, new Date(Date.now() - 183 * DAY));
    expect((await listMailLogPartitions(app.deps.db)).map((partition) => partition.name)).not.toContain(oldWeek);
    expect((await homes(tag)).map((home) => home.subject)).toEqual([`${tag} 20`]);
    // This week's partition and the coming ones are never dropped.
    expect((await listMailLogPartitions(app.deps.db)).map((partition) => partition.name)).toContain(partitionName(weekStart(new Date())));
  });
});
