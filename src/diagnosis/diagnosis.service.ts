// diagnoseDelivery: support's first question ("why did this mail not arrive /
// not go out?") answered in one call, by putting together what the service
// knows: the account and its domain, the recent delivery records, a fresh
// probe of the remote domain that outbound mail waits for, and the DNS check
// of a hosted domain. Each finding carries its evidence and what to do;
// findings come most likely cause first.
import type { Account, Domain, MailLogRecord } from "../generated/prisma/client";
import type { Principal } from "../auth/principal";
import type { ServiceDeps } from "../service-deps";
import { authorize } from "../auth/policy";
import { AppError, BadInputError, NotFoundError, type ObjectDescription } from "../errors";
import { parseAddress, parseBigintId } from "../shared/validation";
import { checkView, dnsServiceOf, loadProfile, type DnsCheckView } from "../dns/dns.service";
import type { DnsFinding } from "../dns/dns.checker";
import { runProbe } from "../probe/probe.service";
import type { MailServerProbe, ProbeAttempt } from "../probe/probe";
import { codesOf, readReason, type Actor, type DeliveryState, type ReasonKind, type ReasonReading } from "./reasons";
import { writeText, type Text } from "../i18n/text";

export type Severity = "PROBLEM" | "WARNING" | "INFO";
export type EvidenceKind = "LOG_LINE" | "ACCOUNT" | "DOMAIN" | "PROBE_ATTEMPT" | "DNS_FINDING";

export interface Evidence {
  kind: EvidenceKind;
  text: string;
  logRecordId: string | null;
}

/** One thing one party must do. SERVICE actions are escalations: `escalation` is what to tell the mail team. */
export interface FindingAction {
  actor: Actor;
  text: string;
  escalation: string | null;
}

export interface DiagnosisFinding {
  code: string;
  severity: Severity;
  summary: string;
  /** The actions' texts in one string, as portals have read it before `actions` existed. */
  action: string | null;
  actions: FindingAction[];
  /** For a finding about messages: what the log says happens to them (a probe never changes it). */
  deliveryState: DeliveryState | null;
  replyCode: number | null;
  enhancedStatusCode: string | null;
  evidence: Evidence[];
}

export interface DeliveryDiagnosis {
  address: string | null;
  account: Account | null;
  records: MailLogRecord[];
  findings: DiagnosisFinding[];
  verdict: string;
  probes: MailServerProbe[];
  dnsCheck: DnsCheckView | null;
}

/** Records of one address looked at: the recent ones, enough to see a pattern. */
const RECENT_RECORDS = 50;
/** Remote domains probed in one diagnosis, the ones with the newest trouble first. */
const MAX_PROBED_DOMAINS = 3;
/** Log lines quoted as evidence of one finding. */
const MAX_QUOTED_LINES = 5;

/**
 * Most likely cause first: a fact about the account or mailbox that a log line
 * confirms, then what the logs say about messages (failed for good before
 * still retried), then the customer's DNS (which explains mail that never
 * arrived), then the service's own records, then what is merely worth knowing.
 * Findings of one rank keep the order of their newest log line.
 */
function rankOf(finding: DiagnosisFinding): number {
  const fixed: Record<string, number> = {
    "account.missing": 0,
    "domain.suspended": 1,
    "account.suspended": 2,
    "mailbox.quota_exceeded": 3,
    "dns.misconfigured": 6,
    "service.reverse_dns": 7,
    "mailbox.full": 8,
    "dns.warnings": 9,
    "delivery.ok": 10,
    "records.none": 11,
    "dns.ok": 12,
  };
  if (fixed[finding.code] !== undefined) return fixed[finding.code]!;
  return finding.deliveryState === "FAILED" ? 4 : 5;
}
const SEVERITY_ORDER: Record<Severity, number> = { PROBLEM: 0, WARNING: 1, INFO: 2 };

function act(actor: Actor, text: string, escalation: string | null = null): FindingAction {
  return { actor, text, escalation };
}

