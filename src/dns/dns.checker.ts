// The DNS-config validator: looks a customer's domain up in real DNS and says,
// check by check, what is right, what is wrong and what to publish instead.
// It knows nothing of GraphQL or the database: the transport, resolvers,
// clock and the service's endpoints come in as arguments. Everything DNS can
// do wrong (no answer, a lame server, a wrong record) comes back as a finding,
// never as an exception.
import ipaddr from "ipaddr.js";
import { DnsLookup, addressesOf, type LookupResult } from "./dns.lookup";
import type { DnsServer, DnsTransport, SoaRecordData } from "./dns.transport";
import {
  BACKUP_MX_PREFERENCE,
  PRIMARY_MX_PREFERENCE,
  SETUP_LABELS,
  dkimRecordFor,
  dkimHost,
  type DkimProfileKey,
  expectedRecords,
  hostsOf,
  usesBackupMx,
  usesMx,
  usesWebServer,
  zoneLine,
  RECORD_TTL,
  type DnsSetup,
  type DomainDnsProfile,
  type DomainHosts,
  type ExpectedRecord,
  type MailService,
} from "./dns.records";
import {
  DMARC_STRENGTH,
  SPF_LOOKUP_LIMIT,
  countSpfLookups,
  evaluateSpf,
  isSpfRecord,
  parseDkimKey,
  parseDmarc,
  parseMtaSts,
  parseSpf,
  parseTlsRpt,
  type Lookup,
} from "./dns.mailauth";

export type FindingStatus = "PASS" | "WARN" | "FAIL" | "ERROR";

export interface DnsFinding {
  /** Stable id of the rule, such as mx.primary (docs/dns-checks.md lists them all). */
  check: string;
  status: FindingStatus;
  /** The DNS name (or address) the rule looked at. */
  subject: string;
  expected: string | null;
  found: string | null;
  /** What to change, in a sentence support can read to the customer; null when there is nothing to do. */
  fix: string | null;
}

export interface DnsCheckResult {
  domain: string;
  setup: DnsSetup;
  /** Which of the four set-ups the published records match, or null for none. */
  detectedSetup: DnsSetup | null;
  status: FindingStatus;
  findings: DnsFinding[];
  checkedAt: Date;
  durationMs: number;
}

export interface DnsCheckerOptions {
  transport: DnsTransport;
  /** Recursive resolvers for ordinary lookups (DNS_SERVERS). */
  resolvers: DnsServer[];
  /** Port of the domains' own nameservers: 53, always, outside tests of this module. */
  nameserverPort?: number;
  queryTimeoutMs: number;
  queryAttempts: number;
  /** Bound on one domain's whole check; what has not answered by then is an ERROR finding. */
  checkTimeoutMs: number;
  service: MailService;
  clock: () => Date;
  monotonicNow?: () => number;
  /** Ask nameservers at private addresses learnt from the domain's DNS (DNS_ALLOW_PRIVATE; tests on loopback). */
  allowPrivate?: boolean;
}

/** PASS < WARN < ERROR < FAIL: a definite failure outweighs a check that could not be made. */
const SEVERITY: Record<FindingStatus, number> = { PASS: 0, WARN: 1, ERROR: 2, FAIL: 3 };

export function worstStatus(statuses: FindingStatus[]): FindingStatus {
  return statuses.reduce<FindingStatus>((worst, status) => (SEVERITY[status] > SEVERITY[worst] ? status : worst), "PASS");
}

/** Sane SOA timer ranges in seconds (RFC 1912 §2.2, RFC 2308 §5). */
export const SOA_RANGES = {
  refresh: [300, 86_400],
  retry: [60, 86_400],
  expire: [604_800, 7_776_000],
  minimum: [60, 10_800],
} as const;

interface Context {
  profile: DomainDnsProfile;
  service: MailService;
  hosts: DomainHosts;
  expected: ExpectedRecord[];
  lookup: DnsLookup;
  resolve: Lookup;
  nameserverPort: number;
  /** Set when the domain does not exist in DNS: every other finding about it would say the same thing again. */
  domainMissing?: boolean;
}

function finding(check: string, status: FindingStatus, subject: string, expected: string | null, found: string | null, fix: string | null): DnsFinding {
  return { check, status, subject, expected, found, fix: status === "PASS" ? null : fix };
}

function list(items: string[]): string {
  return items.length === 0 ? "none" : items.join(", ");
}

/** A zone-file line inside a sentence: single spaces instead of tabs. */
function asText(line: string): string {
  return line.replace(/\t/g, " ");
}

/** The zone-file lines of the expected records of a name (and type), as a fix sentence. */
function publish(context: Context, name: string, types?: string[]): string {
  const lines = context.expected.filter((record) => record.name === name && (!types || types.includes(record.type))).map((record) => record.zoneLine);
  return lines.length > 0 ? `Publish: ${lines.map(asText).join(" and ")}` : "";
}

function describeLookup(result: LookupResult, label: string): string {
  const via = "cnames" in result && result.cnames.length > 0 ? `CNAME ${result.cnames.map((step) => step.to).join(" → ")}, then ` : "";
  switch (result.status) {
    case "ok":
      return `${via}${label} ${addressesOf(result).join(", ")}`;
    case "nodata":
      return `${via}no ${label} record`;
    case "nxdomain":
      return `${via}the name does not exist (NXDOMAIN)`;
    case "error":
      return `no answer: ${result.message}`;
  }
}

function describeAddresses(v4: LookupResult, v6: LookupResult): string {
  if (v4.status === "nxdomain") return describeLookup(v4, "A");
  return `${describeLookup(v4, "A")}; ${describeLookup(v6, "AAAA").replace(/^CNAME .*?, then /, "")}`;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((item, index) => item === [...b].sort()[index]);
}

function isIpLiteral(name: string): boolean {
  return ipaddr.isValid(name) || /^\d{1,3}(\.\d{1,3}){3}$/.test(name);
}

export function reverseName(address: string): string {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return `${(parsed as ipaddr.IPv4).octets.slice().reverse().join(".")}.in-addr.arpa`;
  const nibbles = (parsed as ipaddr.IPv6).parts.flatMap((part) => part.toString(16).padStart(4, "0").split(""));
  return `${nibbles.reverse().join(".")}.ip6.arpa`;
}

function canonicalAddress(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
}

// ---------------------------------------------------------------------------
// NS and SOA

/** The zone a name lies in: the owner of the SOA answered for it, or of the SOA in a negative answer. */
async function zoneOf(context: Context, name: string): Promise<{ zone: string } | { error: string }> {
  const soa = await context.resolve(name, "SOA");
  if (soa.status === "error") return { error: soa.message };
  if (soa.status === "ok") return { zone: soa.records[0]!.name };
  if (soa.soa) return { zone: soa.soa.name };
  return { error: `no SOA found for ${name}` };
}

/** IPv4 addresses when the host has any (IPv6 may not be routed from here), otherwise its IPv6 ones. */
async function serverAddresses(context: Context, host: string): Promise<{ addresses: string[]; error?: string }> {
  const { v4, v6 } = await context.lookup.addresses(host);
  const ipv4 = addressesOf(v4);
  if (ipv4.length > 0) return { addresses: ipv4 };
  const ipv6 = addressesOf(v6);
  const error = v4.status === "error" ? v4.message : v6.status === "error" ? v6.message : undefined;
  return { addresses: ipv6, ...(error ? { error } : {}) };
}

interface Delegation {
  parentZone: string;
  nameservers: string[];
}

