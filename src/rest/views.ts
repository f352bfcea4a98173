// Database rows as the REST API shows them (the schemas are in schemas.ts).
// Related data (a domain's administrator and usage, an account's role) comes
// with a page of domains, or through the same batch loaders as GraphQL: a page
// costs the same few queries whatever its size.
import type { Account, MailLogRecord } from "../generated/prisma/client";
import type { Loaders } from "../loaders";
import type { Connection } from "../shared/connection";
import type { DnsCheckView } from "../dns/dns.service";
import type { Language } from "../i18n/language";
import { writeText } from "../i18n/text";
import type { ListedDomain } from "../domains/domains.service";
import { usagePercentOf } from "../usage/usage.service";

export async function domainView(loaders: Loaders, domain: ListedDomain) {
  // A listed domain carries both (read with its page); a single one is loaded.
  const [admin, usage] = await Promise.all([
    domain.preloaded?.admin ?? loaders.adminByDomainId.load(domain.id),
    domain.preloaded?.usage ?? loaders.usageByDomainId.load(domain.id),
  ]);
  // Every domain has its administrator (a database invariant); one without is a bug, not a client error.
  if (!admin) throw new Error(`domain ${domain.id} has no administrator`);
  return {
    id: domain.id,
    name: domain.name,
    unicodeName: domain.unicodeName,
    status: domain.status,
    isTestDomain: domain.isTestDomain,
    quotaMb: domain.quotaMb,
    maxAccounts: domain.maxAccounts,
    defaultMailboxQuotaMb: domain.defaultMailboxQuotaMb,
    accountCount: usage.accountCount,
    allocatedQuotaMb: usage.allocatedQuotaMb,
    usedMb: usage.usedMb,
    admin: accountRef(admin),
    dnsSetup: domain.dnsSetup,
    webServerAddress: domain.webServerAddress,
    dkimPublicKey: domain.dkimPublicKey,
    createdAt: domain.createdAt.toISOString(),
    updatedAt: domain.updatedAt.toISOString(),
  };
}

export function accountRef(account: Pick<Account, "id" | "address">) {
  return { id: account.id, address: account.address };
}

export async function accountView(loaders: Loaders, account: Account) {
  return {
    id: account.id,
    address: account.address,
    localPart: account.localPart,
    domain: account.address.slice(account.address.lastIndexOf("@") + 1),
    displayName: account.displayName,
    role: (await loaders.isAdminByAccountId.load(account.id)) ? "DOMAIN_ADMIN" : "USER",
    status: account.status,
    quotaMb: account.quotaMb,
    usedMb: account.usedMb,
    messageCount: account.messageCount,
    usagePercent: usagePercentOf(account),
    usageUpdatedAt: account.usageUpdatedAt?.toISOString() ?? null,
    createdAt: account.createdAt.toISOString(),
    updatedAt: account.updatedAt.toISOString(),
  };
}

export function mailLogRecordView(record: MailLogRecord) {
  return {
    id: record.id.toString(),
    loggedAt: record.loggedAt.toISOString(),
    queueId: record.queueId,
    queuedAt: record.queuedAt?.toISOString() ?? null,
    queuedForSeconds: record.queuedAt ? Math.round((record.loggedAt.getTime() - record.queuedAt.getTime()) / 1000) : null,
    direction: record.direction,
    sender: record.sender,
    recipient: record.recipient,
    subject: record.subject,
    sizeBytes: record.sizeBytes,
    status: record.status,
    retryCount: record.retryCount,
    reason: record.reason,
    localAddress: record.localAddress,
    source: record.sourceName,
    rawLine: record.rawLine,
    format: record.format,
    dsn: record.dsn,
    relay: record.relay,
    delaySeconds: record.delaySeconds,
    originalRecipient: record.originalRecipient,
  };
}

/** A DNS check as REST shows it, its findings' texts written in the request's language (values found in DNS as they are). */
export function dnsCheckView(check: DnsCheckView, language: Language) {
  return {
    domainName: check.domainName,
    setup: check.setup,
    contractSetup: check.contractSetup,
    detectedSetup: check.detectedSetup,
    status: check.status,
    findings: check.findings.map((finding) => ({
      check: finding.check,
      status: finding.status,
      subject: finding.subject,
      expected: writeText(finding.expected, language),
      found: writeText(finding.found, language),
      fix: writeText(finding.fix, language),
    })),
    checkedAt: check.checkedAt.toISOString(),
    durationMs: check.durationMs,
    cached: check.cached,
  };
}

/** A connection as a REST page: its items, the total, and the cursor of the next page (null on the last). */
export async function pageView<T, V>(connection: Connection<T>, view: (node: T) => V | Promise<V>) {
  return {
    items: await Promise.all(connection.nodes.map(view)),
    totalCount: connection.totalCount,
    nextCursor: connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null,
  };
}
