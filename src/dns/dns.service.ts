// DNS checks of customers' domains, as the API offers them: who may check
// which domain, the short-lived result cache (in the database, shared by every
// server), storing the last result on the
// domain (with its audit record, in one transaction), and support's sweep.
// The looking-up itself is the validator's (dns.checker.ts).
import { getServers } from "node:dns";
import type { AliasDomain, Domain, Prisma, PrismaClient } from "../generated/prisma/client";
import type { Config } from "../config";
import type { Caller, ServiceDeps } from "../service-deps";
import { authorize } from "../auth/policy";
import { writeAudit } from "../audit/audit.service";
import { BadInputError, NotFoundError } from "../errors";
import { message } from "../i18n/messages";
import { textFromJSON, writeText, type Text } from "../i18n/text";
import { parseDomainName } from "../shared/validation";
import { createDnsChecker, type DnsChecker, type DnsCheckResult, type DnsFinding, type FindingStatus } from "./dns.checker";
import { createUdpTransport, parseDnsServerList, type DnsServer, type DnsTransport } from "./dns.transport";
import { expectedRecords, zoneFile } from "./dns.records";
import { checkSetupRequirements } from "./dns.input";
import { dkimProfileKeys, retireDueKeys, type PendingKeysPublished } from "../dkim/dkim.service";
import type { DkimProfileKey, DnsSetup, DomainDnsProfile, ExpectedRecord, MailService } from "./dns.records";

type DomainStatus = "ACTIVE" | "SUSPENDED";

/** A check as the API shows it. */
export interface DnsCheckView {
  domainId: string;
  /** The name looked up: the domain's, or an alias domain's. */
  domainName: string;
  /** Set when the check was of an alias domain of the domain (its name is domainName). */
  aliasDomainName: string | null;
  setup: DnsSetup;
  contractSetup: DnsSetup;
  detectedSetup: DnsSetup | null;
  status: FindingStatus;
  findings: DnsFinding[];
  checkedAt: Date;
  durationMs: number;
  cached: boolean;
}

/** What Domain.dnsCheck holds (JSON); checkedAt is Domain.dnsCheckedAt. */
interface StoredDnsCheck {
  setup: DnsSetup;
  detectedSetup: DnsSetup | null;
  status: FindingStatus;
  findings: DnsFinding[];
  durationMs: number;
}

export function mailServiceOf(config: Config): MailService {
  return {
    ipv4: config.MAIL_SERVER_IPV4,
    ...(config.MAIL_SERVER_IPV6 ? { ipv6: config.MAIL_SERVER_IPV6 } : {}),
    ...(config.MAIL_SERVER_HOSTNAME ? { hostname: config.MAIL_SERVER_HOSTNAME } : {}),
    mailHostPattern: config.MAIL_HOST_PATTERN,
    webmailHostPattern: config.WEBMAIL_HOST_PATTERN,
    ...(config.BACKUP_MX_HOST ? { backupMxHost: config.BACKUP_MX_HOST } : {}),
    ...(config.SPF_INCLUDE ? { spfInclude: config.SPF_INCLUDE } : {}),
    dkimSelector: config.DKIM_SELECTOR,
    dkimKeyMaxAgeDays: config.DKIM_KEY_MAX_AGE_DAYS,
    dmarcPolicy: config.DMARC_POLICY,
    ...(config.DMARC_REPORT_ADDRESS ? { dmarcReportAddress: config.DMARC_REPORT_ADDRESS } : {}),
  };
}

/** DNS_SERVERS, or the system's resolvers (/etc/resolv.conf) when it is not set. */
export function resolversOf(config: Config): DnsServer[] {
  return config.DNS_SERVERS ?? parseDnsServerList(getServers().join(","));
}

export function profileOf(domain: Domain, setup: DnsSetup = domain.dnsSetup, dkimKeys: DkimProfileKey[] = []): DomainDnsProfile {
  return { name: domain.name, setup, webServerAddress: domain.webServerAddress, dkimPublicKey: domain.dkimPublicKey, dkimKeys };
}

