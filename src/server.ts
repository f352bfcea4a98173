// createServer(deps): Fastify with the GraphQL endpoint and the health
// probes, without listening, so tests and main.ts build it the same way.
import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import fastifyApollo from "@as-integrations/fastify";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { GraphQLError, Kind, OperationTypeNode, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { AppError } from "./errors";
import { fromDatabaseError } from "./shared/db-errors";
import { authenticate } from "./auth/authenticate";
import { enrollmentOnlyRefusal, operationScopeRefusal } from "./auth/scopes";
import { createLoaders } from "./loaders";
import { resolvers, typeDefs } from "./graphql/schema";
import { requestLogger, type GraphQLContext } from "./graphql/context";
import type { AppDeps } from "./app-deps";
import { registerMetrics } from "./observability/metrics";
import { mayReachTimedField, metricsPlugin } from "./graphql/metrics-plugin";
import { jitExecutor, staticSchemaGateway } from "./graphql/executor";
import { closeConnectionsWhileClosing, isDraining } from "./observability/shutdown";
import { databaseAnswers } from "./db/prisma";
import { formatLimitRefusal, graphqlLimits } from "./graphql/limits";
import { registerSecurity } from "./http/security";
import { registerRateLimits } from "./http/rate-limit";
import { registerGraphqlIde, registerGraphqlUsageHint } from "./ide/ide";
import { stopAccountImports } from "./imports/imports.service";
import { registerRestApi } from "./rest/rest.plugin";
import { message, type Message } from "./i18n/messages";
import { languageResolver } from "./i18n/request-language";

/**
 * Codes graphql-js and Apollo give to malformed requests (the client's fault),
 * and the one the context gives when the database is away: safe to show.
 */
const REQUEST_ERROR_CODES = new Set([
  "SERVICE_UNAVAILABLE",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "RATE_LIMITED",
  // An API token's scopes refused before execution (tokenScopePlugin).
  "FORBIDDEN",
]);

/** The AppError behind a resolver error, if it has a meaning for the client. */
function appErrorOf(error: unknown): AppError | undefined {
  const unwrapped = unwrapResolverError(error);
  // graphql-js wraps what fails `instanceof Error` (an error from another
  // realm, as node's socket errors are under jest's sandbox) as NonErrorThrown.
  const thrown = (unwrapped as { name?: string; thrownValue?: unknown } | null)?.name === "NonErrorThrown" ? (unwrapped as { thrownValue?: unknown }).thrownValue : unwrapped;
  return fromDatabaseError(thrown);
}

/**
 * Where formatError leaves the error's message by id, for the response's
 * language (known only to the request's context) to rewrite it in
 * requestIdPlugin's willSendResponse. A symbol: JSON never sends it.
 */
const LOCALIZED = Symbol("localized message");
type LocalizedFormattedError = GraphQLFormattedError & { [LOCALIZED]?: Message };

function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const appError = appErrorOf(error);
  if (appError) {
    const answer: LocalizedFormattedError = {
      message: appError.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: appError.code, ...appError.extensions },
    };
    if (appError.localized) answer[LOCALIZED] = appError.localized;
    return answer;
  }
  // A refusal from a plugin (the login rate limit, an API token's scopes) carries its message by id as its originalError.
  const original = error instanceof GraphQLError ? error.originalError : undefined;
  const localized = original instanceof AppError ? original.localized : undefined;
  const limitRefusal: LocalizedFormattedError | undefined = formatLimitRefusal(formatted);
  if (limitRefusal) {
    if (localized) limitRefusal[LOCALIZED] = localized;
    return limitRefusal;
  }
  const code = formatted.extensions?.code;
  if (typeof code === "string" && REQUEST_ERROR_CODES.has(code)) {
    const answer: LocalizedFormattedError = { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
    if (localized) answer[LOCALIZED] = localized;
    return answer;
  }
  // Anything else is our fault: the cause is logged (see the plugin below), the client gets no detail.
  const internal = message("error.internal");
  const answer: LocalizedFormattedError = {
    message: internal.in("en"),
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  };
  answer[LOCALIZED] = internal;
  return answer;
}