/** Asks the parent zone's nameservers, one after the other, for the domain's delegation. */
async function parentDelegation(context: Context, domain: string): Promise<{ status: "ok"; delegation: Delegation } | { status: "nxdomain" | "missing" | "error"; parentZone?: string; message: string }> {
  const parentName = domain.split(".").slice(1).join(".");
  const parent = await zoneOf(context, parentName);
  if ("error" in parent) return { status: "error", message: `the parent zone of ${domain} could not be found: ${parent.error}` };
  const parentNs = await context.resolve(parent.zone, "NS");
  if (parentNs.status !== "ok") {
    return { status: "error", parentZone: parent.zone, message: `the nameservers of ${parent.zone} could not be found (${describeLookup(parentNs, "NS")})` };
  }
  const failures: string[] = [];
  for (const nameserver of parentNs.records.map((record) => String(record.data)).sort()) {
    const { addresses, error } = await serverAddresses(context, nameserver);
    if (addresses.length === 0) {
      failures.push(`${nameserver}: ${error ?? "no address"}`);
      continue;
    }
    for (const address of addresses) {
      const asked = await context.lookup.ask({ host: address, port: context.nameserverPort }, domain, "NS");
      if (asked.status === "error") {
        failures.push(`${nameserver} (${address}): ${asked.message}`);
        continue;
      }
      const { response } = asked;
      if (response.rcode === "NXDOMAIN") return { status: "nxdomain", parentZone: parent.zone, message: `${nameserver} says ${domain} does not exist` };
      if (response.rcode !== "NOERROR") {
        failures.push(`${nameserver} (${address}) answered ${response.rcode}`);
        continue;
      }
      // A referral lists the delegation in the authority section; a parent
      // server that also serves the child answers it authoritatively.
      const records = [...response.answers, ...response.authorities].filter((record) => record.type === "NS" && record.name === domain);
      if (records.length === 0) return { status: "missing", parentZone: parent.zone, message: `${parent.zone} has no delegation (NS records) for ${domain}` };
      return { status: "ok", delegation: { parentZone: parent.zone, nameservers: [...new Set(records.map((record) => String(record.data)))].sort() } };
    }
  }
  return { status: "error", parentZone: parent.zone, message: `no nameserver of ${parent.zone} answered: ${failures.join("; ")}` };
}

interface NameserverProbe {
  nameserver: string;
  status: FindingStatus;
  found: string;
  serials: number[];
}

async function probeNameserver(context: Context, domain: string, nameserver: string): Promise<NameserverProbe> {
  const { addresses, error } = await serverAddresses(context, nameserver);
  if (addresses.length === 0) {
    return error
      ? { nameserver, status: "ERROR", found: `its address could not be looked up: ${error}`, serials: [] }
      : { nameserver, status: "FAIL", found: `${nameserver} has no address (A or AAAA record)`, serials: [] };
  }
  const outcomes = await Promise.all(
    addresses.map(async (address): Promise<{ status: FindingStatus; text: string; serial?: number }> => {
      const asked = await context.lookup.ask({ host: address, port: context.nameserverPort }, domain, "SOA");
      if (asked.status === "error") return { status: "ERROR", text: `${address}: ${asked.message}` };
      const { response } = asked;
      if (response.rcode !== "NOERROR") return { status: "FAIL", text: `${address} answers ${response.rcode}: it does not serve the zone (lame delegation)` };
      if (!response.authoritative) return { status: "FAIL", text: `${address} answers without authority (a referral or cached data): it does not serve the zone (lame delegation)` };
      const soa = response.answers.find((record) => record.type === "SOA" && record.name === domain);
      if (!soa) return { status: "FAIL", text: `${address} answers authoritatively but without the zone's SOA record` };
      const serial = (soa.data as SoaRecordData).serial;
      return { status: "PASS", text: `${address} answers authoritatively, serial ${serial}`, serial };
    }),
  );
  return {
    nameserver,
    status: worstStatus(outcomes.map((outcome) => outcome.status)),
    found: outcomes.map((outcome) => outcome.text).join("; "),
    serials: outcomes.flatMap((outcome) => (outcome.serial === undefined ? [] : [outcome.serial])),
  };
}

function soaTimerProblems(soa: SoaRecordData): string[] {
  const problems: string[] = [];
  for (const [field, [low, high]] of Object.entries(SOA_RANGES) as [keyof typeof SOA_RANGES, readonly [number, number]][]) {
    const value = soa[field];
    if (value < low || value > high) problems.push(`${field} ${value} s is outside ${low}–${high} s`);
  }
  if (soa.retry >= soa.refresh) problems.push(`retry ${soa.retry} s is not shorter than refresh ${soa.refresh} s`);
  return problems;
}

