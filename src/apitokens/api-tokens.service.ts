// API tokens for provisioning scripts and log shippers: creation (the token is
// returned this once; only its hash is kept), listing, revocation. Support
// staff create tokens with their own powers on every domain; a domain
// administrator creates tokens limited to its own domain. Each change is
// audited in its transaction, never with the secret.
import type { ApiToken, Prisma } from "../generated/prisma/client";
import type { Caller, ServiceDeps } from "../service-deps";
import type { Principal } from "../auth/principal";
import { authorize } from "../auth/policy";
import { API_TOKEN_SCOPES, generateApiToken, prefixOf, type ApiTokenScope } from "../auth/api-tokens";
import { writeAudit } from "../audit/audit.service";
import { BadInputError, ForbiddenError, NotFoundError } from "../errors";
import { message } from "../i18n/messages";
import { isUniqueViolation } from "../shared/db-errors";
import { toConnection } from "../shared/connection";
import { decodeCursor, parseId, parsePageSize } from "../shared/validation";

export type ApiTokenStatus = "ACTIVE" | "EXPIRED" | "REVOKED" | "CREATOR_REPLACED";

export interface CreateApiTokenInput {
  name: string;
  scopes: ApiTokenScope[];
  expiresAt?: Date | null;
}

const MAX_NAME_LENGTH = 100;
const PREFIX_FORM = /^mat_([a-z0-9]{12})$/;

function parseTokenName(input: string): string {
  const name = input.trim();
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new BadInputError("name", message("api_token.name_length", { max: MAX_NAME_LENGTH }));
  }
  if (/[\u0000-\u001f\u007f]/.test(name) || !name.isWellFormed()) throw new BadInputError("name", message("api_token.name_control_characters"));
  return name;
}

function parseScopes(scopes: readonly string[]): ApiTokenScope[] {
  const unique = [...new Set(scopes)];
  if (unique.length === 0) throw new BadInputError("scopes", message("api_token.scopes_empty", { scopes: API_TOKEN_SCOPES.join(", ") }));
  const unknown = unique.filter((scope) => !API_TOKEN_SCOPES.includes(scope as ApiTokenScope));
  if (unknown.length > 0) throw new BadInputError("scopes", message("api_token.scopes_unknown", { unknown: unknown.join(", "), scopes: API_TOKEN_SCOPES.join(", ") }));
  // Stored in a fixed order, so that listings and audit records read the same whatever order was asked.
  return API_TOKEN_SCOPES.filter((scope) => unique.includes(scope));
}

function refuseTokenCaller(caller: Caller, what: "create" | "revoke"): void {
  // A token that could make tokens would outlive its own revocation.
  if (caller.principal.apiToken) {
    throw new ForbiddenError(message("api_token.token_caller", { what, prefix: caller.principal.apiToken.prefix }));
  }
}

export async function createApiToken(deps: ServiceDeps, caller: Caller, input: CreateApiTokenInput) {
  const { principal } = caller;
  const domainId = principal.kind === "account" ? principal.domainId : null;
  authorize(principal, "api_token.create", { domainId: domainId ?? undefined }, ["domain", `with id ${domainId ?? ""}`]);
  refuseTokenCaller(caller, "create");
  const name = parseTokenName(input.name);
  const scopes = parseScopes(input.scopes);
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt && expiresAt.getTime() <= deps.now().getTime()) {
    throw new BadInputError("expiresAt", message("api_token.expires_in_past"));
  }
  const domain = domainId ? await deps.db.domain.findUnique({ where: { id: domainId }, select: { name: true } }) : null;

  for (let attempt = 1; ; attempt++) {
    const generated = generateApiToken();
    try {
      return await deps.db.$transaction(async (tx) => {
        const apiToken = await tx.apiToken.create({
          data: {
            publicId: generated.publicId,
            secretHash: generated.secretHash,
            name,
            scopes,
            domainId,
            createdByRole: principal.role,
            createdById: principal.id,
            createdByName: principal.name,
            expiresAt,
          },
        });
        await writeAudit(tx, caller.actor, {
          action: "api_token.create",
          objectType: "api_token",
          objectId: apiToken.id,
          domainId,
          domainName: domain?.name ?? null,
          changes: [
            { field: "prefix", before: null, after: prefixOf(apiToken.publicId) },
            { field: "name", before: null, after: name },
            { field: "scopes", before: null, after: scopes },
            { field: "expiresAt", before: null, after: expiresAt?.toISOString() ?? null },
          ],
        });
        return { apiToken, token: generated.token };
      });
    } catch (error) {
      // 48 random bits: a clash of public ids is rare enough that one retry settles it.
      if (attempt < 3 && isUniqueViolation(error)) continue;
      throw error;
    }
  }
}

