// Postfix's log end to end on the database: the collector reading a
// postfix-format file source over several passes (a message's lines split
// between them), ingestMailLog and the REST push in format POSTFIX, and the
// records read back through mailLog, REST and diagnoseDelivery. The lines are
// the real ones of Debian's Postfix 3.7 (test/maillog/fixtures), moved to
// now and to this test's own domain.
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Account, Domain } from "../../src/generated/prisma/client";
import { collectSource, type LogSource } from "../../src/maillog/collector";
import { loadConfig } from "../../src/config";
import { createPgLogStore, type LogStore } from "../../src/maillog/sql";
import { errorCode, type TestApp } from "../helpers/test-app";
import { useLogStore, useTestApp } from "../helpers/use-test-app";
import { makeAccount, makeDomain, uniqueName } from "../helpers/factories";
import { RestClient } from "../helpers/rest-client";
import { postfixFixture, restamp } from "../helpers/postfix-lines";

const CAPTURED = postfixFixture("maillog_file");
const MAIL_LOG = `query($address: String!, $direction: MailDirection, $status: DeliveryStatus) {
  mailLog(address: $address, range: LAST_6_MONTHS, direction: $direction, status: $status, first: 50) {
    totalCount
    nodes { queueId direction sender recipient localAddress sizeBytes status retryCount reason source rawLine format dsn relay delaySeconds originalRecipient queuedForSeconds subject }
  }
}`;
const INGEST = `mutation($source: String!, $lines: [String!]!, $format: LogFormat) {
  ingestMailLog(source: $source, lines: $lines, timeZone: "UTC", format: $format) { accepted duplicates otherLines rejected { lineNumber reason line } }
}`;

interface Hosted {
  domain: Domain;
  accounts: Record<"alice" | "sender" | "bob" | "full" | "full2", Account>;
  /** The capture's lines, now, from a host of its own, with the capture's hosted domains replaced by this one. */
  lines: string[];
  host: string;
}

