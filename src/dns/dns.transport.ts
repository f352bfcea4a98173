// DNS over UDP (and TCP when a UDP answer comes back truncated), on the wire
// format of dns-packet. One query, one server, one answer or one error: which
// servers to ask and what the answer means is dns.lookup.ts's business.
import { createSocket, type Socket } from "node:dgram";
import { connect as connectTcp, isIPv6 } from "node:net";
import { randomInt } from "node:crypto";
import * as dnsPacket from "dns-packet";
import type { DnsServer } from "../shared/dns-servers";

export type RecordType = "A" | "AAAA" | "CNAME" | "MX" | "NS" | "PTR" | "SOA" | "TXT";

export type { DnsServer } from "../shared/dns-servers";
export { parseDnsServerList } from "../shared/dns-servers";

export interface DnsQuery {
  name: string;
  type: RecordType;
  /** RD bit: ask a resolver to recurse (true) or an authoritative server for its own data (false). */
  recursionDesired: boolean;
}

export interface SoaRecordData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** One resource record, its data normalised to what the checks compare. */
export type DnsRecord =
  | { name: string; ttl: number; type: "A" | "AAAA" | "CNAME" | "NS" | "PTR"; data: string }
  | { name: string; ttl: number; type: "MX"; data: { preference: number; exchange: string } }
  | { name: string; ttl: number; type: "TXT"; data: string }
  | { name: string; ttl: number; type: "SOA"; data: SoaRecordData }
  | { name: string; ttl: number; type: "OTHER"; data: null };

/** The data of a record as text: what an A, AAAA, CNAME, NS, PTR or TXT record holds (the lookups that use it ask for those types only). */
export function recordText(record: DnsRecord): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- the other types never reach here; String() is what they always got
  return String(record.data);
}

export interface DnsResponse {
  rcode: string;
  authoritative: boolean;
  truncated: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  // The additional section (glue) is not kept: the checks look every address
  // up themselves, and converting glue that nobody reads costs a sweep time.
}

/** The server did not answer in time, refused the connection, or sent something that is not an answer to our question. */
export class DnsTransportError extends Error {
  constructor(
    message: string,
    readonly reason: "timeout" | "unreachable" | "malformed",
  ) {
    super(message);
    this.name = "DnsTransportError";
  }
}

/** Sends one query to one server. Never retries: the caller decides. */
export interface DnsTransport {
  query(server: DnsServer, query: DnsQuery, timeoutMs: number): Promise<DnsResponse>;
}

/** Lower-case, without the trailing dot: the one form every comparison uses. */
export function normaliseName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

function toRecord(answer: dnsPacket.Answer): DnsRecord | undefined {
  const base = { name: normaliseName(answer.name), ttl: "ttl" in answer ? (answer.ttl ?? 0) : 0 };
  switch (answer.type) {
    case "A":
    case "AAAA":
      return { ...base, type: answer.type, data: answer.data };
    case "CNAME":
    case "NS":
    case "PTR":
      return { ...base, type: answer.type, data: normaliseName(answer.data) };
    case "MX":
      return { ...base, type: "MX", data: { preference: answer.data.preference ?? 0, exchange: normaliseName(answer.data.exchange) } };
    case "TXT": {
      // A TXT record is a list of strings; SPF, DKIM and DMARC read them joined
      // without separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
      const parts = Array.isArray(answer.data) ? answer.data : [answer.data];
      return { ...base, type: "TXT", data: parts.map((part) => (typeof part === "string" ? part : part.toString("utf8"))).join("") };
    }
    case "SOA": {
      const soa = answer.data;
      return {
        ...base,
        type: "SOA",
        data: {
          mname: normaliseName(soa.mname),
          rname: normaliseName(soa.rname),
          serial: soa.serial ?? 0,
          refresh: soa.refresh ?? 0,
          retry: soa.retry ?? 0,
          expire: soa.expire ?? 0,
          minimum: soa.minimum ?? 0,
        },
      };
    }
    case "OPT":
      return undefined;
    default:
      return { ...base, type: "OTHER", data: null };
  }
}

