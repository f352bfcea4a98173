// The per-request GraphQL context: who is calling, the request's identity for
// the audit trail and logs, and the batch loaders.
import type { Logger } from "pino";
import type { Authentication, Principal } from "../auth/principal";
import { requirePrincipal } from "../auth/policy";
import type { LoginThrottle } from "../auth/auth.service";
import { actorOf } from "../audit/audit.service";
import type { Caller, ServiceDeps } from "../shared/deps";
import type { Loaders } from "./loaders";

export interface AppDeps extends ServiceDeps {
  logger: Logger;
  throttle: LoginThrottle;
}

export interface GraphQLContext {
  deps: AppDeps;
  authentication: Authentication;
  requestId: string;
  clientIp: string;
  loaders: Loaders;
}

export function principalOf(context: GraphQLContext): Principal {
  return requirePrincipal(context.authentication);
}

export function callerOf(context: GraphQLContext): Caller {
  const principal = principalOf(context);
  return { principal, actor: actorOf(principal, { requestId: context.requestId, clientIp: context.clientIp }) };
}
