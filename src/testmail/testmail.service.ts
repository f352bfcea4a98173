// The support test domain's outbound test (docs/test-domain.md): support sends
// a test message from a mailbox of a test domain to any address through the
// service's Postfix, and follows it through Postfix's own log (the delivery
// records the collector stores, joined per queue id): accepted, delivered
// here, handed to the remote with its reply, deferred or bounced with the
// reason. Only support staff send test messages or read their results.
import { randomUUID } from "node:crypto";
import nodemailer from "nodemailer";
import type { Account, MailLogRecord, Prisma, TestMessage } from "../generated/prisma/client";
import type { Principal } from "../auth/principal";
import type { Caller, ServiceDeps } from "../service-deps";
import { authorize, type Action } from "../auth/policy";
import { changedFields, writeAudit } from "../audit/audit.service";
import { BadInputError, NotFoundError, RateLimitedError, ServiceUnavailableError } from "../errors";
import { message } from "../i18n/messages";
import type { Text } from "../i18n/text";
import { decodeCursor, parseAddress, parseId, parsePageSize } from "../shared/validation";
import { toConnection, type Connection } from "../shared/connection";
import { collectSource } from "../maillog/collector";
import { createPgLogStore } from "../maillog/sql";
import { runProbe } from "../probe/probe.service";
import type { MailServerProbe } from "../probe/probe";
import { emptyMaildir, listMaildir, maildirOf, readReceivedMessage, type ReceivedTestMessageView } from "./testmail.inbound";

export type TestMessageState = "REFUSED" | "ACCEPTED" | "DELIVERED_LOCALLY" | "RELAYED" | "DEFERRED" | "BOUNCED";

/** A test message as the API shows it: the stored row, its delivery records and what they say. */
export interface TestMessageView {
  row: TestMessage;
  records: MailLogRecord[];
  state: TestMessageState;
  final: boolean;
  /** The state in a sentence (a Message: the resolver writes it in the request's language). */
  summary: Text;
  latest: MailLogRecord | undefined;
}

export interface SendTestMessageInput {
  from: string;
  to: string;
  subject?: string | null;
}

const MAX_SUBJECT_LENGTH = 200;

function describeTestMessage(id: string): [string, string] {
  return ["test message", `with id ${id}`];
}

/** The state a test message is in, from its delivery records (oldest first): the latest attempt decides. */
export function testMessageState(row: Pick<TestMessage, "accepted" | "targetIsLocal" | "submissionReply" | "queueId" | "toAddress">, records: MailLogRecord[]) {
  const latest = records.at(-1);
  if (!row.accepted) return { state: "REFUSED" as const, final: true, summary: message("testmail.refused", { reply: row.submissionReply }), latest };
  if (!latest) return { state: "ACCEPTED" as const, final: false, summary: message("testmail.accepted", { queueId: row.queueId ?? "" }), latest };
  const reason: Text = latest.reason ?? message("testmail.no_reason");
  if (latest.status === "OK") {
    return row.targetIsLocal
      ? { state: "DELIVERED_LOCALLY" as const, final: true, summary: message("testmail.delivered_locally", { address: row.toAddress, dsn: latest.dsn ?? "2.0.0" }), latest }
      : {
          state: "RELAYED" as const,
          final: true,
          summary: message("testmail.relayed", { relay: latest.relay ?? message("testmail.the_remote_server"), reason }),
          latest,
        };
  }
  if (latest.status === "RETRY") {
    const attempt = (latest.retryCount ?? 0) + 1;
    return { state: "DEFERRED" as const, final: false, summary: message("testmail.deferred", { attempt, dsn: latest.dsn ?? "4.0.0", reason }), latest };
  }
  return {
    state: "BOUNCED" as const,
    final: true,
    summary: message("testmail.bounced", { dsn: latest.dsn ?? "5.0.0", reason, sender: latest.sender ?? message("diagnosis.the_sender") }),
    latest,
  };
}

/** The message text: says plainly that it is a test of the service's support, in English and Traditional Chinese, with its id. */
function testMessageBody(id: string, from: string, to: string, sentBy: string, at: Date): string {
  return [
    "This is a test message sent by the support staff of the mail service,",
    `to check that mail from ${from} reaches ${to}. No reply is needed.`,
    "",
    `Test message id: ${id}`,
    `Sent by support (${sentBy}) at ${at.toISOString()}`,
    "",
    `這是郵件服務客服人員寄出的測試信，用來確認 ${from} 寄給 ${to} 的郵件能夠送達，不需要回信。`,
    `測試編號：${id}`,
    "",
  ].join("\n");
}

