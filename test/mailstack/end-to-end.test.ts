// The mail stack end to end: Debian's Postfix (postfix-pgsql) and Dovecot
// (imapd, lmtpd, pgsql) started by this file on 127.0.0.26 with the
// configuration mailadmin writes, reading the test's PostgreSQL through the
// read contract as a least-privilege login. Domains and mailboxes are made
// through the API; mail goes in over SMTP and is read back over IMAP. Needs
// PostgreSQL and root (the stack's masters run as root); elsewhere it says why
// it does not run. Everything it starts is stopped after the file.
import { collectSource } from "../../src/maillog/collector";
import type { LogStore } from "../../src/maillog/sql";
import type { MailStackState } from "../../src/mailstack/stack";
import { mailStackSkipReason, useMailStack } from "../helpers/mail-stack";
import { PASSWORD, makeAccount, makeDomain, tokenFor, uniqueName } from "../helpers/factories";
import { sendMail, textMessage, readInbox, waitForInbox } from "../helpers/mail-clients";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { useLogStore, useTestApp } from "../helpers/use-test-app";

const notRunnable = mailStackSkipReason();
const describeWithStack = notRunnable ? describe.skip : describe;
if (notRunnable) process.stdout.write(`\ntest/mailstack/end-to-end.test.ts does not run: ${notRunnable}\n`);

const MiB = 1024 * 1024;
const ADDRESS = "127.0.0.26";

