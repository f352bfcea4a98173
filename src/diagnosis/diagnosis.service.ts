// diagnoseDelivery: support's first question ("why did this mail not arrive /
// not go out?") answered in one call, by putting together what the service
// knows: the account and its domain, the recent delivery records, a fresh
// probe of the remote domain that outbound mail waits for, and the DNS check
// of a hosted domain. Each finding carries its evidence and what to do;
// findings come most likely cause first.
import type { Account, Domain, MailLogRecord } from "../generated/prisma/client";
import type { Principal } from "../auth/principal";
import type { ServiceDeps } from "../shared/deps";
import { authorize } from "../auth/policy";
import { AppError, BadInputError, NotFoundError } from "../errors";
import { parseAddress } from "../shared/validation";
import { checkView, dnsServiceOf, profileOf, type DnsCheckView } from "../dns/dns.service";
import type { DnsFinding } from "../dns/dns.checker";
import { runProbe } from "../probe/probe.service";
import type { MailServerProbe, ProbeAttempt } from "../probe/probe";

export type Severity = "PROBLEM" | "WARNING" | "INFO";
export type EvidenceKind = "LOG_LINE" | "ACCOUNT" | "DOMAIN" | "PROBE_ATTEMPT" | "DNS_FINDING";

export interface Evidence {
  kind: EvidenceKind;
  text: string;
  logRecordId: string | null;
}

export interface DiagnosisFinding {
  code: string;
  severity: Severity;
  summary: string;
  action: string | null;
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
 * confirms beats a remote server being down, which beats DNS (which explains
 * mail that never arrived), which beats what is merely worth knowing.
 */
const RANK: Record<string, number> = {
  "account.missing": 0,
  "domain.suspended": 1,
  "account.suspended": 2,
  "mailbox.quota_exceeded": 3,
  "remote.permanent_failure": 4,
  "remote.unreachable": 5,
  "remote.rejecting": 5,
  "remote.dns": 5,
  "dns.misconfigured": 6,
  "remote.reachable": 7,
  "mailbox.full": 8,
  "remote.not_probed": 9,
  "dns.warnings": 9,
  "delivery.ok": 10,
  "records.none": 11,
  "dns.ok": 12,
};
const SEVERITY_ORDER: Record<Severity, number> = { PROBLEM: 0, WARNING: 1, INFO: 2 };

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

function dnsEvidence(finding: DnsFinding): Evidence {
  const parts = [`${finding.check} ${finding.status} ${finding.subject}`];
  if (finding.expected) parts.push(`expected ${finding.expected}`);
  if (finding.found) parts.push(`found ${finding.found}`);
  return { kind: "DNS_FINDING", text: parts.join("; "), logRecordId: null };
}

function accountEvidence(account: Account): Evidence {
  const usage = account.quotaMb > 0 ? `${account.usedMb} MB used of ${account.quotaMb} MB (${Math.round((account.usedMb / account.quotaMb) * 100)}%)` : `quota 0 MB (no mailbox), ${account.usedMb} MB used`;
  return { kind: "ACCOUNT", text: `${account.address}: ${account.status}, ${usage}`, logRecordId: null };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}

// EZML says "Destination mailbox exceeds quota"; Postfix gives the enhanced code 5.2.2 (mailbox full, RFC 3463) whatever the text.
const isQuotaFailure = (record: MailLogRecord) => record.status === "FAIL" && (/quota/i.test(record.reason ?? "") || record.dsn === "5.2.2");

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
    if (!/^\d{1,19}$/.test(input.logRecordId!)) throw new BadInputError("logRecordId", `${JSON.stringify(input.logRecordId)} is not a delivery record id (a number, as MailLogRecord.id gives it).`);
    const record = await deps.db.mailLogRecord.findUnique({ where: { id: BigInt(input.logRecordId!) } });
    if (!record) throw new NotFoundError("delivery record", input.logRecordId!);
    address = record.localAddress;
    // The message's whole history: every line with its queue id.
    records = record.queueId
      ? await deps.db.mailLogRecord.findMany({ where: { queueId: record.queueId, localAddress: record.localAddress }, orderBy: [{ loggedAt: "desc" }, { id: "desc" }], take: RECENT_RECORDS })
      : [record];
  } else {
    address = parseAddress(input.address!, "address").address;
    const since = new Date(deps.now().getTime() - deps.config.MAIL_LOG_RETENTION_DAYS * 86_400_000);
    records = await deps.db.mailLogRecord.findMany({ where: { localAddress: address, loggedAt: { gte: since } }, orderBy: [{ loggedAt: "desc" }, { id: "desc" }], take: RECENT_RECORDS });
  }

  const domain = address ? await deps.db.domain.findUnique({ where: { name: domainOf(address) } }) : null;
  const account = address ? await deps.db.account.findUnique({ where: { address } }) : null;
  const describe: [string, string] = hasRecord ? ["delivery record", input.logRecordId!] : ["delivery records for", address!];
  // Who may diagnose: as who may read the records (support any; a domain's
  // administrator its domain's addresses; a user its own).
  if (principal.role !== "SUPPORT_ADMIN" && !domain) throw new NotFoundError(...describe);
  authorize(principal, "delivery.diagnose", { domainId: domain?.id, accountId: account?.id }, describe);
  return { address, domain, account, records };
}

