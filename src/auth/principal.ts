// Who is calling: the principal a request acts as, or why it has none
// (authenticate.ts reads them from the database on every request).
import type { Account } from "../generated/prisma/client";
import type { ApiTokenUse } from "./api-tokens";
import type { CallingSupportAdmin } from "./auth.sql";

export type Role = "SUPPORT_ADMIN" | "SUPPORT_READONLY" | "DOMAIN_ADMIN" | "USER";

/** Full support staff (SUPPORT_ADMIN) or read-only support staff (SUPPORT_READONLY). */
export type SupportRole = "SUPPORT_ADMIN" | "SUPPORT_READONLY";

export type Principal =
  | {
      kind: "support";
      id: string;
      role: SupportRole;
      /** The username. */
      name: string;
      /** The person's name, for the audit trail. */
      displayName?: string;
      tokenVersion: number;
      /** The login session the token belongs to (tokens issued by login carry one). */
      sessionId?: string;
      /** The token only lets it enrol in two-factor login (compulsory for it, not enrolled yet). */
      enrollOnly?: boolean;
      apiToken?: ApiTokenUse;
    }
  | {
      kind: "account";
      id: string;
      role: "DOMAIN_ADMIN" | "USER";
      /** The account's address. */
      name: string;
      domainId: string;
      displayName?: string;
      tokenVersion: number;
      sessionId?: string;
      enrollOnly?: boolean;
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
  | "disabled"
  | "session_ended"
  | "api_token_invalid"
  | "api_token_expired"
  | "api_token_revoked"
  | "api_token_creator_gone";

export type Authentication =
  | {
      principal: Principal;
      /** The calling account's row, read with it (a request's loaders start with it). */
      account?: { row: Account; isAdmin: boolean };
      /** The calling support admin's row as authentication read it (`me` answers from it). */
      supportAdmin?: CallingSupportAdmin;
      /** The caller's saved language (src/i18n), read with it: answers never query for it, even with the database down. */
      language?: string | null;
    }
  | { principal: null; failure: AuthFailure };

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The role of a support admin of this level. */
export function supportRoleOf(level: "FULL" | "READ_ONLY"): SupportRole {
  return level === "READ_ONLY" ? "SUPPORT_READONLY" : "SUPPORT_ADMIN";
}
