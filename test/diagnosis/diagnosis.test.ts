// diagnoseDelivery through HTTP: the account, delivery records pushed with
// ingestMailLog, a real probe of remote domains (smtp-server peer and a
// refused port on loopback), and the DNS check of hosted domains (NSD).
import { randomInt } from "node:crypto";
import { appendFileSync } from "node:fs";
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";
import { logStamp } from "../helpers/log-lines";
import { freePort, startSmtpPeer, type RunningPeer } from "../helpers/smtp-peers";
import { newDkimKey, rightParts, zoneBody } from "../dns/zones";

const DIAGNOSE = `query($address: String, $logRecordId: ID) {
  diagnoseDelivery(address: $address, logRecordId: $logRecordId) {
    address verdict
    account { address status quotaMb usedMb }
    records { id status direction recipient rawLine }
    findings { code severity summary action actions { actor text escalation } deliveryState replyCode enhancedStatusCode evidence { kind text logRecordId } }
    probes { domain status verdict attempts { address outcome error } }
    dnsCheck { domainName status findings { check status } }
  }
}`;
const INGEST = `mutation($lines: [String!]!) { ingestMailLog(source: "m2k-1", lines: $lines) { accepted rejected { reason } } }`;

const block = `127.${randomInt(16, 250)}.${randomInt(0, 256)}`;
const LIVE = `${block}.10`;
const DEAD = `${block}.12`;
const DKIM_KEY = newDkimKey();
const name = (label: string) => `${uniqueName(label)}.example`;
const D = {
  quota: name("quota"),
  down: name("down"),
  up: name("up"),
  wrongDns: name("wrongdns"),
  suspended: name("susp"),
  fine: name("fine"),
  remoteDown: name("remotedown"),
  remoteUp: name("remoteup"),
  newcomer: name("newcomer"),
  /** The diagnosis answered in zh-TW. */
  chinese: name("chinese"),
  /** Hosted here but not in DNS at all: not registered, not delegated. */
  unregistered: name("unregistered"),
  /** A remote domain that does not resolve (not in the DNS world). */
  partner: name("partner"),
};

let sequence = 0;
/** A delivery line as the log servers write it, with a queue id dated `queuedAt`. */
function line(spec: { at: Date; queuedAt?: Date; queueSeq?: number; dir: "LR" | "RL"; from: string; to: string; status: string; size?: number; subject?: string }): string {
  const queued = Math.floor((spec.queuedAt ?? new Date(spec.at.getTime() - 60_000)).getTime() / 1000);
  const seq = spec.queueSeq ?? ++sequence + 1000;
  const queueId = `${20000 + seq}-${queued.toString(16).toUpperCase()}.${seq.toString(16).toUpperCase().padStart(8, "0")}`;
  return `${logStamp(spec.at)} ${queueId} Mail.${spec.dir} ${spec.from} ${spec.to} - (${spec.subject ?? "report"}/${spec.size ?? 4000})${spec.status}`;
}
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);

// DIAGNOSIS_DUMP=<file>: appends every answer, for the worked examples of docs/diagnosis.md.
function dump(answer: unknown): void {
  if (process.env.DIAGNOSIS_DUMP) appendFileSync(process.env.DIAGNOSIS_DUMP, `${JSON.stringify({ test: expect.getState().currentTestName, answer })}\n`);
}

