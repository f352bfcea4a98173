// diagnoseDelivery: support's first question ("why did this mail not arrive /
// not go out?") answered in one call, by putting together what the service
// knows: the account and its domain, the recent delivery records, a fresh
// probe of the remote domain that outbound mail waits for, and the DNS check
// of a hosted domain. Each finding carries its evidence and what to do;
// findings come most likely cause first. The findings' texts are Messages
// (src/i18n: catalogues diagnosis.*), written in the request's language by the
// resolvers; addresses, log lines, SMTP replies and codes are values in them.
import type { Account, Domain, MailLogRecord } from "../generated/prisma/client";
import type { Principal } from "../auth/principal";
import type { ServiceDeps } from "../service-deps";
import { authorize } from "../auth/policy";
import { AppError, BadInputError, NotFoundError, type ObjectDescription } from "../errors";
import { message, type Message } from "../i18n/messages";
import type { Text } from "../i18n/text";
import { parseAddress, parseBigintId } from "../shared/validation";
import { checkView, dnsServiceOf, loadProfile, type DnsCheckView } from "../dns/dns.service";
import type { DnsFinding } from "../dns/dns.checker";
import { runProbe } from "../probe/probe.service";
import { COLON, SEMICOLONS, TextList, type MailServerProbe, type ProbeAttempt } from "../probe/probe";
import { codesOf, readReason, type Actor, type DeliveryState, type ReasonKind, type ReasonReading } from "./reasons";

export type Severity = "PROBLEM" | "WARNING" | "INFO";
export type EvidenceKind = "LOG_LINE" | "ACCOUNT" | "DOMAIN" | "PROBE_ATTEMPT" | "DNS_FINDING";

export interface Evidence {
  kind: EvidenceKind;
  /** A log line (a value), or a Message about the account, the domain, a probe or a DNS finding. */
  text: Text;
  logRecordId: string | null;
}

/** One thing one party must do. SERVICE actions are escalations: `escalation` is what to tell the mail team. */
export interface FindingAction {
  actor: Actor;
  text: Text;
  escalation: Text | null;
}