function accountFindings(subject: Subject): DiagnosisFinding[] {
  const { address, domain, account, records } = subject;
  const findings: DiagnosisFinding[] = [];
  if (!domain || !address) return findings;
  const inboundFailures = records.filter((record) => record.direction === "INBOUND" && record.status === "FAIL");
  if (!account) {
    findings.push({
      code: "account.missing",
      severity: "PROBLEM",
      summary: `${address} is not a mailbox of ${domain.name}: mail to it cannot be delivered.`,
      action: `Check the address's spelling with the sender; if the mailbox should exist, create it (createAccount in ${domain.name}).`,
      evidence: [{ kind: "DOMAIN", text: `${domain.name} is hosted here (${domain.status}); no account ${address}`, logRecordId: null }, ...inboundFailures.slice(0, MAX_QUOTED_LINES).map(lineEvidence)],
    });
    return findings;
  }
  if (domain.status === "SUSPENDED") {
    findings.push({
      code: "domain.suspended",
      severity: "PROBLEM",
      summary: `The domain ${domain.name} is suspended: none of its accounts can log in.`,
      action: `If the suspension is over (contract, payment), reactivate the domain: updateDomain(id: "${domain.id}", input: { status: ACTIVE }).`,
      evidence: [{ kind: "DOMAIN", text: `${domain.name}: SUSPENDED since ${domain.updatedAt.toISOString()}`, logRecordId: null }],
    });
  }
  if (account.status === "SUSPENDED") {
    findings.push({
      code: "account.suspended",
      severity: "PROBLEM",
      summary: `${address} is suspended: it cannot log in to read or send mail.`,
      action: `If the suspension is over, reactivate the account: updateAccount(id: "${account.id}", input: { status: ACTIVE }).`,
      evidence: [{ ...accountEvidence(account), text: `${accountEvidence(account).text}; suspended since ${account.updatedAt.toISOString()}` }],
    });
  }
  const quotaFailures = inboundFailures.filter(isQuotaFailure);
  if (quotaFailures.length > 0) {
    const oldest = quotaFailures[quotaFailures.length - 1]!;
    const biggestMb = Math.ceil(Math.max(...quotaFailures.map((record) => record.sizeBytes ?? 0)) / 1_048_576);
    const suggested = Math.ceil(Math.max(account.quotaMb * 1.5, account.usedMb + biggestMb + 1) / 512) * 512;
    const free = domain.quotaMb === null ? null : Math.max(0, domain.quotaMb);
    findings.push({
      code: "mailbox.quota_exceeded",
      severity: "PROBLEM",
      summary:
        `${address}'s mailbox is full: ${account.usedMb} MB used of ${account.quotaMb} MB; ` +
        `${quotaFailures.length} incoming message${quotaFailures.length === 1 ? "" : "s"} bounced with "${oldest.reason}" since ${oldest.loggedAt.toISOString()}.`,
      action:
        `Raise the quota, for example to ${suggested} MB: updateAccount(id: "${account.id}", input: { quotaMb: ${suggested} })` +
        `${free === null ? "" : ` (the domain's quota is ${free} MB in all)`}; or ask the user to delete or archive old mail. ` +
        `The senders must send the bounced messages again.`,
      evidence: [accountEvidence(account), ...quotaFailures.slice(0, MAX_QUOTED_LINES).map(lineEvidence)],
    });
  } else if (account.quotaMb > 0 && account.usedMb >= account.quotaMb) {
    findings.push({
      code: "mailbox.full",
      severity: "WARNING",
      summary: `${address}'s mailbox is full (${account.usedMb} MB of ${account.quotaMb} MB): new mail will bounce with "Destination mailbox exceeds quota".`,
      action: `Raise the quota (updateAccount quotaMb) or ask the user to clean the mailbox.`,
      evidence: [accountEvidence(account)],
    });
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
    if (record.direction !== "OUTBOUND" || !record.recipient || !record.recipient.includes("@")) continue;
    const remote = domainOf(record.recipient);
    if (hostedNames.has(remote)) continue;
    byDomain.set(remote, [...(byDomain.get(remote) ?? []), record]);
  }
  return [...byDomain.entries()]
    .map(([domain, list]) => ({ domain, latest: list[0]!, records: list }))
    .filter((entry) => entry.latest.status !== "OK")
    .slice(0, MAX_PROBED_DOMAINS);
}

async function remoteFindings(deps: ServiceDeps, principal: Principal, remotes: PendingRemote[], probes: MailServerProbe[]): Promise<DiagnosisFinding[]> {
  const findings: DiagnosisFinding[] = [];
  for (const remote of remotes) {
    const { latest } = remote;
    const waited = latest.queuedAt ? formatDuration((deps.now().getTime() - latest.queuedAt.getTime()) / 1000) : null;
    const status = latest.status === "RETRY" ? `RETRY.${latest.retryCount ?? 0}${latest.reason ? ` ${latest.reason}` : ""}` : `FAIL${latest.reason ? ` ${latest.reason}` : ""}`;
    const history =
      latest.status === "RETRY"
        ? `Mail to ${remote.domain} is waiting${waited ? ` (queued ${waited} ago)` : ""}, last ${status}`
        : `Mail to ${remote.domain} failed (${status})${waited ? ` after ${waited} in the queue` : ""}`;
    const lines = remote.records.filter((record) => record.status !== "OK").slice(0, MAX_QUOTED_LINES).map(lineEvidence);
    let probe: MailServerProbe;
    try {
      probe = await runProbe(deps, principal, remote.domain);
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== "RATE_LIMITED") throw error;
      findings.push({
        code: "remote.not_probed",
        severity: "WARNING",
        summary: `${history}; its servers were not probed now: ${error.message}`,
        action: `Probe ${remote.domain} later (probeMailServer).`,
        evidence: lines,
      });
      continue;
    }
    probes.push(probe);
    const evidence = [...lines, ...probe.attempts.map(attemptEvidence)];
    const up = probe.status === "REACHABLE" || probe.status === "PARTIAL";
    if (up && latest.status === "FAIL") {
      findings.push({
        code: "remote.permanent_failure",
        severity: "PROBLEM",
        summary: `${history}: the remote server is up (${probe.verdict}) but gave the message up for good.`,
        action: `Read the reason to the customer: it usually means the recipient's address does not exist or its server refuses our mail; the recipient's administrator can say why. Resending will fail the same way until that changes.`,
        evidence,
      });
    } else if (up) {
      findings.push({
        code: "remote.reachable",
        severity: "WARNING",
        summary: `${history}; the remote side answers now: ${probe.verdict}`,
        action: `Nothing to change: the queue's next retry should deliver it. If it still waits in an hour, probe ${remote.domain} again and contact the recipient's administrator.`,
        evidence,
      });
    } else {
      const code = probe.status === "REJECTING" ? "remote.rejecting" : probe.status === "DNS_FAILURE" || probe.status === "NO_MAIL_SERVER" ? "remote.dns" : "remote.unreachable";
      findings.push({
        code,
        severity: "PROBLEM",
        summary: `${history}: ${probe.verdict}`,
        action:
          code === "remote.dns"
            ? `The recipient's domain ${remote.domain} must fix its DNS (MX or address records); our side can do nothing. Tell the customer to reach the recipient another way.`
            : `Nothing is wrong on our side: the recipient's mail server does not accept connections. The queue keeps retrying until the message expires; tell the customer the recipient's administrator must bring ${remote.domain}'s mail server back.`,
        evidence,
      });
    }
  }
  return findings;
}

