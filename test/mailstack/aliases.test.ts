// Aliases, forwarding, catch-all, alias domains and sending-as in the real
// mail stack (Debian's Postfix and Dovecot on 127.0.0.29), made through the
// API. An SMTP sink on 127.0.0.30 (smtp-server) stands for the outside world:
// the stack relays mail for other domains to it and nowhere else. Needs
// PostgreSQL and root; elsewhere it says why it does not run.
import { SMTPServer } from "smtp-server";
import type { MailStackState } from "../../src/mailstack/stack";
import { PASSWORD, makeAccount, makeDomain, uniqueName } from "../helpers/factories";
import { readInbox, sendMail, textMessage, waitForInbox } from "../helpers/mail-clients";
import { mailStackSkipReason, useMailStack } from "../helpers/mail-stack";
import type { TestApp } from "../helpers/test-app";
import { useTestApp } from "../helpers/use-test-app";

const notRunnable = mailStackSkipReason();
const describeWithStack = notRunnable ? describe.skip : describe;
if (notRunnable) process.stdout.write(`\ntest/mailstack/aliases.test.ts does not run: ${notRunnable}\n`);

const ADDRESS = "127.0.0.29";
const SINK = { address: "127.0.0.30", port: 2526 };

interface SunkMessage {
  to: string[];
  data: string;
}

