// /api/v1/domains: list, read, idempotent create-or-update (PUT), delete, the
// domain's quotas and its administrator. Thin handlers: unpack, call the
// service GraphQL uses, show the result.
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app-deps";
import { createLoaders } from "../loaders";
import { deleteDomain, findDomain, listDomains, reassignDomainAdmin, updateDomain } from "../domains/domains.service";
import { authorize } from "../auth/policy";
import { BadInputError } from "../errors";
import { parseLocalPart } from "../shared/validation";
import { callerOfRequest, principalOfRequest, warningsFor } from "./auth";
import { putDomain, type PutDomainBody } from "./provisioning";
import { accountRef, domainView, pageView } from "./views";
import { DNS_SETUPS, DOMAIN_STATUSES, jsonResponse, pageOf, pageParameters, problemResponses, ref } from "./schemas";
import { message } from "../i18n/messages";

const domainName = { type: "string", minLength: 1, maxLength: 253, description: "The domain's name, ASCII or Unicode." } as const;
const nameParams = { type: "object", required: ["name"], properties: { name: domainName } } as const;

/** The settings of a domain a PUT may give; absent ones are left as they are. */
const domainSettings = {
  status: { type: "string", enum: DOMAIN_STATUSES },
  isTestDomain: { type: "boolean" },
  quotaMb: { type: ["integer", "null"], description: "Storage quota of the whole domain in MiB; null: unlimited." },
  maxAccounts: { type: ["integer", "null"], description: "Most accounts, the administrator included; null: unlimited." },
  defaultMailboxQuotaMb: { type: "integer", description: "Mailbox quota of new accounts that ask for none." },
  dnsSetup: { type: "string", enum: DNS_SETUPS },
  webServerAddress: { type: ["string", "null"], description: "IPv4 or IPv6 of the customer's web server (MX_WEB, MX_WEB_BACKUP)." },
  dkimPublicKey: { type: ["string", "null"], description: "Base64 (or PEM) of the DKIM public key." },
} as const;

const domainPayload = {
  type: "object",
  required: ["domain", "created", "generatedAdminPassword", "warnings"],
  properties: {
    domain: ref("Domain"),
    created: { type: "boolean", description: "true when this PUT created the domain (status 201)." },
    generatedAdminPassword: {
      type: ["string", "null"],
      description: "The administrator's password when this PUT created the domain without admin.password: shown this once.",
    },
    warnings: { type: "array", items: ref("Warning") },
  },
} as const;

