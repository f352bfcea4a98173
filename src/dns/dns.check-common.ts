// What the checks share: findings and their statuses, the check's context, and the sentences findings are written in.
import ipaddr from "ipaddr.js";
import { DnsLookup, addressesOf, type LookupResult } from "./dns.lookup";
import type { DnsServer, DnsTransport } from "./dns.transport";
import type { DnsSetup, DomainDnsProfile, DomainHosts, ExpectedRecord, MailService } from "./dns.records";
import type { Lookup } from "./dns.mailauth";
import { message } from "../i18n/messages";
import type { Text } from "../i18n/text";

export type FindingStatus = "PASS" | "WARN" | "FAIL" | "ERROR";

export interface DnsFinding {
  /** Stable id of the rule, such as mx.primary (docs/dns-checks.md lists them all). */
  check: string;
  status: FindingStatus;
  /** The DNS name (or address) the rule looked at. */
  subject: string;
  /** Texts for people are Messages (written in the reader's language by the resolver or REST view); values found in DNS stay strings. */
  expected: Text | null;
  found: Text | null;
  /** What to change, in a sentence support can read to the customer; null when there is nothing to do. */
  fix: Text | null;
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

export interface Context {
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

export function finding(check: string, status: FindingStatus, subject: string, expected: Text | null, found: Text | null, fix: Text | null): DnsFinding {
  return { check, status, subject, expected, found, fix: status === "PASS" ? null : fix };
}

/** Values found in DNS, comma-separated (values, not translated); "none" is a word, written in the reader's language. */
export function list(items: string[]): Text {
  return items.length === 0 ? message("dns.none") : items.join(", ");
}

/** Texts joined with "and" in the reader's language (a, b and c read "a and b and c" as before). */
export function joinAnd(items: Text[]): Text {
  return items.slice(0, -1).reduceRight<Text>((rest, first) => message("dns.and", { first, rest }), items[items.length - 1] ?? "");
}

/** A zone-file line inside a sentence: single spaces instead of tabs. */
export function asText(line: string): string {
  return line.replace(/\t/g, " ");
}

/** The zone-file lines of the expected records of a name (and type), as a fix sentence. */
export function publish(context: Context, name: string, types?: string[]): Text {
  const lines = context.expected.filter((record) => record.name === name && (!types || types.includes(record.type))).map((record) => asText(record.zoneLine));
  return lines.length > 0 ? publishLine(joinAnd(lines)) : "";
}

/** Texts joined with semicolons, in the reader's language. */
export function joinAlso(items: Text[]): Text {
  return items.slice(0, -1).reduceRight<Text>((rest, first) => message("dns.also", { first, rest }), items[items.length - 1] ?? "");
}

/** "Publish: <zone line>", a fix's usual last sentence. */
export function publishLine(lines: Text): Text {
  return message("dns.publish", { lines });
}

export function describeLookup(result: LookupResult, label: string, withCnames = true): Text {
  const described = describeOutcome(result, label);
  if (!withCnames || !("cnames" in result) || result.cnames.length === 0) return described;
  return message("dns.lookup.via_cname", { chain: result.cnames.map((step) => step.to).join(" → "), rest: described });
}

function describeOutcome(result: LookupResult, label: string): Text {
  switch (result.status) {
    case "ok":
      return `${label} ${addressesOf(result).join(", ")}`;
    case "nodata":
      return message("dns.lookup.nodata", { label });
    case "nxdomain":
      return message("dns.lookup.nxdomain");
    case "error":
      return message("dns.lookup.error", { reason: result.message });
  }
}

export function describeAddresses(v4: LookupResult, v6: LookupResult): Text {
  if (v4.status === "nxdomain") return describeLookup(v4, "A");
  return message("dns.lookup.v4_v6", { v4: describeLookup(v4, "A"), v6: describeLookup(v6, "AAAA", false) });
}

export function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((item, index) => item === [...b].sort()[index]);
}

export function isIpLiteral(name: string): boolean {
  return ipaddr.isValid(name) || /^\d{1,3}(\.\d{1,3}){3}$/.test(name);
}

export function reverseName(address: string): string {
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === "ipv4") return `${(parsed as ipaddr.IPv4).octets.slice().reverse().join(".")}.in-addr.arpa`;
  const nibbles = (parsed as ipaddr.IPv6).parts.flatMap((part) => part.toString(16).padStart(4, "0").split(""));
  return `${nibbles.reverse().join(".")}.ip6.arpa`;
}

export function canonicalAddress(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.process(address).toString() : address;
}
