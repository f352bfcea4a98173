// The support test domain end to end, in the real mail stack (Debian's Postfix
// and Dovecot on 127.0.0.41, ports 24000 and up). The outside world is on
// other loopback addresses: NSD on 127.0.0.40:53 serves the remote domains' MX
// records (Postfix's smtp client asks it through the stack's own resolv.conf,
// never the host's), and smtp-server peers on port 25 answer as remote mail
// servers do: 250 (127.0.0.42), 550 5.1.1 (127.0.0.43), 451 greylisting then
// 250 on the retry (127.0.0.44), and one that never answers (127.0.0.45).
// Inbound mail comes from 127.0.0.46, DKIM-signed or not. Everything goes
// through the API as support staff use it: sendTestMessage, testMessage,
// Account.receivedTestMessages, emptyTestMailbox. Needs PostgreSQL and root;
// elsewhere it says why it does not run.
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth";
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from "smtp-server";
import type { MailStackState } from "../../src/mailstack/stack";
import { PASSWORD, makeAccount, makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { sendMail, waitForInbox } from "../helpers/mail-clients";
import { mailStackSkipReason, useMailStack } from "../helpers/mail-stack";
import { startNsd, type RunningNsd } from "../helpers/nsd";
import { startRawPeer, type RunningPeer } from "../helpers/smtp-peers";
import { startTestApp, type TestApp } from "../helpers/test-app";

const notRunnable = mailStackSkipReason();
const describeWithStack = notRunnable ? describe.skip : describe;
if (notRunnable) process.stdout.write(`\ntest/testmail/test-domain.test.ts does not run: ${notRunnable}\n`);

const NAMESERVER = "127.0.0.40";
const STACK = "127.0.0.41";
const PORT_BASE = 24_000;
const PEERS = { accepts: "127.0.0.42", unknownUser: "127.0.0.43", greylists: "127.0.0.44", silent: "127.0.0.45" };
const INBOUND_CLIENT = "127.0.0.46";
const HOSTNAME = "mx.mailstack.test";

// The signing peer's DKIM key, published in its zone before NSD starts.
const dkimKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const dkimPrivateKey = dkimKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const dkimPublicKey = dkimKeys.publicKey.export({ type: "spki", format: "der" }).toString("base64");

function zone(name: string, records: string[]): { name: string; text: string } {
  return {
    name,
    text: [`$ORIGIN ${name}.`, "$TTL 60", "@ IN SOA ns hostmaster 1 3600 900 1209600 60", "@ IN NS ns", `ns IN A ${NAMESERVER}`, ...records, ""].join("\n"),
  };
}

/** TXT data split in 255-byte strings, as a zone file needs for a 2048-bit key. */
function txt(value: string): string {
  return (value.match(/.{1,200}/g) ?? []).map((part) => `"${part}"`).join(" ");
}

const ZONES = [
  zone("accepts.example", [`@ IN MX 10 mx`, `mx IN A ${PEERS.accepts}`]),
  zone("unknownuser.example", [`@ IN MX 10 mx`, `mx IN A ${PEERS.unknownUser}`]),
  zone("greylists.example", [`@ IN MX 10 mx`, `mx IN A ${PEERS.greylists}`]),
  zone("silent.example", [`@ IN MX 10 mx`, `mx IN A ${PEERS.silent}`]),
  zone("signer.example", [
    `@ IN TXT "v=spf1 ip4:${INBOUND_CLIENT} -all"`,
    `sel._domainkey IN TXT ${txt(`v=DKIM1; k=rsa; p=${dkimPublicKey}`)}`,
    `_dmarc IN TXT "v=DMARC1; p=reject"`,
  ]),
  zone("plain.example", [`@ IN TXT "v=spf1 ip4:192.0.2.1 -all"`, `_dmarc IN TXT "v=DMARC1; p=quarantine"`]),
];

interface Received {
  to: string[];
  data: string;
}

/** A remote mail server: smtp-server on port 25 of `address`, answering RCPT as `rcpt` says. */
async function startRemote(address: string, rcpt: (to: string, session: SMTPServerSession) => { code: number; message: string } | null, inbox: Received[]) {
  const server = new SMTPServer({
    name: `mx.${address}`,
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    disableReverseLookup: true,
    logger: false,
    onRcptTo(to, session, callback) {
      const refusal = rcpt(to.address, session);
      if (refusal) return callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
      return callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString("utf8") });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(25, address, () => resolve());
  });
  return { stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describeWithStack("the support test domain in the mail stack", () => {
  // Each test follows a message through Postfix's queue and log, up to 30 s per step
  // (follow's deadline); a loaded CI machine needs more than jest's default for two steps.
  jest.setTimeout(120_000);
  let app: TestApp;
  let support: string;
  let stack: MailStackState;
  let nsd: RunningNsd;
  const remotes: { stop(): Promise<void> }[] = [];
  let silent: RunningPeer;
  const accepted: Received[] = [];
  const greylisted: Received[] = [];
  const greylistSeen = new Set<string>();

  beforeAll(async () => {
    nsd = await startNsd({ address: NAMESERVER, zones: ZONES });
    remotes.push(await startRemote(PEERS.accepts, () => null, accepted));
    remotes.push(await startRemote(PEERS.unknownUser, (to) => ({ code: 550, message: `5.1.1 <${to}>: Recipient address rejected: User unknown in local recipient table` }), []));
    remotes.push(
      await startRemote(
        PEERS.greylists,
        (to) => {
          if (greylistSeen.has(to)) return null;
          greylistSeen.add(to);
          return { code: 451, message: "4.7.1 Greylisted, please try again in a moment" };
        },
        greylisted,
      ),
    );
    silent = await startRawPeer(PEERS.silent, 25, "silent");
  }, 30_000);
  afterAll(async () => {
    await Promise.all([...remotes.map((remote) => remote.stop()), silent?.stop(), nsd?.stop()]);
  });

  useMailStack(
    {
      address: STACK,
      portBase: PORT_BASE,
      nameserver: NAMESERVER,
      // Retries within seconds (a deferred message is tried again after 1 to 2 s), short timeouts for the silent peer.
      postfixSettings: ["queue_run_delay = 1s", "minimal_backoff_time = 1s", "maximal_backoff_time = 2s", "smtp_connect_timeout = 2s", "smtp_helo_timeout = 2s"],
    },
    (started) => {
      stack = started;
    },
  );

  beforeAll(async () => {
    app = await startTestApp({
      TEST_MESSAGE_SMTP: `${STACK}:${stack.ports.inject}`,
      LOG_SOURCES: JSON.stringify([{ ...stack.logSource, name: "testdomain-stack" }]),
      TEST_MESSAGE_LOG_SOURCE: "testdomain-stack",
      LOG_COLLECT_INTERVAL_SECONDS: "0",
      MAIL_STORE_DIR: stack.mailStoreDir,
      MAIL_SERVER_HOSTNAME: HOSTNAME,
      DNS_SERVERS: `${NAMESERVER}:53`,
      DNS_ALLOW_PRIVATE: "true",
      PROBE_ALLOW_PRIVATE: "true",
      PROBE_PORT: "25",
      PROBE_CONNECT_TIMEOUT_MS: "1000",
      PROBE_GREETING_TIMEOUT_MS: "1500",
      PROBE_TOTAL_TIMEOUT_MS: "5000",
      PROBE_STARTTLS: "false",
    });
    support = await tokenFor(app, await supportAdmin(app));
  }, 30_000);
  afterAll(() => app?.close());

  const FIELDS = `id messageId from to subject remote sentBy queueId submissionReply state final summary relay dsn reason
    deliveryRecords { status dsn relay reason retryCount recipient }`;

  async function send(from: string, to: string, subject?: string) {
    const answer = await app.gql(`mutation($input: SendTestMessageInput!) { sendTestMessage(input: $input) { ${FIELDS} } }`, { input: { from, to, subject } }, support);
    expect(answer.errors).toBeUndefined();
    return answer.data.sendTestMessage;
  }

  /** Asks testMessage (which reads Postfix's log as it is asked) until `done` holds, for up to 30 s. */
  async function follow(id: string, done: (message: any) => boolean, extra = "") {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const answer = await app.gql(`query($id: ID!) { testMessage(id: $id) { ${FIELDS} ${extra} } }`, { id }, support);
      expect(answer.errors).toBeUndefined();
      if (done(answer.data.testMessage) || Date.now() > deadline) return answer.data.testMessage;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }

  async function testMailbox() {
    const { domain } = await makeDomain(app, { isTestDomain: true });
    return makeAccount(app, domain, { quotaMb: 50 });
  }

  it("delivers a test message into a customer's mailbox here, and says so from Postfix's log", async () => {
    const from = await testMailbox();
    const { domain } = await makeDomain(app);
    const customer = await makeAccount(app, domain, { quotaMb: 10 });
    const sent = await send(from.address, customer.address, "Can you read this?");
    expect(sent).toMatchObject({ from: from.address, to: customer.address, remote: false, state: "ACCEPTED", final: false, subject: "Can you read this?" });
    expect(sent.submissionReply).toMatch(/^250 .*queued as /);
    expect(sent.queueId).toMatch(/^[0-9A-F]+$/);

    const followed = await follow(sent.id, (m) => m.final);
    expect(followed).toMatchObject({ state: "DELIVERED_LOCALLY", final: true, dsn: "2.0.0" });
    expect(followed.deliveryRecords).toEqual([expect.objectContaining({ status: "OK", recipient: customer.address })]);
    expect(followed.summary).toContain(`Delivered into the mailbox ${customer.address}`);

    const inbox = await waitForInbox(STACK, stack.ports.imap, customer.address, PASSWORD, (s) => s.messages.some((m) => m.includes(sent.id)));
    const message = inbox.messages.find((m) => m.includes(sent.id))!;
    expect(message).toContain(`X-Mailadmin-Test-Message: ${sent.id}`);
    expect(message).toContain(`Message-ID: <${sent.messageId}>`);
    expect(message).toContain("Subject: Can you read this?");
  });

  it("hands a test message to a remote domain's MX (found through NSD) and shows the remote's 250 reply and the probe", async () => {
    const from = await testMailbox();
    const sent = await send(from.address, "friend@accepts.example");
    expect(sent.remote).toBe(true);
    const followed = await follow(sent.id, (m) => m.final, "probe { status verdict exchangers { host addresses } }");
    expect(followed).toMatchObject({ state: "RELAYED", final: true, dsn: "2.0.0", relay: `mx.accepts.example[${PEERS.accepts}]:25` });
    expect(followed.reason).toMatch(/^250 /);
    expect(followed.summary).toContain(`Handed to mx.accepts.example[${PEERS.accepts}]:25, which answered: 250`);
    expect(followed.probe).toMatchObject({ status: "REACHABLE", exchangers: [{ host: "mx.accepts.example", addresses: [PEERS.accepts] }] });
    // The remote got the message, which says what it is and carries its id.
    const arrived = accepted.find((message) => message.data.includes(sent.id));
    expect(arrived?.to).toEqual(["friend@accepts.example"]);
    expect(arrived?.data).toContain("This is a test message sent by the support staff of the mail service");
  });

  it("shows a remote 550 5.1.1 as bounced, for good, with the remote's words", async () => {
    const from = await testMailbox();
    const sent = await send(from.address, "nobody@unknownuser.example");
    const followed = await follow(sent.id, (m) => m.final);
    expect(followed).toMatchObject({ state: "BOUNCED", final: true, dsn: "5.1.1", relay: `mx.unknownuser.example[${PEERS.unknownUser}]:25` });
    expect(followed.reason).toMatch(/said: 550 5\.1\.1 <nobody@unknownuser\.example>: Recipient address rejected: User unknown/);
    expect(followed.summary).toMatch(/^Bounced \(5\.1\.1\)/);
  });

  it("shows a remote's 451 greylisting as deferred, then the retry accepted", async () => {
    const from = await testMailbox();
    const sent = await send(from.address, "someone@greylists.example");
    const deferred = await follow(sent.id, (m) => m.state !== "ACCEPTED");
    expect(deferred).toMatchObject({ state: "DEFERRED", final: false, dsn: "4.7.1" });
    expect(deferred.reason).toMatch(/451 4\.7\.1 Greylisted/);
    const followed = await follow(sent.id, (m) => m.final);
    expect(followed).toMatchObject({ state: "RELAYED", final: true, dsn: "2.0.0" });
    expect(followed.deliveryRecords.map((record: { status: string }) => record.status)).toEqual(["RETRY", "OK"]);
    expect(followed.deliveryRecords[0].reason).toMatch(/451 4\.7\.1/);
    expect(greylisted.some((message) => message.data.includes(sent.id))).toBe(true);
  });

  it("shows a remote that does not answer as deferred with Postfix's reason, and the probe says it is unreachable", async () => {
    const from = await testMailbox();
    const sent = await send(from.address, "someone@silent.example");
    const followed = await follow(sent.id, (m) => m.state !== "ACCEPTED", "probe { status verdict }");
    expect(followed).toMatchObject({ state: "DEFERRED", final: false, relay: `mx.silent.example[${PEERS.silent}]:25` });
    expect(followed.reason).toMatch(/timed out while receiving the initial server greeting/);
    expect(followed.summary).toMatch(/^Deferred \(attempt 1, 4\.4\.2\).*Postfix will try again\.$/);
    expect(followed.probe.status).toBe("UNREACHABLE");
  });

  const RECEIVED = `receivedTestMessages(first: 10) {
    totalCount
    nodes { id sender from subject messageId receivedAt sizeBytes
      client { helo name address tls }
      authentication { header spf { result domain details } dkim { result domain details } dmarc { result domain details } } }
  }`;

  it("lists what a customer's server sent to a test mailbox with its client and SPF, DKIM and DMARC results, signed and unsigned, and empties the mailbox", async () => {
    const mailbox = await testMailbox();
    const signedMarker = uniqueName("signed");
    const unsignedMarker = uniqueName("plain");
    const signedText =
      `From: Bob <bob@signer.example>\r\nTo: <${mailbox.address}>\r\nSubject: signed ${signedMarker}\r\nMessage-ID: <${signedMarker}@signer.example>\r\n` +
      `Date: ${new Date().toUTCString()}\r\n\r\nHello from a server that signs.\r\n`;
    const key = { signingDomain: "signer.example", selector: "sel", privateKey: dkimPrivateKey };
    // mailauth signs with the keys of signatureData (the top-level ones its type declarations ask for are not used).
    const signature = await dkimSign(signedText, { ...key, signatureData: [key] });
    expect(signature.errors).toEqual([]);
    expect(signature.signatures).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; .*d=signer\.example;/);
    const signed = await sendMail({
      host: STACK,
      port: stack.ports.smtp,
      localAddress: INBOUND_CLIENT,
      helo: "mail.signer.example",
      from: "bob@signer.example",
      to: [mailbox.address],
      message: signature.signatures + signedText,
    });
    expect(signed.data).toMatch(/^250 /);
    const unsigned = await sendMail({
      host: STACK,
      port: stack.ports.smtp,
      localAddress: INBOUND_CLIENT,
      helo: "mail.plain.example",
      from: "carol@plain.example",
      to: [mailbox.address],
      message: `From: <carol@plain.example>\r\nTo: <${mailbox.address}>\r\nSubject: plain ${unsignedMarker}\r\nMessage-ID: <${unsignedMarker}@plain.example>\r\n\r\nNot signed.\r\n`,
    });
    expect(unsigned.data).toMatch(/^250 /);
    await waitForInbox(STACK, stack.ports.imap, mailbox.address, PASSWORD, (s) => s.messages.length >= 2);

    const answer = await app.gql(`query($id: ID) { account(id: $id) { ${RECEIVED} } }`, { id: mailbox.id }, support);
    expect(answer.errors).toBeUndefined();
    const list = answer.data.account.receivedTestMessages;
    expect(list.totalCount).toBe(2);
    const signedOne = list.nodes.find((m: { subject: string }) => m.subject === `signed ${signedMarker}`);
    const unsignedOne = list.nodes.find((m: { subject: string }) => m.subject === `plain ${unsignedMarker}`);
    expect(signedOne).toMatchObject({
      sender: "bob@signer.example",
      from: "Bob <bob@signer.example>",
      messageId: `${signedMarker}@signer.example`,
      client: { helo: "mail.signer.example", name: "unknown", address: INBOUND_CLIENT, tls: false },
      authentication: {
        spf: { result: "PASS", domain: "signer.example" },
        dkim: { result: "PASS", domain: "signer.example" },
        dmarc: { result: "PASS", domain: "signer.example" },
      },
    });
    expect(signedOne.sizeBytes).toBeGreaterThan(signedText.length);
    expect(Date.now() - new Date(signedOne.receivedAt).getTime()).toBeLessThan(5 * 60_000);
    expect(signedOne.authentication.header).toMatch(/dkim=pass/);
    expect(unsignedOne).toMatchObject({
      sender: "carol@plain.example",
      client: { address: INBOUND_CLIENT, helo: "mail.plain.example" },
      authentication: { spf: { result: "FAIL", domain: "plain.example" }, dkim: { result: "NONE" }, dmarc: { result: "FAIL", domain: "plain.example" } },
    });

    const emptied = await app.gql(`mutation($id: ID!) { emptyTestMailbox(accountId: $id) { deletedCount account { id ${RECEIVED} } } }`, { id: mailbox.id }, support);
    expect(emptied.errors).toBeUndefined();
    expect(emptied.data.emptyTestMailbox.deletedCount).toBe(2);
    expect(emptied.data.emptyTestMailbox.account.receivedTestMessages).toEqual({ totalCount: 0, nodes: [] });
    // Dovecot sees the mailbox empty too.
    const session = await waitForInbox(STACK, stack.ports.imap, mailbox.address, PASSWORD, (s) => s.messages.length === 0);
    expect(session.messages).toEqual([]);
  });
});
