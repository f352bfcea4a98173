// The lookups of one DNS check: questions to the configured resolvers
// (DNS_SERVERS) and to a domain's own nameservers, each asked once per check,
// within per-query timeouts and the check's overall deadline. Outcomes are
// values (answer, no data, no such name, error), never exceptions, so that a
// dead server becomes an ERROR finding and not a failed request.
import { isPrivateAddress } from "../shared/addresses";
import { DnsTransportError, normaliseName, recordText, type DnsRecord, type DnsResponse, type DnsServer, type DnsTransport, type RecordType } from "./dns.transport";

/** A CNAME met on the way from the name asked to the records. */
export interface CnameStep {
  from: string;
  to: string;
}

export type LookupResult =
  | { status: "ok"; name: string; records: DnsRecord[]; cnames: CnameStep[] }
  | { status: "nodata"; name: string; cnames: CnameStep[]; soa?: DnsRecord }
  | { status: "nxdomain"; name: string; cnames: CnameStep[]; soa?: DnsRecord }
  | { status: "error"; name: string; message: string };

/** What one server said to a direct (non-recursive) question, or why it said nothing. */
export type DirectResult =
  | { status: "answered"; response: DnsResponse }
  /** not_allowed: never sent (a private address, DNS_ALLOW_PRIVATE). */
  | { status: "error"; message: string; reason: DnsTransportError["reason"] | "not_allowed" };

export interface LookupOptions {
  transport: DnsTransport;
  /** Recursive resolvers, asked in order; the next one when one fails. */
  resolvers: DnsServer[];
  queryTimeoutMs: number;
  /** Rounds over the resolvers (and tries per nameserver) before giving up. */
  attempts: number;
  /** Monotonic milliseconds after which no query is sent and pending ones give up. */
  deadline: number;
  monotonicNow?: () => number;
  /**
   * Whether nameservers at private, loopback or link-local addresses, learnt
   * from a customer's DNS, may be asked (DNS_ALLOW_PRIVATE). The configured
   * resolvers are always asked.
   */
  allowPrivate?: boolean;
}

/** How many CNAMEs a chain may have before it is taken for a loop (resolvers use 8 to 16). */
const MAX_CNAME_CHAIN = 8;

export class DnsLookup {
  private readonly memo = new Map<string, Promise<unknown>>();
  private readonly now: () => number;
  /** Every query sent, for the benchmark's replay with dig and for debugging. */
  readonly sent: { server: DnsServer; name: string; type: RecordType; recursionDesired: boolean }[] = [];

  constructor(private readonly options: LookupOptions) {
    this.now = options.monotonicNow ?? (() => performance.now());
  }

  private once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let pending = this.memo.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = compute();
      this.memo.set(key, pending);
    }
    return pending;
  }

  private async send(server: DnsServer, name: string, type: RecordType, recursionDesired: boolean): Promise<DnsResponse> {
    const left = this.options.deadline - this.now();
    if (left <= 0) throw new DnsTransportError("the check ran out of time before this query could be sent (DNS_CHECK_TIMEOUT_MS)", "timeout");
    this.sent.push({ server, name, type, recursionDesired });
    return this.options.transport.query(server, { name, type, recursionDesired }, Math.min(this.options.queryTimeoutMs, left));
  }

  /** Asks the resolvers, following CNAMEs, and says what the name holds. */
  resolve(name: string, type: RecordType): Promise<LookupResult> {
    const wanted = normaliseName(name);
    return this.once(`r ${wanted} ${type}`, () => this.resolveUncached(wanted, type, 0));
  }

  private async resolveUncached(name: string, type: RecordType, depth: number): Promise<LookupResult> {
    const failures: string[] = [];
    for (let attempt = 0; attempt < this.options.attempts; attempt++) {
      for (const server of this.options.resolvers) {
        let response: DnsResponse;
        try {
          response = await this.send(server, name, type, true);
        } catch (error) {
          failures.push(error instanceof Error ? error.message : String(error));
          if (this.now() >= this.options.deadline) return { status: "error", name, message: failures[failures.length - 1]! };
          continue;
        }
        if (response.rcode !== "NOERROR" && response.rcode !== "NXDOMAIN") {
          failures.push(`${server.host}:${server.port} answered ${response.rcode}`);
          continue;
        }
        return this.classify(name, type, response, depth);
      }
    }
    return { status: "error", name, message: failures[failures.length - 1] ?? "no resolver is configured (DNS_SERVERS)" };
  }

  private async classify(name: string, type: RecordType, response: DnsResponse, depth: number): Promise<LookupResult> {
    const cnames: CnameStep[] = [];
    let current = name;
    for (;;) {
      const records = response.answers.filter((record) => record.name === current && record.type === type);
      if (records.length > 0) return { status: "ok", name, records, cnames };
      const alias = response.answers.find((record) => record.name === current && record.type === "CNAME");
      if (!alias || type === "CNAME") break;
      cnames.push({ from: current, to: alias.data as string });
      current = alias.data as string;
      if (cnames.length > MAX_CNAME_CHAIN) return { status: "error", name, message: `the CNAME chain from ${name} is longer than ${MAX_CNAME_CHAIN} (a loop?)` };
    }
    if (cnames.length > 0 && depth < MAX_CNAME_CHAIN) {
      // The server gave the alias but not the target's records (the target
      // lives in another zone): ask for the target.
      const target = await this.resolveUncached(current, type, depth + cnames.length);
      if (target.status === "error") return { ...target, name };
      return { ...target, name, cnames: [...cnames, ...target.cnames] };
    }
    const soa = response.authorities.find((record) => record.type === "SOA");
    return { status: response.rcode === "NXDOMAIN" ? "nxdomain" : "nodata", name, cnames, ...(soa ? { soa } : {}) };
  }

  /** The A and AAAA records of a host, both asked at once. */
  async addresses(name: string): Promise<{ v4: LookupResult; v6: LookupResult }> {
    const [v4, v6] = await Promise.all([this.resolve(name, "A"), this.resolve(name, "AAAA")]);
    return { v4, v6 };
  }

  /** Asks one nameserver directly for its own data (no recursion), with the configured tries. */
  ask(server: DnsServer, name: string, type: RecordType): Promise<DirectResult> {
    const wanted = normaliseName(name);
    const configured = this.options.resolvers.some((resolver) => resolver.host === server.host && resolver.port === server.port);
    if (!this.options.allowPrivate && !configured && isPrivateAddress(server.host)) {
      // Not sent at all: a customer's NS records must not make this service probe its own network.
      return Promise.resolve({
        status: "error",
        reason: "not_allowed",
        message: `not queried: ${server.host} is a private, loopback or link-local address, and the DNS check sends no query there (DNS_ALLOW_PRIVATE)`,
      });
    }
    return this.once(`d ${server.host} ${server.port} ${wanted} ${type}`, async () => {
      let last: DnsTransportError | undefined;
      for (let attempt = 0; attempt < this.options.attempts; attempt++) {
        try {
          return { status: "answered", response: await this.send(server, wanted, type, false) } as const;
        } catch (error) {
          last = error instanceof DnsTransportError ? error : new DnsTransportError(String(error), "malformed");
          // A refused connection will be refused again; only silence is worth a second try.
          if (last.reason !== "timeout" || this.now() >= this.options.deadline) break;
        }
      }
      return { status: "error", message: last?.message ?? "not asked", reason: last?.reason ?? "timeout" } as const;
    });
  }
}

/** The addresses a lookup found, in a stable order. */
export function addressesOf(result: LookupResult): string[] {
  return result.status === "ok" ? result.records.map(recordText).sort() : [];
}
