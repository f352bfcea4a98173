// JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the REST API's
// representations. Response schemas are shared components of the OpenAPI
// document (referenced as { $ref: "Name#" }); request schemas are written in
// each route and validate the request. Nullable values are `type: [T, "null"]`.
import type { FastifyInstance } from "fastify";

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, "null"], ...extra });
const dateTime = { type: "string", format: "date-time" } as const;
const nullableDateTime = nullable("string", { format: "date-time" });

/** A reference to a shared schema, for route responses. */
export const ref = (name: SharedSchemaName) => ({ $ref: `${name}#` });

export const DOMAIN_STATUSES = ["ACTIVE", "SUSPENDED"] as const;
export const ACCOUNT_STATUSES = ["ACTIVE", "SUSPENDED"] as const;
export const ROLES = ["SUPPORT_ADMIN", "SUPPORT_READONLY", "DOMAIN_ADMIN", "USER"] as const;
export const DNS_SETUPS = ["A_ONLY", "MX", "MX_WEB", "MX_WEB_BACKUP"] as const;
export const DNS_CHECK_STATUSES = ["PASS", "WARN", "ERROR", "FAIL"] as const;
export const MAIL_DIRECTIONS = ["OUTBOUND", "INBOUND"] as const;
export const DELIVERY_STATUSES = ["OK", "RETRY", "FAIL"] as const;
export const MAIL_LOG_RANGES = ["TODAY", "LAST_6_MONTHS"] as const;
export const LOG_FORMATS = ["EZML", "POSTFIX"] as const;

