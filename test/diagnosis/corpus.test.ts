// The corpus of real-world failures (corpus.ts), end to end: every line is
// pushed through ingestMailLog, and diagnoseDelivery is asked through HTTP
// about the address it concerns, with a real DNS (NSD) and real probes (a
// live SMTP peer, a refused port, a domain that does not exist).
import { randomInt } from "node:crypto";
import { writeFileSync } from "node:fs";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";
import { logStamp } from "../helpers/log-lines";
import { freePort, startSmtpPeer, type RunningPeer } from "../helpers/smtp-peers";
import { newDkimKey, rightParts, zoneBody } from "../dns/zones";
import { CORPUS, type CorpusEntry } from "./corpus";

const DIAGNOSE = `query($address: String) {
  diagnoseDelivery(address: $address) {
    verdict
    findings { code severity summary action actions { actor text escalation } deliveryState replyCode enhancedStatusCode evidence { kind text logRecordId } }
  }
}`;
const INGEST = `mutation($lines: [String!]!) { ingestMailLog(source: "m2k-1", lines: $lines) { accepted duplicates tooOld rejected { reason line } } }`;

const block = `127.${randomInt(16, 250)}.${randomInt(0, 256)}`;
const LIVE = `${block}.10`;
const DEAD = `${block}.12`;
const DKIM_KEY = newDkimKey();
const HOSTED = `${uniqueName("corpus")}.example`;
const REMOTE_UP = `${uniqueName("rup")}.example`;
const REMOTE_DOWN = `${uniqueName("rdown")}.example`;

