// Probes a domain's mail servers the way support did by hand (MX, then the
// exchangers' addresses, then a connection to port 25 and its greeting), and
// says in one sentence what it found. Knows nothing of GraphQL or the
// database: DNS lookups, sockets, clock and limits are passed in.
import { isPrivateAddress } from "../shared/addresses";
import { DnsLookup, addressesOf, type LookupResult } from "../dns/dns.lookup";
import type { DnsServer, DnsTransport } from "../dns/dns.transport";
import { smtpDialogue, type DialogueResult, type DialogueTimeouts, type SocketFactory } from "./probe.smtp";
import { message, Message } from "../i18n/messages";
import type { Language } from "../i18n/language";
import { writeText, type Text } from "../i18n/text";

/**
 * Texts written one after the other, joined the language's way: the probe's
 * attempts in a verdict ("a; b" / "a；b"), an exchanger and why it has no
 * address ("host: error" / "host：error"), a finding's actions in one string.
 * Each part is written in the answer's language; only the separator differs.
 */
export class TextList extends Message {
  constructor(
    readonly parts: Text[],
    readonly separator: Record<Language, string>,
  ) {
    super("probe.list");
  }

  /** Kept in JSON (not expected: lists are written at once) as its English text. */
  override toJSON(): ReturnType<Message["toJSON"]> {
    return { messageId: "probe.list", values: { text: this.in("en") } };
  }

  override in(language: Language): string {
    return this.parts.map((part) => writeText(part, language) ?? "").join(this.separator[language]);
  }
}

/** "a; b; c" in English, "a；b；c" in Chinese. */
export const SEMICOLONS: Record<Language, string> = { en: "; ", "zh-TW": "；" };
/** "host: text" in English, "host：text" in Chinese. */
export const COLON: Record<Language, string> = { en: ": ", "zh-TW": "：" };

export type MxSource = "MX" | "IMPLICIT" | "NULL_MX" | "NONE";
export type ProbeStatus = "REACHABLE" | "PARTIAL" | "UNREACHABLE" | "REJECTING" | "NO_MAIL_SERVER" | "DNS_FAILURE";

export interface ProbeExchanger {
  host: string;
  /** MX preference; null for the implicit MX. */
  preference: number | null;
  addresses: string[];
  /** Why the addresses could not be found, when they could not (written in the answer's language). */
  dnsError: Text | null;
}

export interface ProbeAttempt extends DialogueResult {
  host: string;
  address: string;
  port: number;
  durationMs: number;
}

export interface MailServerProbe {
  domain: string;
  mxSource: MxSource;
  exchangers: ProbeExchanger[];
  attempts: ProbeAttempt[];
  status: ProbeStatus;
  /** Written in the answer's language by the resolver. */
  verdict: Message;
  startedAt: Date;
  durationMs: number;
}

export interface ProbeOptions {
  dns: { transport: DnsTransport; resolvers: DnsServer[]; queryTimeoutMs: number; attempts: number };
  sockets: SocketFactory;
  port: number;
  timeouts: DialogueTimeouts;
  totalBudgetMs: number;
  maxAddresses: number;
  allowPrivate: boolean;
  startTls: boolean;
  heloName: string;
  clock: () => Date;
  monotonicNow?: () => number;
}

export { isPrivateAddress };

function lookupError(result: LookupResult): Message | null {
  switch (result.status) {
    case "ok":
      return null;
    case "nodata":
      return message("probe.dns.nodata", { name: result.name });
    case "nxdomain":
      return message("probe.dns.nxdomain", { name: result.name });
    case "error":
      return message("probe.dns.error", { name: result.name, error: result.message });
  }
}

async function findExchangers(lookup: DnsLookup, domain: string): Promise<{ source: MxSource; exchangers: ProbeExchanger[]; dnsError: Message | null }> {
  const mx = await lookup.resolve(domain, "MX");
  const addressesFor = async (host: string, preference: number | null): Promise<ProbeExchanger> => {
    const { v4, v6 } = await lookup.addresses(host);
    const addresses = [...addressesOf(v4), ...addressesOf(v6)];
    const errors = [v4, v6].filter((result) => result.status === "error").map(lookupError);
    const dnsError = addresses.length > 0 ? null : (errors[0] ?? (v4.status === "nxdomain" ? lookupError(v4) : message("probe.dns.no_address", { host })));
    return { host, preference, addresses, dnsError };
  };
  if (mx.status === "ok") {
    const records = mx.records.flatMap((record) => (record.type === "MX" ? [record.data] : []));
    // RFC 7505: a single "MX 0 ." says the domain accepts no mail.
    if (records.length === 1 && (records[0]!.exchange === "" || records[0]!.exchange === ".")) return { source: "NULL_MX", exchangers: [], dnsError: null };
    const ordered = [...records].sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange));
    return { source: "MX", exchangers: await Promise.all(ordered.map((record) => addressesFor(record.exchange, record.preference))), dnsError: null };
  }
  if (mx.status === "nodata") {
    // RFC 5321 §5.1: no MX, so the domain itself is the (implicit) exchanger.
    const implicit = await addressesFor(domain, null);
    if (implicit.addresses.length === 0) return { source: "NONE", exchangers: [implicit], dnsError: null };
    return { source: "IMPLICIT", exchangers: [implicit], dnsError: null };
  }
  return { source: "NONE", exchangers: [], dnsError: lookupError(mx) };
}

