// The per-request GraphQL context: who is calling, the request's identity for
// the audit trail and logs, and the batch loaders.
import type { Logger } from "pino";
import type { Authentication, Principal } from "../auth/principal";
import { requirePrincipal } from "../auth/policy";
import { actorOf } from "../audit/audit.service";
import type { Caller } from "../service-deps";
import type { Loaders } from "../loaders";
import type { AppDeps } from "../app-deps";
import type { LanguageOf } from "../i18n/request-language";

export interface GraphQLContext {
  deps: AppDeps;
  authentication: Authentication;
  requestId: string;
  clientIp: string;
  /** The client's User-Agent header, recorded with the login sessions it opens. */
  userAgent?: string;
  loaders: Loaders;
  /** The request's logger: every line it writes carries the request id. */
  logger?: Logger;
  /** The language of the answer's texts for people (src/i18n), worked out on first need. */
  language: LanguageOf;
}

/** The logger for a request's lines, with its request id. */
export function requestLogger(context: GraphQLContext): Logger {
  return context.logger ?? context.deps.logger.child({ requestId: context.requestId });
}

export function principalOf(context: GraphQLContext): Principal {
  return requirePrincipal(context.authentication);
}

/** What a login records of the request that opened its session. */
export function sessionRequestOf(context: GraphQLContext) {
  return { requestId: context.requestId, clientIp: context.clientIp, ...(context.userAgent ? { userAgent: context.userAgent } : {}) };
}

export function callerOf(context: GraphQLContext): Caller {
  const principal = principalOf(context);
  return { principal, actor: actorOf(principal, { requestId: context.requestId, clientIp: context.clientIp }) };
}
