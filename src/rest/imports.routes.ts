// /api/v1/account-imports: bulk import of accounts over REST, through the
// service GraphQL's importAccounts / startAccountImport / accountImport use
// (src/imports/imports.service.ts: same checks, authorization, audit, jobs).
// The file is the request body itself (CSV or JSON lines), so these routes
// live in their own encapsulated scope: only there are text/csv and JSON
// lines parsed, and only there may a body be as large as IMPORT_MAX_MB
// rather than REQUEST_BODY_LIMIT_BYTES. Authentication runs in onRequest,
// before the body is read: an unauthenticated client cannot make the server
// buffer a large file.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import iconv from "iconv-lite";
import type { AppDeps } from "../app-deps";
import { findAccountImport, importAccounts, startAccountImport, writtenImportView, type AccountImportView, type ImportMode } from "../imports/imports.service";
import type { ImportFormat } from "../imports/imports.parse";
import { BadInputError } from "../errors";
import { message, translate } from "../i18n/messages";
import { callerOfRequest, languageOfRequest, principalOfRequest } from "./auth";
import { restErrorHandler } from "./problem";
import { jsonResponse, problemResponses } from "./schemas";

const IMPORT_PATH = "/account-imports";

/** The media types a file may be sent as, and the format each implies (text/plain: the format parameter, CSV by default). */
const MEDIA_TYPE_FORMATS: Record<string, ImportFormat | null> = {
  "text/csv": "CSV",
  "application/x-ndjson": "JSONL",
  "application/jsonl": "JSONL",
  "text/plain": null,
};
const MEDIA_TYPES = Object.keys(MEDIA_TYPE_FORMATS);

const IMPORT_PHASES = ["UPLOADING", "VALIDATING", "HASHING", "WRITING", "DONE", "FAILED"] as const;

const accountImportSchema = {
  type: "object",
  description: "An import of accounts: its progress while it runs, its report when it is finished (the GraphQL type AccountImport).",
  required: [
    "id",
    "format",
    "mode",
    "dryRun",
    "phase",
    "rowsTotal",
    "phaseDone",
    "phaseTotal",
    "validCount",
    "createdCount",
    "failedCount",
    "errors",
    "failure",
    "createdAt",
    "finishedAt",
  ],
  properties: {
    id: { type: "string", format: "uuid" },
    format: { type: "string", enum: ["CSV", "JSONL"] },
    mode: { type: "string", enum: ["ALL_OR_NOTHING", "PER_ROW"] },
    dryRun: { type: "boolean", description: "A check only: nothing is written." },
    phase: {
      type: "string",
      enum: IMPORT_PHASES,
      description:
        "VALIDATING (checking every row), HASHING (the passwords of the rows to create), WRITING, then DONE or FAILED (see failure). " +
        "UPLOADING: an import started over GraphQL that waits for the rest of its file.",
    },
    rowsTotal: { type: "integer", description: "Data rows in the file." },
    phaseDone: { type: "integer", description: "Progress of the current phase: rows checked, passwords hashed, accounts written." },
    phaseTotal: { type: "integer", description: "What the current phase has to do in all, in the same unit as phaseDone." },
    validCount: { type: "integer", description: "Rows that passed every check: on a dry run, the accounts the import would create." },
    createdCount: { type: "integer", description: "Accounts created." },
    failedCount: { type: "integer", description: "Rows refused (each has at least one entry in errors)." },
    errors: {
      type: "array",
      description: "Every problem of every refused row, in row order.",
      items: {
        type: "object",
        required: ["row", "line", "field", "code", "message", "address"],
        properties: {
          row: { type: "integer", description: "Data row number, from 1 (a CSV header is not a row)." },
          line: { type: "integer", description: "The line of the file where the row ends (a CSV header is line 1)." },
          field: { type: ["string", "null"], description: "The column at fault; null when the row as a whole is." },
          code: {
            type: "string",
            description:
              "BAD_USER_INPUT (a malformed value), NOT_FOUND (no such domain, or not one the caller may see), FORBIDDEN, CONFLICT (the address " +
              "appears on an earlier row, or the account exists already), QUOTA_EXCEEDED (the domain's quota or maxAccounts).",
          },
          message: { type: "string" },
          address: { type: ["string", "null"], description: "The row's address as written in the file, when it has one." },
        },
      },
    },
    failure: { type: ["string", "null"], description: "Why the import stopped, when phase is FAILED." },
    createdAt: { type: "string", format: "date-time" },
    finishedAt: { type: ["string", "null"], format: "date-time" },
  },
} as const;

