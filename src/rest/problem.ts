// Errors of the REST API as RFC 9457 problem details
// (application/problem+json), with the same codes as the GraphQL API
// (src/errors.ts): a script can branch on `code` whichever API it uses.
// Never a stack trace: unexpected errors are logged with the request id and
// answered as a bare INTERNAL_SERVER_ERROR.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AppError, type ErrorCode } from "../errors";
import { fromDatabaseError } from "../shared/db-errors";
import { message, translate, type MessageId } from "../i18n/messages";
import type { Language } from "../i18n/language";
import { languageOfRequest } from "./auth";

export type ProblemCode = ErrorCode | "INTERNAL_SERVER_ERROR";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: ProblemCode;
  requestId: string;
  field?: string;
  retryAfterSeconds?: number;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json; charset=utf-8";

const PROBLEMS: Record<ProblemCode, { status: number; title: string; slug: string }> = {
  UNAUTHENTICATED: { status: 401, title: "Not authenticated", slug: "unauthenticated" },
  FORBIDDEN: { status: 403, title: "Forbidden", slug: "forbidden" },
  NOT_FOUND: { status: 404, title: "Not found", slug: "not-found" },
  BAD_USER_INPUT: { status: 400, title: "Bad input", slug: "bad-user-input" },
  CONFLICT: { status: 409, title: "Conflict", slug: "conflict" },
  QUOTA_EXCEEDED: { status: 409, title: "Quota exceeded", slug: "quota-exceeded" },
  RATE_LIMITED: { status: 429, title: "Too many requests", slug: "rate-limited" },
  SERVICE_UNAVAILABLE: { status: 503, title: "Service unavailable", slug: "service-unavailable" },
  INTERNAL_SERVER_ERROR: { status: 500, title: "Internal error", slug: "internal-server-error" },
};

/** The problem type URI of a code: a tag URI (RFC 4151), an identifier rather than a page to fetch; docs/graphql-api.md and docs/rest-api.md list them. */
export function problemType(code: ProblemCode): string {
  return `tag:mailadmin,2026:problem:${PROBLEMS[code].slug}`;
}

export function statusOf(code: ProblemCode): number {
  return PROBLEMS[code].status;
}

export function problemOf(request: FastifyRequest, code: ProblemCode, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const problem: Problem = {
    type: problemType(code),
    title: PROBLEMS[code].title,
    status: PROBLEMS[code].status,
    detail,
    instance: request.url.split("?")[0]!,
    code,
    requestId: String(request.id),
  };
  if (typeof extensions.field === "string") problem.field = extensions.field;
  if (typeof extensions.retryAfterSeconds === "number") problem.retryAfterSeconds = extensions.retryAfterSeconds;
  return problem;
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.code === "UNAUTHENTICATED") {
    const authorization = reply.request.headers.authorization;
    reply.header("www-authenticate", authorization ? 'Bearer realm="mailadmin", error="invalid_token"' : 'Bearer realm="mailadmin"');
  }
  if (problem.retryAfterSeconds !== undefined) reply.header("retry-after", String(problem.retryAfterSeconds));
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

const OPENAPI_PATH = "/api/v1/openapi.json";

/**
 * A request-validation failure (Fastify and its ajv) said the way a support
 * person reads it, naming the field, in the request's language. The reason
 * of a failed rule other than required, unknown field and enum is ajv's own
 * English ("must NOT have fewer than 1 characters"), put in as a value.
 */