async function checkNameservers(context: Context): Promise<DnsFinding[]> {
  const domain = context.hosts.apex;
  const findings: DnsFinding[] = [];
  const soa = await context.resolve(domain, "SOA");
  const delegationExpected = "the parent zone delegates the domain (NS records) to nameservers that serve it";
  if (soa.status === "error") {
    return [finding("ns.delegation", "ERROR", domain, delegationExpected, `DNS did not answer: ${soa.message}`, "DNS did not answer in time; check again later. If it persists, the domain's nameservers are down.")];
  }
  if (soa.status === "nxdomain") {
    context.domainMissing = true;
    return [
      finding(
        "ns.delegation",
        "FAIL",
        domain,
        delegationExpected,
        "the domain does not exist in DNS (NXDOMAIN)",
        "Register the domain, or ask the registrar to delegate it (NS records) to the DNS provider that hosts its zone.",
      ),
    ];
  }
  if (soa.status === "ok" && soa.cnames.length > 0) {
    return [
      finding(
        "ns.delegation",
        "FAIL",
        domain,
        delegationExpected,
        `the domain itself is an alias (CNAME for ${soa.cnames[0]!.to}), which a zone apex cannot be (RFC 1034 §3.6.2)`,
        "Remove the CNAME at the domain and give the domain its own zone with NS, SOA, A and MX records.",
      ),
    ];
  }
  const zoneSoa = soa.status === "ok" ? soa.records[0]! : soa.soa;
  if (!zoneSoa || zoneSoa.name !== domain) {
    return [
      finding(
        "ns.delegation",
        "WARN",
        domain,
        delegationExpected,
        `the domain has no zone of its own: it lies inside the zone ${zoneSoa?.name ?? "(unknown)"}, so nameserver checks were skipped`,
        `Records for ${domain} are managed in the zone ${zoneSoa?.name ?? "above it"}; ask whoever runs that zone to publish them.`,
      ),
    ];
  }

  const [parent, child] = await Promise.all([parentDelegation(context, domain), context.resolve(domain, "NS")]);
  const childNs = child.status === "ok" ? [...new Set(child.records.map((record) => String(record.data)))].sort() : [];
  if (parent.status === "ok") {
    findings.push(finding("ns.delegation", "PASS", domain, delegationExpected, `${parent.delegation.parentZone} delegates to ${list(parent.delegation.nameservers)}`, null));
  } else if (parent.status === "error") {
    findings.push(finding("ns.delegation", "ERROR", domain, delegationExpected, parent.message, "The parent zone's nameservers did not answer; check again later."));
  } else {
    findings.push(
      finding(
        "ns.delegation",
        "FAIL",
        domain,
        delegationExpected,
        parent.message,
        `Ask the registrar to delegate ${domain} to its nameservers${childNs.length > 0 ? ` (${list(childNs)})` : ""}.`,
      ),
    );
  }
  const parentNs = parent.status === "ok" ? parent.delegation.nameservers : [];

  if (child.status === "error") {
    findings.push(finding("ns.parent_child_match", "ERROR", domain, "the same nameservers in the parent zone and in the zone", child.message, "DNS did not answer; check again later."));
  } else if (parent.status === "ok") {
    const agree = sameSet(parentNs, childNs);
    findings.push(
      finding(
        "ns.parent_child_match",
        agree ? "PASS" : "WARN",
        domain,
        "the same nameservers in the parent zone and in the zone",
        agree ? list(childNs) : `parent zone: ${list(parentNs)}; the zone itself: ${list(childNs)}`,
        "Make the nameservers listed at the registrar and the NS records in the zone the same set.",
      ),
    );
  }

  const nameservers = [...new Set([...parentNs, ...childNs])].sort();
  if (nameservers.length > 0) {
    findings.push(
      finding(
        "ns.count",
        nameservers.length >= 2 ? "PASS" : "WARN",
        domain,
        "at least two nameservers (RFC 2182 §5)",
        `${nameservers.length}: ${list(nameservers)}`,
        "Add a second nameserver, on another network: with one, the domain disappears whenever it is down.",
      ),
    );
  }

  const probes = await Promise.all(nameservers.map((nameserver) => probeNameserver(context, domain, nameserver)));
  for (const probe of probes) {
    findings.push(
      finding(
        "ns.authoritative",
        probe.status,
        probe.nameserver,
        `${probe.nameserver} answers authoritatively for ${domain}`,
        probe.found,
        probe.status === "ERROR"
          ? `${probe.nameserver} did not answer: check that it is running and reachable on UDP and TCP port 53.`
          : `Configure ${probe.nameserver} to serve the zone ${domain}, or remove it from the NS records at the registrar and in the zone.`,
      ),
    );
  }

  const soaData = zoneSoa.data as SoaRecordData;
  findings.push(finding("soa.present", "PASS", domain, "an SOA record at the zone apex", `primary ${soaData.mname}, contact ${soaData.rname}, serial ${soaData.serial}`, null));

  const serials = probes.filter((probe) => probe.serials.length > 0);
  if (serials.length === 0) {
    findings.push(finding("soa.serial", "ERROR", domain, "the same SOA serial on every nameserver", "no nameserver answered with the zone's SOA", "Check again once the nameservers answer."));
  } else {
    const distinct = new Set(serials.flatMap((probe) => probe.serials));
    findings.push(
      finding(
        "soa.serial",
        distinct.size === 1 ? "PASS" : "FAIL",
        domain,
        "the same SOA serial on every nameserver",
        distinct.size === 1
          ? `serial ${[...distinct][0]} on ${list(serials.map((probe) => probe.nameserver))}`
          : serials.map((probe) => `${probe.nameserver}: ${[...new Set(probe.serials)].join("/")}`).join("; "),
        "The nameservers serve different versions of the zone: the one with the lower serial missed an update. Make it transfer the zone from the primary again (check NOTIFY and zone transfers), or load the same zone file on every nameserver.",
      ),
    );
  }

  const problems = soaTimerProblems(soaData);
  findings.push(
    finding(
      "soa.timers",
      problems.length === 0 ? "PASS" : "WARN",
      domain,
      `refresh ${SOA_RANGES.refresh.join("–")} s, retry ${SOA_RANGES.retry[0]} s up to refresh, expire ${SOA_RANGES.expire.join("–")} s, negative TTL (minimum) ${SOA_RANGES.minimum.join("–")} s`,
      `refresh ${soaData.refresh}, retry ${soaData.retry}, expire ${soaData.expire}, minimum ${soaData.minimum}${problems.length > 0 ? ` (${problems.join("; ")})` : ""}`,
      "Ask the DNS provider to set the SOA timers within these ranges, for example refresh 3600, retry 900, expire 1209600, minimum 3600: a long negative TTL keeps a missing record missing for that long after it is fixed.",
    ),
  );
  return findings;
}

// ---------------------------------------------------------------------------
// A / AAAA / CNAME

interface AddressRule {
  check: string;
  host: string;
  /** IPv4 addresses the name must have exactly; [] means none; null means not checked. */
  v4: string[] | null;
  v6: string[] | null;
  /** Status when the wanted AAAA is missing (an IPv4 fallback exists). */
  missingV6: FindingStatus;
  allowCname: boolean;
  cnameReason?: string;
  fix: string;
}

async function addressFinding(context: Context, rule: AddressRule): Promise<DnsFinding> {
  const { v4, v6 } = await context.lookup.addresses(rule.host);
  const expectedText = [
    rule.v4 === null ? null : rule.v4.length > 0 ? `A ${rule.v4.join(", ")}` : "no A record",
    rule.v6 === null ? null : rule.v6.length > 0 ? `AAAA ${rule.v6.join(", ")}` : "no AAAA record",
    rule.allowCname ? null : "no CNAME",
  ]
    .filter((part) => part !== null)
    .join(", ");
  const found = describeAddresses(v4, v6);
  if (v4.status === "error" || v6.status === "error") {
    return finding(rule.check, "ERROR", rule.host, expectedText, found, "DNS did not answer; check again later.");
  }
  const statuses: FindingStatus[] = [];
  if (!rule.allowCname && (v4.cnames.length > 0 || v6.cnames.length > 0)) statuses.push("FAIL");
  const foundV4 = addressesOf(v4).map(canonicalAddress);
  const foundV6 = addressesOf(v6).map(canonicalAddress);
  if (rule.v4 !== null && !sameSet(foundV4, rule.v4.map(canonicalAddress))) statuses.push("FAIL");
  if (rule.v6 !== null) {
    const wanted = rule.v6.map(canonicalAddress);
    if (wanted.length > 0 && foundV6.length === 0) statuses.push(rule.missingV6);
    else if (!sameSet(foundV6, wanted)) statuses.push("FAIL");
  }
  const status = worstStatus(statuses);
  const cnameNote = !rule.allowCname && (v4.cnames.length > 0 || v6.cnames.length > 0) && rule.cnameReason ? ` (${rule.cnameReason})` : "";
  return finding(rule.check, status, rule.host, expectedText, `${found}${cnameNote}`, rule.fix);
}

function mailAddressRule(context: Context, check: string, host: string, allowCname: boolean, cnameReason?: string): AddressRule {
  const { service } = context;
  const extra = allowCname ? "" : `, and remove any CNAME of ${host}`;
  return {
    check,
    host,
    v4: [service.ipv4],
    v6: service.ipv6 ? [service.ipv6] : [],
    missingV6: "WARN",
    allowCname,
    ...(cnameReason ? { cnameReason } : {}),
    fix: `${publish(context, host, ["A", "AAAA"]) || `${host} must have the address ${[service.ipv4, service.ipv6].filter(Boolean).join(" and ")}`}${extra}; remove other A/AAAA records of ${host}.`,
  };
}