/** A finding with its actions; `action` is their texts joined. */
function finding(
  fields: Omit<DiagnosisFinding, "action" | "deliveryState" | "replyCode" | "enhancedStatusCode"> &
    Partial<Pick<DiagnosisFinding, "deliveryState" | "replyCode" | "enhancedStatusCode">>,
): DiagnosisFinding {
  return {
    ...fields,
    action: fields.actions.length > 0 ? fields.actions.map((item) => item.text).join(" ") : null,
    deliveryState: fields.deliveryState ?? null,
    replyCode: fields.replyCode ?? null,
    enhancedStatusCode: fields.enhancedStatusCode ?? null,
  };
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h${minutes % 60 ? ` ${minutes % 60} min` : ""}`;
  return `${Math.floor(hours / 24)} days`;
}

function lineEvidence(record: MailLogRecord): Evidence {
  return { kind: "LOG_LINE", text: record.rawLine, logRecordId: record.id.toString() };
}

function attemptEvidence(attempt: ProbeAttempt): Evidence {
  const said = attempt.greeting ? `${attempt.greeting.code} ${attempt.greeting.lines[0] ?? ""}`.trim() : null;
  const what = attempt.outcome === "GREETED" ? `greeted "${said}" in ${attempt.greetingMs} ms` : `${attempt.outcome}${attempt.error ? `: ${attempt.error}` : ""}`;
  return { kind: "PROBE_ATTEMPT", text: `${attempt.host} ${attempt.address}:${attempt.port} ${what}`, logRecordId: null };
}

/** A probe as evidence: its attempts, or when nothing could be connected to, why (DNS). */
function probeEvidence(probe: MailServerProbe): Evidence[] {
  if (probe.attempts.length > 0) return probe.attempts.map(attemptEvidence);
  const why = probe.exchangers.find((exchanger) => exchanger.dnsError)?.dnsError;
  const text =
    probe.status === "DNS_FAILURE"
      ? `probe of ${probe.domain} now: DNS_FAILURE, its mail servers could not be found${why ? ` (${why})` : ""}`
      : `probe of ${probe.domain} now: ${probe.status}, ${probe.verdict}`;
  return [{ kind: "PROBE_ATTEMPT", text, logRecordId: null }];
}

/** A DNS finding's text (a Message since DNS texts are translated) in English, as diagnosis texts still are. */
function english(text: Text | null): string | null {
  return writeText(text, "en");
}

function dnsEvidence(finding: DnsFinding): Evidence {
  const parts = [`${finding.check} ${finding.status} ${finding.subject}`];
  if (finding.expected) parts.push(`expected ${english(finding.expected)}`);
  if (finding.found) parts.push(`found ${english(finding.found)}`);
  return { kind: "DNS_FINDING", text: parts.join("; "), logRecordId: null };
}

function accountEvidence(account: Account): Evidence {
  const usage =
    account.quotaMb > 0
      ? `${account.usedMb} MB used of ${account.quotaMb} MB (${Math.round((account.usedMb / account.quotaMb) * 100)}%)`
      : `quota 0 MB (no mailbox), ${account.usedMb} MB used`;
  return { kind: "ACCOUNT", text: `${account.address}: ${account.status}, ${usage}`, logRecordId: null };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

/** Whether a record is mail to the diagnosed address (inbound), also when the line has no direction. */
function isInbound(record: MailLogRecord): boolean {
  if (record.direction) return record.direction === "INBOUND";
  return record.recipient !== null && record.recipient === record.localAddress;
}

function isOutbound(record: MailLogRecord): boolean {
  if (record.direction) return record.direction === "OUTBOUND";
  return record.sender !== null && record.sender === record.localAddress && record.recipient !== record.localAddress;
}

/** The records whose message is not delivered: a RETRY or FAIL not followed by an OK of the same queue id. */
function undelivered(records: MailLogRecord[]): MailLogRecord[] {
  const delivered = new Set(records.filter((record) => record.status === "OK" && record.queueId).map((record) => record.queueId!));
  return records.filter((record) => record.status !== "OK" && !(record.queueId && delivered.has(record.queueId)));
}

interface Subject {
  address: string | null;
  domain: Domain | null;
  account: Account | null;
  records: MailLogRecord[];
}

async function resolveSubject(deps: ServiceDeps, principal: Principal, input: { address?: string | null; logRecordId?: string | null }): Promise<Subject> {
  const hasAddress = input.address != null && input.address !== "";
  const hasRecord = input.logRecordId != null && input.logRecordId !== "";
  if (hasAddress && hasRecord) throw new BadInputError("logRecordId", "Give either address or logRecordId, not both.");
  if (!hasAddress && !hasRecord) throw new BadInputError("address", "Give the address to diagnose (or the logRecordId of one delivery record).");

  let address: string | null;
  let records: MailLogRecord[];
  if (hasRecord) {
    const id = parseBigintId(input.logRecordId!, "logRecordId", `${JSON.stringify(input.logRecordId)} is not a delivery record id (a number, as MailLogRecord.id gives it).`);
    const record = await deps.db.mailLogRecord.findFirst({ where: { id } });
    if (!record) throw new NotFoundError("delivery record", input.logRecordId!);
    address = record.localAddress;
    // The message's whole history: every line with its queue id.
    records = record.queueId
      ? await deps.db.mailLogRecord.findMany({
          where: { queueId: record.queueId, localAddress: record.localAddress },
          orderBy: [{ loggedAt: "desc" }, { id: "desc" }],
          take: RECENT_RECORDS,
        })
      : [record];
  } else {
    address = parseAddress(input.address!, "address").address;
    const since = new Date(deps.now().getTime() - deps.config.MAIL_LOG_RETENTION_DAYS * 86_400_000);
    records = await deps.db.mailLogRecord.findMany({
      where: { localAddress: address, loggedAt: { gte: since } },
      orderBy: [{ loggedAt: "desc" }, { id: "desc" }],
      take: RECENT_RECORDS,
    });
  }

  const domain = address ? await deps.db.domain.findUnique({ where: { name: domainOf(address) } }) : null;
  const account = address ? await deps.db.account.findUnique({ where: { address } }) : null;
  const describe: ObjectDescription = hasRecord ? ["delivery record", input.logRecordId!] : ["delivery records for", address!, "many"];
  // Who may diagnose: as who may read the records (support any; a domain's
  // administrator its domain's addresses; a user its own).
  if (principal.kind !== "support" && !domain) throw new NotFoundError(...describe);
  authorize(principal, "delivery.diagnose", { domainId: domain?.id, accountId: account?.id }, describe);
  return { address, domain, account, records };
}

/** "2 messages" / "1 message". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** How a record's status reads in a sentence: "RETRY.3 Operation timed out", "FAIL 550 5.1.1 User unknown". */
function statusText(record: MailLogRecord): string {
  const head = record.status === "RETRY" ? `RETRY.${record.retryCount ?? 0}` : record.status;
  return record.reason ? `${head} ${record.reason}` : head;
}

function fateText(state: DeliveryState): string {
  return state === "FAILED" ? "The message failed for good: it will not be retried." : "The queue keeps retrying it.";
}

/** The remote server's answer in a sentence: who answered, with which codes and words. */
function answerText(reading: ReasonReading): string {
  const who = reading.host ? `the recipient's server ${reading.host}` : "the recipient's server";
  const codes = codesOf(reading);
  return codes ? `${who} answered ${codes}` : `${who} answered`;
}