describe("diagnosis corpus: real-world failure reasons", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;
  let peer: RunningPeer;
  const addressOf = new Map<CorpusEntry, string>();
  const lineOf = new Map<CorpusEntry, string>();

  beforeAll(async () => {
    world = await startDnsWorld([
      { name: HOSTED, records: zoneBody(rightParts("MX", { dkimKey: DKIM_KEY })) },
      { name: REMOTE_DOWN, records: `@ IN MX 10 mx\nmx IN A ${DEAD}` },
      { name: REMOTE_UP, records: `@ IN MX 10 mx\nmx IN A ${LIVE}` },
    ]);
    const port = await freePort(LIVE);
    peer = await startSmtpPeer(LIVE, port, { name: "mx.partner.test", banner: "ready" });
    app = await startTestApp({
      ...world.config,
      PROBE_PORT: String(port),
      PROBE_ALLOW_PRIVATE: "true",
      PROBE_CONNECT_TIMEOUT_MS: "1000",
      PROBE_GREETING_TIMEOUT_MS: "1500",
      PROBE_COMMAND_TIMEOUT_MS: "1500",
      PROBE_RATE_LIMIT_PER_TARGET: "1000",
      PROBE_RATE_LIMIT_PER_USER: "1000",
    });
    support = await tokenFor(app, await supportAdmin(app));
    const { domain } = await makeDomain(app, { name: HOSTED, dkimPublicKey: DKIM_KEY, quotaMb: null, defaultMailboxQuotaMb: 100 });

    // One address per entry, so that each diagnosis sees that entry's line only.
    const lines: string[] = [];
    const now = Date.now();
    for (const [index, entry] of CORPUS.entries()) {
      const local = `c${index}-${uniqueName("u").slice(-6)}`.toLowerCase();
      let address = `${local}@${HOSTED}`;
      if (entry.account !== "missing") {
        const account = await makeAccount(app, domain, { localPart: local, quotaMb: 100 });
        address = account.address;
        if (entry.account === "full") await app.deps.db.account.update({ where: { id: account.id }, data: { usedMb: 100 } });
      }
      const remoteDomain = entry.remote === "up" ? REMOTE_UP : entry.remote === "down" ? REMOTE_DOWN : `${uniqueName("nx")}.example`;
      const remote = `amy@${remoteDomain}`;
      const [from, to] = entry.dir === "LR" ? [address, remote] : [remote, address];
      const at = new Date(now - (CORPUS.length - index) * 60_000);
      const queued = Math.floor((at.getTime() - 30 * 60_000) / 1000);
      const queueId = `${30000 + index}-${queued.toString(16).toUpperCase()}.${(0x8b000 + index).toString(16).toUpperCase().padStart(8, "0")}`;
      const line = `${logStamp(at)} ${queueId} Mail.${entry.dir} ${from} ${to} - (${entry.subject}/${entry.size ?? 4000 + index})${entry.status}`;
      addressOf.set(entry, address);
      lineOf.set(entry, line);
      lines.push(line);
    }
    const ingested = await app.gql(INGEST, { lines }, support);
    expect(ingested.errors).toBeUndefined();
    expect(ingested.data.ingestMailLog).toEqual({ accepted: lines.length, duplicates: 0, tooOld: 0, rejected: [] });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await peer?.stop();
    await world?.stop();
  });

  it("holds at least 40 entries: EZML and Postfix, inbound and outbound, temporary and permanent, with and without codes", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
    const has = (test: (entry: CorpusEntry) => boolean) => CORPUS.filter(test).length;
    expect(has((entry) => entry.style === "ezml")).toBeGreaterThanOrEqual(10);
    expect(has((entry) => entry.style === "postfix")).toBeGreaterThanOrEqual(10);
    expect(has((entry) => entry.dir === "RL")).toBeGreaterThanOrEqual(10);
    expect(has((entry) => entry.dir === "LR")).toBeGreaterThanOrEqual(10);
    expect(has((entry) => entry.expect.state === "RETRYING")).toBeGreaterThanOrEqual(10);
    expect(has((entry) => entry.expect.state === "FAILED")).toBeGreaterThanOrEqual(10);
    expect(has((entry) => /\b[245]\.\d{1,3}\.\d{1,3}\b/.test(entry.status))).toBeGreaterThanOrEqual(10);
    expect(has((entry) => !/\b[245]\d\d\b/.test(entry.status))).toBeGreaterThanOrEqual(10);
    expect(has((entry) => /[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]/.test(entry.subject))).toBeGreaterThanOrEqual(10);
  });

  it.each(CORPUS.map((entry) => [entry.name, entry] as const))("%s", async (_name, entry) => {
    const response = await app.gql(DIAGNOSE, { address: addressOf.get(entry) }, support);
    expect(response.errors).toBeUndefined();
    const { verdict, findings } = response.data.diagnoseDelivery;
    const [first] = findings;
    const expected = entry.expect;
    expect({
      code: first.code,
      actors: first.actions.map((action: { actor: string }) => action.actor),
      state: first.deliveryState,
      severity: first.severity,
      ...("replyCode" in expected ? { replyCode: first.replyCode } : {}),
      ...("enhancedStatusCode" in expected ? { enhancedStatusCode: first.enhancedStatusCode } : {}),
    }).toEqual({
      code: expected.code,
      actors: expected.actors,
      state: expected.state,
      severity: expected.severity ?? "PROBLEM",
      ...("replyCode" in expected ? { replyCode: expected.replyCode } : {}),
      ...("enhancedStatusCode" in expected ? { enhancedStatusCode: expected.enhancedStatusCode } : {}),
    });
    expect(verdict).toBe(first.summary);
    // The finding rests on the line, and says what happens to the message in words too.
    expect(first.evidence).toContainEqual({ kind: "LOG_LINE", text: lineOf.get(entry), logRecordId: expect.stringMatching(/^\d+$/) });
    if (first.code !== "account.missing") {
      expect(first.summary).toMatch(expected.state === "FAILED" ? /failed for good|bounced/ : /retrying|is waiting/);
    }
    // A SERVICE action says what to tell the mail team; no other actor's does.
    for (const action of first.actions) {
      if (action.actor === "SERVICE") expect(action.escalation).toEqual(expect.stringMatching(/\S{10}/));
      else expect(action.escalation).toBeNull();
    }
    expect(first.action).toBe(first.actions.map((action: { text: string }) => action.text).join(" "));
    dumped.push({ name: entry.name, line: lineOf.get(entry), diagnosis: response.data.diagnoseDelivery });
  });

  // DIAGNOSIS_CORPUS_DUMP=<file>: writes every answer, for the worked examples of docs/diagnosis.md.
  const dumped: unknown[] = [];
  afterAll(() => {
    if (process.env.DIAGNOSIS_CORPUS_DUMP) writeFileSync(process.env.DIAGNOSIS_CORPUS_DUMP, JSON.stringify(dumped, null, 1));
  });
});
