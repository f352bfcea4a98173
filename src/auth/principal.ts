// Who is calling. Loaded from the database on every request (one query), so
// that a suspension, a role change or a revoked token takes effect at once.
import type { PrismaClient } from "../generated/prisma/client";
import type { TokenService } from "./tokens";
import { authenticateApiToken, looksLikeApiToken, type ApiTokenUse } from "./api-tokens";

export type Role = "SUPPORT_ADMIN" | "DOMAIN_ADMIN" | "USER";

export type Principal =
  | { kind: "support"; id: string; role: "SUPPORT_ADMIN"; name: string; tokenVersion: number; apiToken?: ApiTokenUse }
  | {
      kind: "account";
      id: string;
      role: "DOMAIN_ADMIN" | "USER";
      /** The account's address. */
      name: string;
      domainId: string;
      tokenVersion: number;
      /** Set when the request came with an API token (of this creator) instead of a login token. */
      apiToken?: ApiTokenUse;
    };

/** Why a request carries no principal, so UNAUTHENTICATED can say what to do. */
export type AuthFailure =
  | "missing"
  | "expired"
  | "invalid"
  | "revoked"
  | "suspended"
  | "api_token_invalid"
  | "api_token_expired"
  | "api_token_revoked"
  | "api_token_creator_gone";

export type Authentication = { principal: Principal } | { principal: null; failure: AuthFailure };

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export async function authenticate(
  db: PrismaClient,
  tokens: TokenService,
  authorization: string | undefined,
  options: { now?: () => Date; clientIp?: string } = {},
): Promise<Authentication> {
  const token = bearerToken(authorization);
  if (!token) return { principal: null, failure: authorization ? "invalid" : "missing" };
  if (looksLikeApiToken(token)) return authenticateApiToken(db, token, options);
  const verified = tokens.verify(token);
  if ("error" in verified) return { principal: null, failure: verified.error };
  const { sub, kind, ver } = verified.claims;
  if (kind === "support") {
    const admin = await db.supportAdmin.findUnique({ where: { id: sub } });
    if (!admin) return { principal: null, failure: "invalid" };
    if (admin.tokenVersion !== ver) return { principal: null, failure: "revoked" };
    return {
      principal: { kind, id: admin.id, role: "SUPPORT_ADMIN", name: admin.username, tokenVersion: admin.tokenVersion },
    };
  }
  const account = await db.account.findUnique({
    where: { id: sub },
    include: { adminOf: { select: { domainId: true } }, domain: { select: { status: true } } },
  });
  if (!account) return { principal: null, failure: "invalid" };
  if (account.tokenVersion !== ver) return { principal: null, failure: "revoked" };
  if (account.status !== "ACTIVE" || account.domain.status !== "ACTIVE") return { principal: null, failure: "suspended" };
  return {
    principal: {
      kind,
      id: account.id,
      role: account.adminOf ? "DOMAIN_ADMIN" : "USER",
      name: account.address,
      domainId: account.domainId,
      tokenVersion: account.tokenVersion,
    },
  };
}