describeWithStack("Postfix and Dovecot on mailadmin's data", () => {
  let app: TestApp;
  let support: string;
  let store: LogStore;
  let stack: MailStackState;

  useTestApp((started) => {
    app = started.app;
    support = started.support;
  });
  useLogStore((opened) => {
    store = opened;
  });

  useMailStack({ address: ADDRESS, portBase: 20_000 }, (started) => {
    stack = started;
  });

  const smtp = (from: string, to: string[], message: string, extra: { announceSize?: boolean } = {}) =>
    sendMail({ host: ADDRESS, port: stack.ports.smtp, from, to, message, ...extra });
  const inbox = (user: string, password = PASSWORD) => readInbox(ADDRESS, stack.ports.imap, user, password);
  const inboxWith = (user: string, marker: string) => waitForInbox(ADDRESS, stack.ports.imap, user, PASSWORD, (session) => session.messages.some((m) => m.includes(marker)));

  /** Reads what Postfix logged so far into mailadmin, as the collector does for a LOG_SOURCES entry. */
  async function collectPostfixLog(): Promise<void> {
    const report = await collectSource(store, { name: stack.logSource.name, path: stack.logSource.path, timeZone: stack.logSource.timeZone, format: "postfix" });
    expect(report.errors).toEqual([]);
  }

  it("accepts mail for a mailbox made through the API and serves it over IMAP with the password set through the API", async () => {
    const { domain } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb: 10 });
    const marker = uniqueName("hello");
    const sent = await smtp("sender@remote.test", [mailbox.address], textMessage("sender@remote.test", mailbox.address, marker));
    expect(sent.rcpt).toEqual([expect.stringMatching(/^250 /)]);
    expect(sent.data).toMatch(/^250 .*queued as/);
    const session = await inboxWith(mailbox.address, marker);
    expect(session.login).toMatch(/^OK/);
    expect(session.messages.filter((m) => m.includes(`Subject: test ${marker}`))).toHaveLength(1);
  });

  it("refuses an unknown recipient of a hosted domain at RCPT with 550 5.1.1, and a domain administrator without a mailbox clearly", async () => {
    const { domain, admin } = await makeDomain(app);
    expect(admin.quotaMb).toBe(0);
    const sent = await smtp("sender@remote.test", [`nobody-${uniqueName()}@${domain.name}`, admin.address], textMessage("sender@remote.test", admin.address, "x"));
    expect(sent.rcpt[0]).toMatch(/^550 5\.1\.1 /);
    expect(sent.rcpt[1]).toMatch(/^550 5\.2\.1 .*administrator login without a mailbox/);
    expect(sent.data).toBeUndefined();
    // Given a quota, the administrator's address receives mail.
    const given = await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { quotaMb: 5 }) { account { quotaMb } } }`, { id: admin.id }, support);
    expect(given.errors).toBeUndefined();
    const again = await smtp("sender@remote.test", [admin.address], textMessage("sender@remote.test", admin.address, "y"));
    expect(again.rcpt).toEqual([expect.stringMatching(/^250 /)]);
  });

  it("takes a password change through the API at once: the old password is refused, the new one accepted", async () => {
    const { domain } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb: 10 });
    expect((await inbox(mailbox.address)).login).toMatch(/^OK/);
    const changed = await app.gql(
      `mutation($id: ID!, $p: String!) { setAccountPassword(id: $id, password: $p) { account { id } } }`,
      { id: mailbox.id, p: "a new password 2026" },
      support,
    );
    expect(changed.errors).toBeUndefined();
    expect((await inbox(mailbox.address)).login).toMatch(/^NO \[AUTHENTICATIONFAILED\]/);
    expect((await inbox(mailbox.address, "a new password 2026")).login).toMatch(/^OK/);
    // The address as a user types it, in capitals: the same mailbox.
    expect((await inbox(mailbox.address.toUpperCase(), "a new password 2026")).login).toMatch(/^OK/);
  });

  it("refuses IMAP logins of a suspended account, which keeps receiving its mail", async () => {
    const { domain } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb: 10 });
    const suspended = await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { status: SUSPENDED }) { account { status } } }`, { id: mailbox.id }, support);
    expect(suspended.errors).toBeUndefined();
    expect((await inbox(mailbox.address)).login).toMatch(/^NO \[AUTHENTICATIONFAILED\]/);
    const marker = uniqueName("kept");
    const sent = await smtp("sender@remote.test", [mailbox.address], textMessage("sender@remote.test", mailbox.address, marker));
    expect(sent.rcpt).toEqual([expect.stringMatching(/^250 /)]);
    await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { status: ACTIVE }) { account { status } } }`, { id: mailbox.id }, support);
    expect((await inboxWith(mailbox.address, marker)).messages.some((m) => m.includes(marker))).toBe(true);
  });

  it("refuses mail to a suspended domain and logins of its users", async () => {
    const { domain } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb: 10 });
    expect((await smtp("sender@remote.test", [mailbox.address], textMessage("sender@remote.test", mailbox.address, "before"))).rcpt[0]).toMatch(/^250 /);
    const suspended = await app.gql(`mutation($id: ID!) { updateDomain(id: $id, input: { status: SUSPENDED }) { domain { status } } }`, { id: domain.id }, support);
    expect(suspended.errors).toBeUndefined();
    const refused = await smtp("sender@remote.test", [mailbox.address], textMessage("sender@remote.test", mailbox.address, "after"));
    // The domain is no longer hosted (relay denied); an smtpd process that resolved this
    // address a moment ago keeps its routing and finds no such mailbox instead: refused either way.
    expect(refused.rcpt[0]).toMatch(/^(554 5\.7\.1 .*Relay access denied|550 5\.1\.1 .*User unknown)/);
    expect((await inbox(mailbox.address)).login).toMatch(/^NO \[AUTHENTICATIONFAILED\]/);
  });

  it("refuses a message larger than the room in the quota, shows the refusal in mailLog from Postfix's log, and diagnosis names the quota", async () => {
    const { domain, admin } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb: 1 });
    // Announced size: Dovecot's quota-status refuses at RCPT, nothing is accepted.
    const announced = await smtp("sender@remote.test", [mailbox.address], textMessage("sender@remote.test", mailbox.address, uniqueName("big"), 2 * MiB), { announceSize: true });
    expect(announced.rcpt[0]).toMatch(/^552 5\.2\.2 /);
    // Unannounced: accepted by Postfix, refused by Dovecot's LMTP at the end of DATA, bounced.
    const marker = uniqueName("big");
    const unannounced = await smtp("sender@remote.test", [mailbox.address], textMessage("sender@remote.test", mailbox.address, marker, 2 * MiB));
    expect(unannounced.data).toMatch(/^250 /);
    const queueId = /queued as ([0-9A-F]+)/.exec(unannounced.data ?? "")?.[1];
    expect(queueId).toBeDefined();

    const token = await tokenFor(app, admin);
    let records: { status: string; dsn: string | null; queueId: string | null; reason: string | null; id: string }[] = [];
    for (let waited = 0; waited < 100 && !records.some((r) => r.queueId === queueId); waited++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      await collectPostfixLog();
      const answer = await app.gql(`query($a: String!) { mailLog(address: $a) { nodes { id status dsn queueId reason format } } }`, { a: mailbox.address }, token);
      expect(answer.errors).toBeUndefined();
      records = answer.data.mailLog.nodes;
    }
    const bounce = records.find((r) => r.queueId === queueId);
    expect(bounce).toMatchObject({ status: "FAIL", dsn: "5.2.2", format: "POSTFIX" });
    expect(records.some((r) => r.queueId === null && r.dsn === "5.2.2")).toBe(true);

    const diagnosis = await app.gql(`query($id: ID!) { diagnoseDelivery(logRecordId: $id) { verdict findings { code severity } } }`, { id: bounce!.id }, token);
    expect(diagnosis.errors).toBeUndefined();
    expect(diagnosis.data.diagnoseDelivery.findings[0]).toMatchObject({ severity: "PROBLEM", code: expect.stringMatching(/^mailbox\.(quota_exceeded|full)$/) });
  });

  it("brings the mail server's usage back into usedMb and messageCount after delivery, and warns the user at 80 %", async () => {
    const { domain } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb: 1 });
    const marker = uniqueName("usage");
    // About 850 KiB of 1 MiB: past the 80 % threshold.
    const sent = await smtp("sender@remote.test", [mailbox.address], textMessage("sender@remote.test", mailbox.address, marker, 850 * 1024));
    expect(sent.data).toMatch(/^250 /);
    const session = await waitForInbox(ADDRESS, stack.ports.imap, mailbox.address, PASSWORD, (s) => s.messages.some((m) => /Subject: Your mailbox is 80% full/.test(m)));
    expect(session.messages.some((m) => m.includes(marker))).toBe(true);
    expect(session.messages.some((m) => /Subject: Your mailbox is 80% full/.test(m))).toBe(true);
    let account = { usedMb: 0, messageCount: 0 };
    for (let waited = 0; waited < 50 && account.messageCount < 2; waited++) {
      const answer = await app.gql(`query($id: ID) { account(id: $id) { usedMb messageCount } }`, { id: mailbox.id }, support);
      account = answer.data.account;
      if (account.messageCount < 2) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The message and the warning; usedMb rounds bytes up to whole MiB.
    expect(account).toEqual({ usedMb: 1, messageCount: 2 });
  });

  it("lets an authenticated user send as its own address through submission, and no other", async () => {
    const { domain } = await makeDomain(app);
    const sender = await makeAccount(app, domain, { quotaMb: 10 });
    const recipient = await makeAccount(app, domain, { quotaMb: 10 });
    const submit = (from: string, password = PASSWORD) =>
      sendMail({
        host: ADDRESS,
        port: stack.ports.submission,
        from,
        to: [recipient.address],
        message: textMessage(from, recipient.address, uniqueName("sub")),
        auth: { user: sender.address, password },
      });
    expect((await submit(sender.address, "wrong password")).auth).toMatch(/^535 /);
    const own = await submit(sender.address);
    expect(own.auth).toMatch(/^235 /);
    expect(own.rcpt).toEqual([expect.stringMatching(/^250 /)]);
    const forged = await submit(recipient.address);
    expect(forged.rcpt[0]).toMatch(/^553 5\.7\.1 .*not owned by user/);
  });

  it("keeps accepting mail and serving IMAP while the mailadmin process is stopped", async () => {
    // A server of its own, stopped in the middle of the test; the file's server is not touched.
    const own = await startTestApp();
    let mailbox: { address: string };
    try {
      const { domain } = await makeDomain(own);
      mailbox = await makeAccount(own, domain, { quotaMb: 10 });
    } finally {
      await own.close();
    }
    const health = await fetch(`${own.url}/healthz`).then(
      () => "answered",
      () => "no answer",
    );
    expect(health).toBe("no answer");
    const marker = uniqueName("down");
    const sent = await smtp("sender@remote.test", [mailbox.address], textMessage("sender@remote.test", mailbox.address, marker));
    expect(sent.data).toMatch(/^250 /);
    expect((await inboxWith(mailbox.address, marker)).messages.some((m) => m.includes(marker))).toBe(true);
  });
});
