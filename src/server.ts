// createServer(deps): Fastify with the GraphQL endpoint and the health
// probes, without listening, so tests and main.ts build it the same way.
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { AppError } from "./errors";
import { fromDatabaseError } from "./shared/db-errors";
import { authenticate } from "./auth/principal";
import { createLoaders } from "./graphql/loaders";
import { resolvers, typeDefs } from "./graphql/schema";
import type { AppDeps, GraphQLContext } from "./graphql/context";
import { databaseAnswers } from "./db/prisma";

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
]);

/** The AppError behind a resolver error, if it has a meaning for the client. */
function appErrorOf(error: unknown): AppError | undefined {
  return fromDatabaseError(unwrapResolverError(error));
}

function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const appError = appErrorOf(error);
  if (appError) {
    return { message: appError.message, locations: formatted.locations, path: formatted.path, extensions: { code: appError.code, ...appError.extensions } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === "string" && REQUEST_ERROR_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  // Anything else is our fault: the cause is logged (see the plugin below), the client gets no detail.
  return {
    message: "Internal error. It has been logged; quote the requestId to support.",
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  };
}

/** Logs unexpected errors with the request id, and puts the request id in every error sent. */
function requestIdPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            if (!appErrorOf(error.originalError ?? error) && !REQUEST_ERROR_CODES.has(String(error.extensions?.code))) {
              contextValue.deps.logger.error({ requestId: contextValue.requestId, err: error.originalError ?? error, path: error.path }, "unexpected error");
            }
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind === "single" && response.body.singleResult.errors) {
            for (const error of response.body.singleResult.errors) {
              (error.extensions as Record<string, unknown> | undefined) ??= {};
              (error.extensions as Record<string, unknown>).requestId = contextValue.requestId;
            }
          }
        },
      };
    },
  };
}

export async function createServer(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    trustProxy: deps.config.TRUST_PROXY,
    bodyLimit: 1024 * 1024,
  });
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const ready = await databaseAnswers(deps.db);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "database unavailable" });
  });

  const apollo = new ApolloServer<GraphQLContext>({
    typeDefs,
    resolvers,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: true,
    plugins: [fastifyApolloDrainPlugin(app), requestIdPlugin(), ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  await app.register(fastifyApollo(apollo), {
    context: async (request) => ({
      deps,
      authentication: await authenticate(deps.db, deps.tokens, request.headers.authorization).catch((error: unknown) => {
        const mapped = fromDatabaseError(error);
        if (!mapped) throw error;
        throw new GraphQLError(mapped.message, { extensions: { code: mapped.code, http: { status: 503 } } });
      }),
      requestId: String(request.id),
      clientIp: request.ip,
      loaders: createLoaders(deps.db),
    }),
  });
  return app;
}