describe("diagnoseDelivery", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;
  let peer: RunningPeer;

  beforeAll(async () => {
    const good = zoneBody(rightParts("MX", { dkimKey: DKIM_KEY }));
    const wrong = zoneBody({ ...rightParts("MX", { dkimKey: DKIM_KEY }), mailHost: ["mail IN A 192.0.2.99"] });
    world = await startDnsWorld([
      ...[D.quota, D.down, D.up, D.suspended, D.fine, D.newcomer, D.chinese].map((domain) => ({ name: domain, records: good })),
      { name: D.wrongDns, records: wrong },
      { name: D.remoteDown, records: `@ IN MX 10 mx\nmx IN A ${DEAD}` },
      { name: D.remoteUp, records: `@ IN MX 10 mx\nmx IN A ${LIVE}` },
    ]);
    const port = await freePort(LIVE);
    peer = await startSmtpPeer(LIVE, port, { name: "mx.remoteup.test", banner: "ready" });
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
  });
  afterAll(async () => {
    await app?.close();
    await peer?.stop();
    await world?.stop();
  });

  const ingest = async (lines: string[]) => {
    const response = await app.gql(INGEST, { lines }, support);
    expect(response.data.ingestMailLog).toEqual({ accepted: lines.length, rejected: [] });
  };
  const diagnose = async (variables: { address?: string; logRecordId?: string }, token = support) => {
    const response = await app.gql(DIAGNOSE, variables, token);
    expect(response.errors).toBeUndefined();
    dump(response.data.diagnoseDelivery);
    return response.data.diagnoseDelivery;
  };
  const hosted = (domain: string) => makeDomain(app, { name: domain, dkimPublicKey: DKIM_KEY });

  it("traces an inbound bounce 'exceeds quota' to the mailbox's numbers and says how to fix it", async () => {
    const { domain } = await hosted(D.quota);
    const mary = await makeAccount(app, domain, { quotaMb: 100 });
    await app.deps.db.account.update({ where: { id: mary.id }, data: { usedMb: 100 } });
    const bounces = [
      line({ at: ago(30), dir: "RL", from: "boss@partner.example", to: mary.address, status: "FAIL Destination mailbox exceeds quota", size: 2_097_152 }),
      line({ at: ago(10), dir: "RL", from: "news@partner.example", to: mary.address, status: "FAIL Destination mailbox exceeds quota", size: 719_433 }),
    ];
    await ingest(bounces);

    const result = await diagnose({ address: mary.address });
    const [first] = result.findings;
    expect(first).toMatchObject({ code: "mailbox.quota_exceeded", severity: "PROBLEM" });
    expect(first.summary).toMatch(
      new RegExp(`^${mary.address.replaceAll(".", "\\.")}'s mailbox is full: 100 MB used of 100 MB; 2 incoming messages bounced with "Destination mailbox exceeds quota" since `),
    );
    expect(first.action).toBe(
      `Raise the quota, for example to 512 MB: updateAccount(id: "${mary.id}", input: { quotaMb: 512 }); or ask the user to delete or archive old mail. The senders must send the bounced messages again.`,
    );
    expect(first.evidence).toEqual([
      { kind: "ACCOUNT", text: `${mary.address}: ACTIVE, 100 MB used of 100 MB (100%)`, logRecordId: null },
      { kind: "LOG_LINE", text: bounces[1], logRecordId: expect.stringMatching(/^\d+$/) },
      { kind: "LOG_LINE", text: bounces[0], logRecordId: expect.stringMatching(/^\d+$/) },
    ]);
    // Two tasks for two parties: the customer's mailbox, the senders' resend; the bounces are final.
    expect(first.actions.map((action: { actor: string }) => action.actor)).toEqual(["CUSTOMER", "SENDER"]);
    expect(first.deliveryState).toBe("FAILED");
    expect(result.verdict).toBe(first.summary);
    // The domain's DNS is right: that is said too, after the cause.
    expect(result.findings.map((finding: { code: string }) => finding.code)).toEqual(["mailbox.quota_exceeded", "dns.ok"]);
    expect(result.dnsCheck).toMatchObject({ domainName: D.quota, status: "PASS" });
    expect(result.probes).toEqual([]);
  });

  it("answers in Traditional Chinese for Accept-Language zh-TW: findings, actions, evidence and probe verdicts; codes, enums and values unchanged", async () => {
    const { domain } = await hosted(D.chinese);
    const mary = await makeAccount(app, domain, { quotaMb: 100 });
    await app.deps.db.account.update({ where: { id: mary.id }, data: { usedMb: 100 } });
    const lines = [
      line({ at: ago(30), dir: "RL", from: "boss@partner.example", to: mary.address, status: "FAIL Destination mailbox exceeds quota", size: 2_097_152 }),
      line({ at: ago(10), dir: "RL", from: "news@partner.example", to: mary.address, status: "FAIL Destination mailbox exceeds quota", size: 719_433 }),
      line({ at: ago(20), queuedAt: ago(50), dir: "LR", from: mary.address, to: `bob@${D.remoteUp}`, status: "RETRY.1 Operation timed out" }),
      line({ at: ago(40), queuedAt: ago(190), dir: "LR", from: mary.address, to: `amy@${D.remoteDown}`, status: "RETRY.3 Operation timed out" }),
    ];
    await ingest(lines);

    const english = await diagnose({ address: mary.address });
    const response = await app.gql(DIAGNOSE, { address: mary.address }, support, { "accept-language": "zh-TW" });
    expect(response.errors).toBeUndefined();
    const chinese = response.data.diagnoseDelivery;
    dump(chinese);

    // Programs read the same answer: codes, severities, actors, states, reply codes, evidence kinds and records, probe statuses.
    const shape = (answer: typeof english) => ({
      findings: answer.findings.map((item: any) => ({
        code: item.code,
        severity: item.severity,
        deliveryState: item.deliveryState,
        replyCode: item.replyCode,
        enhancedStatusCode: item.enhancedStatusCode,
        actors: item.actions.map((action: any) => [action.actor, action.escalation === null]),
        evidence: item.evidence.map((evidence: any) => [evidence.kind, evidence.logRecordId]),
      })),
      probes: answer.probes.map((probe: any) => [probe.domain, probe.status, probe.attempts.map((attempt: any) => attempt.outcome)]),
      records: answer.records,
      address: answer.address,
    });
    expect(shape(chinese)).toEqual(shape(english));
    expect(chinese.findings.map((item: { code: string }) => item.code)).toEqual(["mailbox.quota_exceeded", "remote.unreachable", "remote.reachable", "dns.ok"]);

    // Every sentence is Chinese: Han characters, and no run of three English words once the values (addresses, log lines, the log's reasons, GraphQL calls) are taken out.
    const values = [
      ...lines,
      `updateAccount(id: "${mary.id}", input: { quotaMb: 512 })`,
      "Destination mailbox exceeds quota",
      "RETRY.1 Operation timed out",
      "RETRY.3 Operation timed out",
      "220 mx.remoteup.test ESMTP ready",
      mary.address,
    ];
    const withoutValues = (text: string) => values.reduce((rest, value) => rest.replaceAll(value, "«value»"), text);
    const run = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;
    const sentences: [string, string][] = [["verdict", chinese.verdict]];
    for (const item of chinese.findings) {
      sentences.push([`${item.code} summary`, item.summary]);
      if (item.action !== null) sentences.push([`${item.code} action`, item.action]);
      for (const action of item.actions)
        sentences.push([`${item.code} ${action.actor}`, action.text], ...(action.escalation ? [[`${item.code} escalation`, action.escalation] as [string, string]] : []));
      // Evidence the service writes (the account, DNS findings, a probe's greeting); log lines and the probe's socket errors are values.
      for (const evidence of item.evidence.filter(
        (entry: { kind: string; text: string }) => entry.kind === "ACCOUNT" || entry.kind === "DNS_FINDING" || / greeted | 毫秒/.test(entry.text),
      ))
        sentences.push([`${item.code} ${evidence.kind}`, evidence.text]);
    }
    for (const probe of chinese.probes) sentences.push([`probe ${probe.domain}`, probe.verdict]);
    expect(sentences.length).toBeGreaterThan(12);
    for (const [where, text] of sentences) {
      expect({ where, han: /\p{Script=Han}/u.test(text) }).toEqual({ where, han: true });
      // A DNS finding's expected and found are the DNS check's own texts (the dns capability's catalogue), quoted here as they come.
      if (!where.endsWith("DNS_FINDING")) expect({ where, english: run.exec(withoutValues(text))?.[0] ?? null }).toEqual({ where, english: null });
    }

    // Word for word, the ones support reads out most.
    const [quota, down] = chinese.findings;
    expect(quota.summary).toMatch(
      new RegExp(
        `^${mary.address.replaceAll(".", "\\.")} 的信箱已滿：已用 100 MiB，配額 100 MiB；自 \\S+ 起有 2 封寄來的郵件被退回，原因為「Destination mailbox exceeds quota」。$`,
      ),
    );
    expect(quota.actions.map((action: { text: string }) => action.text)).toEqual([
      `請調高配額，例如調到 512 MiB：updateAccount(id: "${mary.id}", input: { quotaMb: 512 })；或請使用者刪除或封存舊郵件。`,
      "寄件者必須重新寄出被退回的郵件。",
    ]);
    expect(quota.action).toBe(quota.actions.map((action: { text: string }) => action.text).join(""));
    expect(quota.evidence[0]).toEqual({ kind: "ACCOUNT", text: `${mary.address}：狀態 ACTIVE，已用 100 MiB，配額 100 MiB（100%）`, logRecordId: null });
    expect(down.summary).toBe(
      `寄往 ${D.remoteDown} 的郵件正在等候（3 小時 10 分鐘前排入佇列），最近一次為 RETRY.3 Operation timed out；探測結果：mx.${D.remoteDown} (${DEAD}) 拒絕連線：對方伺服器已停止運作，或從這裡無法連線；郵件在佇列中等候，須由收件者的管理者讓伺服器恢復運作。`,
    );
    expect(chinese.verdict).toBe(quota.summary);
    // The English answer is as before.
    expect(english.findings[1].summary).toBe(
      `Mail to ${D.remoteDown} is waiting (queued 3 h 10 min ago), last RETRY.3 Operation timed out: mx.${D.remoteDown} (${DEAD}) refused the connection: the remote side is down or unreachable from here; mail waits in the queue and the recipient's administrator must bring the server back.`,
    );
  });

  it("probes the remote domain of an outbound RETRY and, when it refuses connections, says the remote side is down", async () => {
    const { domain } = await hosted(D.down);
    const john = await makeAccount(app, domain);
    const queuedAt = ago(180);
    const retries = [1, 2, 3].map((n) =>
      line({
        at: ago(180 - n * 30),
        queuedAt,
        queueSeq: 777_000 + randomInt(1000),
        dir: "LR",
        from: john.address,
        to: `amy@${D.remoteDown}`,
        status: `RETRY.${n} Operation timed out`,
      }),
    );
    // The three lines are one message: the same queue id.
    const queueId = retries[0]!.split(" ")[2]!;
    const sameQueue = retries.map((text) => text.replace(/^(\S+ \S+ )\S+/, `$1${queueId}`));
    await ingest([line({ at: ago(300), dir: "LR", from: john.address, to: `amy@${D.remoteDown}`, status: "OK" }), ...sameQueue]);

    const result = await diagnose({ address: john.address });
    const [first] = result.findings;
    expect(first).toMatchObject({ code: "remote.unreachable", severity: "PROBLEM" });
    expect(first.summary).toBe(
      `Mail to ${D.remoteDown} is waiting (queued 3 h ago), last RETRY.3 Operation timed out: mx.${D.remoteDown} (${DEAD}) refused the connection: the remote side is down or unreachable from here; mail waits in the queue and the recipient's administrator must bring the server back.`,
    );
    expect(first.action).toMatch(/^Nothing is wrong on our side/);
    expect(first).toMatchObject({ deliveryState: "RETRYING", actions: [{ actor: "RECIPIENT_PROVIDER", escalation: null }], replyCode: null, enhancedStatusCode: null });
    expect(first.evidence.map((evidence: { kind: string; text: string }) => [evidence.kind, evidence.text])).toEqual([
      ["LOG_LINE", sameQueue[2]],
      ["LOG_LINE", sameQueue[1]],
      ["LOG_LINE", sameQueue[0]],
      ["PROBE_ATTEMPT", `mx.${D.remoteDown} ${DEAD}:${peer.port} REFUSED: connection refused (nothing listens on that port, or a firewall rejects it)`],
    ]);
    expect(result.probes).toEqual([
      { domain: D.remoteDown, status: "UNREACHABLE", verdict: expect.any(String), attempts: [{ address: DEAD, outcome: "REFUSED", error: expect.any(String) }] },
    ]);

    // By one record's id: the diagnosis is about that message (its queue id) only.
    const byRecord = await diagnose({ logRecordId: first.evidence[0].logRecordId });
    expect(byRecord.address).toBe(john.address);
    expect(byRecord.records.map((record: { rawLine: string }) => record.rawLine)).toEqual([sameQueue[2], sameQueue[1], sameQueue[0]]);
    expect(byRecord.findings[0].code).toBe("remote.unreachable");
  });

  it("says a retry will succeed when the remote side of an outbound RETRY greets again", async () => {
    const { domain } = await hosted(D.up);
    const john = await makeAccount(app, domain);
    const retry = line({ at: ago(20), queuedAt: ago(50), dir: "LR", from: john.address, to: `bob@${D.remoteUp}`, status: "RETRY.1 Operation timed out" });
    await ingest([retry]);
    const result = await diagnose({ address: john.address });
    expect(result.findings[0]).toMatchObject({ code: "remote.reachable", severity: "WARNING" });
    expect(result.findings[0].summary).toMatch(
      new RegExp(
        `^Mail to ${D.remoteUp.replace(".", "\\.")} is waiting \\(queued 50 min ago\\), last RETRY\\.1 Operation timed out; the remote side answers now: mx\\.${D.remoteUp.replace(".", "\\.")} \\(${LIVE.replaceAll(".", "\\.")}\\) greeted in \\d+ ms`,
      ),
    );
    expect(result.findings[0].evidence.at(-1)).toMatchObject({
      kind: "PROBE_ATTEMPT",
      text: expect.stringMatching(
        new RegExp(`^mx\\.${D.remoteUp.replace(".", "\\.")} ${LIVE.replaceAll(".", "\\.")}:\\d+ greeted "220 mx\\.remoteup\\.test ESMTP ready" in \\d+ ms$`),
      ),
    });
    expect(peer.commands).toEqual([]);
  });

  it("finds a hosted domain's DNS wrong and gives the failing checks and the customer's fix", async () => {
    const { domain } = await hosted(D.wrongDns);
    const mary = await makeAccount(app, domain);
    const result = await diagnose({ address: mary.address });
    const [first] = result.findings;
    expect(first).toMatchObject({ code: "dns.misconfigured", severity: "PROBLEM" });
    expect(first.summary).toBe(`The DNS of ${D.wrongDns} does not match its set-up (MX): address.mail_host FAIL, setup.detected FAIL. Mail from outside may not find our server.`);
    expect(first.evidence[0]).toEqual({
      kind: "DNS_FINDING",
      text: expect.stringMatching(new RegExp(`^address\\.mail_host FAIL mail\\.${D.wrongDns.replace(".", "\\.")}; expected .*198\\.51\\.100\\.25.*; found A 192\\.0\\.2\\.99`)),
      logRecordId: null,
    });
    expect(first.action).toMatch(/^Ask the customer to change their DNS: .*198\.51\.100\.25/);
    expect(result.dnsCheck).toMatchObject({ domainName: D.wrongDns, status: "FAIL" });
  });

  it("puts a suspended account first", async () => {
    const { domain } = await hosted(D.suspended);
    const mary = await makeAccount(app, domain);
    const updated = await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { status: SUSPENDED }) { account { status } } }`, { id: mary.id }, support);
    expect(updated.data.updateAccount.account.status).toBe("SUSPENDED");
    await ingest([line({ at: ago(5), dir: "RL", from: "boss@partner.example", to: mary.address, status: "OK" })]);
    const result = await diagnose({ address: mary.address });
    expect(result.findings[0]).toMatchObject({
      code: "account.suspended",
      severity: "PROBLEM",
      summary: `${mary.address} is suspended: it cannot log in to read or send mail.`,
      action: `If the suspension is over, reactivate the account: updateAccount(id: "${mary.id}", input: { status: ACTIVE }).`,
    });
    expect(result.findings[0].evidence[0].text).toMatch(new RegExp(`^${mary.address.replaceAll(".", "\\.")}: SUSPENDED, \\d+ MB used of \\d+ MB \\(\\d+%\\); suspended since `));
    expect(result.account.status).toBe("SUSPENDED");
  });

  it("answers 'no problem found' with the evidence: the account, the delivered lines, the DNS check", async () => {
    const { domain } = await hosted(D.fine);
    const mary = await makeAccount(app, domain, { quotaMb: 1000 });
    await app.deps.db.account.update({ where: { id: mary.id }, data: { usedMb: 10 } });
    const delivered = [
      line({ at: ago(60), dir: "RL", from: "boss@partner.example", to: mary.address, status: "OK" }),
      line({ at: ago(30), dir: "LR", from: mary.address, to: `bob@${D.remoteUp}`, status: "OK" }),
    ];
    await ingest(delivered);
    const result = await diagnose({ address: mary.address });
    expect(result.findings.map((finding: { code: string; severity: string }) => [finding.code, finding.severity])).toEqual([
      ["delivery.ok", "INFO"],
      ["dns.ok", "INFO"],
    ]);
    expect(result.verdict).toMatch(
      new RegExp(`^No problem found for ${mary.address.replaceAll(".", "\\.")}: the account is active and 2 of the last 2 deliveries went through \\(the latest OK at `),
    );
    expect(result.findings[0].evidence).toEqual([
      { kind: "ACCOUNT", text: `${mary.address}: ACTIVE, 10 MB used of 1000 MB (1%)`, logRecordId: null },
      { kind: "LOG_LINE", text: delivered[1], logRecordId: expect.any(String) },
      { kind: "LOG_LINE", text: delivered[0], logRecordId: expect.any(String) },
    ]);
    expect(result.findings[1].summary).toMatch(new RegExp(`^The DNS of ${D.fine.replace(".", "\\.")} matches its set-up \\(MX\\): all \\d+ checks pass\\.$`));
    // Outbound mail that went through is not probed.
    expect(result.probes).toEqual([]);
  });

  it("lets a user diagnose only its own address and refuses bad input naming the field", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    const other = await makeAccount(app, domain);
    const token = await tokenFor(app, user);
    expect(errorCode(await app.gql(DIAGNOSE, { address: other.address }, token))).toBe("NOT_FOUND");
    expect(errorCode(await app.gql(DIAGNOSE, { address: `x@${uniqueName("nowhere")}.example` }, token))).toBe("NOT_FOUND");
    const neither = await app.gql(DIAGNOSE, {}, support);
    expect(neither.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "address" });
    const both = await app.gql(DIAGNOSE, { address: user.address, logRecordId: "1" }, support);
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "logRecordId" });
    const malformed = await app.gql(DIAGNOSE, { logRecordId: "abc" }, support);
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "logRecordId" });
    const badAddress = await app.gql(DIAGNOSE, { address: "not an address" }, support);
    expect(badAddress.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "address" });
  });

  it("says 'No delivery records for X exist' (plural agreement), as mailLog does", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    const token = await tokenFor(app, user);
    const elsewhere = `x@${uniqueName("nowhere")}.example`;
    const diagnosed = await app.gql(DIAGNOSE, { address: elsewhere }, token);
    expect(diagnosed.errors?.[0]?.message).toBe(`No delivery records for ${elsewhere} exist, or you may not see them.`);
    const read = await app.gql(`query($a: String!) { mailLog(address: $a) { totalCount } }`, { a: elsewhere }, token);
    expect(read.errors?.[0]?.message).toBe(`No delivery records for ${elsewhere} exist, or you may not see them.`);
    // A singular object still reads as before.
    const record = await app.gql(DIAGNOSE, { logRecordId: "999999999999" }, support);
    expect(record.errors?.[0]?.message).toBe("No delivery record 999999999999 exists, or you may not see it.");
  });

  // Issue 17: "2026/12/05 11:02:13 19582-6B0B1A20.0008B022 Mail.LR mary@newcomer-test.tw client@partner.example - (Re: weekly report/5120)FAIL 550 5.1.1 User unknown"
  // with partner.example not resolving was explained as DNS trouble that the queue would retry.
  it("leads with what the remote server answered (550 5.1.1: failed for good, the sender corrects the address), not with a probe of its DNS", async () => {
    const { domain } = await hosted(D.newcomer);
    const mary = await makeAccount(app, domain);
    const failed = line({
      at: ago(3),
      queuedAt: ago(4),
      dir: "LR",
      from: mary.address,
      to: `client@${D.partner}`,
      subject: "Re: weekly report",
      size: 5120,
      status: "FAIL 550 5.1.1 User unknown",
    });
    await ingest([failed]);
    const [record] = await app.deps.db.mailLogRecord.findMany({ where: { rawLine: failed } });

    const result = await diagnose({ logRecordId: record!.id.toString() });
    const [first] = result.findings;
    expect(first).toMatchObject({
      code: "remote.user_unknown",
      severity: "PROBLEM",
      deliveryState: "FAILED",
      replyCode: 550,
      enhancedStatusCode: "5.1.1",
      summary:
        `Mail to ${D.partner} failed (FAIL 550 5.1.1 User unknown) after 4 min in the queue: the recipient's server answered 550 5.1.1: ` +
        `the address client@${D.partner} does not exist there. The message failed for good: it will not be retried.`,
      actions: [
        {
          actor: "SENDER",
          text: `The sender must correct the address client@${D.partner} (its spelling, or ask the recipient for the right one) and send again: sending to the same address fails the same way.`,
          escalation: null,
        },
      ],
    });
    expect(result.verdict).toBe(first.summary);
    // The probe ran and is evidence, not the verdict.
    expect(result.probes).toEqual([expect.objectContaining({ domain: D.partner, status: "DNS_FAILURE" })]);
    expect(first.evidence).toEqual([
      { kind: "LOG_LINE", text: failed, logRecordId: record!.id.toString() },
      { kind: "PROBE_ATTEMPT", text: expect.stringMatching(new RegExp(`^probe of ${D.partner.replace(".", "\\.")} now: DNS_FAILURE`)), logRecordId: null },
    ]);
    for (const finding of result.findings) {
      expect(finding.code).not.toBe("remote.dns");
      expect(`${finding.summary} ${finding.action}`).not.toMatch(/waits until its DNS answers|keeps retrying/);
    }
  });
});