function encodeQuery(id: number, query: DnsQuery): Buffer {
  return dnsPacket.encode({
    type: "query",
    id,
    flags: query.recursionDesired ? dnsPacket.RECURSION_DESIRED : 0,
    questions: [{ type: query.type, name: query.name, class: "IN" }],
    // EDNS0 with the 1232-byte payload of DNS Flag Day 2020: large TXT sets
    // (DKIM keys) fit without falling back to TCP, and no fragmentation.
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
  });
}

function decodeResponse(id: number, query: DnsQuery, message: Buffer): DnsResponse | undefined {
  let decoded: dnsPacket.DecodedPacket & { rcode?: string };
  try {
    decoded = dnsPacket.decode(message);
  } catch {
    return undefined;
  }
  // An answer to another question (a late answer to an earlier query, or
  // spoofing) is not ours: ignore it and keep waiting.
  const question = decoded.questions?.[0];
  if (decoded.id !== id || !decoded.flag_qr || !question || normaliseName(question.name) !== normaliseName(query.name) || question.type !== query.type) {
    return undefined;
  }
  const records = (answers: dnsPacket.Answer[] | undefined) => (answers ?? []).map(toRecord).filter((record): record is DnsRecord => record !== undefined);
  return {
    rcode: decoded.rcode ?? "NOERROR",
    authoritative: decoded.flag_aa,
    truncated: decoded.flag_tc,
    answers: records(decoded.answers),
    authorities: records(decoded.authorities),
  };
}

interface PendingQuery {
  server: DnsServer;
  query: DnsQuery;
  settle(error: Error | undefined, response?: DnsResponse): void;
}

interface PooledSocket {
  socket: Socket;
  pending: Map<number, PendingQuery>;
  uses: number;
  retired: boolean;
}

/**
 * A few long-lived UDP sockets shared by all queries, answers told apart by
 * query id, source address and question. Opening, connecting and closing a
 * socket per query cost three times what the query itself costs, which a
 * nightly sweep of thousands of domains pays thousands of times over. Each
 * socket is replaced after a number of queries, so the source port still
 * changes over time (RFC 5452), and an answer must come from the address and
 * port asked and echo the question to be taken.
 */
class UdpSocketPool {
  private readonly sockets = new Map<"udp4" | "udp6", PooledSocket[]>();
  private turn = 0;

  constructor(
    private readonly size: number,
    private readonly queriesPerSocket: number,
  ) {}

  private open(family: "udp4" | "udp6"): PooledSocket {
    const pooled: PooledSocket = { socket: createSocket(family), pending: new Map(), uses: 0, retired: false };
    // Idle sockets must not keep a process (a test run, a CLI) alive.
    pooled.socket.unref();
    pooled.socket.on("message", (message, remote) => {
      if (message.length < 2) return;
      const id = message.readUInt16BE(0);
      const waiting = pooled.pending.get(id);
      if (!waiting || remote.address !== waiting.server.host || remote.port !== waiting.server.port) return;
      const response = decodeResponse(id, waiting.query, message);
      if (response) waiting.settle(undefined, response);
    });
    pooled.socket.on("error", (error: NodeJS.ErrnoException) => {
      this.retire(pooled);
      for (const waiting of [...pooled.pending.values()]) {
        waiting.settle(new DnsTransportError(`${waiting.server.host}:${waiting.server.port} is unreachable (${error.code ?? error.message})`, "unreachable"));
      }
    });
    return pooled;
  }

  private retire(pooled: PooledSocket): void {
    if (pooled.retired) return;
    pooled.retired = true;
    for (const list of this.sockets.values()) {
      const index = list.indexOf(pooled);
      if (index >= 0) list.splice(index, 1);
    }
    if (pooled.pending.size === 0) pooled.socket.close();
  }

