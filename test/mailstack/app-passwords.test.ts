// App passwords in the real mail stack: Debian's Dovecot (IMAP, POP3) and
// Postfix submission (SASL through Dovecot) started by this file on
// 127.0.0.50 with the configuration mailadmin writes. An app password made
// through the API logs in to all three; once revoked it is refused; it never
// logs in to the API. Needs PostgreSQL and root, like the other stack tests.
import type { MailStackState } from "../../src/mailstack/stack";
import { mailStackSkipReason, useMailStack } from "../helpers/mail-stack";
import { PASSWORD, makeAccount, makeDomain, tokenFor, uniqueName } from "../helpers/factories";
import { pop3Login, readInbox, sendMail, textMessage, waitForInbox } from "../helpers/mail-clients";
import { errorCode, type TestApp } from "../helpers/test-app";
import { useTestApp } from "../helpers/use-test-app";

const notRunnable = mailStackSkipReason();
const describeWithStack = notRunnable ? describe.skip : describe;
if (notRunnable) process.stdout.write(`\ntest/mailstack/app-passwords.test.ts does not run: ${notRunnable}\n`);

const ADDRESS = "127.0.0.50";

describeWithStack("app passwords in Dovecot and Postfix submission", () => {
  let app: TestApp;
  let stack: MailStackState;
  useTestApp((started) => {
    app = started.app;
  });
  useMailStack({ address: ADDRESS, portBase: 26_000 }, (started) => {
    stack = started;
  });

  it("logs a mail client in over IMAP, POP3 and submission with an app password; a revoked one is refused; neither logs in to the API", async () => {
    const { domain } = await makeDomain(app);
    const mailbox = await makeAccount(app, domain, { quotaMb: 10 });
    const token = await tokenFor(app, mailbox);
    const created = await app.gql(
      `mutation($id: ID!) { createAppPassword(input: { accountId: $id, name: "Phone" }) { password appPassword { id prefix status } } }`,
      { id: mailbox.id },
      token,
    );
    expect(created.errors).toBeUndefined();
    const { password, appPassword } = created.data.createAppPassword;
    expect(password.startsWith(appPassword.prefix)).toBe(true);
    const other = await app.gql(`mutation($id: ID!) { createAppPassword(input: { accountId: $id, name: "Laptop" }) { password } }`, { id: mailbox.id }, token);
    const laptop = other.data.createAppPassword.password as string;

    // IMAP, with mail delivered to read.
    const marker = uniqueName("app");
    const sent = await sendMail({
      host: ADDRESS,
      port: stack.ports.smtp,
      from: "sender@remote.test",
      to: [mailbox.address],
      message: textMessage("sender@remote.test", mailbox.address, marker),
    });
    expect(sent.data).toMatch(/^250 /);
    const session = await waitForInbox(ADDRESS, stack.ports.imap, mailbox.address, password, (s) => s.messages.some((m) => m.includes(marker)));
    expect(session.login).toMatch(/^OK/);
    // The account's own password still works; a made-up one that looks like an app password does not.
    expect((await readInbox(ADDRESS, stack.ports.imap, mailbox.address, PASSWORD)).login).toMatch(/^OK/);
    expect((await readInbox(ADDRESS, stack.ports.imap, mailbox.address, `${appPassword.prefix}-${"x".repeat(20)}`)).login).toMatch(/^NO/);
    // POP3.
    expect(await pop3Login(ADDRESS, stack.ports.pop3, mailbox.address, password)).toMatch(/^\+OK/);
    // Submission: Postfix asks Dovecot.
    const submitted = await sendMail({
      host: ADDRESS,
      port: stack.ports.submission,
      from: mailbox.address,
      to: [mailbox.address],
      message: textMessage(mailbox.address, mailbox.address, uniqueName("sub")),
      auth: { user: mailbox.address, password },
    });
    expect(submitted.auth).toMatch(/^235 /);
    expect(submitted.data).toMatch(/^250 /);
    // Never the API.
    const apiLogin = await app.gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token } }`, { i: mailbox.address, p: password });
    expect(errorCode(apiLogin)).toBe("UNAUTHENTICATED");

    const revoked = await app.gql(`mutation($id: ID!) { revokeAppPassword(id: $id) { appPassword { status } } }`, { id: appPassword.id }, token);
    expect(revoked.data.revokeAppPassword.appPassword.status).toBe("REVOKED");
    expect((await readInbox(ADDRESS, stack.ports.imap, mailbox.address, password)).login).toMatch(/^NO/);
    expect(await pop3Login(ADDRESS, stack.ports.pop3, mailbox.address, password)).toMatch(/^-ERR/);
    const refused = await sendMail({
      host: ADDRESS,
      port: stack.ports.submission,
      from: mailbox.address,
      to: [mailbox.address],
      message: textMessage(mailbox.address, mailbox.address, "x"),
      auth: { user: mailbox.address, password },
    });
    expect(refused.auth).toMatch(/^535 /);
    // The other app password is untouched.
    expect((await readInbox(ADDRESS, stack.ports.imap, mailbox.address, laptop)).login).toMatch(/^OK/);
  });
});