async function checkAddresses(context: Context): Promise<DnsFinding[]> {
  const { profile, hosts } = context;
  const rules: AddressRule[] = [];
  if (profile.setup === "A_ONLY") {
    rules.push(mailAddressRule(context, "address.apex", hosts.apex, false, "a zone apex cannot be a CNAME, RFC 1034 §3.6.2"));
  }
  if (usesWebServer(profile.setup) && profile.webServerAddress) {
    const web = profile.webServerAddress;
    const isV6 = ipaddr.parse(web).kind() === "ipv6";
    rules.push({
      check: "address.apex",
      host: hosts.apex,
      v4: isV6 ? null : [web],
      v6: isV6 ? [web] : null,
      missingV6: "FAIL",
      allowCname: false,
      cnameReason: "a zone apex cannot be a CNAME, RFC 1034 §3.6.2",
      fix: `${publish(context, hosts.apex, [isV6 ? "AAAA" : "A"])}, the customer's web server, instead of any other ${isV6 ? "AAAA" : "A"} record of ${hosts.apex}.`,
    });
    rules.push({
      check: "address.www",
      host: hosts.www,
      v4: isV6 ? null : [web],
      v6: isV6 ? [web] : null,
      missingV6: "FAIL",
      allowCname: true,
      fix: `${publish(context, hosts.www, ["CNAME"])}, so that www shows the web site at ${web}.`,
    });
  }
  const unknown: DnsFinding[] = [];
  if (usesWebServer(profile.setup) && !profile.webServerAddress) {
    unknown.push(
      finding("address.apex", "ERROR", hosts.apex, "the customer's web server address", "no web server address is on file for the domain", "Support: set the domain's webServerAddress."),
    );
  }
  if (usesMx(profile.setup)) {
    rules.push(mailAddressRule(context, "address.mail_host", hosts.mailHost, false, "an MX target must not be an alias, RFC 2181 §10.3"));
    rules.push(mailAddressRule(context, "address.webmail", hosts.webmailHost, true));
  }
  return [...unknown, ...(await Promise.all(rules.map((rule) => addressFinding(context, rule))))];
}

// ---------------------------------------------------------------------------
// MX

interface MxEntry {
  preference: number;
  exchange: string;
}

async function mxEntries(context: Context): Promise<{ status: "ok"; entries: MxEntry[] } | { status: "error"; message: string }> {
  const mx = await context.resolve(context.hosts.apex, "MX");
  if (mx.status === "error") return { status: "error", message: mx.message };
  const entries = mx.status === "ok" ? mx.records.map((record) => record.data as MxEntry) : [];
  return { status: "ok", entries: [...entries].sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange)) };
}

function describeMx(entries: MxEntry[]): string {
  return entries.map((entry) => `${entry.preference} ${entry.exchange || "."}`).join(", ");
}

async function mxTargetFinding(context: Context, exchange: string): Promise<DnsFinding> {
  const expected = "a host name with its own A or AAAA record (not an IP address, not a CNAME)";
  const fixTarget = publish(context, context.hosts.apex, ["MX"]) || `Point the MX at ${context.hosts.mailHost}.`;
  if (isIpLiteral(exchange)) {
    return finding(
      "mx.target",
      "FAIL",
      exchange,
      expected,
      `${exchange} is an IP address: an MX record names a host, and senders look ${exchange} up as a name and find nothing (RFC 1035 §3.3.9, RFC 5321 §5.1)`,
      `Point the MX at a host name instead. ${fixTarget}`,
    );
  }
  const { v4, v6 } = await context.lookup.addresses(exchange);
  const found = describeAddresses(v4, v6);
  if (v4.status === "error" || v6.status === "error") return finding("mx.target", "ERROR", exchange, expected, found, "DNS did not answer; check again later.");
  if (v4.cnames.length > 0 || v6.cnames.length > 0) {
    const target = (v4.cnames[0] ?? v6.cnames[0])!.to;
    return finding(
      "mx.target",
      "FAIL",
      exchange,
      expected,
      `${exchange} is an alias (CNAME for ${target}); an MX target must have its own address records (RFC 2181 §10.3, RFC 5321 §5.1)`,
      `Replace the CNAME of ${exchange} by A/AAAA records, or point the MX at ${target} directly. ${fixTarget}`,
    );
  }
  if (addressesOf(v4).length === 0 && addressesOf(v6).length === 0) {
    return finding("mx.target", "FAIL", exchange, expected, `${found}: senders cannot deliver to it`, `Give ${exchange} an A record, or point the MX elsewhere. ${fixTarget}`);
  }
  return finding("mx.target", "PASS", exchange, expected, found, null);
}

async function checkMx(context: Context): Promise<DnsFinding[]> {
  const { profile, hosts, service } = context;
  const domain = hosts.apex;
  const findings: DnsFinding[] = [];
  const mx = await mxEntries(context);
  if (mx.status === "error") return [finding("mx.present", "ERROR", domain, null, `DNS did not answer: ${mx.message}`, "DNS did not answer; check again later.")];
  const entries = mx.entries;
  const publishMx = publish(context, domain, ["MX"]);

  if (entries.length === 1 && entries[0]!.exchange === "") {
    return [
      finding(
        "mx.present",
        "FAIL",
        domain,
        usesMx(profile.setup) ? `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}` : "no MX record",
        "a null MX (MX 0 .): the domain declares that it accepts no mail (RFC 7505)",
        `Remove the null MX. ${publishMx}`,
      ),
    ];
  }

  if (!usesMx(profile.setup)) {
    if (entries.length === 0) {
      findings.push(
        finding("mx.present", "PASS", domain, "no MX record (set-up 甲)", `no MX record: mail falls back to the address of ${domain} (RFC 5321 §5.1 implicit MX)`, null),
      );
    } else {
      // With an MX, senders no longer use the domain's own address.
      const first = entries[0]!;
      const reaches = addressesOf((await context.lookup.addresses(first.exchange)).v4).includes(service.ipv4);
      findings.push(
        finding(
          "mx.present",
          reaches ? "WARN" : "FAIL",
          domain,
          "no MX record (set-up 甲): mail goes to the domain's own address",
          `MX ${describeMx(entries)}${reaches ? " (it does reach the mail server)" : `: mail goes there, not to ${service.ipv4}`}`,
          "Set-up 甲 publishes no MX record: remove the MX records, or move the domain to set-up 乙 (MX).",
        ),
      );
    }
  } else if (entries.length === 0) {
    findings.push(finding("mx.present", "FAIL", domain, `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}`, "no MX record", `${publishMx}`));
    return findings;
  } else {
    findings.push(finding("mx.present", "PASS", domain, `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}`, `MX ${describeMx(entries)}`, null));
    const primary = entries.filter((entry) => entry.exchange === hosts.mailHost);
    const primaryPreference = primary.length > 0 ? Math.min(...primary.map((entry) => entry.preference)) : undefined;
    const isBackup = (entry: MxEntry) => usesBackupMx(profile.setup) && entry.exchange === hosts.backupMxHost;
    if (primaryPreference === undefined) {
      findings.push(
        finding(
          "mx.primary",
          "FAIL",
          domain,
          `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}`,
          `MX ${describeMx(entries)}: none points at ${hosts.mailHost}`,
          `${publishMx}, and remove MX records pointing elsewhere.`,
        ),
      );
    } else {
      const before = entries.filter((entry) => entry.exchange !== hosts.mailHost && !isBackup(entry) && entry.preference <= primaryPreference);
      const status: FindingStatus = before.length > 0 ? "FAIL" : primaryPreference !== PRIMARY_MX_PREFERENCE ? "WARN" : "PASS";
      findings.push(
        finding(
          "mx.primary",
          status,
          domain,
          `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}, before any other MX`,
          before.length > 0
            ? `MX ${describeMx(entries)}: ${before.map((entry) => entry.exchange).join(", ")} comes first, so senders deliver there`
            : `MX ${primaryPreference} ${hosts.mailHost}`,
          before.length > 0 ? `Remove the MX records of ${before.map((entry) => entry.exchange).join(", ")}, or give them a higher number. ${publishMx}` : `${publishMx}`,
        ),
      );
    }
    if (usesBackupMx(profile.setup) && !hosts.backupMxHost) {
      findings.push(finding("mx.backup", "ERROR", domain, "the service's backup MX", "no backup MX host is configured (BACKUP_MX_HOST)", "The service's operators must set BACKUP_MX_HOST."));
    } else if (usesBackupMx(profile.setup)) {
      const backup = entries.filter((entry) => entry.exchange === hosts.backupMxHost);
      const expectedBackup = `MX ${BACKUP_MX_PREFERENCE} ${hosts.backupMxHost}, a higher number than the main MX's ${PRIMARY_MX_PREFERENCE}`;
      if (backup.length === 0) {
        findings.push(finding("mx.backup", "FAIL", domain, expectedBackup, `MX ${describeMx(entries)}: no backup MX ${hosts.backupMxHost}`, `${publishMx}`));
      } else {
        const lowest = Math.min(...backup.map((entry) => entry.preference));
        const reference = primaryPreference ?? PRIMARY_MX_PREFERENCE;
        findings.push(
          finding(
            "mx.backup",
            lowest > reference ? "PASS" : "FAIL",
            domain,
            expectedBackup,
            lowest > reference
              ? `MX ${lowest} ${hosts.backupMxHost}`
              : `MX ${lowest} ${hosts.backupMxHost}: not a higher number than the main MX's ${reference}, so senders ${lowest < reference ? "use the backup first" : "split mail between the two"}`,
            `Give the backup MX a higher preference number than the main one. ${publishMx}`,
          ),
        );
      }
    }
    const known = new Set([hosts.mailHost, ...(usesBackupMx(profile.setup) && hosts.backupMxHost ? [hosts.backupMxHost] : [])]);
    for (const entry of entries) {
      if (known.has(entry.exchange) || primaryPreference === undefined || entry.preference <= primaryPreference) continue;
      findings.push(
        finding(
          "mx.extra",
          "WARN",
          entry.exchange,
          `only the MX records of set-up ${SETUP_LABELS[profile.setup].slice(0, 1)}`,
          `MX ${entry.preference} ${entry.exchange}`,
          `${entry.exchange} is not one of the service's mail hosts: mail it accepts when ours is busy may never reach the mailboxes. Remove it unless it relays to us.`,
        ),
      );
    }
  }
  const exchanges = [...new Set(entries.map((entry) => entry.exchange))];
  findings.push(...(await Promise.all(exchanges.map((exchange) => mxTargetFinding(context, exchange)))));
  return findings;
}