/** Logs unexpected errors with the request id, and puts the request id in every error sent. */
function requestIdPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            if (!appErrorOf(error.originalError ?? error) && !REQUEST_ERROR_CODES.has(String(error.extensions?.code))) {
              requestLogger(contextValue).error({ err: error.originalError ?? error, path: error.path }, "unexpected error");
            }
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind === "single" && response.body.singleResult.errors) {
            const localized = response.body.singleResult.errors.some((error) => (error as LocalizedFormattedError)[LOCALIZED]);
            const language = localized ? await contextValue.language() : "en";
            for (const error of response.body.singleResult.errors) {
              const text = (error as LocalizedFormattedError)[LOCALIZED];
              // message is read-only in graphql-js's types, like extensions below.
              if (text && language !== "en") (error as { message: string }).message = text.in(language);
              // extensions is read-only in graphql-js's types; the error is still ours to annotate here.
              const writable = error as { extensions?: Record<string, unknown> };
              writable.extensions ??= {};
              writable.extensions.requestId = contextValue.requestId;
            }
          }
        },
      };
    },
  };
}

/**
 * Apollo resolves the operation to run before executing, but with a gateway
 * (our executor, graphql/executor.ts) it leaves a document it cannot resolve
 * to the executor, which then had no operation: a 500. Refused here first,
 * as the client's mistake: several operations and no (or an unknown)
 * operationName, or a subscription, which this API does not have.
 */
function operationResolutionPlugin(): ApolloServerPlugin<GraphQLContext> {
  const refuse = (message: string, field: string) => new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", field, http: { status: 400, headers: new HeaderMap() } } });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          if (!operation) {
            const names = document.definitions.flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION ? [definition.name?.value ?? "(unnamed)"] : []));
            throw request.operationName
              ? refuse(`There is no operation named ${request.operationName} in this document; it holds ${names.join(", ")}.`, "operationName")
              : refuse(`This document holds ${names.length} operations (${names.join(", ")}): say which to run with operationName.`, "operationName");
          }
          if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
            throw refuse("This API has no subscriptions: send a query or a mutation.", "query");
          }
        },
      };
    },
  };
}

/**
 * Holds a request made with an API token to its scopes for every object the
 * operation reaches, before any resolver runs (src/auth/scopes.ts).
 */
function tokenScopePlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, schema, contextValue }) {
          if (!operation) return;
          const principal = contextValue.authentication.principal;
          const refusal = enrollmentOnlyRefusal(operation, principal) ?? operationScopeRefusal(schema, document, operation, principal);
          if (refusal) throw new GraphQLError(refusal.message, { originalError: refusal, extensions: { code: refusal.code, http: { status: 403, headers: new HeaderMap() } } });
        },
      };
    },
  };
}

/**
 * Starts a query's loaders with the caller's account as authentication read
 * it, so that `me` and the caller's own account need no query of their own.
 * Not a mutation's: it may change that account (its role, its password).
 */
function callerAccountPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue }) {
          const { authentication, loaders } = contextValue;
          if (operation?.operation !== OperationTypeNode.QUERY || !authentication.principal || !authentication.account) return;
          const { row, isAdmin } = authentication.account;
          loaders.accountById.prime(row.id, row);
          loaders.isAdminByAccountId.prime(row.id, isAdmin);
        },
      };
    },
  };
}

/**
 * One log line per request, when it has been answered, with what Fastify's
 * two lines carried between them (the request's method, path and client, the
 * status and the time taken): half the logging work of every request. The
 * "incoming request" line is still written at debug level, for following a
 * request that never finishes.
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, "incoming request");
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, "request errored");
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, "request completed");
  }
}

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's request id when it is safe to log and store as it is, else undefined. */
export function clientRequestId(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && CLIENT_REQUEST_ID.test(value) ? value : undefined;
}

