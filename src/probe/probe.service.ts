// probeMailServer as the API offers it: who may probe which domain, the
// per-user and per-target rate limits, and the probe's settings from the
// configuration. The probing itself is probe.ts's.
import type { Config } from "../config";
import type { Principal } from "../auth/principal";
import type { ServiceDeps } from "../service-deps";
import { authorize } from "../auth/policy";
import { RateLimitedError } from "../errors";
import { message } from "../i18n/messages";
import { parseDomainName } from "../shared/validation";
import { resolversOf } from "../dns/dns.service";
import { createUdpTransport, type DnsTransport } from "../dns/dns.transport";
import { networkSockets, type SocketFactory } from "./probe.smtp";
import { probeMailServer, type MailServerProbe, type ProbeOptions } from "./probe";

/**
 * Sliding-window counters kept in memory, per process: a restart forgets
 * them, and two server processes each allow the limit. Good enough to stop a
 * script from turning the probe into a port scanner; a shared limit would need
 * a table (not in the schema yet).
 */
export class ProbeRateLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => Date,
  ) {}

  /** Seconds until a slot frees, or 0 when a hit is allowed now (and then it is counted). */
  private check(key: string, limit: number): number {
    const now = this.now().getTime();
    const recent = (this.hits.get(key) ?? []).filter((at) => at > now - this.windowMs);
    // Keys with nothing in the window are dropped, so idle users and domains cost no memory.
    if (recent.length === 0) this.hits.delete(key);
    else this.hits.set(key, recent);
    if (recent.length < limit) return 0;
    return Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
  }

  /** Counts one probe of `target` by `user`, or throws RATE_LIMITED without counting it. */
  take(user: string, target: string, limits: { perUser: number; perTarget: number }): void {
    const userWait = this.check(`u ${user}`, limits.perUser);
    if (userWait > 0) throw new RateLimitedError(message("probe.rate_limited.user", { limit: limits.perUser, wait: userWait }), userWait);
    const targetWait = this.check(`t ${target}`, limits.perTarget);
    if (targetWait > 0) throw new RateLimitedError(message("probe.rate_limited.target", { target, limit: limits.perTarget, wait: targetWait }), targetWait);
    const now = this.now().getTime();
    for (const key of [`u ${user}`, `t ${target}`]) this.hits.set(key, [...(this.hits.get(key) ?? []), now]);
  }
}

export interface ProbeService {
  limiter: ProbeRateLimiter;
  options: ProbeOptions;
}

export function probeOptionsOf(config: Config, clock: () => Date, transport: DnsTransport = createUdpTransport(), sockets: SocketFactory = networkSockets): ProbeOptions {
  return {
    dns: { transport, resolvers: resolversOf(config), queryTimeoutMs: config.DNS_QUERY_TIMEOUT_MS, attempts: config.DNS_QUERY_ATTEMPTS },
    sockets,
    port: config.PROBE_PORT,
    timeouts: { connectMs: config.PROBE_CONNECT_TIMEOUT_MS, greetingMs: config.PROBE_GREETING_TIMEOUT_MS, commandMs: config.PROBE_COMMAND_TIMEOUT_MS },
    totalBudgetMs: config.PROBE_TOTAL_TIMEOUT_MS,
    maxAddresses: config.PROBE_MAX_ADDRESSES,
    allowPrivate: config.PROBE_ALLOW_PRIVATE,
    startTls: config.PROBE_STARTTLS,
    heloName: config.PROBE_HELO_NAME ?? config.MAIL_SERVER_HOSTNAME ?? "mailadmin.invalid",
    clock,
  };
}

// One service per application's dependencies, made on first use (as dnsServiceOf).
const services = new WeakMap<ServiceDeps, ProbeService>();

export function probeServiceOf(deps: Pick<ServiceDeps, "config" | "now">): ProbeService {
  let service = services.get(deps as ServiceDeps);
  if (!service) {
    service = { limiter: new ProbeRateLimiter(deps.config.PROBE_RATE_WINDOW_SECONDS * 1000, deps.now), options: probeOptionsOf(deps.config, deps.now) };
    services.set(deps as ServiceDeps, service);
  }
  return service;
}

function principalKey(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/** A probe counted against the caller's and the target's limits; no authorization (the caller has done it). */
export async function runProbe(deps: Pick<ServiceDeps, "config" | "now">, principal: Principal, domain: string): Promise<MailServerProbe> {
  const service = probeServiceOf(deps);
  service.limiter.take(principalKey(principal), domain, { perUser: deps.config.PROBE_RATE_LIMIT_PER_USER, perTarget: deps.config.PROBE_RATE_LIMIT_PER_TARGET });
  return probeMailServer(domain, service.options);
}

/**
 * probeMailServer(domain): support staff probe any domain; a domain's
 * administrator its own domain; anyone else a hosted domain they belong to is
 * FORBIDDEN, and a domain they cannot see NOT_FOUND.
 */
export async function probeDomainMailServers(deps: ServiceDeps, principal: Principal, domainInput: string): Promise<MailServerProbe> {
  const name = parseDomainName(domainInput, "domain").name;
  const hosted = await deps.db.domain.findUnique({ where: { name }, select: { id: true } });
  if (hosted) authorize(principal, "probe.hosted", { domainId: hosted.id }, ["domain", `named ${name}`]);
  else authorize(principal, "probe.remote", {}, ["domain", `named ${name}`]);
  return runProbe(deps, principal, name);
}