function accountFindings(subject: Subject): DiagnosisFinding[] {
  const { address, domain, account, records } = subject;
  const findings: DiagnosisFinding[] = [];
  if (!domain || !address) return findings;
  const inboundFailures = undelivered(records).filter(isInbound);
  if (!account) {
    findings.push(
      finding({
        code: "account.missing",
        severity: "PROBLEM",
        summary: `${address} is not a mailbox of ${domain.name}: mail to it cannot be delivered.`,
        actions: [
          act("SENDER", "Check the address's spelling with the sender."),
          act("CUSTOMER", `If the mailbox should exist, the customer creates it (createAccount in ${domain.name}).`),
        ],
        deliveryState: inboundFailures.length > 0 ? (readReason(inboundFailures[0]!.status, inboundFailures[0]!.reason)?.state ?? null) : null,
        evidence: [
          { kind: "DOMAIN", text: `${domain.name} is hosted here (${domain.status}); no account ${address}`, logRecordId: null },
          ...inboundFailures.slice(0, MAX_QUOTED_LINES).map(lineEvidence),
        ],
      }),
    );
    return findings;
  }
  if (domain.status === "SUSPENDED") {
    findings.push(
      finding({
        code: "domain.suspended",
        severity: "PROBLEM",
        summary: `The domain ${domain.name} is suspended: none of its accounts can log in.`,
        actions: [act("CUSTOMER", `If the suspension is over (contract, payment), reactivate the domain: updateDomain(id: "${domain.id}", input: { status: ACTIVE }).`)],
        evidence: [{ kind: "DOMAIN", text: `${domain.name}: SUSPENDED since ${domain.updatedAt.toISOString()}`, logRecordId: null }],
      }),
    );
  }
  if (account.status === "SUSPENDED") {
    findings.push(
      finding({
        code: "account.suspended",
        severity: "PROBLEM",
        summary: `${address} is suspended: it cannot log in to read or send mail.`,
        actions: [act("CUSTOMER", `If the suspension is over, reactivate the account: updateAccount(id: "${account.id}", input: { status: ACTIVE }).`)],
        evidence: [{ ...accountEvidence(account), text: `${accountEvidence(account).text}; suspended since ${account.updatedAt.toISOString()}` }],
      }),
    );
  }
  const quotaFailures = inboundFailures.filter((record) => readReason(record.status, record.reason)?.kind === "mailbox_full");
  if (quotaFailures.length > 0) {
    const newest = readReason(quotaFailures[0]!.status, quotaFailures[0]!.reason)!;
    const oldest = quotaFailures[quotaFailures.length - 1]!;
    const biggestMb = Math.ceil(Math.max(...quotaFailures.map((record) => record.sizeBytes ?? 0)) / 1_048_576);
    const suggested = Math.ceil(Math.max(account.quotaMb * 1.5, account.usedMb + biggestMb + 1) / 512) * 512;
    const free = domain.quotaMb === null ? null : Math.max(0, domain.quotaMb);
    const failed = newest.state === "FAILED";
    findings.push(
      finding({
        code: "mailbox.quota_exceeded",
        severity: "PROBLEM",
        summary:
          `${address}'s mailbox is full: ${account.usedMb} MB used of ${account.quotaMb} MB; ` +
          `${count(quotaFailures.length, "incoming message")} ${failed ? "bounced" : "held back"} with "${oldest.reason}" since ${oldest.loggedAt.toISOString()}.` +
          (failed ? "" : " The sending servers keep retrying them."),
        actions: [
          act(
            "CUSTOMER",
            `Raise the quota, for example to ${suggested} MB: updateAccount(id: "${account.id}", input: { quotaMb: ${suggested} })` +
              `${free === null ? "" : ` (the domain's quota is ${free} MB in all)`}; or ask the user to delete or archive old mail.`,
          ),
          ...(failed ? [act("SENDER", "The senders must send the bounced messages again.")] : []),
        ],
        deliveryState: newest.state,
        replyCode: newest.replyCode,
        enhancedStatusCode: newest.enhancedCode,
        evidence: [accountEvidence(account), ...quotaFailures.slice(0, MAX_QUOTED_LINES).map(lineEvidence)],
      }),
    );
  } else if (account.quotaMb > 0 && account.usedMb >= account.quotaMb) {
    findings.push(
      finding({
        code: "mailbox.full",
        severity: "WARNING",
        summary: `${address}'s mailbox is full (${account.usedMb} MB of ${account.quotaMb} MB): new mail will bounce with "Destination mailbox exceeds quota".`,
        actions: [act("CUSTOMER", `Raise the quota (updateAccount quotaMb) or ask the user to clean the mailbox.`)],
        evidence: [accountEvidence(account)],
      }),
    );
  }
  return findings;
}

/**
 * Inbound mail that this service refused or could not deliver, read from its
 * records, one finding per cause. A full mailbox and an unknown address are
 * the account's findings (mailbox.quota_exceeded, account.missing).
 */
function inboundFindings(subject: Subject): DiagnosisFinding[] {
  const { address, domain, account } = subject;
  if (!address) return [];
  const byKind = new Map<ReasonKind, { reading: ReasonReading; records: MailLogRecord[] }>();
  for (const record of undelivered(subject.records).filter(isInbound)) {
    const reading = readReason(record.status, record.reason);
    if (!reading || reading.kind === "mailbox_full") continue;
    if (reading.kind === "user_unknown" && !account && domain) continue;
    const entry = byKind.get(reading.kind);
    if (entry) entry.records.push(record);
    else byKind.set(reading.kind, { reading, records: [record] });
  }
  const findings: DiagnosisFinding[] = [];
  for (const [kind, { reading, records }] of byKind) {
    const newest = records[0]!;
    const sender = newest.sender ?? "the sender";
    const senderDomain = newest.sender?.includes("@") ? domainOf(newest.sender) : "the sender's domain";
    const codes = codesOf(reading);
    const said = `${codes ? `our mail server answered ${codes}` : "our mail server answered"}`;
    const failed = reading.state === "FAILED";
    const resend = failed ? [act("SENDER", `The sender (${sender}) must send the message again once that is done.`)] : [];
    const messages = `${count(records.length, "message")} to ${address}${records.length === 1 ? ` from ${sender}` : ""}`;
    const head = `${messages} ${failed ? "failed" : "waits"} (${statusText(newest)})`;
    const escalate = (what: string) => `${what} Quote: "${newest.rawLine}" (record ${newest.id}).`;
    let code: string;
    let meaning: string;
    let actions: FindingAction[];
    let severity: Severity = "PROBLEM";
    switch (kind) {
      case "user_unknown":
        code = "local.user_unknown";
        meaning = `${said}: it does not know ${address}, although the account exists here`;
        actions = [
          act(
            "SERVICE",
            "Escalate to the mail team: the mail server does not know a mailbox that mailadmin has.",
            escalate(
              `The mail server refuses mail to ${address} as an unknown user although the account exists in mailadmin; check that the mailbox is provisioned on the mail servers.`,
            ),
          ),
          ...resend,
        ];
        break;
      case "message_too_large":
        code = "local.message_too_large";
        meaning = `${said}: the message${newest.sizeBytes ? ` (${newest.sizeBytes} bytes)` : ""} is larger than this service accepts`;
        actions = [act("SENDER", "The sender must send it smaller: compress or split the attachments, or share a link instead.")];
        break;
      case "auth_rejected":
        code = "local.auth_rejected";
        meaning = `${said}: mail from ${senderDomain} failed its SPF, DKIM or DMARC check`;
        actions = [
          act("SENDER", `The administrator of ${senderDomain} must make its SPF, DKIM and DMARC records cover the server that sends its mail; then the sender sends again.`),
        ];
        break;
      case "blocklisted":
        code = "local.blocklisted";
        meaning = `${said}: the sending server's address is on a blocklist`;
        actions = [
          act("SENDER", `The sender's mail provider (${senderDomain}) must get its server's address removed from the blocklist named in the reason; then the sender sends again.`),
        ];
        break;
      case "reverse_dns":
        code = "local.reverse_dns";
        meaning = `${said}: the sending server's address has no matching reverse DNS (PTR)`;
        actions = [
          act("SENDER", `The sender's mail provider (${senderDomain}) must give its server's address a reverse DNS name that resolves back to it; then the sender sends again.`),
        ];
        break;
      case "policy_rejected":
        code = "local.policy_rejected";
        meaning = `${said}: the message was refused as spam or under the content policy`;
        actions = [
          act("SENDER", "The sender may send it again without what the filter objects to (links, attachments, a forwarded spam)."),
          act(
            "SERVICE",
            "If the customer says the message is legitimate, escalate it to the mail team as a false positive.",
            escalate(`Possible false positive of the inbound filter for ${address}.`),
          ),
        ];
        break;
      case "greylisted":
        code = "local.greylisted";
        severity = failed ? "PROBLEM" : "WARNING";
        meaning = `${said}: greylisting turned a first attempt away; the sending server's retry gets through`;
        actions = failed
          ? [act("SENDER", "The sending server gave up before retrying: the sender must send it again.")]
          : [act("NOBODY", "Nothing to do: the sending server retries and the retry is accepted.")];
        break;
      case "tls_required":
        code = "local.tls_required";
        meaning = `${said}: this service accepts that mail only over TLS, and the sending server did not use it`;
        actions = [act("SENDER", `The sender's mail provider (${senderDomain}) must deliver over TLS (STARTTLS).`)];
        break;
      case "relay_denied":
        code = "local.relay_denied";
        meaning = `${said}: the mail server treated ${address} as not hosted here (relay denied)`;
        actions = [
          act(
            "SERVICE",
            "Escalate to the mail team: the mail server does not accept mail for a hosted domain.",
            escalate(
              `The mail server answers "relay denied" for ${address}; ${domain ? `${domain.name} is hosted in mailadmin` : "its domain is not hosted in mailadmin"}. Check the mail servers' list of local domains.`,
            ),
          ),
          ...resend,
        ];
        break;
      default:
        code = "local.delivery_failed";
        meaning = `delivery into the mailbox ${failed ? "failed" : "has not succeeded yet"}${reading.said ? ` ("${reading.said}")` : ""}`;
        actions = [
          act(
            "SERVICE",
            "Escalate to the mail team: delivery into mailboxes of this service fails.",
            escalate(
              `Delivery to ${address} ${failed ? "failed for good" : "keeps failing"} on our side (${count(records.length, "message")}, the oldest at ${records[records.length - 1]!.loggedAt.toISOString()}): check the mailbox store and its delivery agent (LMTP).`,
            ),
          ),
          ...resend,
        ];
    }
    findings.push(
      finding({
        code,
        severity,
        summary: `${head}: ${meaning}. ${failed ? "The message failed for good: it will not be retried." : "The sending server keeps retrying it."}`,
        actions,
        deliveryState: reading.state,
        replyCode: reading.replyCode,
        enhancedStatusCode: reading.enhancedCode,
        evidence: records.slice(0, MAX_QUOTED_LINES).map(lineEvidence),
      }),
    );
  }
  return findings;
}

interface PendingRemote {
  domain: string;
  latest: MailLogRecord;
  records: MailLogRecord[];
}

/** Remote domains whose latest outbound record here is a RETRY or a FAIL, newest trouble first. */
function troubledRemotes(records: MailLogRecord[], hostedNames: Set<string>): PendingRemote[] {
  const byDomain = new Map<string, MailLogRecord[]>();
  for (const record of records) {
    if (!isOutbound(record) || !record.recipient || !record.recipient.includes("@")) continue;
    const remote = domainOf(record.recipient);
    if (hostedNames.has(remote)) continue;
    byDomain.set(remote, [...(byDomain.get(remote) ?? []), record]);
  }
  return [...byDomain.entries()]
    .map(([domain, list]) => ({ domain, latest: list[0]!, records: list }))
    .filter((entry) => entry.latest.status !== "OK")
    .slice(0, MAX_PROBED_DOMAINS);
}

/**
 * What the remote server's answer means and who acts on it, for a reading
 * where a server answered: the log decides, a probe only adds evidence.
 */
function answeredRemote(remote: PendingRemote, reading: ReasonReading, serviceSpfHint: string): { code: string; meaning: string; actions: FindingAction[]; severity: Severity } {
  const { latest } = remote;
  const recipient = latest.recipient ?? `the recipient at ${remote.domain}`;
  const senderDomain = latest.sender?.includes("@") ? domainOf(latest.sender) : "the customer's domain";
  const failed = reading.state === "FAILED";
  const answer = answerText(reading);
  const quote = `"${latest.rawLine}" (record ${latest.id})`;
  const resendLater = failed ? [act("SENDER", "The sender must send the message again once that is done: this one will not be retried.")] : [];
  switch (reading.kind) {
    case "user_unknown":
      return {
        code: "remote.user_unknown",
        severity: "PROBLEM",
        meaning: `${answer}: the address ${recipient} does not exist there`,
        actions: [
          act(
            "SENDER",
            `The sender must correct the address ${recipient} (its spelling, or ask the recipient for the right one) and send again: sending to the same address fails the same way.`,
          ),
        ],
      };
    case "mailbox_full":
      return {
        code: "remote.mailbox_full",
        severity: "PROBLEM",
        meaning: `${answer}: ${recipient}'s mailbox is full`,
        actions: [act("RECIPIENT_PROVIDER", `The recipient must empty their mailbox, or their provider raise its quota.`), ...resendLater],
      };
    case "message_too_large":
      return {
        code: "remote.message_too_large",
        severity: "PROBLEM",
        meaning: `${answer}: the message${latest.sizeBytes ? ` (${latest.sizeBytes} bytes)` : ""} is larger than it accepts`,
        actions: [act("SENDER", "The sender must send it smaller: compress or split the attachments, or share a link instead.")],
      };
    case "auth_rejected":
      return {
        code: "remote.auth_rejected",
        severity: "PROBLEM",
        meaning: `${answer}: mail from ${senderDomain} failed its SPF, DKIM or DMARC check`,
        actions: [
          act(
            "CUSTOMER",
            `The customer must publish the SPF, DKIM and DMARC records of ${senderDomain} as expected (${serviceSpfHint}; checkDomainDns(domain: "${senderDomain}") lists them).`,
          ),
          ...resendLater,
        ],
      };
    case "blocklisted":
      return {
        code: "remote.blocklisted",
        severity: "PROBLEM",
        meaning: `${answer}: it refuses our mail server because a blocklist lists its address`,
        actions: [
          act(
            "SERVICE",
            "Escalate to the mail team: our outbound server's address is blocklisted.",
            `${reading.host ?? remote.domain} refuses our outbound server as blocklisted: ${quote}. Find the listing named in the reply and request removal.`,
          ),
          ...resendLater,
        ],
      };
    case "reverse_dns":
      return {
        code: "remote.reverse_dns",
        severity: "PROBLEM",
        meaning: `${answer}: it refuses our mail server because its address has no matching reverse DNS (PTR)`,
        actions: [
          act(
            "SERVICE",
            "Escalate to the mail team: our outbound server's reverse DNS is refused.",
            `${reading.host ?? remote.domain} refuses our outbound server for its reverse DNS: ${quote}. Check the PTR record of the sending address.`,
          ),
          ...resendLater,
        ],
      };
    case "policy_rejected":
      return {
        code: "remote.policy_rejected",
        severity: "PROBLEM",
        meaning: `${answer}: it refused the message as spam or under its content policy`,
        actions: [
          act("RECIPIENT_PROVIDER", `The recipient's administrator at ${remote.domain} must say why their filter refused it, and allow the sender if the mail is wanted.`),
          ...(failed ? [act("SENDER", "The sender may send it again without what the filter objects to (links, attachments).")] : []),
        ],
      };
    case "greylisted":
      return {
        code: "remote.greylisted",
        severity: failed ? "PROBLEM" : "WARNING",
        meaning: `${answer}: it greylists, turning a first attempt away for a while; a retry gets through`,
        actions: failed
          ? [act("SENDER", "The queue gave up before the retry was accepted: the sender must send it again.")]
          : [act("NOBODY", `Nothing to do: the queue's next retry should be accepted. If it still waits in an hour, probe ${remote.domain} again.`)],
      };
    case "tls_required":
      return {
        code: "remote.tls_required",
        severity: "PROBLEM",
        meaning: `${answer}: it accepts mail only over TLS, and our server did not deliver over TLS`,
        actions: [
          act(
            "SERVICE",
            "Escalate to the mail team: our outbound server did not use TLS where it is required.",
            `${reading.host ?? remote.domain} requires TLS and refused our delivery without it: ${quote}. Check outbound STARTTLS and whether the remote certificate is accepted.`,
          ),
          ...resendLater,
        ],
      };
    case "relay_denied":
      return {
        code: "remote.relay_denied",
        severity: "PROBLEM",
        meaning: `${answer}: it does not accept mail for ${remote.domain} (relay denied), so it is not, or no longer, that domain's mail server`,
        actions: [
          act("RECIPIENT_PROVIDER", `${remote.domain} must point its MX records at the server that accepts its mail, or that server must accept mail for it.`),
          act("SENDER", `The sender should check the domain ${remote.domain} is spelled right.`),
        ],
      };
    case "loop":
      return {
        code: "remote.loop",
        severity: "PROBLEM",
        meaning: `${answer}: the message loops between mail servers`,
        actions: [
          act(
            "SERVICE",
            "Escalate to the mail team: mail for this domain loops.",
            `Mail to ${remote.domain} loops: ${quote}. Check the routing of ${remote.domain} (its MX may point back at us).`,
          ),
          ...resendLater,
        ],
      };
    case "expired":
      return {
        code: "remote.expired",
        severity: "PROBLEM",
        meaning: `the queue gave the message up after it waited too long${reading.said ? ` ("${reading.said}")` : ""}`,
        actions: [
          act("RECIPIENT_PROVIDER", `The recipient's administrator must make ${remote.domain}'s mail server accept mail again.`),
          act("SENDER", "The sender must send the message again once it does."),
        ],
      };
    case "temporary_failure":
      return failed
        ? {
            code: "remote.permanent_failure",
            severity: "PROBLEM",
            meaning: `${answer} with a temporary refusal until the queue gave up`,
            actions: [act("RECIPIENT_PROVIDER", `The recipient's administrator can say what the answer means.`), act("SENDER", "The sender must send the message again later.")],
          }
        : {
            code: "remote.temporary_failure",
            severity: "PROBLEM",
            meaning: `${answer}: it turns the message away for now`,
            actions: [
              act("NOBODY", `Nothing to do yet: the queue retries. If it still waits in an hour, the recipient's administrator at ${remote.domain} can say what the answer means.`),
            ],
          };
    default:
      return {
        code: "remote.permanent_failure",
        severity: "PROBLEM",
        meaning: `${answer}: it refused the message`,
        actions: [
          act("RECIPIENT_PROVIDER", `Read the reason to the customer: the recipient's administrator at ${remote.domain} can say why their server refuses it.`),
          act("SENDER", "Sending again fails the same way until that changes."),
        ],
      };
  }
}

async function remoteFindings(deps: ServiceDeps, principal: Principal, remotes: PendingRemote[], probes: MailServerProbe[]): Promise<DiagnosisFinding[]> {
  const findings: DiagnosisFinding[] = [];
  const spfHint = deps.config.SPF_INCLUDE ? `SPF include:${deps.config.SPF_INCLUDE}` : `SPF ip4:${deps.config.MAIL_SERVER_IPV4}`;
  for (const remote of remotes) {
    const { latest } = remote;
    const reading = readReason(latest.status, latest.reason)!;
    const waited = latest.queuedAt ? formatDuration((deps.now().getTime() - latest.queuedAt.getTime()) / 1000) : null;
    const status = statusText(latest);
    const history =
      reading.state === "RETRYING"
        ? `Mail to ${remote.domain} is waiting${waited ? ` (queued ${waited} ago)` : ""}, last ${status}`
        : `Mail to ${remote.domain} failed (${status})${waited ? ` after ${waited} in the queue` : ""}`;
    const lines = remote.records
      .filter((record) => record.status !== "OK")
      .slice(0, MAX_QUOTED_LINES)
      .map(lineEvidence);
    const codes = { deliveryState: reading.state, replyCode: reading.replyCode, enhancedStatusCode: reading.enhancedCode };

    let probe: MailServerProbe | null = null;
    let notProbed: string | null = null;
    try {
      probe = await runProbe(deps, principal, remote.domain);
      probes.push(probe);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "RATE_LIMITED") throw error;
      notProbed = error.message;
    }
    const evidence = [...lines, ...(probe ? probeEvidence(probe) : [])];

    // A server answered: its answer is the finding, whatever a probe finds now.
    if (reading.answered) {
      const read = answeredRemote(remote, reading, spfHint);
      findings.push(
        finding({ code: read.code, severity: read.severity, summary: `${history}: ${read.meaning}. ${fateText(reading.state)}`, actions: read.actions, ...codes, evidence }),
      );
      continue;
    }

    // Connection trouble (timeout, refused, no route, DNS): the log says the
    // message waits or was given up; the probe says whether the other side is up now.
    if (reading.state === "FAILED") {
      const dns = reading.kind === "dns" || probe?.status === "DNS_FAILURE" || probe?.status === "NO_MAIL_SERVER";
      const now = probe ? ` A probe now: ${probe.status}.` : "";
      findings.push(
        finding({
          code: dns ? "remote.dns" : "remote.unreachable",
          severity: "PROBLEM",
          summary: `${history}: ${dns ? `the mail servers of ${remote.domain} could not be found in DNS` : `the recipient's mail server could not be reached`}. ${fateText("FAILED")}${now}`,
          actions: dns
            ? [
                act(
                  "SENDER",
                  `The sender must check the domain ${remote.domain} is spelled right; if it is, the recipient's domain must fix its DNS before the sender sends again.`,
                ),
                act("RECIPIENT_PROVIDER", `${remote.domain} must publish working MX or address records.`),
              ]
            : [
                act("RECIPIENT_PROVIDER", `The recipient's administrator must bring ${remote.domain}'s mail server back.`),
                act("SENDER", "The sender must send the message again once it answers: this one will not be retried."),
              ],
          ...codes,
          evidence,
        }),
      );
      continue;
    }
    if (!probe) {
      findings.push(
        finding({
          code: "remote.not_probed",
          severity: "WARNING",
          summary: `${history}; its servers were not probed now: ${notProbed}`,
          actions: [act("NOBODY", `The queue keeps retrying. Probe ${remote.domain} later (probeMailServer).`)],
          ...codes,
          evidence,
        }),
      );
      continue;
    }
    const up = probe.status === "REACHABLE" || probe.status === "PARTIAL";
    if (up) {
      findings.push(
        finding({
          code: "remote.reachable",
          severity: "WARNING",
          summary: `${history}; the remote side answers now: ${probe.verdict}`,
          actions: [
            act(
              "NOBODY",
              `Nothing to change: the queue's next retry should deliver it. If it still waits in an hour, probe ${remote.domain} again and contact the recipient's administrator.`,
            ),
          ],
          ...codes,
          evidence,
        }),
      );
      continue;
    }
    const code = probe.status === "REJECTING" ? "remote.rejecting" : probe.status === "DNS_FAILURE" || probe.status === "NO_MAIL_SERVER" ? "remote.dns" : "remote.unreachable";
    findings.push(
      finding({
        code,
        severity: "PROBLEM",
        summary: `${history}: ${probe.verdict}`,
        actions:
          code === "remote.dns"
            ? [
                act("RECIPIENT_PROVIDER", `The recipient's domain ${remote.domain} must fix its DNS (MX or address records); our side can do nothing.`),
                act("SENDER", `Tell the customer to check the domain's spelling, or reach the recipient another way.`),
              ]
            : [
                act(
                  "RECIPIENT_PROVIDER",
                  `Nothing is wrong on our side: the recipient's mail server does not accept connections. The queue keeps retrying until the message expires; tell the customer the recipient's administrator must bring ${remote.domain}'s mail server back.`,
                ),
              ],
        ...codes,
        evidence,
      }),
    );
  }
  return findings;
}