// ---------------------------------------------------------------------------
// SPF, DKIM, DMARC, MTA-STS, TLS-RPT

async function txtAt(context: Context, name: string): Promise<{ status: "ok"; texts: string[] } | { status: "error"; message: string }> {
  const txt = await context.resolve(name, "TXT");
  if (txt.status === "error") return { status: "error", message: txt.message };
  return { status: "ok", texts: txt.status === "ok" ? txt.records.map((record) => String(record.data)) : [] };
}

async function checkSpf(context: Context): Promise<DnsFinding[]> {
  const { hosts, service } = context;
  const domain = hosts.apex;
  const expectedSpf = context.expected.find((record) => record.name === domain && record.type === "TXT")!;
  const publishSpf = `Publish: ${asText(expectedSpf.zoneLine)}`;
  const txt = await txtAt(context, domain);
  if (txt.status === "error") return [finding("spf.record", "ERROR", domain, "one SPF record", `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  const records = txt.texts.filter(isSpfRecord);
  if (records.length === 0) {
    return [finding("spf.record", "FAIL", domain, `one SPF record: ${expectedSpf.value}`, "no SPF record: receivers cannot tell the service's mail from forgeries", `${publishSpf}`)];
  }
  if (records.length > 1) {
    return [
      finding(
        "spf.record",
        "FAIL",
        domain,
        "exactly one SPF record",
        `${records.length} SPF records (${records.map((record) => `"${record}"`).join(", ")}): receivers then fail SPF for every message (permerror, RFC 7208 §4.5)`,
        `Merge them into one record and delete the others. ${publishSpf}`,
      ),
    ];
  }
  const text = records[0]!;
  const parsed = parseSpf(text);
  if (!parsed.ok) return [finding("spf.record", "FAIL", domain, "a valid SPF record", `"${text}" ${parsed.error} (permerror)`, `Replace it. ${publishSpf}`)];
  const findings = [finding("spf.record", "PASS", domain, "one SPF record", text, null)];

  const spf = parsed.value;
  const allIndex = spf.mechanisms.findIndex((mechanism) => mechanism.name === "all");
  const all = allIndex >= 0 ? spf.mechanisms[allIndex] : undefined;
  const allExpected = "~all or -all at the end";
  if (all?.qualifier === "+") {
    findings.push(
      finding(
        "spf.all",
        "FAIL",
        domain,
        allExpected,
        `${all.raw}: every server on the Internet may send as ${domain}`,
        `End the record with ~all instead. ${publishSpf}`,
      ),
    );
  } else if (all?.qualifier === "?") {
    findings.push(finding("spf.all", "WARN", domain, allExpected, `${all.raw}: mail from other servers is neutral, neither pass nor fail`, `End the record with ~all. ${publishSpf}`));
  } else if (!all && spf.redirect === undefined) {
    findings.push(finding("spf.all", "WARN", domain, allExpected, "no all mechanism: mail from other servers is neutral", `End the record with ~all. ${publishSpf}`));
  } else {
    findings.push(finding("spf.all", "PASS", domain, allExpected, all ? all.raw : `redirect=${spf.redirect}`, null));
  }

  const addresses = [service.ipv4, ...(service.ipv6 ? [service.ipv6] : [])];
  const [evaluations, count] = await Promise.all([Promise.all(addresses.map((address) => evaluateSpf(context.resolve, domain, address))), countSpfLookups(context.resolve, spf)]);
  const serviceExpected = `the service's mail server${addresses.length > 1 ? "s" : ""} ${addresses.join(", ")} pass SPF${service.spfInclude ? ` (through include:${service.spfInclude})` : ""}`;
  const outcome = addresses.map((address, index) => `${address}: ${evaluations[index]!.result}${evaluations[index]!.detail ? ` (${evaluations[index]!.detail})` : ""}`).join("; ");
  const results = evaluations.map((evaluation) => evaluation.result);
  if (results.includes("temperror")) {
    findings.push(finding("spf.service", "ERROR", domain, serviceExpected, outcome, "Part of the SPF record could not be looked up; check again later."));
  } else if (results.every((result) => result === "pass")) {
    const viaInclude =
      !service.spfInclude || spf.mechanisms.some((mechanism) => mechanism.name === "include" && mechanism.value?.toLowerCase() === service.spfInclude!.toLowerCase());
    findings.push(
      finding(
        "spf.service",
        viaInclude ? "PASS" : "WARN",
        domain,
        serviceExpected,
        viaInclude ? outcome : `${outcome}, by address rather than include:${service.spfInclude}`,
        `Use include:${service.spfInclude} instead of listing addresses, so that new mail servers of the service are covered. ${publishSpf}`,
      ),
    );
  } else {
    findings.push(
      finding(
        "spf.service",
        "FAIL",
        domain,
        serviceExpected,
        `${outcome}: the service's mail fails SPF`,
        `Add ${service.spfInclude ? `include:${service.spfInclude}` : addresses.map((address) => (address.includes(":") ? `ip6:${address}` : `ip4:${address}`)).join(" ")} before the all. ${publishSpf}`,
      ),
    );
  }

  const lookupsExpected = `at most ${SPF_LOOKUP_LIMIT} DNS lookups (RFC 7208 §4.6.4)`;
  if (count.permanentErrors.length > 0 || count.lookups > SPF_LOOKUP_LIMIT) {
    findings.push(
      finding(
        "spf.lookups",
        "FAIL",
        domain,
        lookupsExpected,
        [`${count.lookups} lookups${count.lookups > SPF_LOOKUP_LIMIT ? ": receivers stop at 10 and fail SPF (permerror)" : ""}`, ...count.permanentErrors].join("; "),
        count.lookups > SPF_LOOKUP_LIMIT
          ? "Remove includes no longer used, or replace them by the ip4:/ip6: networks they stand for."
          : "Fix or remove the includes named here: receivers treat them as a permanent error.",
      ),
    );
  } else if (count.unanswered.length > 0) {
    findings.push(finding("spf.lookups", "ERROR", domain, lookupsExpected, `${count.lookups} so far; not answered: ${count.unanswered.join("; ")}`, "Check again later."));
  } else {
    findings.push(
      finding(
        "spf.lookups",
        count.warnings.length > 0 ? "WARN" : "PASS",
        domain,
        lookupsExpected,
        [`${count.lookups} lookup${count.lookups === 1 ? "" : "s"}`, ...count.warnings].join("; "),
        "Avoid ptr and macros in SPF: receivers may ignore them.",
      ),
    );
  }
  return findings;
}

/** One finding per key of mailadmin's (dkim.key), and dkim.age for signing keys past DKIM_KEY_MAX_AGE_DAYS. */
async function checkManagedDkim(context: Context, keys: DkimProfileKey[]): Promise<DnsFinding[]> {
  const { profile, service } = context;
  const findings = await Promise.all(
    keys.map(async (key): Promise<DnsFinding> => {
      const host = dkimHost(key.selector, profile.name);
      const value = dkimRecordFor(key.publicKey);
      const publish = `Publish: ${asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value }))}`;
      const role = key.state === "ACTIVE" ? "the signing key" : key.state === "PUBLISHED_PENDING" ? "the next key (rotation under way)" : "the previous key (retiring)";
      const txt = await txtAt(context, host);
      if (txt.status === "error") return finding("dkim.key", "ERROR", host, value, `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.");
      const records = txt.texts;
      if (records.length === 0) {
        if (key.state === "ACTIVE") return finding("dkim.key", "FAIL", host, value, `${role} is not published: receivers cannot verify the service's signatures`, publish);
        if (key.state === "PUBLISHED_PENDING") {
          return finding("dkim.key", "WARN", host, value, `${role} is not published yet: the rotation cannot be confirmed`, `${publish} Then confirm the rotation (confirmDkimRotation).`);
        }
        return finding("dkim.key", "WARN", host, value, `${role} is no longer published: mail signed with it before the rotation and still in flight fails DKIM`, `Keep it published until its grace period ends. ${publish}`);
      }
      if (records.length > 1) return finding("dkim.key", "FAIL", host, value, `${records.length} TXT records at the selector: verifiers cannot tell which key to use`, `Keep only one. ${publish}`);
      const parsed = parseDkimKey(records[0]!);
      if (!parsed.ok) return finding("dkim.key", "FAIL", host, value, `"${records[0]}" ${parsed.error}`, `Replace it. ${publish}`);
      if (parsed.value.publicKey === "") return finding("dkim.key", "FAIL", host, value, `${role} is revoked (empty p=)`, `Publish the key on file. ${publish}`);
      if (parsed.value.publicKey !== key.publicKey) {
        return finding("dkim.key", "FAIL", host, value, `a different key is published at ${role === "the signing key" ? "the signing selector" : `the selector of ${role}`}: signatures with the key on file fail to verify`, `Replace the record. ${publish}`);
      }
      return finding("dkim.key", "PASS", host, value, `${role} (${parsed.value.keyType}) is published and matches the key on file`, null);
    }),
  );
  const maxAge = service.dkimKeyMaxAgeDays ?? 0;
  if (maxAge > 0) {
    for (const key of keys) {
      if (key.state !== "ACTIVE" || key.ageDays < maxAge) continue;
      findings.push(
        finding(
          "dkim.age",
          "WARN",
          dkimHost(key.selector, profile.name),
          `a signing key younger than ${maxAge} days`,
          `the signing key has signed for ${key.ageDays} days`,
          "Rotate it: startDkimRotation makes a new key to publish; once the DNS check sees it, confirmDkimRotation switches signing to it.",
        ),
      );
    }
  }
  return findings;
}

async function checkDkim(context: Context): Promise<DnsFinding[]> {
  const { hosts, profile, service } = context;
  if (profile.dkimKeys && profile.dkimKeys.length > 0) return checkManagedDkim(context, profile.dkimKeys);
  const host = hosts.dkim;
  const key = profile.dkimPublicKey;
  const expected = key ? dkimRecordFor(key) : `a DKIM key record for selector ${service.dkimSelector}`;
  const publishKey = key ? `Publish: ${asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: dkimRecordFor(key) }))}` : "";
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("dkim.key", "ERROR", host, expected, `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  const records = txt.texts;
  if (records.length === 0) {
    return [
      key
        ? finding("dkim.key", "FAIL", host, expected, "no DKIM key published: receivers cannot verify the service's signatures", `${publishKey}`)
        : finding(
            "dkim.key",
            "WARN",
            host,
            expected,
            "no DKIM key published, and none is on file for the domain",
            "Support must first store the domain's DKIM public key (dkimPublicKey); the customer then publishes the record expectedDnsRecords gives.",
          ),
    ];
  }
  if (records.length > 1) {
    return [finding("dkim.key", "FAIL", host, expected, `${records.length} TXT records at the selector: verifiers cannot tell which key to use`, `Keep only one. ${publishKey}`.trim())];
  }
  const parsed = parseDkimKey(records[0]!);
  if (!parsed.ok) return [finding("dkim.key", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, `Replace it. ${publishKey}`.trim())];
  if (parsed.value.publicKey === "") return [finding("dkim.key", "FAIL", host, expected, "the key is revoked (empty p=)", `Publish the current key. ${publishKey}`.trim())];
  if (!key) {
    return [
      finding(
        "dkim.key",
        "WARN",
        host,
        expected,
        `a ${parsed.value.keyType} key is published, but none is on file for the domain to compare it with`,
        "Store the domain's DKIM public key (dkimPublicKey) so the check can tell whether it matches the one the mail server signs with.",
      ),
    ];
  }
  const matches = parsed.value.publicKey === key.replace(/\s+/g, "");
  return [
    finding(
      "dkim.key",
      matches ? "PASS" : "FAIL",
      host,
      expected,
      matches ? `the ${parsed.value.keyType} key on file is published` : "a different key is published: the service's signatures fail to verify",
      `Replace the record. ${publishKey}`,
    ),
  ];
}

async function checkDmarc(context: Context): Promise<DnsFinding[]> {
  const { hosts, service } = context;
  const host = hosts.dmarc;
  const expectedRecord = context.expected.find((record) => record.name === host)!;
  const publishDmarc = `Publish: ${asText(expectedRecord.zoneLine)}`;
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("dmarc.record", "ERROR", host, "one DMARC record", `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  const records = txt.texts.filter((text) => /^v\s*=\s*DMARC1/i.test(text.trim()));
  if (records.length === 0) {
    return [
      finding(
        "dmarc.record",
        "FAIL",
        host,
        `one DMARC record: ${expectedRecord.value}`,
        txt.texts.length > 0 ? `no DMARC record (other TXT: ${txt.texts.map((text) => `"${text}"`).join(", ")})` : "no DMARC record",
        `Large mailbox providers (Gmail, Yahoo, Microsoft) require DMARC. ${publishDmarc}`,
      ),
    ];
  }
  if (records.length > 1) {
    return [finding("dmarc.record", "FAIL", host, "exactly one DMARC record", `${records.length} DMARC records: receivers then ignore DMARC (RFC 7489 §6.6.3)`, `Keep one. ${publishDmarc}`)];
  }
  const parsed = parseDmarc(records[0]!);
  if (!parsed.ok) return [finding("dmarc.record", "FAIL", host, "a valid DMARC record", `"${records[0]}" ${parsed.error}`, `Replace it. ${publishDmarc}`)];
  const findings = [finding("dmarc.record", "PASS", host, "one DMARC record", records[0]!, null)];
  const dmarc = parsed.value;
  const weak = DMARC_STRENGTH[dmarc.policy] < DMARC_STRENGTH[service.dmarcPolicy] || dmarc.percent < 100;
  findings.push(
    finding(
      "dmarc.policy",
      weak ? "WARN" : "PASS",
      host,
      `p=${service.dmarcPolicy} or stricter, applied to all mail (pct=100)`,
      `p=${dmarc.policy}${dmarc.percent < 100 ? `, pct=${dmarc.percent}` : ""}${dmarc.policy === "none" ? ": receivers only report failing mail, they do not act on it" : ""}`,
      `Once the reports show the service's mail passing, raise the policy. ${publishDmarc}`,
    ),
  );
  return findings;
}

async function checkMtaSts(context: Context): Promise<DnsFinding[]> {
  const { hosts } = context;
  const host = hosts.mtaSts;
  const expected = "optional; when published: one v=STSv1 record with an id, and a policy host mta-sts.<domain>";
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("mta_sts.record", "ERROR", host, expected, `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  if (txt.texts.length === 0) return [finding("mta_sts.record", "PASS", host, expected, "not published", null)];
  // RFC 8461 §3.1: records not starting with v=STSv1 are discarded; anything but one left means no policy.
  const records = txt.texts.filter((text) => /^v=STSv1/.test(text.trim()));
  const fix = `Publish one record such as ${asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: "v=STSv1; id=20260101T000000" }))} or remove the records.`;
  if (records.length !== 1) {
    return [finding("mta_sts.record", "FAIL", host, expected, `${records.length} v=STSv1 records among ${txt.texts.map((text) => `"${text}"`).join(", ")}: senders ignore the policy`, fix)];
  }
  const parsed = parseMtaSts(records[0]!);
  if (!parsed.ok) return [finding("mta_sts.record", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, fix)];
  const policyHost = await context.lookup.addresses(hosts.mtaStsPolicyHost);
  if (policyHost.v4.status === "error" || policyHost.v6.status === "error") {
    return [finding("mta_sts.record", "ERROR", host, expected, `id=${parsed.value.id}; the policy host could not be looked up`, "Check again later.")];
  }
  if (addressesOf(policyHost.v4).length === 0 && addressesOf(policyHost.v6).length === 0) {
    return [
      finding(
        "mta_sts.record",
        "FAIL",
        host,
        expected,
        `id=${parsed.value.id}, but ${hosts.mtaStsPolicyHost} has no address: senders cannot fetch the policy`,
        `Publish an address for ${hosts.mtaStsPolicyHost} serving https://${hosts.mtaStsPolicyHost}/.well-known/mta-sts.txt, or remove the MTA-STS record.`,
      ),
    ];
  }
  return [finding("mta_sts.record", "PASS", host, expected, `id=${parsed.value.id}; ${hosts.mtaStsPolicyHost} resolves (the policy file itself is not fetched)`, null)];
}