/** The profiles of domains with their DKIM keys of mailadmin's, read in one statement. */
export async function profilesOf(deps: Pick<ServiceDeps, "db" | "now">, domains: Domain[], setup?: DnsSetup): Promise<Map<string, DomainDnsProfile>> {
  const keys = await dkimProfileKeys(
    deps.db,
    domains.map((domain) => domain.id),
    deps.now(),
  );
  return new Map(domains.map((domain) => [domain.id, profileOf(domain, setup ?? domain.dnsSetup, keys.get(domain.id) ?? [])]));
}

/** One domain's profile with its DKIM keys. */
export async function loadProfile(deps: Pick<ServiceDeps, "db" | "now">, domain: Domain, setup: DnsSetup = domain.dnsSetup): Promise<DomainDnsProfile> {
  return (await profilesOf(deps, [domain], setup)).get(domain.id)!;
}

/** The validator and the result cache of one running application. */
export class DnsCheckService {
  readonly checker: DnsChecker;
  private nextSweep = 0;

  constructor(
    private readonly db: PrismaClient,
    private readonly config: Config,
    private readonly now: () => Date,
    transport: DnsTransport = createUdpTransport(),
  ) {
    this.checker = createDnsChecker({
      transport,
      resolvers: resolversOf(config),
      queryTimeoutMs: config.DNS_QUERY_TIMEOUT_MS,
      queryAttempts: config.DNS_QUERY_ATTEMPTS,
      checkTimeoutMs: config.DNS_CHECK_TIMEOUT_MS,
      service: mailServiceOf(config),
      clock: now,
      allowPrivate: config.DNS_ALLOW_PRIVATE,
    });
  }

  /**
   * The key holds everything the result depends on, so that a changed
   * set-up, web server address or DKIM key is never answered from the cache.
   */
  private static key(domainId: string, profile: DomainDnsProfile): string {
    return JSON.stringify([
      domainId,
      profile.setup,
      profile.webServerAddress,
      profile.dkimPublicKey,
      profile.dkimKeys?.map((key) => [key.selector, key.state, key.publicKey.length]),
    ]);
  }

  /**
   * The results of the last DNS_CHECK_CACHE_SECONDS, of any server: the cache
   * is the table dns_check_cache, shared by every server on the database.
   */
  async cachedMany(entries: { domainId: string; profile: DomainDnsProfile }[]): Promise<Map<string, DnsCheckResult>> {
    const found = new Map<string, DnsCheckResult>();
    if (entries.length === 0 || this.config.DNS_CHECK_CACHE_SECONDS === 0) return found;
    const keys = new Map(entries.map((entry) => [DnsCheckService.key(entry.domainId, entry.profile), entry.domainId]));
    const rows = await this.db.dnsCheckCache.findMany({ where: { key: { in: [...keys.keys()] }, expiresAt: { gt: this.now() } } });
    for (const row of rows) {
      const stored = row.result as unknown as Omit<DnsCheckResult, "checkedAt"> & { checkedAt: string };
      // Kept as JSON: the findings' texts come back as Messages (findingFromJSON), to be written in each reader's language.
      found.set(keys.get(row.key)!, { ...stored, findings: stored.findings.map(findingFromJSON), checkedAt: new Date(stored.checkedAt) });
    }
    return found;
  }

  async cached(domainId: string, profile: DomainDnsProfile): Promise<DnsCheckResult | undefined> {
    return (await this.cachedMany([{ domainId, profile }])).get(domainId);
  }

  async remember(domainId: string, profile: DomainDnsProfile, result: DnsCheckResult): Promise<void> {
    if (this.config.DNS_CHECK_CACHE_SECONDS === 0) return;
    const key = DnsCheckService.key(domainId, profile);
    const expiresAt = new Date(this.now().getTime() + this.config.DNS_CHECK_CACHE_SECONDS * 1000);
    const stored = result as unknown as Prisma.InputJsonValue;
    await this.db.dnsCheckCache.upsert({ where: { key }, create: { key, result: stored, expiresAt }, update: { result: stored, expiresAt } });
    // Once per cache lifetime, the expired results go (any server may: the same statement).
    const now = this.now().getTime();
    if (now >= this.nextSweep) {
      this.nextSweep = now + this.config.DNS_CHECK_CACHE_SECONDS * 1000;
      await this.db.dnsCheckCache.deleteMany({ where: { expiresAt: { lte: this.now() } } });
    }
  }
}

