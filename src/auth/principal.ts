// Who is calling. Loaded from the database on every request (one statement), so
// that a suspension, a role change or a revoked token takes effect at once.
import type { Account, PrismaClient } from "../generated/prisma/client";
import type { TokenService } from "./tokens";
import { rawRows } from "../db/raw";
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
export type AuthFailure = "missing" | "expired" | "invalid" | "revoked" | "suspended" | "api_token_invalid" | "api_token_expired" | "api_token_revoked" | "api_token_creator_gone";

export type Authentication =
  | {
      principal: Principal;
      /** The calling account's row, read with it (a request's loaders start with it). */
      account?: { row: Account; isAdmin: boolean };
    }
  | { principal: null; failure: AuthFailure };

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

type CallingAccount = Account & { domainStatus: string; isAdmin: boolean };

/** An account with what decides whether it may act (its domain's status) and its role. */
const CALLING_ACCOUNT = `
  SELECT a.*, d."status" AS "domainStatus",
         EXISTS (SELECT 1 FROM "domain_admin" da WHERE da."accountId" = a."id") AS "isAdmin"
  FROM "account" a JOIN "domain" d ON d."id" = a."domainId"
  WHERE a."id" = $1`;

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
    const [admin] = await rawRows<{ id: string; username: string; tokenVersion: number }>(db, `SELECT "id", "username", "tokenVersion" FROM "support_admin" WHERE "id" = $1`, [
      sub,
    ]);
    if (!admin) return { principal: null, failure: "invalid" };
    if (admin.tokenVersion !== ver) return { principal: null, failure: "revoked" };
    return {
      principal: { kind, id: admin.id, role: "SUPPORT_ADMIN", name: admin.username, tokenVersion: admin.tokenVersion },
    };
  }
  const [account] = await rawRows<CallingAccount>(db, CALLING_ACCOUNT, [sub]);
  if (!account) return { principal: null, failure: "invalid" };
  if (account.tokenVersion !== ver) return { principal: null, failure: "revoked" };
  if (account.status !== "ACTIVE" || account.domainStatus !== "ACTIVE") return { principal: null, failure: "suspended" };
  const { domainStatus: _domainStatus, isAdmin, ...row } = account;
  return {
    account: { row, isAdmin },
    principal: {
      kind,
      id: account.id,
      role: isAdmin ? "DOMAIN_ADMIN" : "USER",
      name: account.address,
      domainId: account.domainId,
      tokenVersion: account.tokenVersion,
    },
  };
}