async function dnsFindings(deps: ServiceDeps, domain: Domain): Promise<{ view: DnsCheckView; findings: DiagnosisFinding[] }> {
  const service = dnsServiceOf(deps);
  const profile = profileOf(domain);
  const cached = service.cached(domain.id, profile);
  let result = cached;
  if (!result) {
    const { queries: _queries, ...fresh } = await service.checker.check(profile);
    service.remember(domain.id, profile, fresh);
    result = fresh;
  }
  const view: DnsCheckView = checkView(domain, result, cached !== undefined);
  const failing = result.findings.filter((finding) => finding.status === "FAIL" || finding.status === "ERROR");
  const warnings = result.findings.filter((finding) => finding.status === "WARN");
  if (failing.length > 0) {
    const fixes = failing.flatMap((finding) => (finding.fix ? [finding.fix] : []));
    return {
      view,
      findings: [
        {
          code: "dns.misconfigured",
          severity: "PROBLEM",
          summary: `The DNS of ${domain.name} does not match its set-up (${domain.dnsSetup}): ${failing.map((finding) => `${finding.check} ${finding.status}`).join(", ")}. Mail from outside may not find our server.`,
          action: fixes.length > 0 ? `Ask the customer to change their DNS: ${[...new Set(fixes)].slice(0, 3).join(" ")}` : `Run checkDomainDns(domain: "${domain.name}") for the details.`,
          evidence: failing.map(dnsEvidence),
        },
      ],
    };
  }
  if (warnings.length > 0) {
    return {
      view,
      findings: [
        {
          code: "dns.warnings",
          severity: "WARNING",
          summary: `The DNS of ${domain.name} works but has warnings: ${warnings.map((finding) => finding.check).join(", ")}.`,
          action: warnings.find((finding) => finding.fix)?.fix ?? null,
          evidence: warnings.map(dnsEvidence),
        },
      ],
    };
  }
  return {
    view,
    findings: [
      {
        code: "dns.ok",
        severity: "INFO",
        summary: `The DNS of ${domain.name} matches its set-up (${domain.dnsSetup}): all ${result.findings.length} checks pass.`,
        action: null,
        evidence: result.findings.filter((finding) => finding.check.startsWith("mx.") || finding.check.startsWith("address.mail_host")).map(dnsEvidence),
      },
    ],
  };
}

