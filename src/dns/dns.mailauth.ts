// The mail-authentication records a mailbox provider reads: SPF (RFC 7208),
// DKIM key records (RFC 6376 §3.6.1), DMARC (RFC 7489 §6.3), MTA-STS
// (RFC 8461 §3.1) and TLS-RPT (RFC 8460 §3). Parsers are pure; the SPF
// evaluation and lookup count take a lookup function, so they run on the
// check's own resolvers and budget.
import ipaddr from "ipaddr.js";
import type { LookupResult } from "./dns.lookup";
import type { RecordType } from "./dns.transport";
import { normaliseName, recordText } from "./dns.transport";

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

// ---------------------------------------------------------------------------
// SPF

export type SpfQualifier = "+" | "-" | "~" | "?";
export type SpfMechanismName = "all" | "include" | "a" | "mx" | "ptr" | "ip4" | "ip6" | "exists";

export interface SpfMechanism {
  qualifier: SpfQualifier;
  /** Whether the qualifier was written or is the implicit "+". */
  explicitQualifier: boolean;
  name: SpfMechanismName;
  /** The domain-spec or network, when the mechanism has one. */
  value?: string;
  cidr4?: number;
  cidr6?: number;
  raw: string;
}

export interface SpfRecord {
  mechanisms: SpfMechanism[];
  redirect?: string;
}

/** Mechanisms and modifiers that cost a DNS lookup (RFC 7208 §4.6.4). */
const LOOKUP_TERMS = new Set(["include", "a", "mx", "ptr", "exists"]);
export const SPF_LOOKUP_LIMIT = 10;
const SPF_VOID_LIMIT = 2;
const DOMAIN_SPEC = /^[A-Za-z0-9%{}_.+-]+$/;

/** Whether a TXT string is an SPF record at all (RFC 7208 §4.5: "v=spf1" followed by a space or nothing). */
export function isSpfRecord(text: string): boolean {
  return /^v=spf1(\s|$)/i.test(text);
}

export function parseSpf(text: string): Parsed<SpfRecord> {
  if (!isSpfRecord(text)) return { ok: false, error: "does not start with v=spf1" };
  const terms = text.trim().split(/\s+/).slice(1);
  const mechanisms: SpfMechanism[] = [];
  let redirect: string | undefined;
  for (const raw of terms) {
    const modifier = /^([A-Za-z][A-Za-z0-9_.-]*)=(.*)$/.exec(raw);
    if (modifier) {
      const name = modifier[1]!.toLowerCase();
      if (name === "redirect") {
        if (redirect !== undefined) return { ok: false, error: "has two redirect= modifiers" };
        if (!DOMAIN_SPEC.test(modifier[2]!)) return { ok: false, error: `"${raw}" does not name a domain` };
        redirect = modifier[2]!;
      }
      // exp= and unknown modifiers are allowed and ignored (RFC 7208 §6).
      continue;
    }
    const match = /^([+\-~?]?)([A-Za-z0-9]+)(.*)$/.exec(raw);
    const name = match?.[2]?.toLowerCase();
    if (!match || !name || !["all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"].includes(name)) {
      return { ok: false, error: `"${raw}" is not an SPF mechanism` };
    }
    const qualifier = (match[1] || "+") as SpfQualifier;
    const mechanism: SpfMechanism = { qualifier, explicitQualifier: match[1] !== "", name: name as SpfMechanismName, raw };
    const rest = match[3]!;
    const invalid = (): Parsed<SpfRecord> => ({ ok: false, error: `"${raw}" is malformed` });
    if (name === "all") {
      if (rest !== "") return invalid();
    } else if (name === "ip4" || name === "ip6") {
      const network = /^:([^/]+)(?:\/(\d{1,3}))?$/.exec(rest);
      if (!network) return invalid();
      const address = network[1]!;
      const bits = network[2] === undefined ? undefined : Number(network[2]);
      if (name === "ip4" && (!ipaddr.IPv4.isValidFourPartDecimal(address) || (bits !== undefined && bits > 32))) return invalid();
      if (name === "ip6" && (!ipaddr.IPv6.isValid(address) || (bits !== undefined && bits > 128))) return invalid();
      mechanism.value = address;
      if (name === "ip4") mechanism.cidr4 = bits ?? 32;
      else mechanism.cidr6 = bits ?? 128;
    } else {
      // include, exists: ":domain" required; a, mx, ptr: optional; a and mx take "/cidr4" and "//cidr6".
      const parts = /^(?::([^/]+))?(?:\/(\d{1,2}))?(?:\/\/(\d{1,3}))?$/.exec(rest);
      if (!parts) return invalid();
      const [, domain, cidr4, cidr6] = parts;
      if ((name === "include" || name === "exists") && !domain) return invalid();
      if (domain !== undefined && !DOMAIN_SPEC.test(domain)) return invalid();
      if ((cidr4 !== undefined || cidr6 !== undefined) && name !== "a" && name !== "mx") return invalid();
      if (cidr4 !== undefined && Number(cidr4) > 32) return invalid();
      if (cidr6 !== undefined && Number(cidr6) > 128) return invalid();
      if (domain !== undefined) mechanism.value = domain;
      if (cidr4 !== undefined) mechanism.cidr4 = Number(cidr4);
      if (cidr6 !== undefined) mechanism.cidr6 = Number(cidr6);
    }
    mechanisms.push(mechanism);
  }
  return { ok: true, value: { mechanisms, ...(redirect !== undefined ? { redirect } : {}) } };
}