describeWithStack("aliases, forwarding, catch-all and alias domains in the mail stack", () => {
  let app: TestApp;
  let support: string;
  let stack: MailStackState;
  const sunk: SunkMessage[] = [];
  let sink: SMTPServer;

  useTestApp((started) => {
    app = started.app;
    support = started.support;
  });

  beforeAll(async () => {
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          sunk.push({ to: session.envelope.rcptTo.map((rcpt) => rcpt.address.toLowerCase()), data: Buffer.concat(chunks).toString("utf8") });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => sink.listen(SINK.port, SINK.address, resolve));
  });
  afterAll(() => new Promise<void>((resolve) => sink.close(() => resolve())));

  useMailStack({ address: ADDRESS, portBase: 22_000, relayhost: `[${SINK.address}]:${SINK.port}` }, (started) => {
    stack = started;
  });

  const gql = async (query: string, variables: Record<string, unknown>) => {
    const answer = await app.gql(query, variables, support);
    expect(answer.errors).toBeUndefined();
    return answer.data;
  };
  const send = (to: string, marker: string) =>
    sendMail({ host: ADDRESS, port: stack.ports.smtp, from: "someone@outside.test", to: [to], message: textMessage("someone@outside.test", to, marker) });
  const inboxWith = (user: string, marker: string) => waitForInbox(ADDRESS, stack.ports.imap, user, PASSWORD, (session) => session.messages.some((m) => m.includes(marker)));
  async function sunkWith(marker: string, timeoutMs = 20_000): Promise<SunkMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !sunk.some((message) => message.data.includes(marker))) await new Promise((resolve) => setTimeout(resolve, 100));
    return sunk.filter((message) => message.data.includes(marker));
  }
  const holds = async (user: string, marker: string) => (await readInbox(ADDRESS, stack.ports.imap, user, PASSWORD)).messages.some((m) => m.includes(marker));

  it("delivers mail to an alias to every destination: two mailboxes and an external address", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const bob = await makeAccount(app, domain, { quotaMb: 10 });
    const created = await gql(`mutation($input: CreateAliasInput!) { createAlias(input: $input) { alias { address destinations } } }`, {
      input: { domainId: domain.id, localPart: "sales", destinations: [amy.address, bob.address, "partner@outside.test"] },
    });
    expect(created.createAlias.alias.address).toBe(`sales@${domain.name}`);
    const marker = uniqueName("alias");
    const sent = await send(`sales@${domain.name}`, marker);
    expect(sent.rcpt).toEqual([expect.stringMatching(/^250 /)]);
    expect((await inboxWith(amy.address, marker)).messages.some((m) => m.includes(marker))).toBe(true);
    expect((await inboxWith(bob.address, marker)).messages.some((m) => m.includes(marker))).toBe(true);
    expect((await sunkWith(marker)).flatMap((message) => message.to)).toEqual(["partner@outside.test"]);
  });

  it("forwards a mailbox's mail with a copy kept, and without one", async () => {
    const { domain } = await makeDomain(app);
    const keeps = await makeAccount(app, domain, { quotaMb: 10 });
    const passes = await makeAccount(app, domain, { quotaMb: 10 });
    const forward = `mutation($id: ID!, $to: [String!]!, $keep: Boolean) { setForwarding(accountId: $id, destinations: $to, keepCopy: $keep) { account { forwarding { destinations keepCopy } } } }`;
    expect((await gql(forward, { id: keeps.id, to: ["keeper@outside.test"], keep: true })).setForwarding.account.forwarding).toEqual({
      destinations: ["keeper@outside.test"],
      keepCopy: true,
    });
    await gql(forward, { id: passes.id, to: ["passer@outside.test"], keep: false });

    const kept = uniqueName("kept");
    expect((await send(keeps.address, kept)).rcpt[0]).toMatch(/^250 /);
    expect((await sunkWith(kept)).flatMap((message) => message.to)).toEqual(["keeper@outside.test"]);
    expect((await inboxWith(keeps.address, kept)).messages.some((m) => m.includes(kept))).toBe(true);

    const passed = uniqueName("passed");
    expect((await send(passes.address, passed)).rcpt[0]).toMatch(/^250 /);
    expect((await sunkWith(passed)).flatMap((message) => message.to)).toEqual(["passer@outside.test"]);
    // The forwarded copy has left; nothing was delivered locally (there was one delivery to make, and it was the relay).
    expect(await holds(passes.address, passed)).toBe(false);
  });

  it("sends mail to unknown addresses to the catch-all, and mail to existing mailboxes still to them", async () => {
    const { domain } = await makeDomain(app);
    const catcher = await makeAccount(app, domain, { quotaMb: 10 });
    const other = await makeAccount(app, domain, { quotaMb: 10 });
    const before = await send(`nobody-${uniqueName()}@${domain.name}`, "refused");
    expect(before.rcpt[0]).toMatch(/^550 5\.1\.1 /);
    await gql(`mutation($d: ID!, $to: String) { setCatchAll(domainId: $d, destination: $to) { domain { catchAll } } }`, { d: domain.id, to: catcher.address });
    const unknown = uniqueName("unknown");
    expect((await send(`nobody-${uniqueName()}@${domain.name}`, unknown)).rcpt[0]).toMatch(/^250 /);
    expect((await inboxWith(catcher.address, unknown)).messages.some((m) => m.includes(unknown))).toBe(true);
    const known = uniqueName("known");
    expect((await send(other.address, known)).rcpt[0]).toMatch(/^250 /);
    expect((await inboxWith(other.address, known)).messages.some((m) => m.includes(known))).toBe(true);
    expect(await holds(catcher.address, known)).toBe(false);
  });

  it("delivers an alias domain's mail to the same local parts, refuses its unknown addresses, and applies the catch-all to it", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const aliasName = `${uniqueName("ad")}.test`;
    const added = await gql(`mutation($d: ID!, $n: String!) { addAliasDomain(domainId: $d, name: $n) { domain { aliasDomains { name } } } }`, { d: domain.id, n: aliasName });
    expect(added.addAliasDomain.domain.aliasDomains).toEqual([{ name: aliasName }]);
    const marker = uniqueName("via");
    expect((await send(`${amy.localPart}@${aliasName}`, marker)).rcpt[0]).toMatch(/^250 /);
    expect((await inboxWith(amy.address, marker)).messages.some((m) => m.includes(marker))).toBe(true);
    expect((await send(`nobody@${aliasName}`, "x")).rcpt[0]).toMatch(/^550 5\.1\.1 /);
    await gql(`mutation($d: ID!, $to: String) { setCatchAll(domainId: $d, destination: $to) { domain { catchAll } } }`, { d: domain.id, to: amy.address });
    const caught = uniqueName("caught");
    expect((await send(`nobody@${aliasName}`, caught)).rcpt[0]).toMatch(/^250 /);
    expect((await inboxWith(amy.address, caught)).messages.some((m) => m.includes(caught))).toBe(true);
  });

  it("lets a user send as the aliases that deliver to it, and refuses someone else's address", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const bob = await makeAccount(app, domain, { quotaMb: 10 });
    await gql(`mutation($input: CreateAliasInput!) { createAlias(input: $input) { alias { id } } }`, {
      input: { domainId: domain.id, localPart: "info", destinations: [amy.address] },
    });
    const submit = (from: string) =>
      sendMail({
        host: ADDRESS,
        port: stack.ports.submission,
        from,
        to: [bob.address],
        message: textMessage(from, bob.address, uniqueName("as")),
        auth: { user: amy.address, password: PASSWORD },
      });
    expect((await submit(`info@${domain.name}`)).rcpt).toEqual([expect.stringMatching(/^250 /)]);
    expect((await submit(amy.address)).rcpt).toEqual([expect.stringMatching(/^250 /)]);
    expect((await submit(bob.address)).rcpt[0]).toMatch(/^553 5\.7\.1 .*not owned by user/);
  });
  it("answers with the out-of-office reply once per sender, and never bulk or automatic mail", async () => {
    const { domain } = await makeDomain(app);
    const away = await makeAccount(app, domain, { quotaMb: 10 });
    const set = await gql(`mutation($id: ID!, $input: AutoReplyInput) { setAutoReply(accountId: $id, input: $input) { account { autoReply { subject daysBetweenReplies } } } }`, {
      id: away.id,
      input: { subject: 'Away "until" Monday', body: "I am away.\nBack on Monday.", endsAt: "2099-01-01T00:00:00+08:00" },
    });
    expect(set.setAutoReply.account.autoReply).toEqual({ subject: 'Away "until" Monday', daysBetweenReplies: 7 });
    const from = (sender: string, marker: string, extraHeaders = "") =>
      sendMail({
        host: ADDRESS,
        port: stack.ports.smtp,
        from: sender,
        to: [away.address],
        message: `From: <${sender}>\nTo: <${away.address}>\nSubject: hello ${marker}\nMessage-ID: <${marker}@outside.test>\n${extraHeaders}\nbody ${marker}\n`,
      });
    const repliesTo = (sender: string) => sunk.filter((message) => message.to.includes(sender) && /Auto-Submitted: auto-replied/i.test(message.data));

    const first = uniqueName("first");
    expect((await from("friend@outside.test", first)).data).toMatch(/^250 /);
    await inboxWith(away.address, first);
    const deadline = Date.now() + 20_000;
    while (repliesTo("friend@outside.test").length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const replies = repliesTo("friend@outside.test");
    expect(replies).toHaveLength(1);
    expect(replies[0]!.data).toMatch(/Subject: Away "until" Monday/);
    expect(replies[0]!.data).toContain("Back on Monday.");

    // The same sender again, a list's bulk mail, and an automatic message: delivered, never answered.
    const second = uniqueName("second");
    const bulk = uniqueName("bulk");
    const automatic = uniqueName("auto");
    await from("friend@outside.test", second);
    await from("news@outside.test", bulk, "Precedence: bulk\nList-Id: <news.outside.test>\n");
    await from("robot@outside.test", automatic, "Auto-Submitted: auto-generated\n");
    for (const marker of [second, bulk, automatic]) expect((await inboxWith(away.address, marker)).messages.some((m) => m.includes(marker))).toBe(true);
    // Delivered means Sieve has run; a reply would be queued by now. Give it a moment to reach the sink.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(repliesTo("friend@outside.test")).toHaveLength(1);
    expect(repliesTo("news@outside.test")).toHaveLength(0);
    expect(repliesTo("robot@outside.test")).toHaveLength(0);

    // Off: a new sender gets nothing.
    await gql(`mutation($id: ID!) { setAutoReply(accountId: $id, input: null) { account { autoReply { subject } } } }`, { id: away.id });
    const later = uniqueName("later");
    await from("stranger@outside.test", later);
    await inboxWith(away.address, later);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(repliesTo("stranger@outside.test")).toHaveLength(0);
  });
});