// One service per application's dependencies, made on first use: the app and
// the tests build their ServiceDeps in one place each, and neither needs to
// know about DNS to get it.
const services = new WeakMap<ServiceDeps, DnsCheckService>();

export function dnsServiceOf(deps: ServiceDeps): DnsCheckService {
  let service = services.get(deps);
  if (!service) {
    service = new DnsCheckService(deps.db, deps.config, deps.now);
    services.set(deps, service);
  }
  return service;
}

/** A check result as the API shows it, for a domain (or, with aliasDomainName, one of its alias domains). */
export function checkView(domain: Domain, result: DnsCheckResult, cached: boolean, aliasDomainName: string | null = null): DnsCheckView {
  return {
    domainId: domain.id,
    domainName: aliasDomainName ?? domain.name,
    aliasDomainName,
    setup: result.setup,
    contractSetup: domain.dnsSetup,
    detectedSetup: result.detectedSetup,
    status: result.status,
    findings: result.findings,
    checkedAt: result.checkedAt,
    durationMs: result.durationMs,
    cached,
  };
}

/** Stores a check of the domain's own set-up as its last result, with the audit record, in one transaction. */
async function storeResult(deps: ServiceDeps, caller: Caller, domain: Domain, result: DnsCheckResult): Promise<void> {
  // Messages are kept as their id and values (Message.toJSON), so the stored check reads in its reader's language.
  const stored = JSON.parse(
    JSON.stringify({
      setup: result.setup,
      detectedSetup: result.detectedSetup,
      status: result.status,
      findings: result.findings,
      durationMs: result.durationMs,
    } satisfies StoredDnsCheck),
  ) as Prisma.InputJsonValue;
  await deps.db.$transaction(async (tx) => {
    const updated = await tx.domain.updateMany({
      where: { id: domain.id },
      data: { dnsCheck: stored, dnsCheckedAt: result.checkedAt },
    });
    // Deleted while DNS was being asked: nothing to store, nothing to audit.
    if (updated.count === 0) return;
    const before = domain.dnsCheck as StoredDnsCheck | null;
    await writeAudit(tx, caller.actor, {
      action: "domain.dns_check",
      objectType: "domain",
      objectId: domain.id,
      domainId: domain.id,
      domainName: domain.name,
      changes: [{ field: "dnsCheck", before: before?.status ?? null, after: result.status }],
    });
  });
}

/** The setup a what-if asks for, checked against what it needs. */
function requestedSetup(deps: ServiceDeps, domain: Domain, setup: DnsSetup | null | undefined): DnsSetup {
  if (setup == null || setup === domain.dnsSetup) return domain.dnsSetup;
  checkSetupRequirements(deps.config, setup, domain.webServerAddress, { setup: "setup", webServerAddress: "setup" });
  return setup;
}

export async function checkDomainDns(deps: ServiceDeps, caller: Caller, domainName: string, setup?: DnsSetup | null, refresh = false): Promise<DnsCheckView> {
  const name = parseDomainName(domainName, "domain").name;
  const domain = await deps.db.domain.findUnique({ where: { name } });
  if (!domain) {
    const aliasDomain = await deps.db.aliasDomain.findUnique({ where: { name }, include: { domain: true } });
    if (!aliasDomain) throw new NotFoundError("domain", `named ${name}`);
    authorize(caller.principal, "dns.check", { domainId: aliasDomain.domainId }, ["domain", `named ${name}`]);
    return checkAliasDomainDns(deps, aliasDomain.domain, name, requestedSetup(deps, aliasDomain.domain, setup), refresh);
  }
  authorize(caller.principal, "dns.check", { domainId: domain.id }, ["domain", `named ${name}`]);
  const wanted = requestedSetup(deps, domain, setup);
  const service = dnsServiceOf(deps);
  const profile = await loadProfile(deps, domain, wanted);
  if (!refresh) {
    const cached = await service.cached(domain.id, profile);
    if (cached) return checkView(domain, cached, true);
  }
  const { queries: _queries, ...result } = await service.checker.check(profile);
  await service.remember(domain.id, profile, result);
  // Only a check of the contracted set-up is the domain's state; a what-if is an answer, not a record.
  if (wanted === domain.dnsSetup) await storeResult(deps, caller, domain, result);
  return checkView(domain, result, false);
}

