// Request rates: per client address, per principal (the token's subject or the API token), and
// a stricter one for logins per client address. A refusal is HTTP 429 with
// Retry-After and a GraphQL error RATE_LIMITED with retryAfterSeconds.
//
// Counted here rather than with @fastify/rate-limit because a request is not
// always one unit: a batch of n operations counts n, and a mutation logging in
// under n aliases counts n logins (each one a bcrypt comparison). Windows are
// fixed minutes counted in the database, shared by every server against it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HeaderMap, type ApolloServerPlugin } from "@apollo/server";
import { GraphQLError, Kind, OperationTypeNode, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from "graphql";
import ipaddr from "ipaddr.js";
import { RateLimitedError } from "../errors";
import { message, type Message } from "../i18n/messages";
import { negotiateLanguage, type Language } from "../i18n/language";
import { bearerToken } from "../auth/principal";
import { hashApiToken, looksLikeApiToken } from "../auth/api-tokens";
import type { AppDeps } from "../app-deps";
import { refusalBody } from "./security";
import { RATE_WINDOW_MS, forgetFinishedWindows, takeFromWindows, type WindowUse } from "../auth/rate-limits.sql";

/** Probes and metrics scrapers are never limited. */
const EXEMPT_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

export type RateLimitName = "client" | "principal" | "login";

type Decision = { allowed: true } | { allowed: false; limit: RateLimitName; max: number; retryAfterSeconds: number };

/**
 * Windows of a minute per key from its first request, counted in the database
 * (src/auth/rate-limits.sql.ts), so that every server against the same
 * database counts one client once. When the database does not answer, the
 * request is let through (and the failure logged): its own queries fail
 * anyway, with SERVICE_UNAVAILABLE, and /readyz says so.
 */
export class SharedWindowCounters {
  private nextSweep = 0;

  constructor(
    private readonly deps: Pick<AppDeps, "db" | "logger">,
    private readonly now: () => number,
  ) {}

  /** Takes `units` from each named key's window; the first key over its max answers. */
  async take(units: number, limits: { limit: RateLimitName; key: string; max: number }[]): Promise<Decision> {
    const now = this.now();
    this.forgetExpired(now);
    let used: Map<string, WindowUse>;
    try {
      const keys = limits.map((entry) => `${entry.limit}:${entry.key}`) as [string] | [string, string];
      used = await takeFromWindows(this.deps.db, keys, units, now);
    } catch (error) {
      this.deps.logger.warn({ err: error }, "rate limit not counted: the database did not answer");
      return { allowed: true };
    }
    for (const entry of limits) {
      const window = used.get(`${entry.limit}:${entry.key}`);
      if (window && window.used > entry.max) {
        const resetsAt = window.windowStart.getTime() + RATE_WINDOW_MS;
        return { allowed: false, limit: entry.limit, max: entry.max, retryAfterSeconds: Math.max(1, Math.ceil((resetsAt - now) / 1000)) };
      }
    }
    return { allowed: true };
  }

  /** Once a window length, deletes the finished windows (any server may: it is the same statement). */
  private forgetExpired(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + RATE_WINDOW_MS;
    forgetFinishedWindows(this.deps.db, now).catch((error: unknown) => this.deps.logger.warn({ err: error }, "old rate-limit windows not deleted"));
  }
}

/**
 * The client a request counts against: its address, or for IPv6 its /64 (one
 * customer line gets a whole /64 and could otherwise rotate through it).
 */
export function clientKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === "ipv4") return address.toString();
  return `${(address as ipaddr.IPv6).toNormalizedString().split(":").slice(0, 4).join(":")}::/64`;
}

/**
 * The principal a request counts against: a login token's subject once its
 * signature verifies, an API token by its hash (what the database keys it
 * by; checking it needs a query, which a refusal should not cost), or none.
 * Either way a forged token spends nobody else's allowance.
 */
function principalKey(deps: AppDeps, authorization: string | undefined): string | undefined {
  const token = bearerToken(authorization);
  if (!token) return undefined;
  if (looksLikeApiToken(token)) return `api:${hashApiToken(token)}`;
  const verified = deps.tokens.verify(token);
  return "claims" in verified ? `${verified.claims.kind}:${verified.claims.sub}` : undefined;
}

function refusalMessage(limit: RateLimitName, max: number, retryAfterSeconds: number): Message {
  return message("limit.too_many_requests", { whose: limit, max, seconds: retryAfterSeconds });
}

