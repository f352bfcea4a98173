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
import { takeProbeHit } from "./probe.sql";
import type { PrismaClient } from "../generated/prisma/client";

/**
 * Sliding windows of PROBE_RATE_WINDOW_SECONDS per user and per target,
 * counted in the database (probe.sql.ts): every server against it counts a
 * user's probes once, and a restart forgets nothing. Enough to stop a script
 * from turning the probe into a port scanner.
 */
export class ProbeRateLimiter {
  constructor(
    private readonly db: PrismaClient,
    private readonly windowMs: number,
    private readonly now: () => Date,
  ) {}

  /** Counts one probe of `target` by `user`, or throws RATE_LIMITED without counting it. */
  async take(user: string, target: string, limits: { perUser: number; perTarget: number }): Promise<void> {
    const refusal = await takeProbeHit(
      this.db,
      [
        { key: `u ${user}`, limit: limits.perUser },
        { key: `t ${target}`, limit: limits.perTarget },
      ],
      this.windowMs,
      this.now(),
    );
    if (!refusal) return;
    const wait = refusal.waitSeconds;
    if (refusal.refused === 0) throw new RateLimitedError(message("probe.rate_limited.user", { limit: limits.perUser, wait }), wait);
    throw new RateLimitedError(message("probe.rate_limited.target", { target, limit: limits.perTarget, wait }), wait);
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

export function probeServiceOf(deps: Pick<ServiceDeps, "db" | "config" | "now">): ProbeService {
  let service = services.get(deps as ServiceDeps);
  if (!service) {
    service = { limiter: new ProbeRateLimiter(deps.db, deps.config.PROBE_RATE_WINDOW_SECONDS * 1000, deps.now), options: probeOptionsOf(deps.config, deps.now) };
    services.set(deps as ServiceDeps, service);
  }
  return service;
}

function principalKey(principal: Principal): string {
  return `${principal.kind}:${principal.id}`;
}

/** A probe counted against the caller's and the target's limits; no authorization (the caller has done it). */
export async function runProbe(deps: Pick<ServiceDeps, "db" | "config" | "now">, principal: Principal, domain: string): Promise<MailServerProbe> {
  const service = probeServiceOf(deps);
  await service.limiter.take(principalKey(principal), domain, { perUser: deps.config.PROBE_RATE_LIMIT_PER_USER, perTarget: deps.config.PROBE_RATE_LIMIT_PER_TARGET });
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
