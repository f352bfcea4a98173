// DKIM end to end (issue 21): the mail stack (Postfix, Dovecot and OpenDKIM
// from Debian, started by this file on 127.0.0.28, ports 40000 and up) signs
// what a hosted user submits with the key mailadmin made; the message, relayed
// to an SMTP sink of the test's on the same address, verifies against the
// record the DNS validator expects, served by the test's NSD. After a
// rotation through the API (published, seen by the DNS check, confirmed) and
// the signer's refresh, the next message verifies with the new selector.
// Needs PostgreSQL and root; elsewhere it says why it does not run.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { signingKeys } from "../../src/dkim/dkim.service";
import { ensureMailServerLogin, refreshMailStackDkim, startMailStack, stopMailStack, type MailStackState } from "../../src/mailstack/stack";
import { PASSWORD, makeAccount, makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { sendMail, textMessage } from "../helpers/mail-clients";
import { mailStackSkipReason } from "../helpers/mail-stack";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";
import { verifyDkim } from "../helpers/dkim-verify";
import { rightParts, zoneBody } from "../dns/zones";

const notRunnable = mailStackSkipReason();
const describeWithStack = notRunnable ? describe.skip : describe;
if (notRunnable) process.stdout.write(`\ntest/mailstack/dkim-signing.test.ts does not run: ${notRunnable}\n`);

const ADDRESS = "127.0.0.28";
const PORT_BASE = 40_000;
const SINK_PORT = 40_999;
const DOMAIN = `${uniqueName("signed")}.example`;

describeWithStack("DKIM signing by the mail stack with mailadmin's keys", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;
  let stack: MailStackState;
  let dir: string;
  let sink: SMTPServer;
  const received: string[] = [];

  beforeAll(async () => {
    world = await startDnsWorld([{ name: DOMAIN, records: zoneBody(rightParts("MX")) }]);
    app = await startTestApp({ ...world.config, DKIM_RSA_KEY_BITS: "2048", DNS_CHECK_CACHE_SECONDS: "0" });
    support = await tokenFor(app, await supportAdmin(app));
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, _session, done) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          received.push(Buffer.concat(chunks).toString("utf8"));
          done();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      sink.once("error", reject);
      sink.listen(SINK_PORT, ADDRESS, () => resolve());
    });
    dir = mkdtempSync(join(tmpdir(), "mailadmin-test-dkim-"));
  }, 60_000);

  afterAll(async () => {
    if (dir) await stopMailStack(dir);
    if (dir && !process.env.KEEP_MAILSTACK) rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => (sink ? sink.close(() => resolve()) : resolve()));
    await app?.close();
    await world?.stop();
  }, 30_000);

  /** Publishes exactly the DKIM records mailadmin tells the customer to publish (expectedDnsRecords). */
  async function publishExpected(): Promise<string[]> {
    const response = await app.gql(`query($name: String!) { domain(name: $name) { expectedDnsRecords { records { name type zoneLine } } } }`, { name: DOMAIN }, support);
    const lines = response.data.domain.expectedDnsRecords.records
      .filter((record: { name: string }) => record.name.includes("._domainkey."))
      .map((record: { zoneLine: string }) => record.zoneLine);
    const parts = rightParts("MX");
    parts.dkim = lines;
    await world.republish([{ name: DOMAIN, records: zoneBody(parts) }]);
    return lines;
  }

  async function submitAndReceive(from: string, marker: string): Promise<string> {
    const before = received.length;
    const to = `someone@remote-${uniqueName()}.test`;
    const sent = await sendMail({ host: ADDRESS, port: stack.ports.submission, from, to: [to], message: textMessage(from, to, marker), auth: { user: from, password: PASSWORD } });
    expect(sent.auth).toMatch(/^235 /);
    expect(sent.data).toMatch(/^250 /);
    for (let i = 0; i < 150 && !received.slice(before).some((message) => message.includes(marker)); i++) await new Promise((wait) => setTimeout(wait, 100));
    const message = received.slice(before).find((text) => text.includes(marker));
    if (!message) throw new Error(`the message ${marker} did not reach the sink; see ${stack.logSource.path} and ${stack.openDkimDir}/opendkim.log`);
    return message;
  }

  it("signs a hosted user's submitted mail with the domain's key, verifiable against the published record; after a rotation, with the new selector", async () => {
    const { domain } = await makeDomain(app, { name: DOMAIN });
    const user = await makeAccount(app, domain, { quotaMb: 10 });
    const [first] = await app.deps.db.dkimKey.findMany({ where: { domainId: domain.id } });
    const dbPassword = randomBytes(18).toString("base64url");
    await ensureMailServerLogin(process.env.DATABASE_URL!, "mailadmin_test_mailserver", dbPassword);
    stack = await startMailStack({
      dir,
      address: ADDRESS,
      portBase: PORT_BASE,
      databaseUrl: process.env.DATABASE_URL!,
      dbUser: "mailadmin_test_mailserver",
      dbPassword,
      hostname: "mx.dkim.test",
      quotaWarningPercents: [80, 95],
      dkimKeys: await signingKeys(app.deps),
      relayhost: `[${ADDRESS}]:${SINK_PORT}`,
    });

    // The record the validator expects, published; the DNS check agrees it is the signing key.
    expect(await publishExpected()).toEqual([expect.stringContaining(`${first!.selector}._domainkey.${DOMAIN}.\t3600\tIN\tTXT\t"v=DKIM1; k=rsa; p=`)]);
    const check = await app.gql(`mutation($d: String!) { checkDomainDns(domain: $d, refresh: true) { findings { check status subject } } }`, { d: DOMAIN }, support);
    expect(check.data.checkDomainDns.findings.filter((f: { check: string }) => f.check === "dkim.key")).toEqual([
      { check: "dkim.key", status: "PASS", subject: `${first!.selector}._domainkey.${DOMAIN}` },
    ]);

    const dns = { host: world.addresses.resolver, port: 53 };
    const signed = await submitAndReceive(user.address, uniqueName("first"));
    expect(await verifyDkim(signed, dns)).toEqual([{ domain: DOMAIN, selector: first!.selector, algorithm: "rsa-sha256", result: "pass" }]);
    // Altered on the way, it no longer verifies: the check above is not vacuous.
    const altered = signed.replace(/Subject: test /, "Subject: TEST ");
    expect((await verifyDkim(altered, dns))[0]).toMatchObject({ result: "fail" });

    // Rotation: start, publish what is expected, the DNS check sees it, confirm, refresh the signer.
    const started = await app.gql(`mutation($id: ID!) { startDkimRotation(domainId: $id) { keys { selector state } } }`, { id: domain.id }, support);
    const next = started.data.startDkimRotation.keys.find((key: { state: string }) => key.state === "PUBLISHED_PENDING").selector;
    await publishExpected();
    const confirmed = await app.gql(`mutation($id: ID!) { confirmDkimRotation(domainId: $id) { keys { selector state } } }`, { id: domain.id }, support);
    expect(confirmed.errors).toBeUndefined();
    expect(confirmed.data.confirmDkimRotation.keys).toEqual([
      { selector: next, state: "ACTIVE" },
      { selector: first!.selector, state: "RETIRING" },
    ]);
    await refreshMailStackDkim(dir, await signingKeys(app.deps));
    const rotated = await submitAndReceive(user.address, uniqueName("second"));
    expect(await verifyDkim(rotated, dns)).toEqual([{ domain: DOMAIN, selector: next, algorithm: "rsa-sha256", result: "pass" }]);
    // The message signed before the rotation still verifies: the old key stays published while retiring.
    expect((await verifyDkim(signed, dns))[0]).toMatchObject({ result: "pass" });
  }, 120_000);
});