/** Checks about the service's own records, which the customer cannot change: support escalates them. */
const SERVICE_CHECKS = new Set(["ptr.mail_server"]);

async function dnsFindings(deps: ServiceDeps, domain: Domain): Promise<{ view: DnsCheckView; findings: DiagnosisFinding[] }> {
  const service = dnsServiceOf(deps);
  const profile = await loadProfile(deps, domain);
  const cached = await service.cached(domain.id, profile);
  let result = cached;
  if (!result) {
    const { queries: _queries, ...fresh } = await service.checker.check(profile);
    await service.remember(domain.id, profile, fresh);
    result = fresh;
  }
  const view: DnsCheckView = checkView(domain, result, cached !== undefined);
  const findings: DiagnosisFinding[] = [];

  // The service's own records (the reverse DNS of its mail server): a separate finding, the service's to act on.
  const serviceFailing = result.findings.filter((item) => SERVICE_CHECKS.has(item.check) && item.status === "FAIL");
  if (serviceFailing.length > 0) {
    findings.push(
      finding({
        code: "service.reverse_dns",
        severity: "PROBLEM",
        summary: `The reverse DNS of this service's mail server is wrong (${serviceFailing.map((item) => `${item.subject}: ${english(item.found)}`).join("; ")}): receivers may refuse our outbound mail. This is the service's record, not the customer's.`,
        actions: [
          act(
            "SERVICE",
            "Escalate to the mail team: the reverse DNS of our mail server must be fixed by the operators of its network.",
            serviceFailing.map((item) => `PTR of ${item.subject}: expected ${english(item.expected)}; found ${english(item.found)}.`).join(" "),
          ),
        ],
        evidence: serviceFailing.map(dnsEvidence),
      }),
    );
  }

  const customer = result.findings.filter((item) => !SERVICE_CHECKS.has(item.check));
  const failing = customer.filter((item) => item.status === "FAIL" || item.status === "ERROR");
  const warnings = customer.filter((item) => item.status === "WARN");
  if (failing.length > 0) {
    // DNS texts are Messages now; written in English here until diagnosis texts are translated too.
    const fixes = failing.flatMap((item) => (item.fix ? [item.fix.toString()] : []));
    findings.push(
      finding({
        code: "dns.misconfigured",
        severity: "PROBLEM",
        summary: `The DNS of ${domain.name} does not match its set-up (${domain.dnsSetup}): ${failing.map((item) => `${item.check} ${item.status}`).join(", ")}. Mail from outside may not find our server.`,
        actions: [
          act(
            "CUSTOMER",
            fixes.length > 0
              ? `Ask the customer to change their DNS: ${[...new Set(fixes)].slice(0, 3).join(" ")}`
              : `Run checkDomainDns(domain: "${domain.name}") for the details.`,
          ),
        ],
        evidence: failing.map(dnsEvidence),
      }),
    );
  } else if (warnings.length > 0) {
    const fix = warnings.find((item) => item.fix)?.fix;
    findings.push(
      finding({
        code: "dns.warnings",
        severity: "WARNING",
        summary: `The DNS of ${domain.name} works but has warnings: ${warnings.map((item) => item.check).join(", ")}.`,
        actions: fix ? [act("CUSTOMER", fix.toString())] : [],
        evidence: warnings.map(dnsEvidence),
      }),
    );
  } else {
    findings.push(
      finding({
        code: "dns.ok",
        severity: "INFO",
        summary:
          serviceFailing.length > 0
            ? `The customer's DNS records of ${domain.name} match its set-up (${domain.dnsSetup}): all ${customer.length} checks of them pass.`
            : `The DNS of ${domain.name} matches its set-up (${domain.dnsSetup}): all ${result.findings.length} checks pass.`,
        actions: [],
        evidence: customer.filter((item) => item.check.startsWith("mx.") || item.check.startsWith("address.mail_host")).map(dnsEvidence),
      }),
    );
  }
  return { view, findings };
}