export async function domainRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get<{ Querystring: { search?: string; status?: "ACTIVE" | "SUSPENDED"; includeTestDomains?: boolean; first?: number; after?: string } }>(
    "/domains",
    {
      config: { scope: "READ" },
      schema: {
        operationId: "listDomains",
        tags: ["domains"],
        summary: "Domains the caller may see, by name (support: test domains only with includeTestDomains)",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            search: { type: "string", description: "Part of the name, ASCII or Unicode." },
            status: { type: "string", enum: DOMAIN_STATUSES },
            includeTestDomains: {
              type: "boolean",
              default: false,
              description: "Support staff: list and count the support test domains too (isTestDomain); left out by default. No effect for a domain's own accounts.",
            },
            ...pageParameters,
          },
        },
        response: { 200: jsonResponse("A page of domains.", pageOf(ref("Domain"), "A page of domains, by name.")), ...problemResponses(400, 403) },
      },
    },
    async (request) => {
      const loaders = createLoaders(deps.db);
      return pageView(await listDomains(deps, principalOfRequest(request), request.query, { admin: "all", usage: true }), (domain) => domainView(loaders, domain));
    },
  );

  app.get<{ Params: { name: string } }>(
    "/domains/:name",
    {
      config: { scope: "READ" },
      schema: {
        operationId: "getDomain",
        tags: ["domains"],
        summary: "One domain",
        description: 'Answered as {"domain": ...}, the same shape as every other answer about one domain (PUT, quota).',
        params: nameParams,
        response: {
          200: jsonResponse("The domain.", { type: "object", required: ["domain"], properties: { domain: ref("Domain") } }),
          ...problemResponses(400, 403, 404),
        },
      },
    },
    async (request) => ({ domain: await domainView(createLoaders(deps.db), await findDomain(deps, principalOfRequest(request), { name: request.params.name })) }),
  );

  app.put<{ Params: { name: string }; Body: PutDomainBody }>(
    "/domains/:name",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "putDomain",
        tags: ["domains"],
        summary: "Create the domain, or change the settings given (support staff)",
        description:
          "Idempotent: creates the domain with its administrator when it does not exist (201), otherwise sets the settings the body gives and " +
          "leaves the others alone (200). The same PUT twice gives the same state, and the second writes no audit record. `admin` is used only " +
          "when the domain is created; change the administrator with PUT /domains/{name}/admin.",
        params: nameParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            ...domainSettings,
            confirmLookalikeName: {
              type: "boolean",
              description: "Create a name that can pass for another (mixed scripts, or Cyrillic or Greek letters that look Latin) knowingly; refused (409) without it.",
            },
            admin: {
              type: "object",
              additionalProperties: false,
              description: "The administrator created with the domain (default admin@<domain>, password generated and returned once).",
              properties: {
                localPart: { type: "string" },
                displayName: { type: "string" },
                password: { type: "string", description: "10 to 72 bytes." },
                quotaMb: { type: "integer", description: "Its mailbox quota (default 0: a login, not a mailbox)." },
              },
            },
          },
        },
        response: {
          200: jsonResponse("The domain existed: the settings given are set.", domainPayload),
          201: jsonResponse("The domain was created.", domainPayload),
          ...problemResponses(400, 403, 409),
        },
      },
    },
    async (request, reply) => {
      const result = await putDomain(deps, callerOfRequest(request), request.params.name, request.body);
      if (result.created) reply.code(201).header("location", `/api/v1/domains/${encodeURIComponent(result.domain.name)}`);
      return { ...result, domain: await domainView(createLoaders(deps.db), result.domain), warnings: await warningsFor(request, result.warnings) };
    },
  );

  app.delete<{ Params: { name: string }; Querystring: { force?: boolean } }>(
    "/domains/:name",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "deleteDomain",
        tags: ["domains"],
        summary: "Delete a domain (support staff)",
        description: "Refused (409) while it has accounts besides its administrator, unless force=true: then all of it goes, in one transaction.",
        params: nameParams,
        querystring: { type: "object", additionalProperties: false, properties: { force: { type: "boolean", default: false } } },
        response: {
          200: jsonResponse("Deleted.", {
            type: "object",
            required: ["deletedDomainId", "name", "deletedAccountCount"],
            properties: { deletedDomainId: { type: "string", format: "uuid" }, name: { type: "string" }, deletedAccountCount: { type: "integer" } },
          }),
          ...problemResponses(400, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const domain = await findDomain(deps, principalOfRequest(request), { name: request.params.name });
      return deleteDomain(deps, callerOfRequest(request), domain.id, request.query.force ?? false);
    },
  );

  app.put<{ Params: { name: string }; Body: { quotaMb: number | null; maxAccounts?: number | null; defaultMailboxQuotaMb?: number } }>(
    "/domains/:name/quota",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "putDomainQuota",
        tags: ["quotas"],
        summary: "Set the domain's quota and limits (support staff)",
        description:
          "quotaMb is required (null: unlimited); maxAccounts and defaultMailboxQuotaMb are changed when given. A quota below what the " +
          "mailboxes already hold is refused (QUOTA_EXCEEDED); below what they use, accepted with a QUOTA_BELOW_USAGE warning.",
        params: nameParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["quotaMb"],
          properties: { quotaMb: domainSettings.quotaMb, maxAccounts: domainSettings.maxAccounts, defaultMailboxQuotaMb: domainSettings.defaultMailboxQuotaMb },
        },
        response: {
          200: jsonResponse("Set.", {
            type: "object",
            required: ["domain", "warnings"],
            properties: { domain: ref("Domain"), warnings: { type: "array", items: ref("Warning") } },
          }),
          ...problemResponses(400, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const domain = await findDomain(deps, principalOfRequest(request), { name: request.params.name });
      const result = await updateDomain(deps, callerOfRequest(request), domain.id, request.body);
      return { domain: await domainView(createLoaders(deps.db), result.domain), warnings: await warningsFor(request, result.warnings) };
    },
  );

  app.put<{ Params: { name: string }; Body: { localPart: string } }>(
    "/domains/:name/admin",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "putDomainAdmin",
        tags: ["domains"],
        summary: "Make an account of the domain its administrator (support staff)",
        description:
          "The former administrator becomes an ordinary account and its login tokens and API tokens stop working. Idempotent: naming the " +
          "current administrator changes nothing (previousAdmin null).",
        params: nameParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["localPart"],
          properties: { localPart: { type: "string", description: "The new administrator's local part (an account of this domain)." } },
        },
        response: {
          200: jsonResponse("The domain's administrator.", {
            type: "object",
            required: ["domain", "admin", "previousAdmin"],
            properties: {
              domain: { type: "string" },
              admin: ref("AccountRef"),
              previousAdmin: { anyOf: [ref("AccountRef"), { type: "null" }], description: "null when the account already was the administrator." },
            },
          }),
          ...problemResponses(400, 403, 404, 409),
        },
      },
    },
    async (request) => {
      const caller = callerOfRequest(request);
      const domain = await findDomain(deps, caller.principal, { name: request.params.name });
      // Refuse first, so that only those who may reassign learn which accounts exist.
      authorize(caller.principal, "domain.reassign_admin", { domainId: domain.id }, ["domain", `named ${domain.name}`]);
      const address = `${parseLocalPart(request.body.localPart)}@${domain.name}`;
      const account = await deps.db.account.findUnique({ where: { address }, select: { id: true } });
      if (!account) throw new BadInputError("localPart", message("rest.no_account_create_first", { address, route: `PUT /api/v1/domains/${domain.name}/accounts/{localPart}` }));
      const result = await reassignDomainAdmin(deps, caller, domain.id, account.id);
      return { domain: result.domain.name, admin: accountRef(result.admin), previousAdmin: result.previousAdmin ? accountRef(result.previousAdmin) : null };
    },
  );
}