/** The import as answered, its row errors and failure in the request's language. */
async function importView(request: FastifyRequest, found: AccountImportView) {
  const view = await writtenImportView(found, () => languageOfRequest(request));
  return {
    ...view,
    errors: view.errors.map((error) => ({ row: error.row, line: error.line, field: error.field, code: error.code, message: error.message, address: error.address })),
    createdAt: view.createdAt.toISOString(),
    finishedAt: view.finishedAt?.toISOString() ?? null,
  };
}

const locationOf = (id: string) => `/api/v1${IMPORT_PATH}/${id}`;

function charsetOf(contentType: string | undefined): string {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? "");
  return match ? match[1]!.toLowerCase() : "utf-8";
}

/**
 * The file as text. UTF-8 unless the Content-Type names another charset
 * (spreadsheets in Taiwan often save CSV as Big5); bytes that are not UTF-8
 * are refused rather than turned into replacement characters in names.
 */
function decodeFile(body: Buffer, contentType: string | undefined): string {
  const charset = charsetOf(contentType);
  if (charset === "utf-8" || charset === "utf8") {
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      throw new BadInputError("content", message("imports.rest.not_utf8"));
    }
  }
  const shown = charset.slice(0, 40);
  if (!iconv.encodingExists(charset)) throw new BadInputError("charset", message("imports.rest.unknown_charset", { charset: shown }));
  return iconv.decode(body, charset);
}

const ALIASES: Record<string, string> = { csv: "CSV", jsonl: "JSONL", "all-or-nothing": "ALL_OR_NOTHING", "per-row": "PER_ROW" };

/** The format of the file: the format parameter, or what the media type says; the two must agree. */
function formatOf(request: FastifyRequest, format: string | undefined): ImportFormat {
  const implied = request.mediaType ? (MEDIA_TYPE_FORMATS[request.mediaType] ?? null) : null;
  const asked = format === undefined ? null : ((ALIASES[format] ?? format) as ImportFormat);
  if (asked && implied && asked !== implied) {
    throw new BadInputError("format", message("imports.rest.format_mismatch", { format: String(format), mediaType: request.mediaType ?? "" }));
  }
  return asked ?? implied ?? "CSV";
}

interface ImportQuery {
  format?: string;
  mode?: string;
  dryRun?: boolean;
  wait?: boolean;
}

/** Fastify's refusals of a body, said the way the rest of this API says things. */
function importErrorHandler(maxMb: number) {
  return async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      const detail = translate(await languageOfRequest(request), "imports.file.too_large", { max: String(maxMb) });
      const refusal = Object.assign(new Error(detail), { statusCode: 413 }) as FastifyError;
      return restErrorHandler(refusal, request, reply);
    }
    if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      const got = request.headers["content-type"] ?? message("imports.rest.media_type_none");
      const detail = translate(await languageOfRequest(request), "imports.rest.media_type", { types: MEDIA_TYPES.join(", "), got });
      const refusal = Object.assign(new Error(detail), { statusCode: 415 }) as FastifyError;
      return restErrorHandler(refusal, request, reply);
    }
    return restErrorHandler(error, request, reply);
  };
}