function validationProblem(request: FastifyRequest, error: FastifyError, language: Language): Problem {
  const first = error.validation![0]!;
  const params = first.params;
  const path = first.instancePath.replace(/^\//, "").replace(/\//g, ".");
  const where = error.validationContext === "body" || error.validationContext === "querystring" ? error.validationContext : "other";
  let field = path;
  let detail: string;
  if (first.keyword === "required" && typeof params.missingProperty === "string") {
    field = path ? `${path}.${params.missingProperty}` : params.missingProperty;
    detail = translate(language, "rest.validation.required", { where, field });
  } else if (first.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
    field = path ? `${path}.${params.additionalProperty}` : params.additionalProperty;
    detail = translate(language, "rest.validation.not_a_field", { where, field, openapi: OPENAPI_PATH });
  } else if (first.keyword === "enum" && Array.isArray(params.allowedValues)) {
    detail = translate(language, "rest.validation.one_of", { where, field: field || message("rest.validation.the_value"), values: params.allowedValues.join(", ") });
  } else {
    const named = field || message(where === "body" ? "rest.validation.the_body" : "rest.validation.a_parameter");
    detail = translate(language, "rest.validation.invalid", { where, field: named, reason: first.message ?? message("rest.validation.not_valid") });
  }
  return problemOf(request, "BAD_USER_INPUT", detail, field ? { field } : {});
}

/** Fastify's own refusals with a fixed text, which have a translation; others keep Fastify's English. */
const FASTIFY_MESSAGES: Record<string, MessageId> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "rest.http.FST_ERR_CTP_BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "rest.http.FST_ERR_CTP_INVALID_CONTENT_LENGTH",
  FST_ERR_CTP_EMPTY_JSON_BODY: "rest.http.FST_ERR_CTP_EMPTY_JSON_BODY",
  FST_ERR_CTP_INVALID_JSON_BODY: "rest.http.FST_ERR_CTP_INVALID_JSON_BODY",
};

/** Codes for the HTTP errors Fastify and its plugins raise before a handler runs (bad JSON, wrong media type, body too large...). */
function codeOfStatus(status: number): ProblemCode {
  switch (status) {
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "FORBIDDEN";
    case 404:
    case 405:
      return "NOT_FOUND";
    case 409:
      return "CONFLICT";
    case 429:
      return "RATE_LIMITED";
    case 503:
      return "SERVICE_UNAVAILABLE";
    default:
      return "BAD_USER_INPUT";
  }
}

const HTTP_TITLES: Record<number, MessageId> = { 405: "rest.title.405", 406: "rest.title.406", 413: "rest.title.413", 415: "rest.title.415" };

/** The error handler of the REST API: every error leaves as a problem, its title and detail in the request's language. */
export async function restErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const appError = error instanceof AppError ? error : fromDatabaseError(error);
  if (appError) {
    if (appError.code === "SERVICE_UNAVAILABLE") request.log.warn({ err: error }, "database unavailable");
    const language = await languageOfRequest(request);
    const problem = problemOf(request, appError.code, appError.messageIn(language), appError.extensions);
    return sendProblem(reply, { ...problem, title: translate(language, `problem.${appError.code}`) });
  }
  if (error.validation) {
    const language = await languageOfRequest(request);
    return sendProblem(reply, { ...validationProblem(request, error, language), title: translate(language, "problem.BAD_USER_INPUT") });
  }
  const status = error.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const code = codeOfStatus(status);
    const language = await languageOfRequest(request);
    const known = error.code ? FASTIFY_MESSAGES[error.code] : undefined;
    const detail = known && error.message === translate("en", known) ? translate(language, known) : error.message;
    const title = HTTP_TITLES[status] ?? `problem.${code}`;
    const problem = { ...problemOf(request, code, detail), status, title: translate(language, title) };
    if (status === 429) {
      const retryAfter = Number(reply.getHeader("retry-after"));
      if (Number.isFinite(retryAfter)) problem.retryAfterSeconds = retryAfter;
    }
    return sendProblem(reply, problem);
  }
  request.log.error({ err: error, requestId: request.id }, "unexpected error");
  const language = await languageOfRequest(request);
  return sendProblem(reply, {
    ...problemOf(request, "INTERNAL_SERVER_ERROR", translate(language, "error.internal")),
    title: translate(language, "problem.INTERNAL_SERVER_ERROR"),
  });
}

/** Unknown routes under the API's prefix: a problem, like every other refusal, in the request's language. */
export async function restNotFoundHandler(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const language = await languageOfRequest(request);
  const detail = translate(language, "rest.no_route", { method: request.method, path: request.url.split("?")[0]!, openapi: OPENAPI_PATH });
  return sendProblem(reply, { ...problemOf(request, "NOT_FOUND", detail), title: translate(language, "problem.NOT_FOUND") });
}