export async function diagnoseDelivery(deps: ServiceDeps, principal: Principal, input: { address?: string | null; logRecordId?: string | null }): Promise<DeliveryDiagnosis> {
  const subject = await resolveSubject(deps, principal, input);
  // What the logs say first: the account and mailbox, then the refusals the records carry.
  const findings: DiagnosisFinding[] = [...accountFindings(subject), ...inboundFindings(subject)];
  const probes: MailServerProbe[] = [];

  // Outbound mail that waits or failed: what the remote side said, and whether it is up now.
  const recipients = [...new Set(subject.records.flatMap((record) => (isOutbound(record) && record.recipient?.includes("@") ? [domainOf(record.recipient)] : [])))];
  const hosted = new Set((await deps.db.domain.findMany({ where: { name: { in: recipients } }, select: { name: true } })).map((domain) => domain.name));
  findings.push(...(await remoteFindings(deps, principal, troubledRemotes(subject.records, hosted), probes)));

  // A hosted domain: is its DNS right?
  let dnsCheck: DnsCheckView | null = null;
  if (subject.domain) {
    const dns = await dnsFindings(deps, subject.domain);
    dnsCheck = dns.view;
    findings.push(...dns.findings);
  }

  const troubled = findings.some((item) => item.severity !== "INFO");
  if (!troubled && subject.address) {
    const delivered = subject.records.filter((record) => record.status === "OK");
    if (subject.records.length === 0) {
      findings.push(
        finding({
          code: "records.none",
          severity: "INFO",
          summary: `No delivery of ${subject.address} is recorded in the last ${deps.config.MAIL_LOG_RETENTION_DAYS} days: the mail never reached our servers.`,
          actions: [act("SENDER", `Ask the sender for the bounce message they received, or the time they sent it; check that they used the right address.`)],
          evidence: subject.account ? [accountEvidence(subject.account)] : [],
        }),
      );
    } else {
      const latest = subject.records[0]!;
      findings.push(
        finding({
          code: "delivery.ok",
          severity: "INFO",
          summary: `No problem found for ${subject.address}: the account is active and ${delivered.length} of the last ${subject.records.length} deliveries went through (the latest ${latest.status} at ${latest.loggedAt.toISOString()}).`,
          actions: [],
          deliveryState: latest.status === "OK" ? "DELIVERED" : null,
          evidence: [...(subject.account ? [accountEvidence(subject.account)] : []), ...delivered.slice(0, 3).map(lineEvidence)],
        }),
      );
    }
  }

  // Stable: findings of one severity and rank keep the order they were found in (newest trouble first).
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || rankOf(a) - rankOf(b));
  const first = findings[0];
  const verdict = first ? first.summary : "No problem found, and nothing is known about this record's address.";
  return { address: subject.address, account: subject.account, records: subject.records, findings, verdict, probes, dnsCheck };
}