async function importScope(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const maxMb = deps.config.IMPORT_MAX_MB;
  app.setErrorHandler(importErrorHandler(maxMb));
  // Only the file's own media types; JSON and the rest answer 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(MEDIA_TYPES, { parseAs: "buffer" }, (request, body, done) => {
    try {
      done(null, decodeFile(body as Buffer, request.headers["content-type"]));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  const fileSchema = (description: string) => ({ schema: { type: "string", description } });
  const csvDescription = "CSV, the first line naming the columns: address, password or passwordHash, and optionally quotaMb, displayName, status; destinations for alias rows.";
  const jsonLinesDescription = 'JSON lines: one object per line, such as {"address":"mary@example.tw","password":"...","quotaMb":1024}.';

  app.post<{ Querystring: ImportQuery; Body: string | undefined }>(
    IMPORT_PATH,
    {
      config: { scope: "WRITE" },
      bodyLimit: maxMb * 1024 * 1024,
      schema: {
        operationId: "startAccountImport",
        tags: ["account imports"],
        summary: "Import accounts from a CSV or JSON-lines file (support staff: any domain; a domain administrator: its own)",
        description:
          "The body is the file (at most IMPORT_MAX_MB MiB and IMPORT_MAX_ROWS rows; UTF-8 unless the Content-Type names a charset). Every row " +
          "is checked first and every problem reported; a dry run stops there. ALL_OR_NOTHING then creates nothing if any row is refused; " +
          "PER_ROW creates the good rows. Each account created is audited (account.create). Answers 202 at once with the import and its " +
          "Location: follow GET /account-imports/{id} until phase is DONE or FAILED. With wait=true, answers 200 with the finished report " +
          "instead (for small files). A file that cannot be read at all is BAD_USER_INPUT on content, and nothing is started. The same " +
          "service as GraphQL's importAccounts and startAccountImport.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            format: {
              type: "string",
              enum: ["CSV", "JSONL", "csv", "jsonl"],
              description: "Default: from the Content-Type (text/csv: CSV, application/x-ndjson or application/jsonl: JSONL; text/plain: CSV).",
            },
            mode: { type: "string", enum: ["ALL_OR_NOTHING", "PER_ROW", "all-or-nothing", "per-row"], default: "ALL_OR_NOTHING" },
            dryRun: { type: "boolean", default: false, description: "Check every row and write nothing." },
            wait: { type: "boolean", default: false, description: "Answer 200 with the report once the import is finished, rather than 202 at once." },
          },
        },
        body: {
          content: {
            "text/csv": fileSchema(csvDescription),
            "application/x-ndjson": fileSchema(jsonLinesDescription),
            "application/jsonl": fileSchema(jsonLinesDescription),
            "text/plain": fileSchema("CSV, or JSON lines with format=jsonl."),
          },
        },
        response: {
          200: jsonResponse("wait=true: the finished import and its report.", accountImportSchema),
          202: {
            ...jsonResponse("Started: follow the Location (GET /account-imports/{id}) for progress and the report.", accountImportSchema),
            // A header is given as its JSON schema: @fastify/swagger wraps it in the OpenAPI header object ({ schema, description }) itself.
            headers: { Location: { type: "string", description: "The import: /api/v1/account-imports/{id}." } },
          },
          ...problemResponses(400, 403, 409),
        },
      },
    },
    async (request, reply) => {
      if (typeof request.body !== "string") {
        throw new BadInputError("content", message("imports.rest.no_body", { types: MEDIA_TYPES.join(", ") }));
      }
      const input = {
        content: request.body,
        format: formatOf(request, request.query.format),
        mode: (ALIASES[request.query.mode ?? ""] ?? request.query.mode ?? "ALL_OR_NOTHING") as ImportMode,
        dryRun: request.query.dryRun ?? false,
      };
      const caller = callerOfRequest(request);
      if (request.query.wait) return importView(request, await importAccounts(deps, caller, input));
      const started = await startAccountImport(deps, caller, { ...input, more: false });
      return reply
        .code(202)
        .header("location", locationOf(started.id))
        .send(await importView(request, started));
    },
  );

  app.get<{ Params: { id: string } }>(
    `${IMPORT_PATH}/:id`,
    {
      config: { scope: "READ" },
      schema: {
        operationId: "getAccountImport",
        tags: ["account imports"],
        summary: "An import the caller started: its progress, and its report once finished",
        description:
          "Imports belong to whoever started them (over REST or GraphQL; an API token's are its creator's): anyone else gets 404. They live " +
          "in the memory of the server process that runs them, until IMPORT_JOB_RETENTION_SECONDS after they end. The same service as " +
          "GraphQL's accountImport.",
        params: { type: "object", required: ["id"], properties: { id: { type: "string", minLength: 1, maxLength: 64 } } },
        response: { 200: jsonResponse("The import.", accountImportSchema), ...problemResponses(400, 404) },
      },
    },
    async (request) => importView(request, await findAccountImport(deps, principalOfRequest(request), request.params.id)),
  );
}

export async function importRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  await app.register(async (scope) => importScope(scope, deps));
}