function describeAttempt(attempt: ProbeAttempt): Message {
  const who = attempt.address === attempt.host ? attempt.host : `${attempt.host} (${attempt.address})`;
  switch (attempt.outcome) {
    case "GREETED":
      return message("probe.attempt.greeted", { who, ms: attempt.greetingMs ?? 0 });
    case "GREETING_REJECTED":
      return message("probe.attempt.greeting_rejected", { who, code: String(attempt.greeting?.code), text: attempt.greeting?.lines.join(" ") ?? "" });
    case "REFUSED":
      return message("probe.attempt.refused", { who });
    case "TIMEOUT":
      return attempt.failedStep === "CONNECT"
        ? message("probe.attempt.timeout_connect", { who })
        : message("probe.attempt.timeout_step", { who, step: attempt.failedStep ?? "other" });
    case "UNREACHABLE":
      return message("probe.attempt.unreachable", { who, error: attempt.error ?? "" });
    case "PROTOCOL_ERROR":
      return message("probe.attempt.protocol_error", { who, error: attempt.error ?? "" });
    case "NOT_ALLOWED":
      return message("probe.attempt.not_allowed", { who });
    case "SKIPPED":
      return message("probe.attempt.skipped", { who });
  }
}

function summarise(domain: string, source: MxSource, exchangers: ProbeExchanger[], attempts: ProbeAttempt[], dnsError: Message | null): { status: ProbeStatus; verdict: Message } {
  if (dnsError) return { status: "DNS_FAILURE", verdict: message("probe.verdict.dns_failure", { domain, error: dnsError }) };
  if (source === "NULL_MX") return { status: "NO_MAIL_SERVER", verdict: message("probe.verdict.null_mx", { domain }) };
  if (exchangers.every((exchanger) => exchanger.addresses.length === 0)) {
    const reasons = exchangers.map((exchanger) => new TextList([exchanger.host, exchanger.dnsError ?? ""], COLON));
    return {
      status: source === "NONE" && exchangers.length <= 1 ? "NO_MAIL_SERVER" : "DNS_FAILURE",
      verdict: message("probe.verdict.no_address", { domain, reasons: reasons.length > 0 ? new TextList(reasons, SEMICOLONS) : message("probe.no_records") }),
    };
  }
  const greeted = attempts.filter((attempt) => attempt.outcome === "GREETED");
  const rejecting = attempts.filter((attempt) => attempt.outcome === "GREETING_REJECTED");
  const listing = new TextList(attempts.map(describeAttempt), SEMICOLONS);
  if (greeted.length === attempts.length && greeted.length > 0) return { status: "REACHABLE", verdict: message("probe.verdict.reachable", { listing }) };
  if (greeted.length > 0) return { status: "PARTIAL", verdict: message("probe.verdict.partial", { listing }) };
  if (rejecting.length > 0) {
    const temporary = rejecting.some((attempt) => (attempt.greeting?.code ?? 500) < 500);
    return { status: "REJECTING", verdict: message(temporary ? "probe.verdict.rejecting_temporary" : "probe.verdict.rejecting_permanent", { listing }) };
  }
  if (attempts.every((attempt) => attempt.outcome === "NOT_ALLOWED")) {
    return { status: "UNREACHABLE", verdict: message("probe.verdict.private_only", { listing, domain }) };
  }
  return { status: "UNREACHABLE", verdict: message("probe.verdict.unreachable", { listing }) };
}

/** Least time left in the budget for which another address is still tried. */
const MIN_ATTEMPT_MS = 50;

export async function probeMailServer(domain: string, options: ProbeOptions): Promise<MailServerProbe> {
  const now = options.monotonicNow ?? (() => performance.now());
  const startedAt = options.clock();
  const started = now();
  const deadline = started + options.totalBudgetMs;
  const lookup = new DnsLookup({ ...options.dns, deadline, monotonicNow: now });
  const { source, exchangers, dnsError } = await findExchangers(lookup, domain);

  const targets = exchangers.flatMap((exchanger) => exchanger.addresses.map((address) => ({ host: exchanger.host, address })));
  const attempts: ProbeAttempt[] = [];
  // Bounded: a domain with twenty exchangers is probed on the first few, in MX order.
  for (const target of targets.slice(0, options.maxAddresses)) {
    const base = { host: target.host, address: target.address, port: options.port };
    if (!options.allowPrivate && isPrivateAddress(target.address)) {
      attempts.push({
        ...base,
        ...notTried("NOT_ALLOWED", `${target.address} is a private, loopback or link-local address; probing it is refused (PROBE_ALLOW_PRIVATE=false)`),
        durationMs: 0,
      });
      continue;
    }
    // Timers fire to the millisecond, not below it: a remainder of a few
    // milliseconds is a spent budget, not time for a connection and a greeting.
    if (deadline - now() < MIN_ATTEMPT_MS) {
      attempts.push({ ...base, ...notTried("SKIPPED", `the probe's total budget (${options.totalBudgetMs} ms) was spent before this address`), durationMs: 0 });
      continue;
    }
    const begun = now();
    const dialogue = await smtpDialogue({
      address: target.address,
      port: options.port,
      hostName: target.host,
      heloName: options.heloName,
      startTls: options.startTls,
      timeouts: options.timeouts,
      deadline,
      sockets: options.sockets,
      monotonicNow: now,
    });
    attempts.push({ ...base, ...dialogue, durationMs: Math.round(now() - begun) });
  }
  const { status, verdict } = summarise(domain, source, exchangers, attempts, dnsError);
  return { domain, mxSource: source, exchangers, attempts, status, verdict, startedAt, durationMs: Math.round(now() - started) };
}

function notTried(outcome: "NOT_ALLOWED" | "SKIPPED", error: string): DialogueResult {
  return { outcome, connected: false, failedStep: null, error, connectMs: null, greetingMs: null, greeting: null, ehlo: null, extensions: [], tls: null, transcript: [] };
}
