// /api/v1/domains/{name}/accounts: list, read, idempotent create-or-update
// (PUT), delete, and the mailbox quota. Thin handlers over the account
// services GraphQL uses.
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app-deps";
import { createLoaders } from "../loaders";
import { deleteAccount, listAccounts, updateAccount, type AccountListQuery } from "../accounts/accounts.service";
import { findDomain } from "../domains/domains.service";
import { callerOfRequest, principalOfRequest, warningsFor } from "./auth";
import { accountByPath, putAccount, type PutAccountBody } from "./provisioning";
import { accountView, pageView } from "./views";
import { ACCOUNT_STATUSES, jsonResponse, pageOf, pageParameters, problemResponses, ref } from "./schemas";

const domainName = { type: "string", minLength: 1, maxLength: 253, description: "The domain's name, ASCII or Unicode." } as const;
const localPart = { type: "string", minLength: 1, maxLength: 64, description: "The part of the address before the @." } as const;
const domainParams = { type: "object", required: ["name"], properties: { name: domainName } } as const;
const accountParams = { type: "object", required: ["name", "localPart"], properties: { name: domainName, localPart } } as const;

const accountPayload = {
  type: "object",
  required: ["account", "warnings"],
  properties: { account: ref("Account"), warnings: { type: "array", items: ref("Warning") } },
} as const;

const putAccountPayload = {
  type: "object",
  required: ["account", "created", "warnings"],
  properties: {
    account: ref("Account"),
    created: { type: "boolean", description: "true when this PUT created the account (status 201)." },
    warnings: { type: "array", items: ref("Warning") },
  },
} as const;

type AccountPath = { name: string; localPart: string };

export async function accountRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Params: { name: string }; Querystring: AccountListQuery }>(
    "/domains/:name/accounts",
    {
      config: { scope: "READ" },
      schema: {
        operationId: "listAccounts",
        tags: ["accounts"],
        summary: "The domain's accounts, by address (support staff, the domain's administrator)",
        params: domainParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            search: { type: "string", description: "Part of the address or display name." },
            role: { type: "string", enum: ["DOMAIN_ADMIN", "USER"] },
            status: { type: "string", enum: ACCOUNT_STATUSES },
            ...pageParameters,
          },
        },
        response: { 200: jsonResponse("A page of accounts.", pageOf(ref("Account"), "A page of accounts, by address.")), ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const domain = await findDomain(deps, principal, { name: request.params.name });
      const loaders = createLoaders(deps.db);
      return pageView(await listAccounts(deps, principal, domain.id, request.query), (account) => accountView(loaders, account));
    },
  );

  app.get<{ Params: AccountPath }>(
    "/domains/:name/accounts/:localPart",
    {
      config: { scope: "READ" },
      schema: {
        operationId: "getAccount",
        tags: ["accounts"],
        summary: "One account",
        description: 'Answered as {"account": ...}, the same shape as every other answer about one account (PUT, quota).',
        params: accountParams,
        response: {
          200: jsonResponse("The account.", { type: "object", required: ["account"], properties: { account: ref("Account") } }),
          ...problemResponses(400, 403, 404),
        },
      },
    },
    async (request) => ({
      account: await accountView(createLoaders(deps.db), await accountByPath(deps, callerOfRequest(request), request.params.name, request.params.localPart)),
    }),
  );

  app.put<{ Params: AccountPath; Body: PutAccountBody }>(
    "/domains/:name/accounts/:localPart",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "putAccount",
        tags: ["accounts"],
        summary: "Create the account, or change the fields given (support staff, the domain's administrator)",
        description:
          "Idempotent: creates the account when it does not exist (201; password required), otherwise sets the fields the body gives and " +
          "leaves the others alone (200). A password equal to the current one changes nothing, so the same PUT twice gives the same state " +
          "and the second writes no audit record.",
        params: accountParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            displayName: { type: "string" },
            password: { type: "string", description: "10 to 72 bytes. Required to create; when it differs from the current one, the account's login tokens stop working." },
            quotaMb: { type: "integer", description: "Mailbox quota in MiB (default for a new account: the domain's defaultMailboxQuotaMb)." },
            status: { type: "string", enum: ACCOUNT_STATUSES },
          },
        },
        response: {
          200: jsonResponse("The account existed: the fields given are set.", putAccountPayload),
          201: jsonResponse("The account was created.", putAccountPayload),
          ...problemResponses(400, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const result = await putAccount(deps, callerOfRequest(request), request.params.name, request.params.localPart, request.body);
      if (result.created) {
        const [local, domain] = [result.account.localPart, result.account.address.slice(result.account.address.lastIndexOf("@") + 1)];
        reply.code(201).header("location", `/api/v1/domains/${encodeURIComponent(domain)}/accounts/${encodeURIComponent(local)}`);
      }
      return { account: await accountView(createLoaders(deps.db), result.account), created: result.created, warnings: await warningsFor(request, result.warnings) };
    },
  );

  app.delete<{ Params: AccountPath }>(
    "/domains/:name/accounts/:localPart",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "deleteAccount",
        tags: ["accounts"],
        summary: "Delete an account (support staff, the domain's administrator)",
        description: "The domain's administrator cannot be deleted (409): make another account the administrator first.",
        params: accountParams,
        response: {
          200: jsonResponse("Deleted.", {
            type: "object",
            required: ["deletedAccountId", "address", "warnings"],
            properties: {
              deletedAccountId: { type: "string", format: "uuid" },
              address: { type: "string" },
              warnings: { type: "array", items: ref("Warning"), description: "What happened to the aliases, forwardings and catch-alls that sent mail to the account." },
            },
          }),
          ...problemResponses(400, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const caller = callerOfRequest(request);
      const account = await accountByPath(deps, caller, request.params.name, request.params.localPart);
      const deleted = await deleteAccount(deps, caller, account.id);
      return { ...deleted, warnings: await warningsFor(request, deleted.warnings) };
    },
  );

  app.put<{ Params: AccountPath; Body: { quotaMb: number } }>(
    "/domains/:name/accounts/:localPart/quota",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "putAccountQuota",
        tags: ["quotas"],
        summary: "Set a mailbox quota (support staff, the domain's administrator)",
        description:
          "Never above the domain's quota, and all mailbox quotas together within it (QUOTA_EXCEEDED, naming quotaMb and what is free). " +
          "Below what the mailbox uses: accepted, with a QUOTA_BELOW_USAGE warning.",
        params: accountParams,
        body: { type: "object", additionalProperties: false, required: ["quotaMb"], properties: { quotaMb: { type: "integer", description: "MiB; 0: no mailbox." } } },
        response: { 200: jsonResponse("Set.", accountPayload), ...problemResponses(400, 403, 404, 409) },
      },
    },
    async (request) => {
      const caller = callerOfRequest(request);
      const account = await accountByPath(deps, caller, request.params.name, request.params.localPart);
      const result = await updateAccount(deps, caller, account.id, { quotaMb: request.body.quotaMb });
      return { account: await accountView(createLoaders(deps.db), result.account), warnings: await warningsFor(request, result.warnings) };
    },
  );
}
