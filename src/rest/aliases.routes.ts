// /api/v1/domains/{name}/aliases: list, read, idempotent create-or-replace
// (PUT) and delete of a domain's aliases. Thin handlers over the alias
// services GraphQL uses.
import type { FastifyInstance } from "fastify";
import type { Alias } from "../generated/prisma/client";
import type { AppDeps } from "../app-deps";
import { createAlias, deleteAlias, findAlias, listAliases, updateAlias, type AliasListQuery } from "../aliases/aliases.service";
import { findDomain } from "../domains/domains.service";
import { parseLocalPart } from "../shared/validation";
import { NotFoundError } from "../errors";
import { callerOfRequest, principalOfRequest, warningsFor } from "./auth";
import { pageView } from "./views";
import { jsonResponse, pageOf, pageParameters, problemResponses, ref } from "./schemas";

const domainName = { type: "string", minLength: 1, maxLength: 253, description: "The domain's name, ASCII or Unicode." } as const;
const localPart = { type: "string", minLength: 1, maxLength: 64, description: "The part of the alias's address before the @." } as const;
const domainParams = { type: "object", required: ["name"], properties: { name: domainName } } as const;
const aliasParams = { type: "object", required: ["name", "localPart"], properties: { name: domainName, localPart } } as const;
const warnings = { type: "array", items: ref("Warning") } as const;

type AliasPath = { name: string; localPart: string };

function aliasView(alias: Alias) {
  return {
    id: alias.id,
    address: alias.address,
    localPart: alias.localPart,
    domain: alias.address.slice(alias.address.lastIndexOf("@") + 1),
    destinations: alias.destinations,
    createdAt: alias.createdAt.toISOString(),
    updatedAt: alias.updatedAt.toISOString(),
  };
}

export async function aliasRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  /** The alias a path names, or null when there is none (the caller may read the domain's aliases). */
  async function aliasAt(request: { params: AliasPath }, principal: ReturnType<typeof principalOfRequest>) {
    const domain = await findDomain(deps, principal, { name: request.params.name });
    const address = `${parseLocalPart(request.params.localPart)}@${domain.name}`;
    try {
      return { domain, address, alias: await findAlias(deps, principal, { address }) };
    } catch (error) {
      if (error instanceof NotFoundError) return { domain, address, alias: null };
      throw error;
    }
  }

  app.get<{ Params: { name: string }; Querystring: AliasListQuery }>(
    "/domains/:name/aliases",
    {
      config: { scope: "READ" },
      schema: {
        operationId: "listAliases",
        tags: ["aliases"],
        summary: "The domain's aliases, by address (support staff, the domain's administrator)",
        params: domainParams,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { search: { type: "string", description: "Part of the alias's address, or a destination address in full." }, ...pageParameters },
        },
        response: { 200: jsonResponse("A page of aliases.", pageOf(ref("Alias"), "A page of aliases, by address.")), ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const principal = principalOfRequest(request);
      const domain = await findDomain(deps, principal, { name: request.params.name });
      return pageView(await listAliases(deps, principal, domain.id, request.query), aliasView);
    },
  );

  app.get<{ Params: AliasPath }>(
    "/domains/:name/aliases/:localPart",
    {
      config: { scope: "READ" },
      schema: {
        operationId: "getAlias",
        tags: ["aliases"],
        summary: "One alias",
        params: aliasParams,
        response: { 200: jsonResponse("The alias.", { type: "object", required: ["alias"], properties: { alias: ref("Alias") } }), ...problemResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const found = await aliasAt(request, principalOfRequest(request));
      if (!found.alias) throw new NotFoundError("alias", `with address ${found.address}`);
      return { alias: aliasView(found.alias) };
    },
  );

  app.put<{ Params: AliasPath; Body: { destinations: string[] } }>(
    "/domains/:name/aliases/:localPart",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "putAlias",
        tags: ["aliases"],
        summary: "Create the alias, or replace its destinations (support staff, the domain's administrator)",
        description:
          "Idempotent: creates the alias when it does not exist (201), otherwise sets its destinations to the ones given (200). " +
          "The same PUT twice gives the same state and the second writes no audit record.",
        params: aliasParams,
        body: {
          type: "object",
          additionalProperties: false,
          required: ["destinations"],
          properties: { destinations: { type: "array", items: { type: "string" }, description: "Where mail to the alias goes: at least one address." } },
        },
        response: {
          200: jsonResponse("The alias existed: its destinations are set.", {
            type: "object",
            required: ["alias", "created", "warnings"],
            properties: { alias: ref("Alias"), created: { type: "boolean" }, warnings },
          }),
          201: jsonResponse("The alias was created.", {
            type: "object",
            required: ["alias", "created", "warnings"],
            properties: { alias: ref("Alias"), created: { type: "boolean", description: "true: this PUT created the alias." }, warnings },
          }),
          ...problemResponses(400, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const caller = callerOfRequest(request);
      const found = await aliasAt(request, caller.principal);
      if (found.alias) {
        const result = await updateAlias(deps, caller, found.alias.id, { destinations: request.body.destinations });
        return { alias: aliasView(result.alias), created: false, warnings: await warningsFor(request, result.warnings) };
      }
      const result = await createAlias(deps, caller, { domainId: found.domain.id, localPart: request.params.localPart, destinations: request.body.destinations });
      reply.code(201).header("location", `/api/v1/domains/${encodeURIComponent(found.domain.name)}/aliases/${encodeURIComponent(result.alias.localPart)}`);
      return { alias: aliasView(result.alias), created: true, warnings: await warningsFor(request, result.warnings) };
    },
  );

  app.delete<{ Params: AliasPath }>(
    "/domains/:name/aliases/:localPart",
    {
      config: { scope: "WRITE" },
      schema: {
        operationId: "deleteAlias",
        tags: ["aliases"],
        summary: "Delete an alias (support staff, the domain's administrator)",
        description: "Aliases and forwardings that sent mail to it let go of it; the warnings say which.",
        params: aliasParams,
        response: {
          200: jsonResponse("Deleted.", {
            type: "object",
            required: ["deletedAliasId", "address", "warnings"],
            properties: { deletedAliasId: { type: "string", format: "uuid" }, address: { type: "string" }, warnings },
          }),
          ...problemResponses(400, 403, 404),
        },
      },
    },
    async (request) => {
      const caller = callerOfRequest(request);
      const found = await aliasAt(request, caller.principal);
      if (!found.alias) throw new NotFoundError("alias", `with address ${found.address}`);
      const deleted = await deleteAlias(deps, caller, found.alias.id);
      return { ...deleted, warnings: await warningsFor(request, deleted.warnings) };
    },
  );
}