/** Finds a token by its id or its prefix (mat_<publicId>); give exactly one. */
async function findToken(
  deps: Pick<ServiceDeps, "db">,
  reference: { id?: string | null; prefix?: string | null },
): Promise<{ token: ApiToken | null; describe: [string, string] }> {
  if ((reference.id == null) === (reference.prefix == null)) {
    throw new BadInputError(reference.id == null ? "id" : "prefix", message("api_token.reference_both"));
  }
  if (reference.id != null) {
    const id = parseId(reference.id);
    return { token: await deps.db.apiToken.findUnique({ where: { id } }), describe: ["API token", `with id ${id}`] };
  }
  const form = PREFIX_FORM.exec(reference.prefix!.trim());
  if (!form) throw new BadInputError("prefix", message("api_token.prefix"));
  return { token: await deps.db.apiToken.findUnique({ where: { publicId: form[1]! } }), describe: ["API token", prefixOf(form[1]!)] };
}

export async function revokeApiToken(deps: ServiceDeps, caller: Caller, reference: { id?: string | null; prefix?: string | null }) {
  const { token, describe } = await findToken(deps, reference);
  if (!token) throw new NotFoundError(...describe);
  authorize(caller.principal, "api_token.revoke", { domainId: token.domainId ?? undefined }, describe);
  refuseTokenCaller(caller, "revoke");
  return deps.db.$transaction(async (tx) => {
    const now = deps.now();
    // Only a token not yet revoked changes: revoking twice is the same as once, with one audit record.
    const updated = await tx.apiToken.updateMany({ where: { id: token.id, revokedAt: null }, data: { revokedAt: now, revokedByName: caller.principal.name } });
    const apiToken = await tx.apiToken.findUniqueOrThrow({ where: { id: token.id } });
    if (updated.count === 1) {
      const domain = apiToken.domainId ? await tx.domain.findUnique({ where: { id: apiToken.domainId }, select: { name: true } }) : null;
      await writeAudit(tx, caller.actor, {
        action: "api_token.revoke",
        objectType: "api_token",
        objectId: apiToken.id,
        domainId: apiToken.domainId,
        domainName: domain?.name ?? null,
        changes: [{ field: "revokedAt", before: null, after: now.toISOString() }],
      });
    }
    return { apiToken };
  });
}

export interface ApiTokenListQuery {
  domainId?: string | null;
  includeRevoked?: boolean | null;
  first?: number | null;
  after?: string | null;
}

/** Tokens newest first: support staff all of them (or one domain's), a domain administrator its domain's. */
export async function listApiTokens(deps: Pick<ServiceDeps, "db">, principal: Principal, query: ApiTokenListQuery) {
  const first = parsePageSize(query.first, 50);
  let domainId = query.domainId != null ? parseId(query.domainId, "domainId") : undefined;
  if (principal.kind === "account") domainId ??= principal.domainId;
  authorize(principal, "api_token.read", { domainId }, ["domain", `with id ${domainId ?? ""}`]);
  const after = decodeCursor(query.after);
  if (after !== undefined && !/^[0-9a-f-]{36}$/.test(after)) throw new BadInputError("after", message("input.cursor", { field: "after" }));
  const where: Prisma.ApiTokenWhereInput = {
    ...(domainId !== undefined ? { domainId } : {}),
    ...(query.includeRevoked ? {} : { revokedAt: null }),
  };
  const [rows, totalCount] = await Promise.all([
    // Ids are UUIDv7, time-ordered: newest first is descending id.
    deps.db.apiToken.findMany({ where: after ? { AND: [where, { id: { lt: after } }] } : where, orderBy: { id: "desc" }, take: first + 1 }),
    deps.db.apiToken.count({ where }),
  ]);
  return toConnection(rows, first, totalCount, (row) => row.id, after);
}

/** Whether the token works now; `currentAdminId` is its domain's administrator for a domain administrator's token. */
export function apiTokenStatus(token: ApiToken, now: Date, currentAdminId: string | null | undefined): ApiTokenStatus {
  if (token.revokedAt) return "REVOKED";
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return "EXPIRED";
  if (token.creatorReplacedAt || (token.createdByRole === "DOMAIN_ADMIN" && currentAdminId !== token.createdById)) return "CREATOR_REPLACED";
  return "ACTIVE";
}