  private pick(family: "udp4" | "udp6"): PooledSocket {
    const list = this.sockets.get(family) ?? [];
    this.sockets.set(family, list);
    if (list.length < this.size) {
      const pooled = this.open(family);
      list.push(pooled);
      return pooled;
    }
    this.turn = (this.turn + 1) % list.length;
    const pooled = list[this.turn]!;
    if (pooled.uses < this.queriesPerSocket) return pooled;
    this.retire(pooled);
    const fresh = this.open(family);
    list.push(fresh);
    return fresh;
  }

  query(server: DnsServer, query: DnsQuery, timeoutMs: number): Promise<DnsResponse> {
    return new Promise((resolve, reject) => {
      const pooled = this.pick(isIPv6(server.host) ? "udp6" : "udp4");
      pooled.uses++;
      let id = randomInt(0, 65536);
      while (pooled.pending.has(id)) id = randomInt(0, 65536);
      const timer = setTimeout(
        () => waiting.settle(new DnsTransportError(`${server.host}:${server.port} did not answer ${query.name} ${query.type} within ${timeoutMs} ms`, "timeout")),
        timeoutMs,
      );
      const waiting: PendingQuery = {
        server,
        query,
        settle: (error, response) => {
          if (pooled.pending.get(id) !== waiting) return;
          pooled.pending.delete(id);
          clearTimeout(timer);
          if (pooled.retired && pooled.pending.size === 0) pooled.socket.close();
          if (error) reject(error);
          else resolve(response!);
        },
      };
      pooled.pending.set(id, waiting);
      pooled.socket.send(encodeQuery(id, query), server.port, server.host, (error) => {
        if (error) waiting.settle(new DnsTransportError(`cannot send to ${server.host}:${server.port} (${error.message})`, "unreachable"));
      });
    });
  }
}

function queryTcp(server: DnsServer, query: DnsQuery, timeoutMs: number): Promise<DnsResponse> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65536);
    const socket = connectTcp({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (error: Error | undefined, response?: DnsResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    const timer = setTimeout(
      () => finish(new DnsTransportError(`${server.host}:${server.port} did not answer ${query.name} ${query.type} over TCP within ${timeoutMs} ms`, "timeout")),
      timeoutMs,
    );
    socket.on("error", (error: NodeJS.ErrnoException) =>
      finish(new DnsTransportError(`${server.host}:${server.port} is unreachable over TCP (${error.code ?? error.message})`, "unreachable")),
    );
    socket.on("connect", () => {
      const message = encodeQuery(id, query);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on("data", (chunk) => {
      received = Buffer.concat([received, chunk]);
      // RFC 1035 §4.2.2: each TCP message is preceded by its two-byte length.
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length < 2 + length) return;
      const response = decodeResponse(id, query, received.subarray(2, 2 + length));
      finish(response ? undefined : new DnsTransportError(`${server.host}:${server.port} sent a malformed TCP answer`, "malformed"), response);
    });
    socket.on("end", () => finish(new DnsTransportError(`${server.host}:${server.port} closed the TCP connection without answering`, "unreachable")));
  });
}

/**
 * Caps the queries in flight: a nightly sweep of thousands of domains must not
 * open thousands of sockets at once (file descriptors, and fairness to the
 * resolvers).
 */
export function limitConcurrency(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter, so the
    // count never goes above the limit even for a moment.
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

export function createUdpTransport(options: { maxInFlight?: number; sockets?: number; queriesPerSocket?: number } = {}): DnsTransport {
  const limit = limitConcurrency(options.maxInFlight ?? 256);
  const pool = new UdpSocketPool(options.sockets ?? 4, options.queriesPerSocket ?? 2000);
  return {
    query(server, query, timeoutMs) {
      return limit(async () => {
        const started = Date.now();
        const response = await pool.query(server, query, timeoutMs);
        if (!response.truncated) return response;
        // RFC 7766: a truncated UDP answer is retried over TCP, within what is left of the time.
        return queryTcp(server, query, Math.max(1, timeoutMs - (Date.now() - started)));
      });
    },
  };
}