export async function diagnoseDelivery(
  deps: ServiceDeps,
  principal: Principal,
  input: { address?: string | null; logRecordId?: string | null },
): Promise<DeliveryDiagnosis> {
  const subject = await resolveSubject(deps, principal, input);
  const findings: DiagnosisFinding[] = accountFindings(subject);
  const probes: MailServerProbe[] = [];

  // Outbound mail that waits or failed: is the other side up?
  const recipients = [...new Set(subject.records.flatMap((record) => (record.direction === "OUTBOUND" && record.recipient?.includes("@") ? [domainOf(record.recipient)] : [])))];
  const hosted = new Set((await deps.db.domain.findMany({ where: { name: { in: recipients } }, select: { name: true } })).map((domain) => domain.name));
  findings.push(...(await remoteFindings(deps, principal, troubledRemotes(subject.records, hosted), probes)));

  // A hosted domain: is its DNS right?
  let dnsCheck: DnsCheckView | null = null;
  if (subject.domain) {
    const dns = await dnsFindings(deps, subject.domain);
    dnsCheck = dns.view;
    findings.push(...dns.findings);
  }

  const troubled = findings.some((finding) => finding.severity !== "INFO");
  if (!troubled && subject.address) {
    const delivered = subject.records.filter((record) => record.status === "OK");
    if (subject.records.length === 0) {
      findings.push({
        code: "records.none",
        severity: "INFO",
        summary: `No delivery of ${subject.address} is recorded in the last ${deps.config.MAIL_LOG_RETENTION_DAYS} days: the mail never reached our servers.`,
        action: `Ask the sender for the bounce message they received, or the time they sent it; check that they used the right address.`,
        evidence: subject.account ? [accountEvidence(subject.account)] : [],
      });
    } else {
      const latest = subject.records[0]!;
      findings.push({
        code: "delivery.ok",
        severity: "INFO",
        summary: `No problem found for ${subject.address}: the account is active and ${delivered.length} of the last ${subject.records.length} deliveries went through (the latest ${latest.status} at ${latest.loggedAt.toISOString()}).`,
        action: null,
        evidence: [...(subject.account ? [accountEvidence(subject.account)] : []), ...delivered.slice(0, 3).map(lineEvidence)],
      });
    }
  }

  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (RANK[a.code] ?? 50) - (RANK[b.code] ?? 50));
  const first = findings[0];
  const verdict = first ? first.summary : "No problem found, and nothing is known about this record's address.";
  return { address: subject.address, account: subject.account, records: subject.records, findings, verdict, probes, dnsCheck };
}
