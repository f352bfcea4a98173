// API tokens for scripts: `mat_<publicId>_<secret>`. The public id finds the
// row and may be shown and logged; the secret is 32 random bytes, so the
// SHA-256 of the whole token is all that is stored (a slow password hash would
// add nothing against 256 random bits, and the token is checked on every
// request). A token acts with its creator's powers, checked on every request:
// a support admin's everywhere, a domain administrator's on that domain only
// and only while the creator still is its administrator.
import { createHash, randomBytes } from "node:crypto";

export type ApiTokenScope = "READ" | "WRITE" | "LOGS" | "USAGE";
export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = ["READ", "WRITE", "LOGS", "USAGE"];

export const API_TOKEN_PREFIX = "mat_";
export const TOKEN_FORM = /^mat_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/** What a request made with an API token carries besides its creator's identity. */
export interface ApiTokenUse {
  id: string;
  /** mat_<publicId>: names the token in errors, audit records and listings. */
  prefix: string;
  name: string;
  scopes: ApiTokenScope[];
}

/** last use is written at most this often per token, so that a busy script costs one write a minute, not one per request. */
export const LAST_USE_RESOLUTION_MS = 60_000;

export interface GeneratedApiToken {
  token: string;
  publicId: string;
  secretHash: string;
}

export function generateApiToken(): GeneratedApiToken {
  const publicId = randomBytes(6).toString("hex");
  const token = `${API_TOKEN_PREFIX}${publicId}_${randomBytes(32).toString("base64url")}`;
  return { token, publicId, secretHash: hashApiToken(token) };
}

export function hashApiToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function prefixOf(publicId: string): string {
  return `${API_TOKEN_PREFIX}${publicId}`;
}

export function looksLikeApiToken(token: string): boolean {
  return token.startsWith(API_TOKEN_PREFIX);
}