function refuse(request: FastifyRequest, reply: FastifyReply, limit: RateLimitName, max: number, retryAfterSeconds: number, defaultLanguage: Language) {
  const error = new RateLimitedError(refusalMessage(limit, max, retryAfterSeconds), retryAfterSeconds);
  // The REST API answers every refusal as an RFC 9457 problem: its error handler formats this one too.
  if (request.url.startsWith("/api/v1/")) {
    reply.header("retry-after", String(retryAfterSeconds));
    throw Object.assign(error, { extensions: { ...error.extensions, limit, max } });
  }
  return reply
    .code(429)
    .header("retry-after", String(retryAfterSeconds))
    .send(refusalBody(request, error.messageIn(negotiateLanguage(request.headers["accept-language"]) ?? defaultLanguage), { code: error.code, ...error.extensions, limit, max }));
}

/** Response keys of `login` fields an operation's root selection runs (aliases each count; equal keys run once). */
function loginResponseKeys(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, keys: Set<string>, spread: Set<string>): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === "login") keys.add(selection.alias?.value ?? "login");
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      loginResponseKeys(selection.selectionSet, fragments, keys, spread);
    } else if (!spread.has(selection.name.value)) {
      spread.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) loginResponseKeys(fragment.selectionSet, fragments, keys, spread);
    }
  }
  return keys;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  return fragments;
}

/**
 * Registers the per-client and per-principal limits on every request but the
 * exempt paths, and returns the Apollo plugin that counts logins (it sees the
 * parsed operation, so a persisted query or a batch cannot hide one).
 */
export function registerRateLimits(app: FastifyInstance, deps: AppDeps): ApolloServerPlugin<{ clientIp: string }> {
  const { config } = deps;
  if (!config.RATE_LIMIT_ENABLED) return {};
  // Read through deps at each call, so a test can move the clock forward.
  const now = () => deps.now().getTime();
  const counters = new SharedWindowCounters(deps, now);
  const perClientMax = config.RATE_LIMIT_PER_CLIENT_PER_MINUTE;
  const perPrincipalMax = config.RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE;
  const loginMax = config.RATE_LIMIT_LOGIN_PER_MINUTE;

  const limited = (request: FastifyRequest) => request.method !== "OPTIONS" && !EXEMPT_PATHS.has(request.url.split("?", 1)[0]!);

  /** Takes `units` from the client's window and the principal's (one statement); the first refusal answers. */
  async function take(request: FastifyRequest, reply: FastifyReply, units: number) {
    const principal = principalKey(deps, request.headers.authorization);
    const decision = await counters.take(units, [
      { limit: "client", key: clientKey(request.ip), max: perClientMax },
      ...(principal === undefined ? [] : [{ limit: "principal" as const, key: principal, max: perPrincipalMax }]),
    ]);
    if (!decision.allowed) return refuse(request, reply, decision.limit, decision.max, decision.retryAfterSeconds, deps.config.DEFAULT_LANGUAGE);
    return undefined;
  }

  // One unit before the body is read, so a refused client costs no parsing...
  app.addHook("onRequest", async (request, reply) => {
    if (limited(request)) return take(request, reply, 1);
  });
  // ...and one more for each further operation of a batch.
  app.addHook("preHandler", async (request, reply) => {
    if (limited(request) && Array.isArray(request.body) && request.body.length > 1) return take(request, reply, request.body.length - 1);
  });

  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          if (operation?.operation !== OperationTypeNode.MUTATION) return;
          const attempts = loginResponseKeys(operation.selectionSet, fragmentsOf(document), new Set(), new Set()).size;
          if (attempts === 0) return;
          const decision = await counters.take(attempts, [{ limit: "login", key: clientKey(contextValue.clientIp), max: loginMax }]);
          if (decision.allowed) return;
          const { retryAfterSeconds } = decision;
          const refusal = new RateLimitedError(refusalMessage("login", loginMax, retryAfterSeconds), retryAfterSeconds);
          throw new GraphQLError(refusal.message, {
            originalError: refusal,
            extensions: {
              code: "RATE_LIMITED",
              retryAfterSeconds,
              limit: "login",
              max: loginMax,
              http: { status: 429, headers: new HeaderMap([["retry-after", String(retryAfterSeconds)]]) },
            },
          });
        },
      };
    },
  };
}