function parseSmtpSetting(value: string | undefined): { host: string; port: number } {
  if (!value) {
    throw new ServiceUnavailableError(message("testmail.not_set_up"));
  }
  const at = value.lastIndexOf(":");
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
}

/**
 * Counts the caller's and the target domain's test messages in the window
 * (in the database, so every server process shares the limits). Runs under
 * the transaction's advisory lock, so two sends cannot both take the last slot.
 */
async function checkRateLimits(tx: Prisma.TransactionClient, deps: ServiceDeps, sentById: string, targetDomain: string) {
  const { config } = deps;
  const windowMs = config.TEST_MESSAGE_RATE_WINDOW_SECONDS * 1000;
  const since = new Date(deps.now().getTime() - windowMs);
  const waitFor = (oldest: Date | undefined) => Math.max(1, Math.ceil(((oldest?.getTime() ?? since.getTime()) + windowMs - deps.now().getTime()) / 1000));
  const mine = await tx.testMessage.findMany({ where: { sentById, createdAt: { gt: since } }, select: { createdAt: true }, orderBy: { createdAt: "asc" } });
  if (mine.length >= config.TEST_MESSAGE_RATE_LIMIT_PER_USER) {
    const wait = waitFor(mine[mine.length - config.TEST_MESSAGE_RATE_LIMIT_PER_USER]?.createdAt);
    throw new RateLimitedError(message("testmail.rate_limited.user", { count: mine.length, window: config.TEST_MESSAGE_RATE_WINDOW_SECONDS, wait }), wait);
  }
  const theirs = await tx.testMessage.findMany({ where: { targetDomain, createdAt: { gt: since } }, select: { createdAt: true }, orderBy: { createdAt: "asc" } });
  if (theirs.length >= config.TEST_MESSAGE_RATE_LIMIT_PER_DOMAIN) {
    const wait = waitFor(theirs[theirs.length - config.TEST_MESSAGE_RATE_LIMIT_PER_DOMAIN]?.createdAt);
    throw new RateLimitedError(
      message("testmail.rate_limited.domain", { count: theirs.length, domain: targetDomain, window: config.TEST_MESSAGE_RATE_WINDOW_SECONDS, wait }),
      wait,
    );
  }
}

/**
 * sendTestMessage: checks the caller (support staff), the sender (a mailbox
 * of a test domain), the recipient and the rate limits; records the message
 * and its audit entry in one transaction; then hands it to Postfix
 * (TEST_MESSAGE_SMTP) and stores Postfix's reply and queue id. A refusal by
 * Postfix is an outcome (state REFUSED), not an error.
 */
