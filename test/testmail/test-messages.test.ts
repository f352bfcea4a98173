// The support test domain's rules, without the mail stack (both databases):
// who may send test messages and read their results, what is refused and how,
// the rate limits per support admin and per recipient domain, the audit, and
// reading and emptying a test mailbox's Maildir. Postfix is stood in for by an
// smtp-server on 127.0.0.40 that answers as Postfix does ("queued as"), or
// refuses; the mail stack itself is tested in test-domain.test.ts.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { makeAccount, makeDomain, makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";

const SINK_ADDRESS = "127.0.0.40";

const SEND = `mutation($input: SendTestMessageInput!) { sendTestMessage(input: $input) { id messageId from to subject remote sentBy queueId submissionReply state final summary deliveryRecords { id } } }`;

describe("test messages and test mailboxes", () => {
  let app: TestApp;
  let limited: TestApp;
  let unconfigured: TestApp;
  let sink: SMTPServer;
  let support: string;
  const store = mkdtempSync(join(tmpdir(), "mailadmin-test-store-"));
  const taken: { to: string[]; data: string }[] = [];

  beforeAll(async () => {
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onRcptTo(to, _session, callback) {
        if (to.address.startsWith("refused@")) return callback(Object.assign(new Error("5.7.1 <refused@...>: Relay access denied"), { responseCode: 554 }));
        return callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          taken.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString("utf8") });
          callback(null, "2.0.0 Ok: queued as 3F2A1B0C9D");
        });
      },
    });
    await new Promise<void>((resolve) => sink.listen(0, SINK_ADDRESS, resolve));
    const smtp = `${SINK_ADDRESS}:${(sink.server.address() as { port: number }).port}`;
    app = await startTestApp({ TEST_MESSAGE_SMTP: smtp, MAIL_STORE_DIR: store, MAIL_SERVER_HOSTNAME: "mx.mailsvc.example", DNS_QUERY_TIMEOUT_MS: "100", DNS_QUERY_ATTEMPTS: "1" });
    limited = await startTestApp({ TEST_MESSAGE_SMTP: smtp, TEST_MESSAGE_RATE_LIMIT_PER_USER: "3", TEST_MESSAGE_RATE_LIMIT_PER_DOMAIN: "2" });
    unconfigured = await startTestApp();
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(async () => {
    await Promise.all([app.close(), limited.close(), unconfigured.close()]);
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  });

  async function testWorld() {
    const world = await makeWorld(app, { isTestDomain: true });
    const box = await makeAccount(app, world.domain, { quotaMb: 10 });
    return { ...world, box };
  }

  it("sends a test message that says what it is, records it with Postfix's queue id, and audits it", async () => {
    const { box } = await testWorld();
    const answer = await app.gql(SEND, { input: { from: box.address, to: "Customer@Remote.Example" } }, support);
    expect(answer.errors).toBeUndefined();
    const sent = answer.data.sendTestMessage;
    expect(sent).toMatchObject({
      from: box.address,
      to: "customer@remote.example",
      remote: true,
      queueId: "3F2A1B0C9D",
      state: "ACCEPTED",
      final: false,
      deliveryRecords: [],
      messageId: `test-${sent.id}@mx.mailsvc.example`,
    });
    expect(sent.subject).toContain(sent.id.slice(0, 8));
    expect(sent.submissionReply).toBe("250 2.0.0 Ok: queued as 3F2A1B0C9D");
    const message = taken.find((m) => m.data.includes(sent.id))!;
    expect(message.to).toEqual(["customer@remote.example"]);
    expect(message.data).toContain(`X-Mailadmin-Test-Message: ${sent.id}`);
    expect(message.data).toContain("This is a test message sent by the support staff of the mail service");
    expect(message.data).toContain("Auto-Submitted: auto-generated");

    const audit = await app.deps.db.auditEntry.findMany({ where: { action: "test_message.send", objectId: sent.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.changes).toEqual([
      { field: "from", before: null, after: box.address },
      { field: "to", before: null, after: "customer@remote.example" },
      { field: "subject", before: null, after: sent.subject },
      { field: "messageId", before: null, after: sent.messageId },
    ]);

    const read = await app.gql(`query($id: ID!) { testMessage(id: $id) { id state summary probe { status } } }`, { id: sent.id }, support);
    expect(read.errors).toBeUndefined();
    expect(read.data.testMessage).toMatchObject({ id: sent.id, state: "ACCEPTED", summary: "Accepted by Postfix (queue id 3F2A1B0C9D); no delivery attempt is logged yet." });
    // In zh-TW: the same state, the sentence in Chinese with the queue id as it is.
    const chinese = await app.gql(`query($id: ID!) { testMessage(id: $id) { id state final summary } }`, { id: sent.id }, support, { "accept-language": "zh-TW" });
    expect(chinese.data.testMessage).toEqual({ id: sent.id, state: "ACCEPTED", final: false, summary: "Postfix 已收下（佇列編號 3F2A1B0C9D）；記錄檔中還沒有投遞嘗試。" });
  });

  it("shows Postfix's refusal as the outcome REFUSED, not as an error", async () => {
    const { box } = await testWorld();
    const answer = await app.gql(SEND, { input: { from: box.address, to: "refused@remote.example", subject: "Does this go?" } }, support);
    expect(answer.errors).toBeUndefined();
    expect(answer.data.sendTestMessage).toMatchObject({ state: "REFUSED", final: true, queueId: null, subject: "Does this go?" });
    expect(answer.data.sendTestMessage.submissionReply).toMatch(/^554 5\.7\.1 /);
    expect(answer.data.sendTestMessage.summary).toMatch(/^Postfix did not take the test message: 554 5\.7\.1/);
    // A sender that is not a test mailbox, refused in zh-TW: same code and field, the address as it is.
    const refused = await app.gql(SEND, { input: { from: "someone@customer.example", to: "a@remote.example" } }, support, { "accept-language": "zh-TW" });
    expect(refused.errors![0]).toMatchObject({
      message: "someone@customer.example 不是客服測試網域的信箱：測試信只能從客服的測試網域寄出。",
      extensions: { code: "BAD_USER_INPUT", field: "input.from" },
    });
  });

  it("refuses a sender that is not a mailbox of a test domain, a malformed recipient and a multi-line subject, naming the field", async () => {
    const { box } = await testWorld();
    const { domain } = await makeDomain(app);
    const customer = await makeAccount(app, domain, { quotaMb: 10 });
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ from: customer.address, to: "a@remote.example" }, "input.from", /is not a mailbox of a support test domain/],
      [{ from: `nobody@${box.address.split("@")[1]}`, to: "a@remote.example" }, "input.from", /is not a mailbox of a support test domain/],
      [{ from: box.address, to: "not an address" }, "input.to", /is not an e-mail address/],
      [{ from: box.address, to: "a@remote.example", subject: "two\nlines" }, "input.subject", /one line/],
    ];
    for (const [input, field, message] of cases) {
      const answer = await app.gql(SEND, { input }, support);
      expect(errorCode(answer)).toBe("BAD_USER_INPUT");
      expect(answer.errors![0]!.extensions.field).toBe(field);
      expect(answer.errors![0]!.message).toMatch(message);
    }
    expect(await app.deps.db.testMessage.count({ where: { fromAddress: { in: [customer.address] } } })).toBe(0);
  });

  it("lets only support staff send test messages and read them; the test domain's own administrator and users too are refused", async () => {
    const { box, tokens, admin } = await testWorld();
    const sent = (await app.gql(SEND, { input: { from: box.address, to: "a@remote.example" } }, support)).data.sendTestMessage;
    for (const token of [tokens.admin, tokens.user, await tokenFor(app, box)]) {
      const refused = await app.gql(SEND, { input: { from: box.address, to: "a@remote.example" } }, token);
      expect(errorCode(refused)).toBe("FORBIDDEN");
      expect(refused.errors![0]!.message).toBe("Only full support staff may send test messages.");
      const unseen = await app.gql(`query($id: ID!) { testMessage(id: $id) { id } }`, { id: sent.id }, token);
      expect(errorCode(unseen)).toBe("NOT_FOUND");
    }
    // The test domain's administrator sees its mailbox but may not read what it received.
    const received = await app.gql(`query($id: ID) { account(id: $id) { id receivedTestMessages { totalCount } } }`, { id: box.id }, tokens.admin);
    expect(errorCode(received)).toBe("FORBIDDEN");
    const emptied = await app.gql(`mutation($id: ID!) { emptyTestMailbox(accountId: $id) { deletedCount } }`, { id: box.id }, tokens.admin);
    expect(errorCode(emptied)).toBe("FORBIDDEN");
    expect(admin.domainId).toBe(box.domainId);
    expect(errorCode(await app.gql(SEND, { input: { from: box.address, to: "a@remote.example" } }))).toBe("UNAUTHENTICATED");
    const missing = await app.gql(`query($id: ID!) { testMessage(id: $id) { id } }`, { id: "0193a1b2-0000-7000-8000-000000000000" }, support);
    expect(errorCode(missing)).toBe("NOT_FOUND");
  });

  it("limits test messages per recipient domain and per support admin, with the wait in retryAfterSeconds", async () => {
    const box = await makeAccount(limited, (await makeDomain(limited, { isTestDomain: true })).domain, { quotaMb: 10 });
    const token = await tokenFor(limited, await supportAdmin(limited));
    const send = (to: string) => limited.gql(SEND, { input: { from: box.address, to } }, token);
    const domainOne = `${uniqueName("one")}.example`;
    expect((await send(`a@${domainOne}`)).errors).toBeUndefined();
    expect((await send(`b@${domainOne}`)).errors).toBeUndefined();
    const perDomain = await send(`c@${domainOne}`);
    expect(errorCode(perDomain)).toBe("RATE_LIMITED");
    expect(perDomain.errors![0]!.message).toMatch(new RegExp(`2 test messages went to ${domainOne.replace(/\./g, "\\.")} in the last 3600 s`));
    expect(perDomain.errors![0]!.extensions.retryAfterSeconds).toBeGreaterThan(3500);
    // Another domain still takes one more from this admin (3 per admin), then the admin's own limit.
    expect((await send(`a@${uniqueName("two")}.example`)).errors).toBeUndefined();
    const perUser = await send(`a@${uniqueName("three")}.example`);
    expect(errorCode(perUser)).toBe("RATE_LIMITED");
    expect(perUser.errors![0]!.message).toMatch(/^You have sent 3 test messages in the last 3600 s/);
    expect(await limited.deps.db.testMessage.count({ where: { fromAddress: box.address } })).toBe(3);
  });

  it("answers SERVICE_UNAVAILABLE when no mail server for test messages is configured", async () => {
    const box = await makeAccount(unconfigured, (await makeDomain(unconfigured, { isTestDomain: true })).domain, { quotaMb: 10 });
    const answer = await unconfigured.gql(SEND, { input: { from: box.address, to: "a@remote.example" } }, await tokenFor(unconfigured, await supportAdmin(unconfigured)));
    expect(errorCode(answer)).toBe("SERVICE_UNAVAILABLE");
    expect(answer.errors![0]!.message).toMatch(/TEST_MESSAGE_SMTP/);
  });

  it("lists a test mailbox's messages from its Maildir, newest first and paged, and empties it", async () => {
    const { box, domain } = await testWorld();
    const maildir = join(store, domain.name, box.localPart, "Maildir");
    for (const folder of ["new", "cur", "tmp"]) mkdirSync(join(maildir, folder), { recursive: true });
    const message = (n: number) =>
      `Return-Path: <sender${n}@customer.example>\r\nReceived: from mx.dovecot.test ([127.0.0.41]) by mx (Dovecot) with LMTP id abc for <${box.address}>; Sat, 05 Dec 2026 12:00:0${n} +0000\r\n` +
      `Received: from mail.customer.example (mail.customer.example [192.0.2.${n}])\r\n\tby mx.mailsvc.example (Postfix) with ESMTPS id 4F${n} for <${box.address}>; Sat, 05 Dec 2026 12:00:0${n} +0000\r\n` +
      `From: =?UTF-8?B?${Buffer.from(`客服 ${n}`).toString("base64")}?= <sender${n}@customer.example>\r\nSubject: =?UTF-8?Q?caf=C3=A9_${n}?=\r\nMessage-ID: <m${n}@customer.example>\r\n\r\nbody ${n}\r\n`;
    writeFileSync(join(maildir, "new", `1764936001.M1P1.mx,S=${Buffer.byteLength(message(1))},W=300`), message(1));
    writeFileSync(join(maildir, "cur", `1764936003.M3P1.mx,S=${Buffer.byteLength(message(3))},W=300:2,S`), message(3));
    writeFileSync(join(maildir, "new", `1764936002.M2P1.mx,S=${Buffer.byteLength(message(2))},W=300`), message(2));

    const page = (after?: string) =>
      app.gql(
        `query($id: ID, $after: String) { account(id: $id) { receivedTestMessages(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
          nodes { id sender from subject messageId receivedAt sizeBytes client { helo name address tls } } } } }`,
        { id: box.id, after },
        support,
      );
    const first = await page();
    expect(first.errors).toBeUndefined();
    const list = first.data.account.receivedTestMessages;
    expect(list.totalCount).toBe(3);
    expect(list.pageInfo.hasNextPage).toBe(true);
    expect(list.nodes.map((m: { subject: string }) => m.subject)).toEqual(["café 3", "café 2"]);
    expect(list.nodes[0]).toEqual({
      id: `1764936003.M3P1.mx,S=${Buffer.byteLength(message(3))},W=300`,
      sender: "sender3@customer.example",
      from: "客服 3 <sender3@customer.example>",
      subject: "café 3",
      messageId: "m3@customer.example",
      receivedAt: new Date(1764936003 * 1000).toISOString(),
      sizeBytes: Buffer.byteLength(message(3)),
      client: { helo: "mail.customer.example", name: "mail.customer.example", address: "192.0.2.3", tls: true },
    });
    const second = await page(list.pageInfo.endCursor);
    expect(second.data.account.receivedTestMessages.nodes.map((m: { subject: string }) => m.subject)).toEqual(["café 1"]);
    expect(second.data.account.receivedTestMessages.pageInfo.hasNextPage).toBe(false);

    const emptied = await app.gql(`mutation($id: ID!) { emptyTestMailbox(accountId: $id) { deletedCount account { id } } }`, { id: box.id }, support);
    expect(emptied.errors).toBeUndefined();
    expect(emptied.data.emptyTestMailbox).toEqual({ deletedCount: 3, account: { id: box.id } });
    expect([...readdirSync(join(maildir, "new")), ...readdirSync(join(maildir, "cur"))]).toEqual([]);
    const audit = await app.deps.db.auditEntry.findMany({ where: { action: "test_mailbox.empty", objectId: box.id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.changes).toEqual([{ field: "messages", before: 3, after: 0 }]);
  });

  it("reads SPF, DKIM and DMARC from the results the mail server recorded at receipt, under its own name only, and checks nothing again", async () => {
    const { box, domain } = await testWorld();
    const maildir = join(store, domain.name, box.localPart, "Maildir");
    for (const folder of ["new", "cur", "tmp"]) mkdirSync(join(maildir, folder), { recursive: true });
    const received = `Received: from mail.customer.example (unknown [192.0.2.7])\r\n\tby mx.mailsvc.example (Postfix) with ESMTP id 4F7 for <${box.address}>; Sat, 05 Dec 2026 12:00:07 +0000\r\n`;
    const body = `From: <bob@customer.example>\r\nSubject: recorded\r\n\r\nbody\r\n`;
    // Ours on top (the milter's), folded as mailauth writes it; below it one of another server's, which is not ours to believe.
    const recorded =
      `Return-Path: <bob@customer.example>\r\n` +
      `Authentication-Results: mx.mailsvc.example;\r\n dkim=pass header.i=@customer.example header.s=sel header.a=rsa-sha256 header.b="AbC;d1";\r\n` +
      ` spf=softfail (mx.mailsvc.example: domain of transitioning bob@customer.example does not designate 192.0.2.7 as permitted sender) smtp.mailfrom=bob@customer.example smtp.helo=mail.customer.example;\r\n` +
      ` dmarc=pass (p=REJECT sp=REJECT arc=none) header.from=customer.example\r\n` +
      `Authentication-Results: relay.elsewhere.example; spf=pass smtp.mailfrom=bob@customer.example; dkim=fail; dmarc=fail\r\n` +
      received +
      body;
    // Nothing recorded (it arrived before the milter ran): NONE, and not checked now.
    const unrecorded =
      `Return-Path: <carol@customer.example>\r\nAuthentication-Results: relay.elsewhere.example; spf=pass smtp.mailfrom=carol@customer.example\r\n` + received + body;
    writeFileSync(join(maildir, "new", `1764936011.M1P1.mx,S=${Buffer.byteLength(recorded)},W=300`), recorded);
    writeFileSync(join(maildir, "new", `1764936010.M1P1.mx,S=${Buffer.byteLength(unrecorded)},W=300`), unrecorded);
    const answer = await app.gql(
      `query($id: ID) { account(id: $id) { receivedTestMessages { nodes { sender authentication { recordedBy header spf { result domain details } dkim { result domain details } dmarc { result domain details } } } } } }`,
      { id: box.id },
      support,
    );
    expect(answer.errors).toBeUndefined();
    const [first, second] = answer.data.account.receivedTestMessages.nodes;
    expect(first.sender).toBe("bob@customer.example");
    expect(first.authentication).toEqual({
      recordedBy: "mx.mailsvc.example",
      header: expect.stringMatching(
        /^Authentication-Results: mx\.mailsvc\.example; dkim=pass header\.i=@customer\.example .* dmarc=pass \(p=REJECT sp=REJECT arc=none\) header\.from=customer\.example$/,
      ),
      spf: {
        result: "SOFTFAIL",
        domain: "customer.example",
        details:
          "spf=softfail (mx.mailsvc.example: domain of transitioning bob@customer.example does not designate 192.0.2.7 as permitted sender) smtp.mailfrom=bob@customer.example smtp.helo=mail.customer.example",
      },
      dkim: { result: "PASS", domain: "customer.example", details: 'dkim=pass header.i=@customer.example header.s=sel header.a=rsa-sha256 header.b="AbC;d1"' },
      dmarc: { result: "PASS", domain: "customer.example", details: "dmarc=pass (p=REJECT sp=REJECT arc=none) header.from=customer.example" },
    });
    expect(second.sender).toBe("carol@customer.example");
    expect(second.authentication).toEqual({
      recordedBy: null,
      header: "",
      spf: { result: "NONE", domain: null, details: "spf=none (no result recorded by mx.mailsvc.example at receipt)" },
      dkim: { result: "NONE", domain: null, details: "dkim=none (no result recorded by mx.mailsvc.example at receipt)" },
      dmarc: { result: "NONE", domain: null, details: "dmarc=none (no result recorded by mx.mailsvc.example at receipt)" },
    });
  });

  it("leaves test mailboxes out of the service-wide list of mailboxes above quota, and lists them when their domain is named", async () => {
    const { box, domain } = await testWorld();
    const customerDomain = (await makeDomain(app)).domain;
    const customer = await makeAccount(app, customerDomain, { quotaMb: 10 });
    // 9.5 MiB of 10 in both: the mail store's report, through mailbox_usage and its trigger.
    for (const address of [box.address, customer.address]) {
      await app.deps.db.mailboxUsage.upsert({
        where: { username: address },
        create: { username: address, bytes: 9_961_472n, messages: 3n },
        update: { bytes: 9_961_472n, messages: 3n },
      });
    }
    // Every page of the service-wide list (other tests' mailboxes are in it too).
    const listed: string[] = [];
    for (let after: string | null = null, more = true; more;) {
      const page: any = await app.gql(
        `query($after: String) { mailboxesAboveQuota(percent: 90, first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { address } } }`,
        { after },
        support,
      );
      expect(page.errors).toBeUndefined();
      listed.push(...page.data.mailboxesAboveQuota.nodes.map((node: { address: string }) => node.address));
      more = page.data.mailboxesAboveQuota.pageInfo.hasNextPage;
      after = page.data.mailboxesAboveQuota.pageInfo.endCursor;
    }
    expect(listed).toContain(customer.address);
    expect(listed).not.toContain(box.address);
    const named = await app.gql(`query($d: ID) { mailboxesAboveQuota(domainId: $d, percent: 90) { nodes { address } } }`, { d: domain.id }, support);
    expect(named.data.mailboxesAboveQuota.nodes).toEqual([{ address: box.address }]);
  });

  it("leaves test domains out of the domain list and its totalCount (GraphQL and REST) unless support asks for them, marked", async () => {
    const label = uniqueName("counted");
    const test = await makeWorld(app, { name: `${label}-support-test.example`, isTestDomain: true });
    await makeDomain(app, { name: `${label}-customer.example` });
    const readOnly = await supportAdmin(app, uniqueName("readonly"));
    await app.deps.db.supportAdmin.update({ where: { id: readOnly.id }, data: { level: "READ_ONLY" } });
    const LIST = `query($search: String, $all: Boolean) { domains(search: $search, includeTestDomains: $all) { totalCount nodes { name isTestDomain accountCount } } }`;
    for (const token of [support, await tokenFor(app, readOnly)]) {
      const customers = await app.gql(LIST, { search: label }, token);
      expect(customers.errors).toBeUndefined();
      expect(customers.data.domains).toEqual({ totalCount: 1, nodes: [{ name: `${label}-customer.example`, isTestDomain: false, accountCount: 1 }] });
      const all = await app.gql(LIST, { search: label, all: true }, token);
      expect(all.data.domains).toEqual({
        totalCount: 2,
        nodes: [
          { name: `${label}-customer.example`, isTestDomain: false, accountCount: 1 },
          { name: `${label}-support-test.example`, isTestDomain: true, accountCount: 2 },
        ],
      });
    }
    // The service-wide count (no search) is the customers' domains only.
    const everyDomain = await app.gql(`{ domains(first: 1) { totalCount } }`, {}, support);
    const customerDomains = await app.deps.db.domain.count({ where: { isTestDomain: false } });
    expect(everyDomain.data.domains.totalCount).toBe(customerDomains);
    // A test domain's own login lists its own domain, as every domain's accounts do.
    const own = await app.gql(LIST, {}, test.tokens.admin);
    expect(own.data.domains).toEqual({ totalCount: 1, nodes: [{ name: `${label}-support-test.example`, isTestDomain: true, accountCount: 2 }] });

    const rest = async (query: string) => {
      const response = await fetch(`${app.url}/api/v1/domains?${query}`, { headers: { authorization: `Bearer ${support}` } });
      expect(response.status).toBe(200);
      return (await response.json()) as { totalCount: number; items: { name: string; isTestDomain: boolean }[] };
    };
    const restCustomers = await rest(`search=${label}`);
    expect(restCustomers.totalCount).toBe(1);
    expect(restCustomers.items.map((d) => [d.name, d.isTestDomain])).toEqual([[`${label}-customer.example`, false]]);
    const restAll = await rest(`search=${label}&includeTestDomains=true`);
    expect(restAll.totalCount).toBe(2);
    expect(restAll.items.map((d) => [d.name, d.isTestDomain])).toEqual([
      [`${label}-customer.example`, false],
      [`${label}-support-test.example`, true],
    ]);
  });

  it("reads nothing of a customer's mailbox (null) and refuses to empty it", async () => {
    const { domain } = await makeDomain(app);
    const customer = await makeAccount(app, domain, { quotaMb: 10 });
    const read = await app.gql(`query($id: ID) { account(id: $id) { id receivedTestMessages { totalCount } } }`, { id: customer.id }, support);
    expect(read.errors).toBeUndefined();
    expect(read.data.account).toEqual({ id: customer.id, receivedTestMessages: null });
    const emptied = await app.gql(`mutation($id: ID!) { emptyTestMailbox(accountId: $id) { deletedCount } }`, { id: customer.id }, support);
    expect(errorCode(emptied)).toBe("BAD_USER_INPUT");
    expect(emptied.errors![0]!.extensions.field).toBe("accountId");
    expect(emptied.errors![0]!.message).toMatch(/is not a mailbox of a support test domain/);
  });
});
