// Authentication and token scopes of the REST API: the same bearer tokens as
// GraphQL (a login JWT or an API token), checked in an onRequest hook, so a
// refused request is answered before its body is read. Every route declares
// in its config the scope an API token needs (READ, WRITE, LOGS, USAGE or
// LOGIN_SESSION, see src/auth/scopes.ts), or PUBLIC for no authentication.
import type { FastifyInstance, FastifyRequest, RouteOptions } from "fastify";
import type { AppDeps } from "../app-deps";
import type { Principal } from "../auth/principal";
import { authenticate } from "../auth/authenticate";
import { requirePrincipal } from "../auth/policy";
import { requireScope, type ScopeRequirement } from "../auth/scopes";
import { actorOf } from "../audit/audit.service";
import { ForbiddenError } from "../errors";
import type { Caller, Warning } from "../service-deps";
import { writeText } from "../i18n/text";
import { languageResolver, type LanguageOf } from "../i18n/request-language";
import { negotiateLanguage, type Language } from "../i18n/language";
import { message } from "../i18n/messages";

declare module "fastify" {
  interface FastifyContextConfig {
    /** What an API token needs for this REST route (src/auth/scopes.ts); PUBLIC: no authentication. */
    scope?: ScopeRequirement | "PUBLIC";
  }
}

const principals = new WeakMap<FastifyRequest, Principal>();
const languages = new WeakMap<FastifyRequest, LanguageOf>();

/** Refuses at start-up a REST route that does not say which scope it needs: a forgotten scope must not mean "any token". */
export function requireDeclaredScope(route: RouteOptions): void {
  const config = route.config as { scope?: unknown } | undefined;
  if (config?.scope === undefined) throw new Error(`REST route ${String(route.method)} ${route.url} declares no config.scope (READ, WRITE, LOGS, USAGE, LOGIN_SESSION or PUBLIC)`);
}

/** The onRequest hook: who is calling, and whether its token's scopes allow the route. */
export function restAuthentication(deps: AppDeps) {
  return async function authenticateRestRequest(request: FastifyRequest): Promise<void> {
    // Unknown routes answer 404 whoever asks.
    languages.set(request, languageResolver(deps, request.headers["accept-language"], undefined));
    if (request.is404) return;
    const scope = request.routeOptions.config.scope;
    if (scope === "PUBLIC") return;
    const authentication = await authenticate(deps.db, deps.tokens, request.headers.authorization, { now: deps.now, clientIp: request.ip });
    // The caller's saved language counts once it is known (a refused token keeps the request's and the service's).
    languages.set(request, languageResolver(deps, request.headers["accept-language"], authentication));
    const principal = requirePrincipal(authentication);
    if (principal.enrollOnly) throw new ForbiddenError(message("rest.totp_required"));
    requireScope(principal, scope ?? "LOGIN_SESSION", `${request.method} ${request.routeOptions.url}`);
    principals.set(request, principal);
  };
}

export function registerRestAuthentication(app: FastifyInstance, deps: AppDeps): void {
  app.addHook("onRoute", requireDeclaredScope);
  app.addHook("onRequest", restAuthentication(deps));
}

/** The authenticated principal of a REST request (the hook has run). */
export function principalOfRequest(request: FastifyRequest): Principal {
  const principal = principals.get(request);
  if (!principal) throw new Error(`no principal for ${request.method} ${request.url}: a PUBLIC route asked for one`);
  return principal;
}

/** The language of a REST request's texts for people (Accept-Language, the caller's preference, DEFAULT_LANGUAGE). */
export function languageOfRequest(request: FastifyRequest): Promise<Language> {
  return languages.get(request)?.() ?? Promise.resolve(negotiateLanguage(request.headers["accept-language"]) ?? "en");
}

/** A change's warnings with their message written in the request's language. */
export async function warningsFor(request: FastifyRequest, warnings: readonly Warning[]): Promise<{ code: string; field: string; message: string }[]> {
  if (warnings.length === 0) return [];
  const language = await languageOfRequest(request);
  return warnings.map((warning) => ({ ...warning, message: writeText(warning.message, language)! }));
}

/** The caller of a REST request, as services take it: the principal and how its changes are audited. */
export function callerOfRequest(request: FastifyRequest): Caller {
  const principal = principalOfRequest(request);
  return { principal, actor: actorOf(principal, { requestId: String(request.id), clientIp: request.ip }) };
}