export type Lookup = (name: string, type: RecordType) => Promise<LookupResult>;

/** The SPF records among a name's TXT records, or why they could not be read. */
export async function spfRecordsAt(lookup: Lookup, domain: string): Promise<{ status: "ok"; records: string[] } | { status: "error"; message: string }> {
  const txt = await lookup(domain, "TXT");
  if (txt.status === "error") return { status: "error", message: txt.message };
  const texts = txt.status === "ok" ? txt.records.map(recordText) : [];
  return { status: "ok", records: texts.filter(isSpfRecord) };
}

export interface SpfLookupCount {
  /** Terms costing a DNS lookup, includes and redirects followed (RFC 7208 §4.6.4). */
  lookups: number;
  /** What makes receivers give up with permerror: an include without SPF record, a loop, a malformed included record. */
  permanentErrors: string[];
  /** What works but is discouraged or could not be followed: ptr, macros. */
  warnings: string[];
  /** Includes that could not be read because DNS did not answer. */
  unanswered: string[];
}

/**
 * Counts the DNS lookups a receiver would spend on the record, whatever the
 * sender's address: every include and redirect is followed, unlike an
 * evaluation, which stops at the first match.
 */
export async function countSpfLookups(lookup: Lookup, record: SpfRecord): Promise<SpfLookupCount> {
  const count: SpfLookupCount = { lookups: 0, permanentErrors: [], warnings: [], unanswered: [] };
  const visit = async (spf: SpfRecord, seen: Set<string>, depth: number): Promise<void> => {
    if (depth > SPF_LOOKUP_LIMIT) {
      count.permanentErrors.push("includes nest too deep (a loop?)");
      return;
    }
    const targets: string[] = [];
    for (const mechanism of spf.mechanisms) {
      if (!LOOKUP_TERMS.has(mechanism.name)) continue;
      count.lookups++;
      if (mechanism.name === "include") targets.push(mechanism.value!);
      if (mechanism.name === "ptr") count.warnings.push("uses the ptr mechanism, which RFC 7208 §5.5 says not to use");
    }
    if (spf.redirect !== undefined) {
      count.lookups++;
      targets.push(spf.redirect);
    }
    for (const target of targets) {
      if (target.includes("%")) {
        count.warnings.push(`${target} uses macros, which this check does not expand`);
        continue;
      }
      const name = normaliseName(target);
      if (seen.has(name)) {
        count.permanentErrors.push(`${name} is included twice on one path (a loop)`);
        continue;
      }
      const found = await spfRecordsAt(lookup, name);
      if (found.status === "error") {
        count.unanswered.push(`${name}: ${found.message}`);
        continue;
      }
      if (found.records.length !== 1) {
        count.permanentErrors.push(found.records.length === 0 ? `${name} (included) has no SPF record` : `${name} (included) has ${found.records.length} SPF records`);
        continue;
      }
      const parsed = parseSpf(found.records[0]!);
      if (!parsed.ok) {
        count.permanentErrors.push(`${name}'s SPF record ${parsed.error}`);
        continue;
      }
      await visit(parsed.value, new Set([...seen, name]), depth + 1);
    }
  };
  await visit(record, new Set(), 0);
  return count;
}

