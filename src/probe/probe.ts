// Probes a domain's mail servers the way support did by hand (MX, then the
// exchangers' addresses, then a connection to port 25 and its greeting), and
// says in one sentence what it found. Knows nothing of GraphQL or the
// database: DNS lookups, sockets, clock and limits are passed in.
import { isPrivateAddress } from "../shared/addresses";
import { DnsLookup, addressesOf, type LookupResult } from "../dns/dns.lookup";
import type { DnsServer, DnsTransport } from "../dns/dns.transport";
import { smtpDialogue, type DialogueResult, type DialogueTimeouts, type SocketFactory } from "./probe.smtp";

export type MxSource = "MX" | "IMPLICIT" | "NULL_MX" | "NONE";
export type ProbeStatus = "REACHABLE" | "PARTIAL" | "UNREACHABLE" | "REJECTING" | "NO_MAIL_SERVER" | "DNS_FAILURE";

export interface ProbeExchanger {
  host: string;
  /** MX preference; null for the implicit MX. */
  preference: number | null;
  addresses: string[];
  /** Why the addresses could not be found, when they could not. */
  dnsError: string | null;
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
  verdict: string;
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

function lookupError(result: LookupResult): string | null {
  switch (result.status) {
    case "ok":
      return null;
    case "nodata":
      return `no such records for ${result.name}`;
    case "nxdomain":
      return `${result.name} does not exist in DNS (NXDOMAIN)`;
    case "error":
      return `DNS did not answer for ${result.name}: ${result.message}`;
  }
}

async function findExchangers(lookup: DnsLookup, domain: string): Promise<{ source: MxSource; exchangers: ProbeExchanger[]; dnsError: string | null }> {
  const mx = await lookup.resolve(domain, "MX");
  const addressesFor = async (host: string, preference: number | null): Promise<ProbeExchanger> => {
    const { v4, v6 } = await lookup.addresses(host);
    const addresses = [...addressesOf(v4), ...addressesOf(v6)];
    const errors = [v4, v6].filter((result) => result.status === "error").map(lookupError);
    const dnsError = addresses.length > 0 ? null : (errors[0] ?? (v4.status === "nxdomain" ? lookupError(v4) : `${host} has no A or AAAA record`));
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

function describeAttempt(attempt: ProbeAttempt): string {
  const who = attempt.address === attempt.host ? attempt.host : `${attempt.host} (${attempt.address})`;
  switch (attempt.outcome) {
    case "GREETED":
      return `${who} greeted in ${attempt.greetingMs} ms`;
    case "GREETING_REJECTED":
      return `${who} answered ${attempt.greeting?.code} "${attempt.greeting?.lines.join(" ")}"`;
    case "REFUSED":
      return `${who} refused the connection`;
    case "TIMEOUT":
      return attempt.failedStep === "CONNECT"
        ? `${who} did not answer the connection (timed out)`
        : `${who} accepted the connection but timed out at ${attempt.failedStep?.toLowerCase().replaceAll("_", " ")}`;
    case "UNREACHABLE":
      return `${who} is unreachable (${attempt.error})`;
    case "PROTOCOL_ERROR":
      return `${who} broke off the conversation (${attempt.error})`;
    case "NOT_ALLOWED":
      return `${who} is a private address and was not probed`;
    case "SKIPPED":
      return `${who} was not tried (time budget spent)`;
  }
}

function summarise(domain: string, source: MxSource, exchangers: ProbeExchanger[], attempts: ProbeAttempt[], dnsError: string | null): { status: ProbeStatus; verdict: string } {
  if (dnsError) return { status: "DNS_FAILURE", verdict: `The mail servers of ${domain} could not be found: ${dnsError}. Mail to ${domain} waits until its DNS answers.` };
  if (source === "NULL_MX")
    return {
      status: "NO_MAIL_SERVER",
      verdict: `${domain} publishes a null MX (RFC 7505): it accepts no mail at all. Mail to it will bounce; the sender should use another address.`,
    };
  if (exchangers.every((exchanger) => exchanger.addresses.length === 0)) {
    const reasons = exchangers.map((exchanger) => `${exchanger.host}: ${exchanger.dnsError}`).join("; ");
    return {
      status: source === "NONE" && exchangers.length <= 1 ? "NO_MAIL_SERVER" : "DNS_FAILURE",
      verdict: `${domain} has no mail server with an address (${reasons || "no MX and no A/AAAA record"}): mail to it cannot be delivered until the recipient fixes its DNS.`,
    };
  }
  const parts = attempts.map(describeAttempt);
  const greeted = attempts.filter((attempt) => attempt.outcome === "GREETED");
  const rejecting = attempts.filter((attempt) => attempt.outcome === "GREETING_REJECTED");
  const listing = `${parts.join("; ")}`;
  if (greeted.length === attempts.length && greeted.length > 0) return { status: "REACHABLE", verdict: `${listing}: the remote side is up and accepts connections.` };
  if (greeted.length > 0) return { status: "PARTIAL", verdict: `${listing}: the remote side is up, a retry will succeed.` };
  if (rejecting.length > 0) {
    const temporary = rejecting.some((attempt) => (attempt.greeting?.code ?? 500) < 500);
    return {
      status: "REJECTING",
      verdict: `${listing}: the remote side is up but ${temporary ? "turning connections away for now (4xx): the queue retries and should get through later" : "refuses to accept mail from us (5xx): ask the recipient's administrator"}.`,
    };
  }
  if (attempts.every((attempt) => attempt.outcome === "NOT_ALLOWED")) {
    return { status: "UNREACHABLE", verdict: `${listing}: private addresses are not probed (PROBE_ALLOW_PRIVATE); no public server publishes mail for ${domain}.` };
  }
  return {
    status: "UNREACHABLE",
    verdict: `${listing}: the remote side is down or unreachable from here; mail waits in the queue and the recipient's administrator must bring the server back.`,
  };
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
