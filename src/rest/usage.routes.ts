// /api/v1/mailbox-usage: the usage push of mail stores that are not Dovecot
// (Dovecot writes mailbox_usage itself), and /api/v1/mailboxes-above-quota:
// the mailboxes near or over their quota. Thin handlers over usage.service.ts.
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app-deps";
import { createLoaders } from "../loaders";
import { findDomain } from "../domains/domains.service";
import { listMailboxesAboveQuota, MAX_USAGE_ROWS, reportMailboxUsage, type MailboxUsageReport } from "../usage/usage.service";
import { callerOfRequest, principalOfRequest } from "./auth";
import { accountView, pageView } from "./views";
import { jsonResponse, pageOf, pageParameters, problemResponses, ref } from "./schemas";

const reportResult = {
  type: "object",
  required: ["accepted", "rejected"],
  properties: {
    accepted: { type: "integer", description: "Mailboxes whose usage was stored." },
    rejected: {
      type: "array",
      description: "Rows not stored, with why, in body order.",
      items: {
        type: "object",
        required: ["index", "address", "field", "code", "message"],
        properties: {
          index: { type: "integer", description: "Position of the row in `mailboxes`, from 0." },
          address: { type: "string" },
          field: { type: "string", enum: ["address", "bytes", "messages"] },
          code: { type: "string", enum: ["BAD_USER_INPUT", "NOT_FOUND"] },
          message: { type: "string" },
        },
      },
    },
  },
} as const;

interface AboveQuotaQuerystring {
  percent?: number;
  domain?: string;
  first?: number;
  after?: string;
}

export async function usageRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.put<{ Body: { mailboxes: MailboxUsageReport[] } }>(
    "/mailbox-usage",
    {
      config: { scope: "USAGE" },
      schema: {
        operationId: "reportMailboxUsage",
        tags: ["quotas"],
        summary: "Report mailboxes' usage from a mail store (support staff, or a service token: an API token with USAGE created by support staff)",
        description:
          "For mail stores other than Dovecot (which writes its figures itself). Each mailbox's figures replace what was known, and the " +
          "account's usedMb (bytes rounded up to MiB), messageCount and usageUpdatedAt follow. Rows that cannot be stored (unknown or " +
          `malformed address, negative figure, address given twice) are listed in rejected; the others are stored. 1 to ${MAX_USAGE_ROWS} ` +
          "mailboxes a request; one audit entry (mailbox_usage.report) a request.",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["mailboxes"],
          properties: {
            mailboxes: {
              type: "array",
              minItems: 1,
              maxItems: MAX_USAGE_ROWS,
              items: {
                type: "object",
                additionalProperties: false,
                required: ["address", "bytes", "messages"],
                properties: {
                  address: { type: "string", description: "The mailbox's address." },
                  bytes: { type: "integer", description: "Storage used, in bytes." },
                  messages: { type: "integer", description: "Messages in the mailbox." },
                },
              },
            },
          },
        },
        response: { 200: jsonResponse("What was stored.", reportResult), ...problemResponses(400, 403) },
      },
    },
    async (request) => reportMailboxUsage(deps, callerOfRequest(request), request.body.mailboxes),
  );

  app.get<{ Querystring: AboveQuotaQuerystring }>(
    "/mailboxes-above-quota",
    {
      config: { scope: "READ" },
      schema: {
        operationId: "listMailboxesAboveQuota",
        tags: ["quotas"],
        summary: "Mailboxes using at least a share of their quota (support staff: every domain; a domain administrator: its own)",
        description:
          "Mailboxes whose usedMb × 100 ≥ percent × quotaMb, by address; logins without a mailbox (quota 0) are never listed. Without " +
          "domain, support staff get every domain and a domain administrator its own; another domain is 404 for a domain administrator.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            percent: { type: "integer", description: "1 to 1000; default: the lowest of QUOTA_WARNING_PERCENTS (80)." },
            domain: { type: "string", minLength: 1, maxLength: 253, description: "The domain's name, ASCII or Unicode." },
            ...pageParameters,
          },
        },
        response: { 200: jsonResponse("A page of accounts.", pageOf(ref("Account"), "Accounts at or above the threshold, by address.")), ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const { domain, ...query } = request.query;
      const domainId = domain === undefined ? undefined : (await findDomain(deps, principal, { name: domain })).id;
      const loaders = createLoaders(deps.db);
      return pageView(await listMailboxesAboveQuota(deps, principal, { ...query, domainId }), (account) => accountView(loaders, account));
    },
  );
}