async function checkTlsRpt(context: Context): Promise<DnsFinding[]> {
  const host = context.hosts.tlsRpt;
  const expected = "optional; when published: one v=TLSRPTv1 record with a mailto: or https: rua";
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("tls_rpt.record", "ERROR", host, expected, `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  if (txt.texts.length === 0) return [finding("tls_rpt.record", "PASS", host, expected, "not published", null)];
  const records = txt.texts.filter((text) => /^v=TLSRPTv1/.test(text.trim()));
  const fix = `Publish one record such as ${asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: `v=TLSRPTv1; rua=mailto:tls-reports@${context.hosts.apex}` }))} or remove the records.`;
  if (records.length !== 1) return [finding("tls_rpt.record", "FAIL", host, expected, `${records.length} v=TLSRPTv1 records: senders ignore them`, fix)];
  const parsed = parseTlsRpt(records[0]!);
  if (!parsed.ok) return [finding("tls_rpt.record", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, fix)];
  return [finding("tls_rpt.record", "PASS", host, expected, `reports to ${parsed.value.reportAddresses.join(", ")}`, null)];
}

// ---------------------------------------------------------------------------
// Reverse DNS of the service's own mail server

async function checkReverseDns(context: Context): Promise<DnsFinding[]> {
  const { service } = context;
  const addresses = [service.ipv4, ...(service.ipv6 ? [service.ipv6] : [])];
  return Promise.all(
    addresses.map(async (address): Promise<DnsFinding> => {
      const expected = `a PTR record${service.hostname ? ` naming ${service.hostname}` : ""}, whose name resolves back to ${address} (forward-confirmed)`;
      const owner = "This is the service's own record, not the customer's: support escalates it to the operators of the mail server's network.";
      const ptr = await context.resolve(reverseName(address), "PTR");
      if (ptr.status === "error") return finding("ptr.mail_server", "ERROR", address, expected, `DNS did not answer: ${ptr.message}`, "Check again later.");
      const names = ptr.status === "ok" ? [...new Set(ptr.records.map((record) => String(record.data)))].sort() : [];
      if (names.length === 0) {
        return finding("ptr.mail_server", "FAIL", address, expected, "no PTR record: many receivers refuse mail from addresses without reverse DNS", owner);
      }
      if (service.hostname && !names.includes(service.hostname)) {
        return finding("ptr.mail_server", "FAIL", address, expected, `PTR ${list(names)}, not the mail server's name ${service.hostname}`, owner);
      }
      const candidates = service.hostname ? [service.hostname] : names;
      const forward = await Promise.all(candidates.map((name) => context.lookup.addresses(name)));
      const confirmed = candidates.filter((_, index) => {
        const found = [...addressesOf(forward[index]!.v4), ...addressesOf(forward[index]!.v6)].map(canonicalAddress);
        return found.includes(canonicalAddress(address));
      });
      if (confirmed.length > 0) return finding("ptr.mail_server", "PASS", address, expected, `PTR ${list(names)}; ${confirmed[0]} resolves back to ${address}`, null);
      if (forward.some((result) => result.v4.status === "error" || result.v6.status === "error")) {
        return finding("ptr.mail_server", "ERROR", address, expected, `PTR ${list(names)}; the forward lookup did not answer`, "Check again later.");
      }
      return finding("ptr.mail_server", "FAIL", address, expected, `PTR ${list(names)}, but that name does not resolve back to ${address} (not forward-confirmed)`, owner);
    }),
  );
}

