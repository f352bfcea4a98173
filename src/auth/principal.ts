// Who is calling: the principal a request acts as, or why it has none
// (authenticate.ts reads them from the database on every request).
import type { Account } from "../generated/prisma/client";
import type { ApiTokenUse } from "./api-tokens";

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
      /** The caller's saved language (src/i18n), read with it: answers never query for it, even with the database down. */
      language?: string | null;
    }
  | { principal: null; failure: AuthFailure };

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