/**
 * An alias domain's check: its domain's records (set-up, web server, DKIM
 * keys) expected under the alias domain's name, as AliasDomain.expectedDnsRecords
 * lists them. Nothing is stored: Domain.lastDnsCheck is the domain's own.
 */
async function checkAliasDomainDns(deps: ServiceDeps, domain: Domain, aliasName: string, setup: DnsSetup, refresh: boolean): Promise<DnsCheckView> {
  const service = dnsServiceOf(deps);
  const profile = aliasProfile(await loadProfile(deps, domain, setup), aliasName);
  const cacheId = aliasCacheId(aliasName);
  if (!refresh) {
    const cached = await service.cached(cacheId, profile);
    if (cached) return checkView(domain, cached, true, aliasName);
  }
  const { queries: _queries, ...result } = await service.checker.check(profile);
  await service.remember(cacheId, profile, result);
  return checkView(domain, result, false, aliasName);
}

/** A domain's profile under an alias domain's name. */
function aliasProfile(profile: DomainDnsProfile, aliasName: string): DomainDnsProfile {
  return { ...profile, name: aliasName };
}

/** Alias domains' results are cached apart from their domain's. */
function aliasCacheId(aliasName: string): string {
  return `alias-domain:${aliasName}`;
}

export interface DnsSweepQuery {
  names?: string[] | null;
  status?: DomainStatus | null;
  refresh?: boolean | null;
}

/** Most names one sweep request may list; without names a sweep covers every domain. */
const MAX_SWEEP_NAMES = 10_000;

export async function checkDomainsDns(deps: ServiceDeps, caller: Caller, query: DnsSweepQuery): Promise<DnsCheckView[]> {
  authorize(caller.principal, "dns.check_all", {}, ["domain", ""]);
  let domains: Domain[];
  let aliasDomains: (AliasDomain & { domain: Domain })[];
  if (query.names != null) {
    if (query.names.length > MAX_SWEEP_NAMES) throw new BadInputError("names", message("dns.sweep.too_many", { max: String(MAX_SWEEP_NAMES) }));
    const names = [...new Set(query.names.map((name) => parseDomainName(name, "names").name))];
    domains = await deps.db.domain.findMany({ where: { name: { in: names } }, orderBy: { name: "asc" } });
    aliasDomains = await deps.db.aliasDomain.findMany({ where: { name: { in: names } }, include: { domain: true }, orderBy: { name: "asc" } });
    const missing = names.filter((name) => !domains.some((domain) => domain.name === name) && !aliasDomains.some((alias) => alias.name === name));
    if (missing.length > 0) {
      const names = missing.slice(0, 5).join(", ");
      throw new BadInputError("names", missing.length > 5 ? message("dns.sweep.unknown_more", { names, more: missing.length - 5 }) : message("dns.sweep.unknown", { names }));
    }
  } else {
    // The sweep of every domain leaves support's test domains out (docs/test-domain.md): their DNS is support's
    // experiment, not a customer's problem to raise an alarm about. Named, they are checked like any other.
    domains = await deps.db.domain.findMany({ where: { isTestDomain: false, ...(query.status ? { status: query.status } : {}) }, orderBy: { name: "asc" } });
    // Every alias domain of the domains swept is checked too.
    aliasDomains = await deps.db.aliasDomain.findMany({
      where: { domain: { isTestDomain: false, ...(query.status ? { status: query.status } : {}) } },
      include: { domain: true },
      orderBy: { name: "asc" },
    });
  }
  const service = dnsServiceOf(deps);
  // The sweep also ends the grace period of rotated-out keys that are due.
  await retireDueKeys(deps.db, deps.now());
  const profiles = await profilesOf(deps, [...domains, ...aliasDomains.map((alias) => alias.domain)]);
  // One list for both kinds, so one checkMany runs them all DNS_CHECK_CONCURRENCY at a time:
  // a domain's result is stored; an alias domain's is cached apart and stored nowhere.
  const subjects = [
    ...domains.map((domain) => ({ domain, aliasName: null, cacheId: domain.id, profile: profiles.get(domain.id)! })),
    ...aliasDomains.map((alias) => ({
      domain: alias.domain,
      aliasName: alias.name,
      cacheId: aliasCacheId(alias.name),
      profile: aliasProfile(profiles.get(alias.domainId)!, alias.name),
    })),
  ];
  const views = new Map<string, DnsCheckView>();
  const toCheck: typeof subjects = [];
  const cachedResults = query.refresh
    ? new Map<string, DnsCheckResult>()
    : await service.cachedMany(subjects.map((subject) => ({ domainId: subject.cacheId, profile: subject.profile })));
  for (const subject of subjects) {
    const cached = cachedResults.get(subject.cacheId);
    if (cached) views.set(subject.profile.name, checkView(subject.domain, cached, true, subject.aliasName));
    else toCheck.push(subject);
  }
  const byName = new Map(toCheck.map((subject) => [subject.profile.name, subject]));
  await service.checker.checkMany(
    toCheck.map((subject) => subject.profile),
    deps.config.DNS_CHECK_CONCURRENCY,
    async (result) => {
      const subject = byName.get(result.domain)!;
      await service.remember(subject.cacheId, subject.profile, result);
      if (subject.aliasName === null) await storeResult(deps, caller, subject.domain, result);
      views.set(subject.profile.name, checkView(subject.domain, result, false, subject.aliasName));
    },
  );
  return [...views.values()].sort((a, b) => (a.domainName < b.domainName ? -1 : a.domainName > b.domainName ? 1 : 0));
}

