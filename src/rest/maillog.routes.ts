// Delivery logs over REST: an address's records ("what happened to this
// user's mail") and the push of log lines by log shippers. Both need the LOGS
// scope of an API token; pushing is for support staff and their service tokens.
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app-deps";
import { pushMailLog, readMailLog, type MailLogQuery } from "../maillog/maillog.service";
import { splitLines } from "../maillog/parse";
import { callerOfRequest, principalOfRequest } from "./auth";
import { mailLogRecordView, pageView } from "./views";
import { DELIVERY_STATUSES, LOG_FORMATS, MAIL_DIRECTIONS, MAIL_LOG_RANGES, jsonResponse, pageOf, pageParameters, problemResponses, ref } from "./schemas";

const ingestResult = {
  type: "object",
  required: ["accepted", "duplicates", "rejected", "tooOld"],
  properties: {
    accepted: { type: "integer", description: "Records stored as new (EZML: one a line; Postfix: one per delivery attempt or rejection)." },
    duplicates: { type: "integer", description: "Records already stored (from this or another source)." },
    otherLines: {
      type: "integer",
      description: "Postfix: lines that are no record themselves (a message's from= and client= lines, joined into its later records; connections; other programs). 0 for EZML.",
    },
    rejected: {
      type: "array",
      description: "Lines that could not be read, with the reason; they are kept for support (rejectedLogLines).",
      items: {
        type: "object",
        required: ["lineNumber", "reason", "line"],
        properties: { lineNumber: { type: "integer" }, reason: { type: "string" }, line: { type: "string" } },
      },
    },
    tooOld: {
      type: "integer",
      description: "Lines read but dated before the retention (MAIL_LOG_RETENTION_DAYS): not stored, since pruning would delete them at once; counted here.",
    },
  },
} as const;

/** The lines of a text/plain body, as bytes: the parser decodes each (UTF-8, or Big5 when it is not UTF-8), as it does for collected files. */
function linesOfText(body: Buffer): Buffer[] {
  const { lines, rest } = splitLines(body);
  return rest.length > 0 ? [...lines, rest] : lines;
}

export async function mailLogRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Params: { address: string }; Querystring: Omit<MailLogQuery, "address"> }>(
    "/accounts/:address/mail-log",
    {
      config: { scope: "LOGS" },
      schema: {
        operationId: "getMailLog",
        tags: ["delivery log"],
        summary: "Delivery records of an address, newest first",
        description:
          "Support staff read any address, a domain administrator the addresses of its own domain, a user its own; anything else is 404. " +
          "range TODAY is the calendar day in SERVICE_TIME_ZONE (the default), LAST_6_MONTHS everything kept.",
        params: { type: "object", required: ["address"], properties: { address: { type: "string", minLength: 3, maxLength: 320 } } },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            range: { type: "string", enum: MAIL_LOG_RANGES, default: "TODAY" },
            direction: { type: "string", enum: MAIL_DIRECTIONS },
            status: { type: "string", enum: DELIVERY_STATUSES },
            counterpart: { type: "string", description: "Part of the other party's address." },
            subject: { type: "string", description: "Part of the subject, case-insensitive." },
            ...pageParameters,
          },
        },
        response: { 200: jsonResponse("A page of delivery records.", pageOf(ref("MailLogRecord"), "Delivery records, newest first.")), ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => pageView(await readMailLog(deps, principalOfRequest(request), { ...request.query, address: request.params.address }), mailLogRecordView),
  );

  app.post<{
    Params: { source: string };
    Querystring: { timeZone?: string; format?: (typeof LOG_FORMATS)[number] };
    Body: { lines: string[]; timeZone?: string; format?: (typeof LOG_FORMATS)[number] } | Buffer;
  }>(
    "/mail-log/:source",
    {
      config: { scope: "LOGS" },
      schema: {
        operationId: "ingestMailLog",
        tags: ["delivery log"],
        summary: "Push delivery-log lines (support staff, or a service token: an API token with LOGS created by support staff)",
        description:
          'For log shippers. The body is JSON ({"lines": [...]}) or text/plain, one log line per line (UTF-8 or Big5 bytes, CRLF accepted). ' +
          "Idempotent: a delivery already stored, from this or another source, counts as a duplicate. At most 10,000 lines a request. " +
          "timeZone is the log server's (default SERVICE_TIME_ZONE), in the query or the JSON body. format POSTFIX reads Postfix's log " +
          "(push a source's lines in log order; a message's lines may come in different requests; accepted and duplicates then count delivery records), default EZML.",
        params: { type: "object", required: ["source"], properties: { source: { type: "string", description: "The log source's name, such as m2k-1." } } },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            timeZone: { type: "string", description: "IANA time zone, such as Asia/Taipei." },
            format: { type: "string", enum: LOG_FORMATS, description: "How the lines are written: EZML (the default) or POSTFIX." },
          },
        },
        body: {
          content: {
            "application/json": {
              schema: {
                type: "object",
                additionalProperties: false,
                required: ["lines"],
                properties: {
                  lines: { type: "array", maxItems: 10_000, items: { type: "string" } },
                  timeZone: { type: "string" },
                  format: { type: "string", enum: LOG_FORMATS },
                },
              },
            },
            "text/plain": { schema: { type: "string", description: "Log lines, one per line." } },
          },
        },
        response: { 200: jsonResponse("What was stored.", ingestResult), ...problemResponses(400, 403) },
      },
    },
    async (request) => {
      const body = request.body;
      const lines = Buffer.isBuffer(body) ? linesOfText(body) : body.lines;
      const timeZone = request.query.timeZone ?? (Buffer.isBuffer(body) ? undefined : body.timeZone);
      const format = request.query.format ?? (Buffer.isBuffer(body) ? undefined : body.format);
      return pushMailLog(deps, callerOfRequest(request), { source: request.params.source, lines, timeZone, format: format === "POSTFIX" ? "postfix" : "ezml" });
    },
  );
}