export type SpfResult = "pass" | "fail" | "softfail" | "neutral" | "none" | "permerror" | "temperror";

const QUALIFIER_RESULT: Record<SpfQualifier, SpfResult> = { "+": "pass", "-": "fail", "~": "softfail", "?": "neutral" };

interface EvaluationState {
  lookups: number;
  voids: number;
  note?: string;
}

class SpfStop extends Error {
  constructor(
    readonly result: "permerror" | "temperror",
    message: string,
  ) {
    super(message);
  }
}

/**
 * RFC 7208 check_host() for one address, enough to say whether the service's
 * mail server may send as the domain. Macros are not expanded (a term using
 * one does not match) and ptr never matches (RFC 7208 §5.5 discourages it).
 */
export async function evaluateSpf(lookup: Lookup, domain: string, ip: string): Promise<{ result: SpfResult; detail: string }> {
  const address = ipaddr.process(ip);
  const state: EvaluationState = { lookups: 0, voids: 0 };
  try {
    const result = await checkHost(lookup, normaliseName(domain), address, state, 0);
    return { result, detail: state.note ?? "" };
  } catch (error) {
    if (error instanceof SpfStop) return { result: error.result, detail: error.message };
    throw error;
  }
}

function countLookup(state: EvaluationState): void {
  state.lookups++;
  if (state.lookups > SPF_LOOKUP_LIMIT) throw new SpfStop("permerror", `more than ${SPF_LOOKUP_LIMIT} DNS lookups`);
}

function voidLookup(state: EvaluationState, result: LookupResult): void {
  if (result.status === "error") throw new SpfStop("temperror", result.message);
  if (result.status !== "ok" && ++state.voids > SPF_VOID_LIMIT) throw new SpfStop("permerror", `more than ${SPF_VOID_LIMIT} lookups found nothing (RFC 7208 §4.6.4)`);
}

function inNetwork(address: ipaddr.IPv4 | ipaddr.IPv6, candidate: string, cidr4: number | undefined, cidr6: number | undefined): boolean {
  if (!ipaddr.isValid(candidate)) return false;
  const other = ipaddr.process(candidate);
  if (other.kind() !== address.kind()) return false;
  return address.match(other, address.kind() === "ipv4" ? (cidr4 ?? 32) : (cidr6 ?? 128));
}

async function addressesMatch(lookup: Lookup, host: string, address: ipaddr.IPv4 | ipaddr.IPv6, mechanism: SpfMechanism, state: EvaluationState): Promise<boolean> {
  const found = await lookup(host, address.kind() === "ipv4" ? "A" : "AAAA");
  voidLookup(state, found);
  if (found.status !== "ok") return false;
  return found.records.some((record) => inNetwork(address, recordText(record), mechanism.cidr4, mechanism.cidr6));
}