const sharedSchemas = {
  Problem: {
    type: "object",
    description: "An error, as RFC 9457 problem details (application/problem+json). `code` is the same as extensions.code in the GraphQL API.",
    required: ["type", "title", "status", "detail", "instance", "code", "requestId"],
    properties: {
      type: { type: "string", description: "A URI naming the kind of problem (tag:mailadmin,2026:problem:<code>)." },
      title: { type: "string", description: "Short summary of the kind of problem." },
      status: { type: "integer", description: "The HTTP status code." },
      detail: { type: "string", description: "What went wrong in this request, in a sentence support can read." },
      instance: { type: "string", description: "The request path." },
      code: {
        type: "string",
        enum: ["UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "CONFLICT", "QUOTA_EXCEEDED", "RATE_LIMITED", "SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR"],
      },
      requestId: { type: "string", description: "Also in the x-request-id header and the server's log lines." },
      field: { type: "string", description: "The input field at fault (BAD_USER_INPUT, QUOTA_EXCEEDED, some CONFLICTs)." },
      retryAfterSeconds: { type: "integer", description: "RATE_LIMITED: when to try again (also the Retry-After header)." },
    },
  },
  Warning: {
    type: "object",
    description: "Something accepted but worth a second look, such as a quota set below current usage.",
    required: ["code", "field", "message"],
    properties: { code: { type: "string" }, field: { type: "string" }, message: { type: "string" } },
  },
  AccountRef: {
    type: "object",
    required: ["id", "address"],
    properties: { id: { type: "string", format: "uuid" }, address: { type: "string" } },
  },
  Domain: {
    type: "object",
    required: [
      "id",
      "name",
      "unicodeName",
      "status",
      "isTestDomain",
      "quotaMb",
      "maxAccounts",
      "defaultMailboxQuotaMb",
      "accountCount",
      "allocatedQuotaMb",
      "usedMb",
      "admin",
      "dnsSetup",
      "webServerAddress",
      "dkimPublicKey",
      "createdAt",
      "updatedAt",
    ],
    properties: {
      id: { type: "string", format: "uuid" },
      name: { type: "string", description: "Lower-case ASCII (punycode for an internationalised name)." },
      unicodeName: { type: "string" },
      status: { type: "string", enum: DOMAIN_STATUSES },
      isTestDomain: { type: "boolean" },
      quotaMb: nullable("integer", { description: "Storage quota of the whole domain in MiB; null: unlimited." }),
      maxAccounts: nullable("integer", { description: "Most accounts, the administrator included; null: unlimited." }),
      defaultMailboxQuotaMb: { type: "integer" },
      accountCount: { type: "integer" },
      allocatedQuotaMb: { type: "integer", description: "Sum of the mailbox quotas." },
      usedMb: { type: "integer" },
      admin: { $ref: "AccountRef#" },
      dnsSetup: { type: "string", enum: DNS_SETUPS },
      webServerAddress: nullable("string"),
      dkimPublicKey: nullable("string"),
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  },
  Account: {
    type: "object",
    required: [
      "id",
      "address",
      "localPart",
      "domain",
      "displayName",
      "role",
      "status",
      "quotaMb",
      "usedMb",
      "messageCount",
      "usagePercent",
      "usageUpdatedAt",
      "createdAt",
      "updatedAt",
    ],
    properties: {
      id: { type: "string", format: "uuid" },
      address: { type: "string" },
      localPart: { type: "string" },
      domain: { type: "string", description: "The domain's name (ASCII)." },
      displayName: { type: "string" },
      role: { type: "string", enum: ["DOMAIN_ADMIN", "USER"] },
      status: { type: "string", enum: ACCOUNT_STATUSES },
      quotaMb: { type: "integer", description: "Mailbox quota in MiB; 0: a login without a mailbox." },
      usedMb: { type: "integer", description: "Storage used in MiB (bytes rounded up), as the mail store reports it." },
      messageCount: { type: "integer", description: "Messages in the mailbox, as the mail store reports it." },
      usagePercent: nullable("integer", { description: "usedMb as a whole percentage of quotaMb (rounded down); null for quota 0." }),
      usageUpdatedAt: nullable("string", { format: "date-time", description: "When the mail store last reported the usage; null: never." }),
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  },
  Alias: {
    type: "object",
    required: ["id", "address", "localPart", "domain", "destinations", "createdAt", "updatedAt"],
    properties: {
      id: { type: "string", format: "uuid" },
      address: { type: "string" },
      localPart: { type: "string" },
      domain: { type: "string", description: "The domain's name (ASCII)." },
      destinations: { type: "array", items: { type: "string" }, description: "Where mail to the alias goes, in lower case." },
      createdAt: dateTime,
      updatedAt: dateTime,
    },
  },
  MailLogRecord: {
    type: "object",
    required: [
      "id",
      "loggedAt",
      "queueId",
      "queuedAt",
      "queuedForSeconds",
      "direction",
      "sender",
      "recipient",
      "subject",
      "sizeBytes",
      "status",
      "retryCount",
      "reason",
      "localAddress",
      "source",
      "rawLine",
    ],
    properties: {
      id: { type: "string" },
      loggedAt: dateTime,
      queueId: nullable("string"),
      queuedAt: nullableDateTime,
      queuedForSeconds: nullable("integer"),
      direction: { type: ["string", "null"], enum: [...MAIL_DIRECTIONS, null] },
      sender: nullable("string"),
      recipient: nullable("string"),
      subject: nullable("string"),
      sizeBytes: nullable("integer"),
      status: { type: "string", enum: DELIVERY_STATUSES },
      retryCount: nullable("integer"),
      reason: nullable("string"),
      localAddress: nullable("string"),
      source: { type: "string" },
      rawLine: { type: "string" },
      format: { type: "string", enum: LOG_FORMATS, description: "Which log the record was read from: EZML (one line, one record) or POSTFIX (joined from a message's lines)." },
      dsn: { ...nullable("string"), description: "Postfix: the enhanced status code of the outcome (2.0.0, 4.4.1, 5.1.1, 5.2.2...)." },
      relay: { ...nullable("string"), description: "Postfix: where the message was handed (relay=): host[address]:port, virtual, local, none." },
      delaySeconds: { ...nullable("number"), description: "Postfix: seconds from the message's arrival to the end of this attempt (delay=)." },
      originalRecipient: { ...nullable("string"), description: "Postfix: the recipient before alias or virtual rewriting (orig_to=)." },
    },
  },
  DnsCheck: {
    type: "object",
    required: ["domainName", "setup", "contractSetup", "detectedSetup", "status", "findings", "checkedAt", "durationMs", "cached"],
    properties: {
      domainName: { type: "string" },
      setup: { type: "string", enum: DNS_SETUPS, description: "The set-up checked against." },
      contractSetup: { type: "string", enum: DNS_SETUPS },
      detectedSetup: { type: ["string", "null"], enum: [...DNS_SETUPS, null] },
      status: { type: "string", enum: DNS_CHECK_STATUSES, description: "The worst finding." },
      findings: {
        type: "array",
        items: {
          type: "object",
          required: ["check", "status", "subject", "expected", "found", "fix"],
          properties: {
            check: { type: "string" },
            status: { type: "string", enum: DNS_CHECK_STATUSES },
            subject: { type: "string" },
            expected: nullable("string"),
            found: nullable("string"),
            fix: nullable("string"),
          },
        },
      },
      checkedAt: dateTime,
      durationMs: { type: "integer" },
      cached: { type: "boolean" },
    },
  },
} as const;

export type SharedSchemaName = keyof typeof sharedSchemas;

/** A page of a list: `nextCursor` goes in `after` for the next page (null on the last). */
export function pageOf(itemSchema: object, description: string) {
  return {
    type: "object",
    description,
    required: ["items", "totalCount", "nextCursor"],
    properties: {
      items: { type: "array", items: itemSchema },
      totalCount: { type: "integer", description: "Items matching the filters, all pages together." },
      nextCursor: nullable("string"),
    },
  };
}

/** Query parameters of a cursor-paginated list. */
export const pageParameters = {
  first: { type: "integer", minimum: 1, maximum: 100, description: "Page size, 1 to 100." },
  after: { type: "string", description: "nextCursor of the previous page." },
} as const;

export function registerSharedSchemas(app: FastifyInstance): void {
  for (const [name, schema] of Object.entries(sharedSchemas)) app.addSchema({ $id: name, ...schema });
}

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: "BAD_USER_INPUT: malformed input; `field` names it.",
  401: "UNAUTHENTICATED: no token, or an expired, revoked or unknown one; `detail` says which.",
  403: "FORBIDDEN: the caller may see the object but not do this, or its API token lacks the scope.",
  404: "NOT_FOUND: no such object, or not one the caller may see.",
  409: "CONFLICT (it already exists, or the change would break a rule) or QUOTA_EXCEEDED (a quota or account limit; `field` names it).",
};

/** The problem responses of a route: the statuses it documents, and `default` for the rest (429, 500, 503...). */
export function problemResponses(...statuses: (400 | 401 | 403 | 404 | 409)[]) {
  const problem = { content: { "application/problem+json": { schema: ref("Problem") } } };
  const responses: Record<string, object> = {};
  for (const status of [401, ...statuses]) responses[status] = { description: PROBLEM_DESCRIPTIONS[status], ...problem };
  responses.default = { description: "Any other problem: RATE_LIMITED (429), INTERNAL_SERVER_ERROR (500), SERVICE_UNAVAILABLE (503).", ...problem };
  return responses;
}

/** A JSON success response with a description. */
export function jsonResponse(description: string, schema: object) {
  return { description, content: { "application/json": { schema } } };
}