// ---------------------------------------------------------------------------
// Which set-up do the records match?

async function detectSetup(context: Context): Promise<{ setup: DnsSetup | null; error?: string }> {
  const { hosts, service, profile } = context;
  const mx = await mxEntries(context);
  const apex = await context.lookup.addresses(hosts.apex);
  if (mx.status === "error") return { setup: null, error: mx.message };
  if (apex.v4.status === "error") return { setup: null, error: apex.v4.message };
  const mailAddresses = new Set([service.ipv4, ...(service.ipv6 ? [service.ipv6] : [])].map(canonicalAddress));
  const apexAddresses = [...addressesOf(apex.v4), ...addressesOf(apex.v6)].map(canonicalAddress);
  const apexIsMail = addressesOf(apex.v4).map(canonicalAddress).includes(canonicalAddress(service.ipv4));
  const web = profile.webServerAddress ? canonicalAddress(profile.webServerAddress) : undefined;
  const hasWeb = web ? apexAddresses.includes(web) : apexAddresses.some((address) => !mailAddresses.has(address));
  const entries = mx.entries.filter((entry) => entry.exchange !== "");
  if (entries.length === 0) return { setup: apexIsMail ? "A_ONLY" : null };
  const first = entries[0]!;
  const firstTarget = await context.lookup.addresses(first.exchange);
  if (firstTarget.v4.status === "error") return { setup: null, error: firstTarget.v4.message };
  const primaryReachesUs = addressesOf(firstTarget.v4).map(canonicalAddress).includes(canonicalAddress(service.ipv4));
  if (!primaryReachesUs) return { setup: null };
  const hasBackup = entries.some((entry) => entry.exchange !== first.exchange && entry.preference > first.preference);
  if (hasBackup) return { setup: hasWeb ? "MX_WEB_BACKUP" : null };
  return { setup: hasWeb ? "MX_WEB" : "MX" };
}