export async function sendTestMessage(deps: ServiceDeps, caller: Caller, input: SendTestMessageInput): Promise<TestMessageView> {
  const { principal } = caller;
  authorize(principal, "test_message.send", {}, ["test message", ""]);
  const smtp = parseSmtpSetting(deps.config.TEST_MESSAGE_SMTP);
  const from = parseAddress(input.from, "input.from");
  const to = parseAddress(input.to, "input.to");
  const subjectInput = input.subject?.trim();
  if (subjectInput !== undefined && subjectInput !== "" && (subjectInput.length > MAX_SUBJECT_LENGTH || /[\u0000-\u001f\u007f]/.test(subjectInput))) {
    throw new BadInputError("input.subject", message("testmail.subject_invalid", { max: MAX_SUBJECT_LENGTH }));
  }
  const sender = await deps.db.account.findUnique({ where: { address: from.address }, include: { domain: true } });
  if (!sender || !sender.domain.isTestDomain) {
    throw new BadInputError("input.from", message("testmail.not_test_mailbox", { address: from.address }));
  }
  if (sender.status !== "ACTIVE" || sender.domain.status !== "ACTIVE") {
    throw new BadInputError("input.from", message("testmail.sender_suspended", { address: from.address }));
  }
  const targetDomain = to.address.slice(to.address.lastIndexOf("@") + 1);
  const hosted = (await deps.db.domain.count({ where: { name: targetDomain } })) + (await deps.db.aliasDomain.count({ where: { name: targetDomain } })) > 0;

  const id = randomUUID();
  const hostname = deps.config.MAIL_SERVER_HOSTNAME ?? sender.domain.name;
  const messageId = `test-${id}@${hostname}`;
  const subject = subjectInput || `Test message from the mail service's support / 客服測試信 [${id.slice(0, 8)}]`;
  const sentAt = deps.now();

  await deps.db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('mailadmin.test-message'))`;
    await checkRateLimits(tx, deps, principal.id, targetDomain);
    await tx.testMessage.create({
      data: {
        id,
        messageId,
        fromAddress: from.address,
        domainId: sender.domainId,
        toAddress: to.address,
        targetDomain,
        targetIsLocal: hosted,
        subject,
        sentById: principal.id,
        sentByName: principal.name,
        submissionReply: "(being handed to Postfix)",
        accepted: false,
        createdAt: sentAt,
      },
    });
    await writeAudit(tx, caller.actor, {
      action: "test_message.send",
      objectType: "test_message",
      objectId: id,
      domainId: sender.domainId,
      domainName: sender.domain.name,
      changes: [
        { field: "from", before: null, after: from.address },
        { field: "to", before: null, after: to.address },
        { field: "subject", before: null, after: subject },
        { field: "messageId", before: null, after: messageId },
      ],
    });
  });

  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
    name: hostname,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  let reply: string;
  let accepted = false;
  try {
    const info = (await transport.sendMail({
      from: from.address,
      to: to.address,
      subject,
      messageId: `<${messageId}>`,
      date: sentAt,
      text: testMessageBody(id, from.address, to.address, principal.name, sentAt),
      headers: { "X-Mailadmin-Test-Message": id, "Auto-Submitted": "auto-generated" },
    })) as { response: string };
    reply = info.response;
    accepted = true;
  } catch (error) {
    const failure = error as { response?: string; message: string };
    reply = failure.response ?? `could not hand the message to ${smtp.host}:${smtp.port}: ${failure.message}`;
  } finally {
    transport.close();
  }
  const queueId = accepted ? (/queued as ([0-9A-Za-z]+)/.exec(reply)?.[1] ?? null) : null;
  const row = await deps.db.testMessage.update({ where: { id }, data: { submissionReply: reply.slice(0, 1000), accepted, queueId } });
  return viewOf(row, []);
}

function viewOf(row: TestMessage, records: MailLogRecord[]): TestMessageView {
  return { row, records, ...testMessageState(row, records) };
}

// One collection pass of the test messages' log source at a time per process; callers during a pass wait for it.
const passes = new Map<string, Promise<void>>();

/** Reads what Postfix logged since the last pass (TEST_MESSAGE_LOG_SOURCE), so testMessage shows a message's fate within seconds. */
async function collectTestMessageLog(deps: Pick<ServiceDeps, "config">): Promise<void> {
  const name = deps.config.TEST_MESSAGE_LOG_SOURCE;
  const databaseUrl = deps.config.DATABASE_URL;
  const source = deps.config.LOG_SOURCES.find((entry) => entry.name === name);
  if (!name || !databaseUrl || !source) return;
  let pass = passes.get(name);
  if (!pass) {
    pass = (async () => {
      const store = createPgLogStore(databaseUrl);
      try {
        await collectSource(store, source);
      } finally {
        await store.close();
      }
    })().finally(() => passes.delete(name));
    passes.set(name, pass);
  }
  await pass;
}

/** testMessage(id): support staff only (NOT_FOUND for anyone else). */
export async function readTestMessage(deps: ServiceDeps, principal: Principal, idInput: string): Promise<TestMessageView> {
  const id = parseId(idInput);
  authorize(principal, "test_message.read", {}, describeTestMessage(id));
  const found = await deps.db.testMessage.findUnique({ where: { id } });
  if (!found) throw new NotFoundError(...describeTestMessage(id));
  const records = async (row: TestMessage) =>
    row.queueId
      ? deps.db.mailLogRecord.findMany({
          // Queue ids are reused after a while: only records from around the sending on.
          where: { format: "POSTFIX", queueId: row.queueId, loggedAt: { gte: new Date(row.createdAt.getTime() - 10 * 60_000) } },
          orderBy: [{ loggedAt: "asc" }, { id: "asc" }],
        })
      : [];
  let view = viewOf(found, await records(found));
  if (!view.final && found.accepted) {
    await collectTestMessageLog(deps);
    view = viewOf(found, await records(found));
  }
  return view;
}

/** The probe of a remote recipient's domain (counted against the probe's rate limits); null for a recipient hosted here. */
export async function probeOfTestMessage(deps: ServiceDeps, principal: Principal, view: TestMessageView): Promise<MailServerProbe | null> {
  if (view.row.targetIsLocal) return null;
  return runProbe(deps, principal, view.row.targetDomain);
}

type MailboxAction = Extract<Action, "test_mailbox.read" | "test_mailbox.empty">;

/** A mailbox of a test domain, after the caller's checks; null for a mailbox of a customer's domain. */
async function testMailbox(deps: Pick<ServiceDeps, "db" | "config">, principal: Principal, account: Account, policyAction: MailboxAction) {
  authorize(principal, policyAction, { domainId: account.domainId, accountId: account.id }, ["account", `with id ${account.id}`]);
  const domain = await deps.db.domain.findUniqueOrThrow({ where: { id: account.domainId } });
  return domain.isTestDomain ? { domain, maildir: maildirOf(deps.config, domain.name, account.localPart) } : null;
}

function customerMailbox(account: Account, field: string): never {
  throw new BadInputError(field, message("testmail.customer_mailbox", { address: account.address }));
}

/** Account.receivedTestMessages: the messages in a test mailbox, newest first, each read and checked (SPF, DKIM, DMARC). */
export async function listReceivedTestMessages(
  deps: ServiceDeps,
  principal: Principal,
  account: Account,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<ReceivedTestMessageView> | null> {
  const mailbox = await testMailbox(deps, principal, account, "test_mailbox.read");
  if (!mailbox) return null;
  const { maildir } = mailbox;
  const first = parsePageSize(args.first, 20);
  if (first > 50) throw new BadInputError("first", message("testmail.first_range", { first }));
  const after = decodeCursor(args.after);
  const entries = await listMaildir(maildir);
  const start = after === undefined ? 0 : entries.findIndex((entry) => entry.id === after) + 1;
  if (after !== undefined && start === 0) throw new BadInputError("after", message("testmail.after_gone"));
  // One entry more than the page tells whether another page follows; only the page's messages are read and checked.
  const slice = entries.slice(start, start + first + 1);
  const page = await Promise.all(slice.slice(0, first).map((entry) => readReceivedMessage(entry, deps.config)));
  const rows: (ReceivedTestMessageView | { id: string })[] = [...page, ...slice.slice(first)];
  return toConnection(rows, first, entries.length, (row) => row.id, args.after) as Connection<ReceivedTestMessageView>;
}

/**
 * emptyTestMailbox: deletes every message of a test mailbox and sets its
 * usage to zero (mailbox_usage, whose trigger updates the account; Dovecot
 * reports again at its next change). Audited with the count before.
 */
export async function emptyTestMailbox(deps: ServiceDeps, caller: Caller, accountIdInput: string): Promise<{ account: Account; deletedCount: number }> {
  const accountId = parseId(accountIdInput, "accountId");
  const account = await deps.db.account.findUnique({ where: { id: accountId } });
  if (!account) throw new NotFoundError("account", `with id ${accountId}`);
  const { domain, maildir } = (await testMailbox(deps, caller.principal, account, "test_mailbox.empty")) ?? customerMailbox(account, "accountId");
  const deletedCount = await emptyMaildir(maildir);
  const after = await deps.db.$transaction(async (tx) => {
    await tx.mailboxUsage.updateMany({ where: { username: account.address }, data: { bytes: 0, messages: 0 } });
    const updated = await tx.account.findUniqueOrThrow({ where: { id: account.id } });
    await writeAudit(tx, caller.actor, {
      action: "test_mailbox.empty",
      objectType: "account",
      objectId: account.id,
      domainId: domain.id,
      domainName: domain.name,
      changes: [
        { field: "messages", before: deletedCount, after: 0 },
        ...changedFields({ usedMb: account.usedMb, messageCount: account.messageCount }, { usedMb: updated.usedMb, messageCount: updated.messageCount }, [
          "usedMb",
          "messageCount",
        ]),
      ],
    });
    return updated;
  });
  return { account: after, deletedCount };
}
