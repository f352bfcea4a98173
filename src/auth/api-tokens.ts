// API tokens for scripts: `mat_<publicId>_<secret>`. The public id finds the
// row and may be shown and logged; the secret is 32 random bytes, so the
// SHA-256 of the whole token is all that is stored (a slow password hash would
// add nothing against 256 random bits, and the token is checked on every
// request). A token acts with its creator's powers, checked on every request:
// a support admin's everywhere, a domain administrator's on that domain only
// and only while the creator still is its administrator.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "../generated/prisma/client";
import type { AuthFailure, Authentication } from "./principal";

export type ApiTokenScope = "READ" | "WRITE" | "LOGS" | "USAGE";
export const API_TOKEN_SCOPES: readonly ApiTokenScope[] = ["READ", "WRITE", "LOGS", "USAGE"];

export const API_TOKEN_PREFIX = "mat_";
const TOKEN_FORM = /^mat_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

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

function refused(failure: AuthFailure): Authentication {
  return { principal: null, failure };
}

/** The principal of an API token, or why it is refused. */
export async function authenticateApiToken(db: PrismaClient, token: string, options: { now?: () => Date; clientIp?: string } = {}): Promise<Authentication> {
  const form = TOKEN_FORM.exec(token);
  if (!form) return refused("api_token_invalid");
  const row = await db.apiToken.findUnique({ where: { publicId: form[1]! } });
  if (!row) return refused("api_token_invalid");
  const given = Buffer.from(hashApiToken(token), "hex");
  const stored = Buffer.from(row.secretHash, "hex");
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return refused("api_token_invalid");
  if (row.revokedAt) return refused("api_token_revoked");
  if (row.creatorReplacedAt) return refused("api_token_creator_gone");
  const now = (options.now ?? (() => new Date()))();
  if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return refused("api_token_expired");

  const use: ApiTokenUse = { id: row.id, prefix: prefixOf(row.publicId), name: row.name, scopes: row.scopes };
  let authentication: Authentication;
  if (row.createdByRole === "SUPPORT_ADMIN") {
    const admin = await db.supportAdmin.findUnique({ where: { id: row.createdById } });
    if (!admin) return refused("api_token_creator_gone");
    authentication = {
      principal: { kind: "support", id: admin.id, role: "SUPPORT_ADMIN", name: admin.username, tokenVersion: admin.tokenVersion, apiToken: use },
    };
  } else {
    const account = await db.account.findUnique({
      where: { id: row.createdById },
      include: { adminOf: { select: { domainId: true } }, domain: { select: { status: true } } },
    });
    if (!account || !row.domainId || account.adminOf?.domainId !== row.domainId) return refused("api_token_creator_gone");
    if (account.status !== "ACTIVE" || account.domain.status !== "ACTIVE") return refused("suspended");
    authentication = {
      principal: {
        kind: "account",
        id: account.id,
        role: "DOMAIN_ADMIN",
        name: account.address,
        domainId: account.domainId,
        tokenVersion: account.tokenVersion,
        apiToken: use,
      },
    };
  }
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= LAST_USE_RESOLUTION_MS) {
    // Conditional, so that concurrent requests of one token write once.
    await db.apiToken.updateMany({
      where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: new Date(now.getTime() - LAST_USE_RESOLUTION_MS) } }] },
      data: { lastUsedAt: now, lastUsedIp: options.clientIp ?? null },
    });
  }
  return authentication;
}