function setupFinding(context: Context, detected: { setup: DnsSetup | null; error?: string }): DnsFinding {
  const { profile, hosts } = context;
  const expected = `set-up ${SETUP_LABELS[profile.setup]}`;
  if (detected.error) return finding("setup.detected", "ERROR", hosts.apex, expected, `DNS did not answer: ${detected.error}`, "Check again later.");
  if (detected.setup === profile.setup) return finding("setup.detected", "PASS", hosts.apex, expected, `set-up ${SETUP_LABELS[detected.setup]}`, null);
  if (detected.setup === null) {
    return finding(
      "setup.detected",
      "FAIL",
      hosts.apex,
      expected,
      "the records match none of the four set-ups",
      `Publish the records of set-up ${SETUP_LABELS[profile.setup].slice(0, 1)} (see the expected records and the other findings).`,
    );
  }
  return finding(
    "setup.detected",
    "WARN",
    hosts.apex,
    expected,
    `set-up ${SETUP_LABELS[detected.setup]}`,
    `The records are those of set-up ${SETUP_LABELS[detected.setup].slice(0, 1)}, but the contract is set-up ${SETUP_LABELS[profile.setup].slice(0, 1)}: publish the missing records, or change the domain's set-up.`,
  );
}

// ---------------------------------------------------------------------------

const SECTIONS: [string, (context: Context) => Promise<DnsFinding[]>][] = [
  ["ns", checkNameservers],
  ["address", checkAddresses],
  ["mx", checkMx],
  ["spf", checkSpf],
  ["dkim", checkDkim],
  ["dmarc", checkDmarc],
  ["mta_sts", checkMtaSts],
  ["tls_rpt", checkTlsRpt],
  ["ptr", checkReverseDns],
];

/** Slack after the deadline for answers already on their way, before a section is given up as unfinished. */
const DEADLINE_GRACE_MS = 250;

export interface DnsChecker {
  check(profile: DomainDnsProfile): Promise<DnsCheckResult & { queries: DnsLookup["sent"] }>;
  /** Checks many domains, at most `concurrency` at a time; results in the order given. */
  checkMany(profiles: DomainDnsProfile[], concurrency: number, onResult?: (result: DnsCheckResult) => Promise<void> | void): Promise<DnsCheckResult[]>;
}

export function createDnsChecker(options: DnsCheckerOptions): DnsChecker {
  const monotonicNow = options.monotonicNow ?? (() => performance.now());

  async function runSection(name: string, section: (context: Context) => Promise<DnsFinding[]>, context: Context, deadline: number): Promise<DnsFinding[]> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DnsFinding[]>((resolve) => {
      timer = setTimeout(
        () =>
          resolve([
            finding(`${name}.unfinished`, "ERROR", context.hosts.apex, null, `not finished within the check's ${options.checkTimeoutMs} ms`, "DNS answered too slowly; check again later."),
          ]),
        Math.max(0, deadline - monotonicNow()) + DEADLINE_GRACE_MS,
      );
    });
    try {
      return await Promise.race([section(context), late]);
    } catch (error) {
      // A bug in a rule must not cost the customer the other findings.
      return [finding(`${name}.internal`, "ERROR", context.hosts.apex, null, `the check failed: ${error instanceof Error ? error.message : String(error)}`, "Report this to the developers.")];
    } finally {
      clearTimeout(timer);
    }
  }

  async function check(profile: DomainDnsProfile) {
    const started = monotonicNow();
    const checkedAt = options.clock();
    const deadline = started + options.checkTimeoutMs;
    const lookup = new DnsLookup({
      transport: options.transport,
      resolvers: options.resolvers,
      queryTimeoutMs: options.queryTimeoutMs,
      attempts: options.queryAttempts,
      deadline,
      monotonicNow,
      allowPrivate: options.allowPrivate ?? false,
    });
    const context: Context = {
      profile,
      service: options.service,
      hosts: hostsOf(profile.name, options.service),
      expected: expectedRecords(profile, options.service),
      lookup,
      resolve: (name, type) => lookup.resolve(name, type),
      nameserverPort: options.nameserverPort ?? 53,
    };
    let detectedSetup: DnsSetup | null = null;
    const [sections, detection] = await Promise.all([
      Promise.all(SECTIONS.map(([name, section]) => runSection(name, section, context, deadline))),
      runSection(
        "setup",
        async (inner) => {
          const detected = await detectSetup(inner);
          detectedSetup = detected.setup;
          return [setupFinding(inner, detected)];
        },
        context,
        deadline,
      ),
    ]);
    const all = [...sections.flat(), ...detection];
    // A domain that does not exist fails every rule about its records; one
    // finding says so, and the service's own reverse DNS is still reported.
    const findings = context.domainMissing ? all.filter((item) => item.check === "ns.delegation" || item.check === "ptr.mail_server") : all;
    return {
      domain: profile.name,
      setup: profile.setup,
      detectedSetup,
      status: worstStatus(findings.map((item) => item.status)),
      findings,
      checkedAt,
      durationMs: Math.round(monotonicNow() - started),
      queries: lookup.sent,
    };
  }

  return {
    check,
    async checkMany(profiles, concurrency, onResult) {
      const results: DnsCheckResult[] = new Array(profiles.length);
      let next = 0;
      const worker = async () => {
        while (next < profiles.length) {
          const index = next++;
          const { queries: _queries, ...result } = await check(profiles[index]!);
          results[index] = result;
          await onResult?.(result);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, profiles.length)) }, worker));
      return results;
    },
  };
}