export interface DiagnosisFinding {
  code: string;
  severity: Severity;
  summary: Text;
  /** The actions' texts in one string, as portals have read it before `actions` existed. */
  action: Text | null;
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
  verdict: Text;
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

function act(actor: Actor, text: Text, escalation: Text | null = null): FindingAction {
  return { actor, text, escalation };
}

/** Sentences one after the other: a space between them in English, nothing in Chinese. */
const SENTENCES = { en: " ", "zh-TW": "" } as const;
/** Items of an enumeration: "a, b" in English, "a、b" in Chinese. */
const ENUMERATION = { en: ", ", "zh-TW": "、" } as const;

/** A finding with its actions; `action` is their texts joined. */
function finding(
  fields: Omit<DiagnosisFinding, "action" | "deliveryState" | "replyCode" | "enhancedStatusCode"> &
    Partial<Pick<DiagnosisFinding, "deliveryState" | "replyCode" | "enhancedStatusCode">>,
): DiagnosisFinding {
  return {
    ...fields,
    action:
      fields.actions.length > 0
        ? new TextList(
            fields.actions.map((item) => item.text),
            SENTENCES,
          )
        : null,
    deliveryState: fields.deliveryState ?? null,
    replyCode: fields.replyCode ?? null,
    enhancedStatusCode: fields.enhancedStatusCode ?? null,
  };
}

/** "50 s", "12 min", "3 h 5 min", "4 days" (秒, 分鐘, 小時, 天 in Chinese). */
export function formatDuration(seconds: number): Message {
  if (seconds < 60) return message("diagnosis.duration.seconds", { n: Math.max(0, Math.round(seconds)) });
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return message("diagnosis.duration.minutes", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? message("diagnosis.duration.hours_minutes", { hours, minutes: minutes % 60 }) : message("diagnosis.duration.hours", { hours });
  return message("diagnosis.duration.days", { n: Math.floor(hours / 24) });
}

function lineEvidence(record: MailLogRecord): Evidence {
  return { kind: "LOG_LINE", text: record.rawLine, logRecordId: record.id.toString() };
}

function attemptEvidence(attempt: ProbeAttempt): Evidence {
  const target = `${attempt.host} ${attempt.address}:${attempt.port}`;
  if (attempt.outcome === "GREETED") {
    const said = attempt.greeting ? `${attempt.greeting.code} ${attempt.greeting.lines[0] ?? ""}`.trim() : "";
    return { kind: "PROBE_ATTEMPT", text: message("diagnosis.evidence.attempt_greeted", { target, said, ms: attempt.greetingMs ?? 0 }), logRecordId: null };
  }
  return { kind: "PROBE_ATTEMPT", text: `${target} ${attempt.outcome}${attempt.error ? `: ${attempt.error}` : ""}`, logRecordId: null };
}

/** A probe as evidence: its attempts, or when nothing could be connected to, why (DNS). */
function probeEvidence(probe: MailServerProbe): Evidence[] {
  if (probe.attempts.length > 0) return probe.attempts.map(attemptEvidence);
  const why = probe.exchangers.find((exchanger) => exchanger.dnsError)?.dnsError;
  const text =
    probe.status === "DNS_FAILURE"
      ? why
        ? message("diagnosis.evidence.probe_dns_failure_why", { domain: probe.domain, why })
        : message("diagnosis.evidence.probe_dns_failure", { domain: probe.domain })
      : message("diagnosis.evidence.probe", { domain: probe.domain, status: probe.status, verdict: probe.verdict });
  return [{ kind: "PROBE_ATTEMPT", text, logRecordId: null }];
}

function dnsEvidence(finding: DnsFinding): Evidence {
  const head = `${finding.check} ${finding.status} ${finding.subject}`;
  const parts: Text[] = [head];
  if (finding.expected) parts.push(message("diagnosis.evidence.dns_expected", { value: finding.expected }));
  if (finding.found) parts.push(message("diagnosis.evidence.dns_found", { value: finding.found }));
  return { kind: "DNS_FINDING", text: parts.length > 1 ? new TextList(parts, SEMICOLONS) : head, logRecordId: null };
}

function accountUsage(account: Account): Message {
  return account.quotaMb > 0
    ? message("diagnosis.evidence.usage", { used: account.usedMb, quota: account.quotaMb, percent: Math.round((account.usedMb / account.quotaMb) * 100) })
    : message("diagnosis.evidence.usage_no_mailbox", { used: account.usedMb });
}

function accountEvidence(account: Account): Evidence {
  return { kind: "ACCOUNT", text: message("diagnosis.evidence.account", { address: account.address, status: account.status, usage: accountUsage(account) }), logRecordId: null };
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
  if (hasAddress && hasRecord) throw new BadInputError("logRecordId", message("diagnosis.input.both"));
  if (!hasAddress && !hasRecord) throw new BadInputError("address", message("diagnosis.input.neither"));

  let address: string | null;
  let records: MailLogRecord[];
  if (hasRecord) {
    const id = parseBigintId(input.logRecordId!, "logRecordId", message("diagnosis.input.record_id", { input: JSON.stringify(input.logRecordId) }));
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

/** How a record's status reads in a sentence: "RETRY.3 Operation timed out", "FAIL 550 5.1.1 User unknown" (a value: the log's words). */
function statusText(record: MailLogRecord): string {
  const head = record.status === "RETRY" ? `RETRY.${record.retryCount ?? 0}` : record.status;
  return record.reason ? `${head} ${record.reason}` : head;
}

function fateText(state: DeliveryState): Message {
  return state === "FAILED" ? message("diagnosis.fate.failed") : message("diagnosis.fate.retrying");
}

/** The remote server's answer in a sentence: who answered, with which codes and words. */
function answerText(reading: ReasonReading): Message {
  const codes = codesOf(reading);
  if (reading.host) return codes ? message("diagnosis.answer.host_codes", { host: reading.host, codes }) : message("diagnosis.answer.host", { host: reading.host });
  return codes ? message("diagnosis.answer.codes", { codes }) : message("diagnosis.answer.plain");
}

/** "yes" or "no", for a message's {failed, select, ...}. */
function yesNo(value: boolean): string {
  return value ? "yes" : "no";
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
        summary: message("diagnosis.account_missing.summary", { address, domain: domain.name }),
        actions: [act("SENDER", message("diagnosis.account_missing.check_spelling")), act("CUSTOMER", message("diagnosis.account_missing.create", { domain: domain.name }))],
        deliveryState: inboundFailures.length > 0 ? (readReason(inboundFailures[0]!.status, inboundFailures[0]!.reason)?.state ?? null) : null,
        evidence: [
          { kind: "DOMAIN", text: message("diagnosis.evidence.domain_no_account", { domain: domain.name, status: domain.status, address }), logRecordId: null },
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
        summary: message("diagnosis.domain_suspended.summary", { domain: domain.name }),
        actions: [act("CUSTOMER", message("diagnosis.domain_suspended.reactivate", { call: `updateDomain(id: "${domain.id}", input: { status: ACTIVE })` }))],
        evidence: [{ kind: "DOMAIN", text: message("diagnosis.evidence.domain_suspended", { domain: domain.name, since: domain.updatedAt.toISOString() }), logRecordId: null }],
      }),
    );
  }
  if (account.status === "SUSPENDED") {
    findings.push(
      finding({
        code: "account.suspended",
        severity: "PROBLEM",
        summary: message("diagnosis.account_suspended.summary", { address }),
        actions: [act("CUSTOMER", message("diagnosis.account_suspended.reactivate", { call: `updateAccount(id: "${account.id}", input: { status: ACTIVE })` }))],
        evidence: [
          {
            ...accountEvidence(account),
            text: message("diagnosis.evidence.account_suspended", { account: accountEvidence(account).text as Message, since: account.updatedAt.toISOString() }),
          },
        ],
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
    const call = `updateAccount(id: "${account.id}", input: { quotaMb: ${suggested} })`;
    findings.push(
      finding({
        code: "mailbox.quota_exceeded",
        severity: "PROBLEM",
        summary: message("diagnosis.quota_exceeded.summary", {
          address,
          used: account.usedMb,
          quota: account.quotaMb,
          n: quotaFailures.length,
          failed: yesNo(failed),
          reason: oldest.reason ?? "",
          since: oldest.loggedAt.toISOString(),
        }),
        actions: [
          act(
            "CUSTOMER",
            free === null
              ? message("diagnosis.quota_exceeded.raise", { suggested, call })
              : message("diagnosis.quota_exceeded.raise_domain", { suggested, call, domainQuota: free }),
          ),
          ...(failed ? [act("SENDER", message("diagnosis.quota_exceeded.resend"))] : []),
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
        summary: message("diagnosis.mailbox_full.summary", { address, used: account.usedMb, quota: account.quotaMb, reply: "Destination mailbox exceeds quota" }),
        actions: [act("CUSTOMER", message("diagnosis.mailbox_full.raise"))],
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
    const sender: Text = newest.sender ?? message("diagnosis.the_sender");
    const senderDomain: Text = newest.sender?.includes("@") ? domainOf(newest.sender) : message("diagnosis.the_senders_domain");
    const codes = codesOf(reading);
    const said = codes ? message("diagnosis.inbound.said_codes", { codes }) : message("diagnosis.inbound.said");
    const failed = reading.state === "FAILED";
    const resend = failed ? [act("SENDER", message("diagnosis.inbound.resend", { sender }))] : [];
    const messages = records.length === 1 ? message("diagnosis.inbound.one_message", { address, sender }) : message("diagnosis.inbound.messages", { n: records.length, address });
    const head = message("diagnosis.inbound.head", { messages, failed: yesNo(failed), status: statusText(newest) });
    const fate = failed ? message("diagnosis.fate.failed") : message("diagnosis.fate.sender_retrying");
    const escalate = (what: Message) => message("diagnosis.escalation.quote", { what, line: newest.rawLine, record: newest.id.toString() });
    const sentence = { head, said, fate };
    let code: string;
    let summary: Message;
    let actions: FindingAction[];
    let severity: Severity = "PROBLEM";
    switch (kind) {
      case "user_unknown":
        code = "local.user_unknown";
        summary = message("diagnosis.local.user_unknown", { ...sentence, address });
        actions = [act("SERVICE", message("diagnosis.local.user_unknown.escalate"), escalate(message("diagnosis.local.user_unknown.escalation", { address }))), ...resend];
        break;
      case "message_too_large":
        code = "local.message_too_large";
        summary = newest.sizeBytes
          ? message("diagnosis.local.message_too_large_size", { ...sentence, bytes: newest.sizeBytes })
          : message("diagnosis.local.message_too_large", sentence);
        actions = [act("SENDER", message("diagnosis.send_smaller"))];
        break;
      case "auth_rejected":
        code = "local.auth_rejected";
        summary = message("diagnosis.local.auth_rejected", { ...sentence, senderDomain });
        actions = [act("SENDER", message("diagnosis.local.auth_rejected.fix", { senderDomain }))];
        break;
      case "blocklisted":
        code = "local.blocklisted";
        summary = message("diagnosis.local.blocklisted", sentence);
        actions = [act("SENDER", message("diagnosis.local.blocklisted.fix", { senderDomain }))];
        break;
      case "reverse_dns":
        code = "local.reverse_dns";
        summary = message("diagnosis.local.reverse_dns", sentence);
        actions = [act("SENDER", message("diagnosis.local.reverse_dns.fix", { senderDomain }))];
        break;
      case "policy_rejected":
        code = "local.policy_rejected";
        summary = message("diagnosis.local.policy_rejected", sentence);
        actions = [
          act("SENDER", message("diagnosis.local.policy_rejected.resend")),
          act("SERVICE", message("diagnosis.local.policy_rejected.escalate"), escalate(message("diagnosis.local.policy_rejected.escalation", { address }))),
        ];
        break;
      case "greylisted":
        code = "local.greylisted";
        severity = failed ? "PROBLEM" : "WARNING";
        summary = message("diagnosis.local.greylisted", sentence);
        actions = failed ? [act("SENDER", message("diagnosis.local.greylisted.resend"))] : [act("NOBODY", message("diagnosis.local.greylisted.wait"))];
        break;
      case "tls_required":
        code = "local.tls_required";
        summary = message("diagnosis.local.tls_required", sentence);
        actions = [act("SENDER", message("diagnosis.local.tls_required.fix", { senderDomain }))];
        break;
      case "relay_denied":
        code = "local.relay_denied";
        summary = message("diagnosis.local.relay_denied", { ...sentence, address });
        actions = [
          act(
            "SERVICE",
            message("diagnosis.local.relay_denied.escalate"),
            escalate(
              domain
                ? message("diagnosis.local.relay_denied.escalation_hosted", { address, domain: domain.name })
                : message("diagnosis.local.relay_denied.escalation", { address }),
            ),
          ),
          ...resend,
        ];
        break;
      default:
        code = "local.delivery_failed";
        summary = message(reading.said ? "diagnosis.local.delivery_failed_said" : "diagnosis.local.delivery_failed", {
          head,
          fate,
          failed: yesNo(failed),
          said: reading.said ?? "",
        });
        actions = [
          act(
            "SERVICE",
            message("diagnosis.local.delivery_failed.escalate"),
            escalate(
              message("diagnosis.local.delivery_failed.escalation", {
                address,
                failed: yesNo(failed),
                n: records.length,
                oldest: records[records.length - 1]!.loggedAt.toISOString(),
              }),
            ),
          ),
          ...resend,
        ];
    }
    findings.push(
      finding({
        code,
        severity,
        summary,
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

/** What every remote finding's sentence starts with and ends with: the history of the mail, the answer, its fate. */
type RemoteSentence = { history: Message; answer: Message; fate: Message };

/**
 * What the remote server's answer means and who acts on it, for a reading
 * where a server answered: the log decides, a probe only adds evidence.
 */
function answeredRemote(
  remote: PendingRemote,
  reading: ReasonReading,
  serviceSpfHint: string,
  sentence: RemoteSentence,
): { code: string; summary: Message; actions: FindingAction[]; severity: Severity } {
  const { latest } = remote;
  const domain = remote.domain;
  const recipient: Text = latest.recipient ?? message("diagnosis.the_recipient_at", { domain });
  const senderDomain: Text = latest.sender?.includes("@") ? domainOf(latest.sender) : message("diagnosis.the_customers_domain");
  const failed = reading.state === "FAILED";
  const quote = message("diagnosis.quote", { line: latest.rawLine, record: latest.id.toString() });
  const who = reading.host ?? domain;
  const resendLater = failed ? [act("SENDER", message("diagnosis.remote.resend_later"))] : [];
  switch (reading.kind) {
    case "user_unknown":
      return {
        code: "remote.user_unknown",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.user_unknown", { ...sentence, recipient }),
        actions: [act("SENDER", message("diagnosis.remote.user_unknown.correct", { recipient }))],
      };
    case "mailbox_full":
      return {
        code: "remote.mailbox_full",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.mailbox_full", { ...sentence, recipient }),
        actions: [act("RECIPIENT_PROVIDER", message("diagnosis.remote.mailbox_full.empty")), ...resendLater],
      };
    case "message_too_large":
      return {
        code: "remote.message_too_large",
        severity: "PROBLEM",
        summary: latest.sizeBytes
          ? message("diagnosis.remote.message_too_large_size", { ...sentence, bytes: latest.sizeBytes })
          : message("diagnosis.remote.message_too_large", sentence),
        actions: [act("SENDER", message("diagnosis.send_smaller"))],
      };
    case "auth_rejected":
      return {
        code: "remote.auth_rejected",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.auth_rejected", { ...sentence, senderDomain }),
        actions: [
          act(
            "CUSTOMER",
            message("diagnosis.remote.auth_rejected.publish", {
              senderDomain,
              spfHint: serviceSpfHint,
              call: `checkDomainDns(domain: "${typeof senderDomain === "string" ? senderDomain : senderDomain.in("en")}")`,
            }),
          ),
          ...resendLater,
        ],
      };
    case "blocklisted":
      return {
        code: "remote.blocklisted",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.blocklisted", sentence),
        actions: [act("SERVICE", message("diagnosis.remote.blocklisted.escalate"), message("diagnosis.remote.blocklisted.escalation", { who, quote })), ...resendLater],
      };
    case "reverse_dns":
      return {
        code: "remote.reverse_dns",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.reverse_dns", sentence),
        actions: [act("SERVICE", message("diagnosis.remote.reverse_dns.escalate"), message("diagnosis.remote.reverse_dns.escalation", { who, quote })), ...resendLater],
      };
    case "policy_rejected":
      return {
        code: "remote.policy_rejected",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.policy_rejected", sentence),
        actions: [
          act("RECIPIENT_PROVIDER", message("diagnosis.remote.policy_rejected.explain", { domain })),
          ...(failed ? [act("SENDER", message("diagnosis.remote.policy_rejected.resend"))] : []),
        ],
      };
    case "greylisted":
      return {
        code: "remote.greylisted",
        severity: failed ? "PROBLEM" : "WARNING",
        summary: message("diagnosis.remote.greylisted", sentence),
        actions: failed ? [act("SENDER", message("diagnosis.remote.greylisted.resend"))] : [act("NOBODY", message("diagnosis.remote.greylisted.wait", { domain }))],
      };
    case "tls_required":
      return {
        code: "remote.tls_required",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.tls_required", sentence),
        actions: [act("SERVICE", message("diagnosis.remote.tls_required.escalate"), message("diagnosis.remote.tls_required.escalation", { who, quote })), ...resendLater],
      };
    case "relay_denied":
      return {
        code: "remote.relay_denied",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.relay_denied", { ...sentence, domain }),
        actions: [
          act("RECIPIENT_PROVIDER", message("diagnosis.remote.relay_denied.fix_mx", { domain })),
          act("SENDER", message("diagnosis.remote.relay_denied.check_spelling", { domain })),
        ],
      };
    case "loop":
      return {
        code: "remote.loop",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.loop", sentence),
        actions: [act("SERVICE", message("diagnosis.remote.loop.escalate"), message("diagnosis.remote.loop.escalation", { domain, quote })), ...resendLater],
      };
    case "expired":
      return {
        code: "remote.expired",
        severity: "PROBLEM",
        summary: reading.said
          ? message("diagnosis.remote.expired_said", { history: sentence.history, fate: sentence.fate, said: reading.said })
          : message("diagnosis.remote.expired", { history: sentence.history, fate: sentence.fate }),
        actions: [act("RECIPIENT_PROVIDER", message("diagnosis.remote.expired.fix", { domain })), act("SENDER", message("diagnosis.remote.expired.resend"))],
      };
    case "temporary_failure":
      return failed
        ? {
            code: "remote.permanent_failure",
            severity: "PROBLEM",
            summary: message("diagnosis.remote.temporary_until_given_up", sentence),
            actions: [act("RECIPIENT_PROVIDER", message("diagnosis.remote.ask_meaning")), act("SENDER", message("diagnosis.remote.resend_later_plain"))],
          }
        : {
            code: "remote.temporary_failure",
            severity: "PROBLEM",
            summary: message("diagnosis.remote.temporary_failure", sentence),
            actions: [act("NOBODY", message("diagnosis.remote.temporary_failure.wait", { domain }))],
          };
    default:
      return {
        code: "remote.permanent_failure",
        severity: "PROBLEM",
        summary: message("diagnosis.remote.permanent_failure", sentence),
        actions: [act("RECIPIENT_PROVIDER", message("diagnosis.remote.permanent_failure.explain", { domain })), act("SENDER", message("diagnosis.remote.permanent_failure.same"))],
      };
  }
}

async function remoteFindings(deps: ServiceDeps, principal: Principal, remotes: PendingRemote[], probes: MailServerProbe[]): Promise<DiagnosisFinding[]> {
  const findings: DiagnosisFinding[] = [];
  const spfHint = deps.config.SPF_INCLUDE ? `SPF include:${deps.config.SPF_INCLUDE}` : `SPF ip4:${deps.config.MAIL_SERVER_IPV4}`;
  for (const remote of remotes) {
    const { latest } = remote;
    const domain = remote.domain;
    const reading = readReason(latest.status, latest.reason)!;
    const waited = latest.queuedAt ? formatDuration((deps.now().getTime() - latest.queuedAt.getTime()) / 1000) : null;
    const status = statusText(latest);
    const history =
      reading.state === "RETRYING"
        ? waited
          ? message("diagnosis.history.waiting_since", { domain, waited, status })
          : message("diagnosis.history.waiting", { domain, status })
        : waited
          ? message("diagnosis.history.failed_after", { domain, waited, status })
          : message("diagnosis.history.failed", { domain, status });
    const lines = remote.records
      .filter((record) => record.status !== "OK")
      .slice(0, MAX_QUOTED_LINES)
      .map(lineEvidence);
    const codes = { deliveryState: reading.state, replyCode: reading.replyCode, enhancedStatusCode: reading.enhancedCode };

    let probe: MailServerProbe | null = null;
    let notProbed: Text | null = null;
    try {
      probe = await runProbe(deps, principal, domain);
      probes.push(probe);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "RATE_LIMITED") throw error;
      notProbed = error.localized ?? error.message;
    }
    const evidence = [...lines, ...(probe ? probeEvidence(probe) : [])];

    // A server answered: its answer is the finding, whatever a probe finds now.
    if (reading.answered) {
      const read = answeredRemote(remote, reading, spfHint, { history, answer: answerText(reading), fate: fateText(reading.state) });
      findings.push(finding({ code: read.code, severity: read.severity, summary: read.summary, actions: read.actions, ...codes, evidence }));
      continue;
    }

    // Connection trouble (timeout, refused, no route, DNS): the log says the
    // message waits or was given up; the probe says whether the other side is up now.
    if (reading.state === "FAILED") {
      const dns = reading.kind === "dns" || probe?.status === "DNS_FAILURE" || probe?.status === "NO_MAIL_SERVER";
      const values = { history, domain, fate: fateText("FAILED"), probeStatus: probe?.status ?? "" };
      const summary = dns
        ? message(probe ? "diagnosis.remote.dns_failed_probed" : "diagnosis.remote.dns_failed", values)
        : message(probe ? "diagnosis.remote.unreachable_failed_probed" : "diagnosis.remote.unreachable_failed", values);
      findings.push(
        finding({
          code: dns ? "remote.dns" : "remote.unreachable",
          severity: "PROBLEM",
          summary,
          actions: dns
            ? [
                act("SENDER", message("diagnosis.remote.dns_failed.check_spelling", { domain })),
                act("RECIPIENT_PROVIDER", message("diagnosis.remote.dns_failed.publish", { domain })),
              ]
            : [act("RECIPIENT_PROVIDER", message("diagnosis.remote.bring_back", { domain })), act("SENDER", message("diagnosis.remote.unreachable_failed.resend"))],
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
          summary: message("diagnosis.remote.not_probed", { history, why: notProbed ?? "" }),
          actions: [act("NOBODY", message("diagnosis.remote.not_probed.later", { domain }))],
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
          summary: message("diagnosis.remote.reachable", { history, verdict: probe.verdict }),
          actions: [act("NOBODY", message("diagnosis.remote.reachable.wait", { domain }))],
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
        summary: message("diagnosis.remote.probed", { history, verdict: probe.verdict }),
        actions:
          code === "remote.dns"
            ? [act("RECIPIENT_PROVIDER", message("diagnosis.remote.dns.fix", { domain })), act("SENDER", message("diagnosis.remote.dns.spelling"))]
            : [act("RECIPIENT_PROVIDER", message("diagnosis.remote.down.explain", { domain }))],
        ...codes,
        evidence,
      }),
    );
  }
  return findings;
}

/** Checks about the service's own records, which the customer cannot change: support escalates them. */
const SERVICE_CHECKS = new Set(["ptr.mail_server"]);

/** Texts told apart by their English: the same fix named by two findings is asked for once. */
function distinct(texts: Text[]): Text[] {
  const seen = new Map<string, Text>();
  for (const text of texts) {
    const key = typeof text === "string" ? text : text.in("en");
    if (!seen.has(key)) seen.set(key, text);
  }
  return [...seen.values()];
}

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
  const setup = message("diagnosis.setup", { setup: domain.dnsSetup });

  // The service's own records (the reverse DNS of its mail server): a separate finding, the service's to act on.
  const serviceFailing = result.findings.filter((item) => SERVICE_CHECKS.has(item.check) && item.status === "FAIL");
  if (serviceFailing.length > 0) {
    findings.push(
      finding({
        code: "service.reverse_dns",
        severity: "PROBLEM",
        summary: message("diagnosis.service_reverse_dns.summary", {
          details: new TextList(
            serviceFailing.map((item) => new TextList([item.subject, item.found ?? ""], COLON)),
            SEMICOLONS,
          ),
        }),
        actions: [
          act(
            "SERVICE",
            message("diagnosis.service_reverse_dns.escalate"),
            new TextList(
              serviceFailing.map((item) => message("diagnosis.service_reverse_dns.escalation", { subject: item.subject, expected: item.expected ?? "", found: item.found ?? "" })),
              SENTENCES,
            ),
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
    const fixes: Text[] = failing.flatMap((item) => (item.fix ? [item.fix] : []));
    findings.push(
      finding({
        code: "dns.misconfigured",
        severity: "PROBLEM",
        summary: message("diagnosis.dns_misconfigured.summary", {
          domain: domain.name,
          setup,
          failing: new TextList(
            failing.map((item) => `${item.check} ${item.status}`),
            ENUMERATION,
          ),
        }),
        actions: [
          act(
            "CUSTOMER",
            fixes.length > 0
              ? message("diagnosis.dns_misconfigured.ask", { fixes: new TextList(distinct(fixes).slice(0, 3), SENTENCES) })
              : message("diagnosis.dns_misconfigured.run_check", { call: `checkDomainDns(domain: "${domain.name}")` }),
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
        summary: message("diagnosis.dns_warnings.summary", {
          domain: domain.name,
          checks: new TextList(
            warnings.map((item) => item.check),
            ENUMERATION,
          ),
        }),
        actions: fix ? [act("CUSTOMER", fix)] : [],
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
            ? message("diagnosis.dns_ok.customer_records", { domain: domain.name, setup, n: customer.length })
            : message("diagnosis.dns_ok.summary", { domain: domain.name, setup, n: result.findings.length }),
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
          summary: message("diagnosis.records_none.summary", { address: subject.address, days: deps.config.MAIL_LOG_RETENTION_DAYS }),
          actions: [act("SENDER", message("diagnosis.records_none.ask_sender"))],
          evidence: subject.account ? [accountEvidence(subject.account)] : [],
        }),
      );
    } else {
      const latest = subject.records[0]!;
      findings.push(
        finding({
          code: "delivery.ok",
          severity: "INFO",
          summary: message("diagnosis.delivery_ok.summary", {
            address: subject.address,
            delivered: delivered.length,
            total: subject.records.length,
            status: latest.status,
            at: latest.loggedAt.toISOString(),
          }),
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
  const verdict = first ? first.summary : message("diagnosis.verdict.nothing_known");
  return { address: subject.address, account: subject.account, records: subject.records, findings, verdict, probes, dnsCheck };
}