export async function createServer(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- without it tsc infers Fastify's logger type as pino's and refuses the instance
    loggerInstance: deps.logger as FastifyBaseLogger,
    // A client's x-request-id is kept only when it is a plain token of at
    // most 128 characters: it goes into every log line, error and audit
    // record of the request. Anything else gets an id of ours.
    requestIdHeader: false,
    genReqId: (request) => clientRequestId(request.headers["x-request-id"]) ?? randomUUID(),
    // Log lines name the request id as error responses and audit records do.
    logController: new OneLinePerRequest({ requestIdLogLabel: "requestId" }),
    trustProxy: deps.config.TRUST_PROXY,
    bodyLimit: deps.config.REQUEST_BODY_LIMIT_BYTES,
  });
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  await registerSecurity(app, deps.config);
  const loginRateLimit = registerRateLimits(app, deps);

  const metrics = registerMetrics(app, deps);
  closeConnectionsWhileClosing(app);

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    // Shutting down: still serving, but the load balancer should send new requests elsewhere.
    if (isDraining(app)) return reply.code(503).send({ status: "draining" });
    const ready = await databaseAnswers(deps.db);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "database unavailable" });
  });
  await registerGraphqlIde(app, deps.config);
  registerGraphqlUsageHint(app);
  app.addHook("onClose", () => stopAccountImports(deps));
  await registerRestApi(app, deps);

  const limits = graphqlLimits(deps.config);
  const schema = makeExecutableSchema({ typeDefs, resolvers });
  const apollo = new ApolloServer<GraphQLContext>({
    // The schema with graphql-jit as its executor (see graphql/executor.ts).
    gateway: staticSchemaGateway(schema, typeDefs, jitExecutor(schema, { needsGraphqlJs: mayReachTimedField })),
    formatError,
    // Apollo's default adds a newline to the JSON (JSON.stringify(value) + "\n"):
    // a second string joined to the first, which Fastify then copies whole to
    // measure it (Buffer.byteLength flattens it), the size of the answer in
    // garbage on every request. The answer's JSON is the same without it.
    stringifyResult: (value) => JSON.stringify(value),
    includeStacktraceInErrorResponses: false,
    introspection: limits.introspection,
    allowBatchedHttpRequests: limits.allowBatchedHttpRequests,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    plugins: [
      operationResolutionPlugin(),
      requestIdPlugin(),
      callerAccountPlugin(),
      tokenScopePlugin(),
      ApolloServerPluginLandingPageDisabled(),
      // Nothing here is cacheable by HTTP caches, and the cache-control plugin
      // would otherwise hook every field of every response (a page of 50
      // domains has 600).
      ApolloServerPluginCacheControlDisabled(),
      limits.complexityPlugin,
      loginRateLimit,
      metricsPlugin(metrics),
    ],
    logger: deps.logger,
    // Fastify owns the shutdown (main.ts): it drains the HTTP requests, then Apollo stops.
    stopOnTerminationSignals: false,
  });
  await apollo.start();
  app.addHook("onClose", () => apollo.stop());
  await app.register(fastifyApollo(apollo), {
    context: async (request) => {
      const authentication = await authenticate(deps.db, deps.tokens, request.headers.authorization, { now: deps.now, clientIp: request.ip }).catch((error: unknown) => {
        const mapped = fromDatabaseError(error);
        if (!mapped) {
          // Apollo answers it as INTERNAL_SERVER_ERROR ("Context creation failed") without logging it.
          request.log.error({ err: error }, "unexpected error while authenticating");
          throw error;
        }
        throw new GraphQLError(mapped.message, { extensions: { code: mapped.code, http: { status: 503 } } });
      });
      const userAgent = request.headers["user-agent"];
      return {
        deps,
        authentication,
        requestId: String(request.id),
        clientIp: request.ip,
        ...(userAgent ? { userAgent } : {}),
        loaders: createLoaders(deps.db),
        logger: request.log as Logger,
        language: languageResolver(deps, request.headers["accept-language"], authentication),
      };
    },
  });
  return app;
}
