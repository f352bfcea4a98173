// HTTP protection for the whole server: security headers and one
// Content-Security-Policy (helmet's, computed once), CORS for the configured browser origins
// only, and clear refusals of oversized bodies and batches. CSRF protection is
// Apollo's own (csrfPrevention, on by default): a POST that a browser may send
// cross-site without a preflight (text/plain, a form) is refused.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyError, FastifyInstance, FastifyRequest } from "fastify";
import helmet, { type HelmetOptions } from "helmet";
import cors from "@fastify/cors";
import type { Config } from "../config";

export const GRAPHQL_PATH = "/graphql";

/**
 * Scripts, styles, images and fonts from this server only (GraphiQL's inline
 * styles aside), requests to this server only, never framed, no plugins.
 */
export const CONTENT_SECURITY_POLICY: Record<string, string[]> = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'", "'unsafe-inline'"],
  "img-src": ["'self'", "data:"],
  "font-src": ["'self'", "data:"],
  "connect-src": ["'self'"],
  "frame-ancestors": ["'none'"],
  "object-src": ["'none'"],
  "base-uri": ["'none'"],
};

/** Request headers a browser front end may send cross-origin (Apollo's CSRF headers among them). */
const CORS_ALLOWED_HEADERS = ["content-type", "authorization", "apollo-require-preflight", "x-apollo-operation-name", "x-request-id"];
/** Response headers such a front end may read. */
const CORS_EXPOSED_HEADERS = ["x-request-id", "retry-after"];

/** A GraphQL-shaped error body for refusals made before GraphQL runs, with the request id like every other error. */
export function refusalBody(request: FastifyRequest, message: string, extensions: Record<string, unknown>) {
  return { errors: [{ message, extensions: { ...extensions, requestId: String(request.id) } }] };
}

const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
  xFrameOptions: { action: "deny" },
};

/**
 * The headers helmet sets with these options, as helmet itself writes them,
 * read once: they are the same for every response, so each request only
 * copies them instead of running helmet's middleware again (a few percent of
 * the CPU of a page of domains).
 */
function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string) {
      headers[name.toLowerCase()] = value;
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  helmet(HELMET_OPTIONS)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error("helmet refused its options");
    finished = true;
  });
  // helmet's middlewares are synchronous; one that was not would have left headers unset.
  if (!finished) throw new Error("helmet did not finish synchronously: its headers cannot be computed once");
  return headers;
}

export async function registerSecurity(app: FastifyInstance, config: Config): Promise<void> {
  const headers = securityHeaders();
  app.addHook("onRequest", (_request, reply, done) => {
    reply.headers(headers);
    done();
  });

  const allowedOrigins = new Set(config.CORS_ORIGINS);
  await app.register(cors, {
    // Any other origin gets no CORS header at all, so browsers keep its pages from reading our answers.
    origin: (origin, callback) => callback(null, origin !== undefined && allowedOrigins.has(origin)),
    methods: ["GET", "POST"],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  });

  const bodyLimit = config.REQUEST_BODY_LIMIT_BYTES;
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply
        .code(413)
        .send(
          refusalBody(
            request,
            `The request body is larger than ${bodyLimit} bytes, the most this server accepts. Send less in one request (for ingestMailLog: fewer lines per call).`,
            { code: "BAD_USER_INPUT", limit: "bodySize", max: bodyLimit },
          ),
        );
    }
    // Everything else: Fastify's own answer (the parent error handler).
    throw error;
  });

  const maxBatch = config.GRAPHQL_MAX_BATCH_SIZE;
  app.addHook("preHandler", async (request, reply) => {
    if (request.method !== "POST" || request.routeOptions.url !== GRAPHQL_PATH || !Array.isArray(request.body)) return;
    const size = request.body.length;
    if (maxBatch === 0) {
      return reply.code(400).send(
        refusalBody(request, "Batched requests (a JSON array of operations) are turned off on this server: send one operation per request.", {
          code: "BAD_USER_INPUT",
          limit: "batchSize",
          max: 0,
          actual: size,
        }),
      );
    }
    if (size > maxBatch) {
      return reply.code(400).send(
        refusalBody(request, `This batch holds ${size} operations; the server allows at most ${maxBatch} in one request. Send the rest in another.`, {
          code: "BAD_USER_INPUT",
          limit: "batchSize",
          max: maxBatch,
          actual: size,
        }),
      );
    }
  });
}