async function checkHost(lookup: Lookup, domain: string, address: ipaddr.IPv4 | ipaddr.IPv6, state: EvaluationState, depth: number): Promise<SpfResult> {
  if (depth > SPF_LOOKUP_LIMIT) throw new SpfStop("permerror", "includes nest too deep");
  const found = await spfRecordsAt(lookup, domain);
  if (found.status === "error") throw new SpfStop("temperror", found.message);
  if (found.records.length === 0) return "none";
  if (found.records.length > 1) throw new SpfStop("permerror", `${domain} has ${found.records.length} SPF records`);
  const parsed = parseSpf(found.records[0]!);
  if (!parsed.ok) throw new SpfStop("permerror", `${domain}'s SPF record ${parsed.error}`);
  for (const mechanism of parsed.value.mechanisms) {
    if (LOOKUP_TERMS.has(mechanism.name)) countLookup(state);
    if (mechanism.value?.includes("%")) {
      state.note = `${mechanism.raw} uses macros and was not evaluated`;
      continue;
    }
    const target = normaliseName(mechanism.value ?? domain);
    let matched = false;
    switch (mechanism.name) {
      case "all":
        matched = true;
        break;
      case "ip4":
      case "ip6":
        matched = inNetwork(address, mechanism.value!, mechanism.cidr4, mechanism.cidr6);
        break;
      case "a":
        matched = await addressesMatch(lookup, target, address, mechanism, state);
        break;
      case "mx": {
        const mx = await lookup(target, "MX");
        voidLookup(state, mx);
        // RFC 7208 §4.6.4: at most 10 MX hosts are looked at.
        const hosts = mx.status === "ok" ? mx.records.slice(0, 10).map((record) => (record.data as { exchange: string }).exchange) : [];
        for (const host of hosts) {
          if (await addressesMatch(lookup, host, address, mechanism, state)) {
            matched = true;
            break;
          }
        }
        break;
      }
      case "exists": {
        const exists = await lookup(target, "A");
        voidLookup(state, exists);
        matched = exists.status === "ok";
        break;
      }
      case "include": {
        const included = await checkHost(lookup, target, address, state, depth + 1);
        if (included === "none") throw new SpfStop("permerror", `include:${target} has no SPF record`);
        if (included === "temperror" || included === "permerror") throw new SpfStop(included, `include:${target} gave ${included}`);
        matched = included === "pass";
        break;
      }
      case "ptr":
        break;
    }
    if (matched) return QUALIFIER_RESULT[mechanism.qualifier];
  }
  if (parsed.value.redirect !== undefined) {
    countLookup(state);
    const target = normaliseName(parsed.value.redirect);
    const redirected = await checkHost(lookup, target, address, state, depth + 1);
    if (redirected === "none") throw new SpfStop("permerror", `redirect=${target} has no SPF record`);
    return redirected;
  }
  return "neutral";
}

// ---------------------------------------------------------------------------
// Tag-value lists: DKIM, DMARC, MTA-STS and TLS-RPT records

/** Parses "tag=value; tag=value" (RFC 6376 §3.2). Tags are case-sensitive; a repeated tag is an error. */
export function parseTagList(text: string): Parsed<Map<string, string>> {
  const tags = new Map<string, string>();
  for (const part of text.split(";")) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const equals = trimmed.indexOf("=");
    if (equals <= 0) return { ok: false, error: `"${trimmed}" is not tag=value` };
    const tag = trimmed.slice(0, equals).trim();
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(tag)) return { ok: false, error: `"${tag}" is not a tag name` };
    if (tags.has(tag)) return { ok: false, error: `the tag ${tag} appears twice` };
    tags.set(tag, trimmed.slice(equals + 1).trim());
  }
  return { ok: true, value: tags };
}

export interface DkimKeyRecord {
  keyType: string;
  /** Base64 without whitespace; "" means the key was revoked. */
  publicKey: string;
}