export interface ExpectedDnsRecordsView {
  setup: DnsSetup;
  records: ExpectedRecord[];
  zoneFile: string;
}

export async function expectedDnsRecordsOf(deps: ServiceDeps, domain: Domain, setup?: DnsSetup | null): Promise<ExpectedDnsRecordsView> {
  const wanted = requestedSetup(deps, domain, setup);
  const records = expectedRecords(await loadProfile(deps, domain, wanted), mailServiceOf(deps.config));
  return { setup: wanted, records, zoneFile: zoneFile(records) };
}

export function lastDnsCheckOf(domain: Domain): DnsCheckView | null {
  if (!domain.dnsCheck || !domain.dnsCheckedAt) return null;
  const stored = domain.dnsCheck as unknown as StoredDnsCheck;
  return {
    domainId: domain.id,
    domainName: domain.name,
    aliasDomainName: null,
    setup: stored.setup,
    // Only checks of the contracted set-up are stored: it was the contract then.
    contractSetup: stored.setup,
    detectedSetup: stored.detectedSetup,
    status: stored.status,
    findings: stored.findings.map(findingFromJSON),
    checkedAt: domain.dnsCheckedAt,
    durationMs: stored.durationMs,
    cached: false,
  };
}

/** A stored finding: its texts are Messages kept as id and values, or English sentences stored before catalogues (kept as they are). */
function findingFromJSON(stored: DnsFinding): DnsFinding {
  const text = (value: unknown): Text | null => textFromJSON(value);
  return { ...stored, expected: text(stored.expected), found: text(stored.found), fix: text(stored.fix) };
}

/**
 * Whether the DNS check sees each pending DKIM key of the domain published
 * (dkim.key PASS at its selector), asked of DNS now: what confirmDkimRotation
 * waits for.
 */
export const pendingDkimKeysPublished =
  (deps: ServiceDeps): PendingKeysPublished =>
  async (domain) => {
    const profile = await loadProfile(deps, domain);
    const pending = (profile.dkimKeys ?? []).filter((key) => key.state === "PUBLISHED_PENDING");
    const { findings } = await dnsServiceOf(deps).checker.check(profile);
    return pending.map((key) => {
      const seen = findings.find((entry) => entry.check === "dkim.key" && entry.subject === `${key.selector}._domainkey.${domain.name}`);
      // confirmDkimRotation's refusal quotes what was found, in English for now (its message is the DKIM capability's).
      return { selector: key.selector, published: seen?.status === "PASS", found: writeText(seen?.found, "en") };
    });
  };
