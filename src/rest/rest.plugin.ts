// The REST API under /api/v1, for provisioning scripts and log shippers: the
// same services, authorization, audit and error codes as GraphQL, with errors
// as RFC 9457 problem details and an OpenAPI 3.1 document built from the
// routes' JSON schemas (which also validate the requests) at /api/v1/openapi.json.
//
// Adding routes (for example bulk import): write a module like
// domains.routes.ts, `async function importRoutes(app, deps)`, whose routes
//   - declare `config: { scope }` (READ, WRITE, LOGS, USAGE or LOGIN_SESSION: what an
//     API token needs; start-up fails without it), and a `schema` with
//     operationId, tags, params/querystring/body and responses built with
//     jsonResponse(...) and problemResponses(...) from schemas.ts;
//   - get the caller with callerOfRequest(request) / principalOfRequest(request)
//     (auth.ts) and call services, which authorize and audit;
//   - throw AppErrors (src/errors.ts): they leave as problem details (problem.ts);
// then add it to REST_ROUTE_MODULES below. It is then authenticated, validated,
// documented in openapi.json and answered with problem details like the rest.
import type { FastifyInstance, FastifySchemaCompiler } from "fastify";
import swagger from "@fastify/swagger";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { AppDeps } from "../app-deps";
import { registerRestAuthentication } from "./auth";
import { restErrorHandler, restNotFoundHandler } from "./problem";
import { registerSharedSchemas } from "./schemas";
import { domainRoutes } from "./domains.routes";
import { accountRoutes } from "./accounts.routes";
import { aliasRoutes } from "./aliases.routes";
import { mailLogRoutes } from "./maillog.routes";
import { dnsRoutes } from "./dns.routes";
import { importRoutes } from "./imports.routes";
import { usageRoutes } from "./usage.routes";

export const REST_PREFIX = "/api/v1";

export type RestRouteModule = (app: FastifyInstance, deps: AppDeps) => Promise<void>;

export const REST_ROUTE_MODULES: RestRouteModule[] = [domainRoutes, accountRoutes, aliasRoutes, mailLogRoutes, dnsRoutes, importRoutes, usageRoutes];

/**
 * Request validation with JSON Schema 2020-12 (the dialect of OpenAPI 3.1):
 * bodies exactly as sent (no type coercion, unknown fields refused rather than
 * silently dropped); path and query parameters, which arrive as text, coerced
 * to the declared types.
 */
function validatorCompiler(): FastifySchemaCompiler<unknown> {
  const options = { strict: true, allowUnionTypes: true, useDefaults: true, allErrors: false } as const;
  const bodies = addFormats(new Ajv2020({ ...options, coerceTypes: false }));
  const parameters = addFormats(new Ajv2020({ ...options, coerceTypes: true }));
  return ({ schema, httpPart, contentType }) => {
    // A text body (log lines) arrives as bytes; the handler reads it, the schema only documents it.
    if (httpPart === "body" && contentType !== undefined && !contentType.includes("json")) return () => true;
    return (httpPart === "body" ? bodies : parameters).compile(schema as object);
  };
}

async function restApi(api: FastifyInstance, deps: AppDeps): Promise<void> {
  api.setValidatorCompiler(validatorCompiler());
  // Responses are sent as built: the tests check them against the OpenAPI document instead of a serializer trimming them.
  api.setSerializerCompiler(() => (data) => JSON.stringify(data));
  api.setErrorHandler(restErrorHandler);
  api.setNotFoundHandler(restNotFoundHandler);
  // Log shippers' text/plain bodies as bytes: Big5 lines must reach the parser undecoded.
  api.removeContentTypeParser("text/plain");
  api.addContentTypeParser("text/plain", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  registerSharedSchemas(api);
  await api.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "mailadmin REST API",
        version: "1",
        license: { name: "Proprietary (UNLICENSED): the operator's own service", identifier: "LicenseRef-proprietary" },
        description:
          "Provisioning and delivery logs over the same services as the GraphQL API (/graphql). Authenticate with " +
          "`Authorization: Bearer <token>`: a login token (GraphQL login) or an API token (mat_..., createApiToken). Errors are RFC 9457 " +
          "problem details whose `code` is the GraphQL extensions.code.",
      },
      // Relative: the API is where this document is served from (its paths start with /api/v1).
      servers: [{ url: "/", description: "The server this document was fetched from." }],
      components: {
        securitySchemes: {
          bearer: {
            type: "http",
            scheme: "bearer",
            description: "A login token (JWT) or an API token (mat_...). An API token also needs the operation's scope (x-token-scope).",
          },
        },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: "domains", description: "Mail domains: create or change with an idempotent PUT, read, delete, and their administrator." },
        { name: "accounts", description: "Mailboxes of a domain: create or change with an idempotent PUT, read, list, delete." },
        { name: "quotas", description: "The storage quotas and account limits of domains and mailboxes." },
        { name: "delivery log", description: "What happened to a user's mail: read delivery records, push log lines (LOGS scope)." },
        { name: "dns", description: "Check a customer's DNS against the domain's set-up." },
        { name: "account imports", description: "Bulk import of accounts from CSV or JSON lines, with a report per row." },
        { name: "aliases", description: "Aliases of a domain: create or replace with an idempotent PUT, read, list, delete." },
      ],
    },
    // Shared schemas keep their names in components.schemas.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === "string" ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => ({
      schema: { ...schema, "x-token-scope": (route.config as { scope?: string } | undefined)?.scope } as typeof schema,
      url,
    }),
  });
  registerRestAuthentication(api, deps);

  api.get("/openapi.json", { config: { scope: "PUBLIC" }, schema: { hide: true } }, async () => api.swagger());
  for (const routes of REST_ROUTE_MODULES) await routes(api, deps);
}

/** Registers the REST API under /api/v1 (createServer calls this once). */
export async function registerRestApi(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (api) => restApi(api, deps), { prefix: REST_PREFIX });
}