export function parseDkimKey(text: string): Parsed<DkimKeyRecord> {
  const parsed = parseTagList(text);
  if (!parsed.ok) return parsed;
  const tags = parsed.value;
  const version = tags.get("v");
  if (version !== undefined && (version !== "DKIM1" || !/^\s*v\s*=/.test(text))) return { ok: false, error: "v= must be DKIM1 and come first" };
  const publicKey = tags.get("p");
  if (publicKey === undefined) return { ok: false, error: "has no p= (public key) tag" };
  const compact = publicKey.replace(/\s+/g, "");
  if (compact !== "" && !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return { ok: false, error: "p= is not base64" };
  return { ok: true, value: { keyType: tags.get("k") ?? "rsa", publicKey: compact } };
}

export type DmarcPolicy = "none" | "quarantine" | "reject";

export interface DmarcRecord {
  policy: DmarcPolicy;
  subdomainPolicy?: DmarcPolicy;
  percent: number;
  reportAddresses: string[];
}

const DMARC_POLICIES = new Set(["none", "quarantine", "reject"]);

export function parseDmarc(text: string): Parsed<DmarcRecord> {
  // RFC 7489 §6.4: the record starts with exactly "v=DMARC1".
  if (!/^v\s*=\s*DMARC1\s*(;|$)/.test(text.trim())) return { ok: false, error: "does not start with v=DMARC1" };
  const parsed = parseTagList(text);
  if (!parsed.ok) return parsed;
  const tags = parsed.value;
  const policy = tags.get("p");
  if (policy === undefined) return { ok: false, error: "has no p= (policy) tag" };
  if (!DMARC_POLICIES.has(policy.toLowerCase())) return { ok: false, error: `p=${policy} is not none, quarantine or reject` };
  const subdomainPolicy = tags.get("sp");
  if (subdomainPolicy !== undefined && !DMARC_POLICIES.has(subdomainPolicy.toLowerCase())) return { ok: false, error: `sp=${subdomainPolicy} is not none, quarantine or reject` };
  for (const alignment of ["adkim", "aspf"]) {
    const value = tags.get(alignment);
    if (value !== undefined && value !== "r" && value !== "s") return { ok: false, error: `${alignment}=${value} is not r or s` };
  }
  const pct = tags.get("pct") ?? "100";
  if (!/^\d{1,3}$/.test(pct) || Number(pct) > 100) return { ok: false, error: `pct=${pct} is not a number from 0 to 100` };
  const reportAddresses: string[] = [];
  for (const tag of ["rua", "ruf"]) {
    const value = tags.get(tag);
    if (value === undefined) continue;
    for (const uri of value.split(",").map((item) => item.trim())) {
      if (!/^(mailto:[^\s@]+@[^\s@]+|https?:\/\/\S+)$/i.test(uri)) return { ok: false, error: `${tag}= holds "${uri}", not a mailto: or https: URI` };
      if (tag === "rua") reportAddresses.push(uri);
    }
  }
  return {
    ok: true,
    value: {
      policy: policy.toLowerCase() as DmarcPolicy,
      ...(subdomainPolicy !== undefined ? { subdomainPolicy: subdomainPolicy.toLowerCase() as DmarcPolicy } : {}),
      percent: Number(pct),
      reportAddresses,
    },
  };
}

export const DMARC_STRENGTH: Record<DmarcPolicy, number> = { none: 0, quarantine: 1, reject: 2 };

export function parseMtaSts(text: string): Parsed<{ id: string }> {
  if (!/^v=STSv1\s*(;|$)/.test(text.trim())) return { ok: false, error: "does not start with v=STSv1" };
  const parsed = parseTagList(text);
  if (!parsed.ok) return parsed;
  const id = parsed.value.get("id");
  if (id === undefined || !/^[A-Za-z0-9]{1,32}$/.test(id)) return { ok: false, error: "id= must be 1 to 32 letters and digits" };
  return { ok: true, value: { id } };
}

export function parseTlsRpt(text: string): Parsed<{ reportAddresses: string[] }> {
  if (!/^v=TLSRPTv1\s*(;|$)/.test(text.trim())) return { ok: false, error: "does not start with v=TLSRPTv1" };
  const parsed = parseTagList(text);
  if (!parsed.ok) return parsed;
  const rua = parsed.value.get("rua");
  if (rua === undefined) return { ok: false, error: "has no rua= (report address) tag" };
  const addresses = rua.split(",").map((item) => item.trim());
  const bad = addresses.find((uri) => !/^(mailto:[^\s@]+@[^\s@]+|https:\/\/\S+)$/i.test(uri));
  if (bad !== undefined) return { ok: false, error: `rua= holds "${bad}", not a mailto: or https: URI` };
  return { ok: true, value: { reportAddresses: addresses } };
}