// Issue 17: the service's own missing reverse DNS was folded into the customer's
// to-do ("Ask the customer to change their DNS: Register the domain ... This is
// the service's own record, not the customer's: support escalates it").
describe("diagnoseDelivery: the customer's DNS and the service's own records are separate actions", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;
  // An address of the service's mail server without any PTR record (the reverse zone answers NXDOMAIN).
  const NO_PTR = "198.51.100.77";

  beforeAll(async () => {
    world = await startDnsWorld([]);
    app = await startTestApp({ ...world.config, MAIL_SERVER_IPV4: NO_PTR });
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(async () => {
    await app?.close();
    await world?.stop();
  });

  it("gives the customer the DNS fix and the service an escalation, in two findings", async () => {
    const { domain } = await makeDomain(app, { name: D.unregistered, dkimPublicKey: DKIM_KEY });
    const mary = await makeAccount(app, domain);
    const response = await app.gql(DIAGNOSE, { address: mary.address }, support);
    expect(response.errors).toBeUndefined();
    dump(response.data.diagnoseDelivery);
    const findings = response.data.diagnoseDelivery.findings as {
      code: string;
      action: string;
      actions: { actor: string; text: string; escalation: string | null }[];
      evidence: { text: string }[];
    }[];
    expect(findings.map((finding) => finding.code)).toEqual(["dns.misconfigured", "service.reverse_dns"]);
    const [customer, service] = findings;

    expect(customer!.actions).toEqual([{ actor: "CUSTOMER", text: expect.stringMatching(/^Ask the customer to change their DNS: Register the domain/), escalation: null }]);
    expect(customer!.action).not.toMatch(/service's own|escalat/i);
    expect(customer!.evidence.map((evidence) => evidence.text)).toEqual([expect.stringMatching(/^ns\.delegation FAIL /)]);

    expect(service!.actions).toEqual([
      {
        actor: "SERVICE",
        text: "Escalate to the mail team: the reverse DNS of our mail server must be fixed by the operators of its network.",
        escalation: expect.stringMatching(new RegExp(`^PTR of ${NO_PTR.replaceAll(".", "\\.")}: expected a PTR record naming mx\\.mailsvc\\.example.*; found no PTR record`)),
      },
    ]);
    expect(service!.evidence.map((evidence) => evidence.text)).toEqual([expect.stringMatching(new RegExp(`^ptr\\.mail_server FAIL ${NO_PTR.replaceAll(".", "\\.")}`))]);
  });
});