describe("Postfix's log on the database", () => {
  let app: TestApp;
  let support: string;
  let store: LogStore;
  let directory: string;
  // The diagnosis checks the hosted domain's DNS, which nothing answers here: fail fast.
  useTestApp((started) => ({ app, support } = started), { DNS_QUERY_TIMEOUT_MS: "200", DNS_QUERY_ATTEMPTS: "1", DNS_CHECK_TIMEOUT_MS: "1000" });
  useLogStore((opened) => (store = opened));
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), "mailadmin-postfix-"));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  /** A hosted domain with the capture's mailboxes (full2 with a 1 MiB quota), and the capture moved to it and to ten minutes ago. */
  async function hosted(): Promise<Hosted> {
    const { domain } = await makeDomain(app);
    const account = (localPart: string, quotaMb = 100) => makeAccount(app, domain, { localPart, quotaMb });
    const accounts = { alice: await account("alice"), sender: await account("sender"), bob: await account("bob"), full: await account("full"), full2: await account("full2", 1) };
    const host = uniqueName("mx");
    const lines = restamp(CAPTURED, { start: new Date(Date.now() - 10 * 60_000), domains: { "hosted.test": domain.name, "lmtp.test": domain.name }, host });
    return { domain, accounts, lines, host };
  }

  const mailLog = async (address: string, variables: Record<string, unknown> = {}) => {
    const response = await app.gql(MAIL_LOG, { address, ...variables }, support);
    expect(response.errors).toBeUndefined();
    return response.data.mailLog as { totalCount: number; nodes: any[] };
  };

  it("collects a postfix-format file over several passes, joining a message's lines across them, and stores each record once", async () => {
    const world = await hosted();
    const { lines } = world;
    const name = world.domain.name;
    const source: LogSource = { name: uniqueName("mx"), path: join(directory, "maillog"), timeZone: "UTC", format: "postfix" };
    // Pass 1 ends after the first message's from= line, before its delivery; pass 2 after the second deferral.
    const firstDelivery = lines.findIndex((line) => line.includes("status=sent"));
    const deferrals = lines.flatMap((line, index) => (line.includes("status=deferred") ? [index] : []));
    const cuts = [firstDelivery, deferrals[1]! + 1, lines.length];
    writeFileSync(source.path, "");
    const reports = [];
    let from = 0;
    for (const cut of cuts) {
      appendFileSync(source.path, `${lines.slice(from, cut).join("\n")}\n`);
      // Each pass as a new process would make it: its own connection, nothing in memory.
      const restarted = createPgLogStore(process.env.DATABASE_URL!);
      try {
        reports.push(await collectSource(restarted, source));
      } finally {
        await restarted.close();
      }
      from = cut;
    }
    expect(reports.map((report) => report.errors)).toEqual([[], [], []]);
    expect(reports[0]).toMatchObject({ linesRead: firstDelivery, accepted: 0, rejected: 0 });
    expect(reports.reduce((total, report) => total + report.accepted, 0)).toBe(17);
    expect(reports.reduce((total, report) => total + report.linesRead, 0)).toBe(lines.length);
    const recordLines = lines.filter((line) => /status=(sent|deferred|bounced|expired)|: reject: /.test(line)).length;
    expect(reports.reduce((total, report) => total + report.otherLines, 0)).toBe(lines.length - recordLines);

    // The first message's sender and size came from pass 1, its delivery from pass 2.
    const alice = await mailLog(`alice@${name}`);
    expect(alice.nodes.map((node) => [node.sender, node.sizeBytes, node.status, node.originalRecipient, node.format])).toEqual(
      expect.arrayContaining([
        [`sender@${name}`, 418, "OK", null, "POSTFIX"],
        ["someone@remote.test", 413, "OK", `info@${name}`, "POSTFIX"],
      ]),
    );
    // The deferrals counted across passes, then the expiry.
    const outbound = await mailLog(`sender@${name}`, { direction: "OUTBOUND" });
    const toRemote = outbound.nodes.filter((node) => node.recipient === "friend@remote.test").reverse();
    expect(toRemote.map((node) => [node.status, node.retryCount, node.dsn, node.sizeBytes, node.relay])).toEqual([
      ["RETRY", 0, "4.4.1", 419, "none"],
      ["RETRY", 1, "4.4.1", 419, "none"],
      ["RETRY", 2, "4.4.1", 419, "none"],
      ["RETRY", 3, "4.4.1", 419, "none"],
      ["FAIL", null, "4.4.1", 419, "none"],
    ]);
    // Every message of the capture left the queue: no state is left for the source.
    expect(await app.deps.db.postfixQueueState.count({ where: { sourceName: source.name } })).toBe(0);

    // The file replaced by another holding the same lines: read from its start, nothing stored twice.
    writeFileSync(`${source.path}.new`, `${lines.join("\n")}\nnot a Postfix line\n`);
    renameSync(`${source.path}.new`, source.path);
    const again = await collectSource(store, source);
    expect(again).toMatchObject({ linesRead: lines.length + 1, accepted: 0, duplicates: 17, rejected: 1, errors: [] });
    expect(await app.deps.db.mailLogRecord.count({ where: { sourceName: source.name } })).toBe(17);
    const [kept] = await app.deps.db.rejectedLogLine.findMany({ where: { sourceName: source.name } });
    expect(kept).toMatchObject({ rawLine: "not a Postfix line", reason: expect.stringContaining("syslog time stamp"), lineNumber: lines.length + 1 });
  });

  it("keeps a message's state until the pruning age, and an EZML source of the same file format stays EZML", async () => {
    const world = await hosted();
    const source = uniqueName("mx");
    // Only the beginning of a message: its from= line and no end.
    const queued = world.lines.filter((line) => line.includes("qmgr") && line.includes("size=418"));
    const pushed = await app.gql(INGEST, { source, lines: queued, format: "POSTFIX" }, support);
    expect(pushed.data.ingestMailLog).toMatchObject({ accepted: 0, duplicates: 0, otherLines: 1, rejected: [] });
    const state = await app.deps.db.postfixQueueState.findMany({ where: { sourceName: source } });
    expect(state).toEqual([
      expect.objectContaining({ queueKey: expect.stringMatching(new RegExp(`^${world.host}/[0-9A-F]+$`)), state: { sender: `sender@${world.domain.name}`, size: 418 } }),
    ]);
    // Not yet old enough, then (moved back in time) pruned.
    const { pruneMailLog } = await import("../../src/maillog/maillog.service");
    await pruneMailLog(app.deps.db, new Date(0), { queueStateDays: 10 });
    expect(await app.deps.db.postfixQueueState.count({ where: { sourceName: source } })).toBe(1);
    await app.deps.db.$executeRawUnsafe(`UPDATE "postfix_queue_state" SET "updatedAt" = "updatedAt" - interval '11 days' WHERE "sourceName" = $1`, source);
    await pruneMailLog(app.deps.db, new Date(0), { queueStateDays: 10 });
    expect(await app.deps.db.postfixQueueState.count({ where: { sourceName: source } })).toBe(0);
    // Without a format the same lines are EZML's, and none of them is an EZML line.
    const asEzml = await app.gql(INGEST, { source, lines: queued }, support);
    expect(asEzml.data.ingestMailLog).toMatchObject({ accepted: 0, otherLines: 0, rejected: [{ lineNumber: 1, reason: expect.stringContaining("YYYY/MM/DD") }] });
  });

  it("takes pushed Postfix lines over GraphQL in two calls, and mailLog and REST read them with what only Postfix says", async () => {
    const world = await hosted();
    const name = world.domain.name;
    const source = uniqueName("mx");
    const cut = world.lines.findIndex((line) => line.includes("status=sent"));
    const first = await app.gql(INGEST, { source, lines: world.lines.slice(0, cut), format: "POSTFIX" }, support);
    const second = await app.gql(INGEST, { source, lines: world.lines.slice(cut), format: "POSTFIX" }, support);
    expect(first.data.ingestMailLog).toMatchObject({ accepted: 0, duplicates: 0, rejected: [] });
    expect(second.data.ingestMailLog).toMatchObject({ accepted: 17, duplicates: 0, rejected: [] });
    // Every line but the delivery attempts, rejections and the expiry is joined into them or is about something else.
    const recordLines = world.lines.filter((line) => /status=(sent|deferred|bounced|expired)|: reject: /.test(line)).length;
    expect(first.data.ingestMailLog.otherLines + second.data.ingestMailLog.otherLines).toBe(world.lines.length - recordLines);

    const alice = await mailLog(`alice@${name}`);
    expect(alice.totalCount).toBe(3);
    const direct = alice.nodes.find((node) => node.sender === `sender@${name}`);
    expect(direct).toMatchObject({
      direction: "INBOUND",
      recipient: `alice@${name}`,
      localAddress: `alice@${name}`,
      sizeBytes: 418,
      status: "OK",
      reason: "delivered to maildir",
      format: "POSTFIX",
      dsn: "2.0.0",
      relay: "virtual",
      delaySeconds: 0.03,
      originalRecipient: null,
      queuedForSeconds: 0,
      subject: "",
      source,
    });
    expect(world.lines).toContain(direct.rawLine);

    // Delivered over LMTP to a hosted mailbox: inbound, linked to the recipient's account.
    const bob = await mailLog(`bob@${name}`);
    expect(bob.nodes).toEqual([
      expect.objectContaining({ direction: "INBOUND", localAddress: `bob@${name}`, relay: "127.0.0.47[127.0.0.47]:24241", status: "OK", sizeBytes: 414 }),
    ]);
    expect(await app.deps.db.mailLogRecord.findFirst({ where: { localAddress: `bob@${name}` } })).toMatchObject({ accountId: world.accounts.bob.id, domainId: world.domain.id });

    // Outbound: linked to the sender's account, the remote's reply and code kept.
    const bounced = await mailLog(`sender@${name}`, { direction: "OUTBOUND", status: "FAIL" });
    expect(bounced.nodes.map((node) => [node.recipient, node.dsn])).toEqual(
      expect.arrayContaining([
        ["nobody@bouncing.test", "5.1.1"],
        ["friend@remote.test", "4.4.1"],
      ]),
    );
    expect(bounced.nodes.find((node) => node.dsn === "5.1.1").reason).toContain("550 5.1.1 <nobody@bouncing.test>: Recipient address rejected");

    // A rejection at RCPT time for an address that has no mailbox: a record of the hosted domain, size unknown (0).
    const ghost = await mailLog(`ghost@${name}`);
    expect(ghost.nodes).toEqual([
      expect.objectContaining({ queueId: null, direction: "INBOUND", sender: "someone@remote.test", sizeBytes: 0, status: "FAIL", dsn: "5.1.1", relay: null, delaySeconds: null }),
    ]);
    const stored = await app.deps.db.mailLogRecord.findFirst({ where: { localAddress: `ghost@${name}` } });
    expect(stored).toMatchObject({ domainId: world.domain.id, accountId: null, sizeBytes: null });

    // REST answers the same records, with the new fields, as its OpenAPI document says.
    const rest = await RestClient.connect(app);
    const page = await rest.request("GET", `/api/v1/accounts/${encodeURIComponent(`alice@${name}`)}/mail-log`, { token: support, query: { range: "LAST_6_MONTHS" } });
    expect(page.status).toBe(200);
    const restRecords: any[] = page.body.items;
    expect(restRecords.map((record) => [record.sender, record.sizeBytes, record.format, record.dsn, record.relay, record.originalRecipient]).sort()).toEqual(
      alice.nodes.map((node) => [node.sender, node.sizeBytes, node.format, node.dsn, node.relay, node.originalRecipient]).sort(),
    );
    const ghostPage = await rest.request("GET", `/api/v1/accounts/${encodeURIComponent(`ghost@${name}`)}/mail-log`, { token: support, query: { range: "LAST_6_MONTHS" } });
    expect(ghostPage.body.items[0]).toMatchObject({ sizeBytes: null, dsn: "5.1.1", format: "POSTFIX" });
  });

  it("takes Postfix lines pushed over REST as text, and diagnoseDelivery names a 5.2.2 refusal a quota problem", async () => {
    const world = await hosted();
    const name = world.domain.name;
    const rest = await RestClient.connect(app);
    const source = uniqueName("mx");
    const pushed = await rest.request("POST", `/api/v1/mail-log/${source}`, {
      token: support,
      raw: `${world.lines.join("\r\n")}\r\n`,
      contentType: "text/plain",
      query: { format: "POSTFIX", timeZone: "UTC" },
    });
    expect(pushed.status).toBe(200);
    expect(pushed.body).toMatchObject({ accepted: 17, duplicates: 0, rejected: [] });
    const again = await rest.request("POST", `/api/v1/mail-log/${source}`, { token: support, json: { lines: world.lines, timeZone: "UTC", format: "POSTFIX" } });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 17 });
    const wrong = await rest.request("POST", `/api/v1/mail-log/${source}`, { token: support, json: { lines: world.lines, format: "syslog" } });
    expect(wrong.status).toBe(400);

    const diagnosis = await app.gql(
      `query($address: String) { diagnoseDelivery(address: $address) { records { dsn status } findings { code severity evidence { kind text } } } }`,
      { address: `full2@${name}` },
      support,
    );
    expect(diagnosis.errors).toBeUndefined();
    expect(diagnosis.data.diagnoseDelivery.records).toEqual([{ dsn: "5.2.2", status: "FAIL" }]);
    const quota = diagnosis.data.diagnoseDelivery.findings.find((finding: any) => finding.code === "mailbox.quota_exceeded");
    expect(quota).toMatchObject({ severity: "PROBLEM" });
    expect(quota.evidence.map((evidence: any) => evidence.kind)).toContain("LOG_LINE");
  });

  it("refuses a format it does not know, in GraphQL and in the configuration", async () => {
    const response = await app.gql(INGEST, { source: "mx-1", lines: [CAPTURED[0]], format: "SYSLOG" }, support);
    expect(errorCode(response)).toBe("BAD_USER_INPUT");
    expect(() => loadConfig({ LOG_SOURCES: '[{"name":"mx-1","path":"/var/log/mail.log","format":"syslog"}]' })).toThrow(/format.*"ezml".*"postfix"/);
    expect(loadConfig({ LOG_SOURCES: '[{"name":"m2k-1","path":"/var/log/ezml/maillog"}]' }).LOG_SOURCES).toEqual([
      { name: "m2k-1", path: "/var/log/ezml/maillog", timeZone: "Asia/Taipei", format: "ezml" },
    ]);
  });
});
