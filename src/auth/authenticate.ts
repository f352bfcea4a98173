// Who is calling, read from the database on every request (one statement for
// a login token, its session included), so that a suspension, a role change or a revoked token
// takes effect at once; an API token's principal is its creator's.
import { timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "../generated/prisma/client";
import type { TokenService } from "./tokens";
import { bearerToken, type AuthFailure, type Authentication } from "./principal";
import { LAST_USE_RESOLUTION_MS, TOKEN_FORM, hashApiToken, looksLikeApiToken, prefixOf, type ApiTokenUse } from "./api-tokens";
import { accountRowOf, callingAccountWithSession, supportAdminWithSession, type SessionState } from "./auth.sql";
import { supportRoleOf } from "./principal";

/** A session's last use is written at most this often (like an API token's). */
const SESSION_LAST_USE_RESOLUTION_MS = 60_000;

/**
 * Whether the login session a token names (read with its principal) is still
 * open; records its use at most once a minute (a conditional update, so that
 * concurrent requests write once).
 */
async function sessionRefusal(
  db: PrismaClient,
  sid: string | undefined,
  session: SessionState | null,
  principalId: string,
  options: { now?: () => Date },
): Promise<AuthFailure | null> {
  if (!sid) return null;
  if (!session || session.principalId !== principalId) return "invalid";
  const now = (options.now ?? (() => new Date()))();
  if (session.endedAt) return "session_ended";
  if (session.expiresAt.getTime() <= now.getTime()) return "expired";
  if (!session.lastUsedAt || now.getTime() - session.lastUsedAt.getTime() >= SESSION_LAST_USE_RESOLUTION_MS) {
    await db.loginSession.updateMany({
      where: { id: sid, OR: [{ lastUsedAt: null }, { lastUsedAt: { lte: new Date(now.getTime() - SESSION_LAST_USE_RESOLUTION_MS) } }] },
      data: { lastUsedAt: now },
    });
  }
  return null;
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
  const { sub, kind, ver, sid, enrollOnly } = verified.claims;
  if (kind === "support") {
    const read = await supportAdminWithSession(db, sub, sid);
    if (!read) return { principal: null, failure: "invalid" };
    const admin = read.row;
    if (admin.tokenVersion !== ver) return { principal: null, failure: "revoked" };
    if (admin.disabledAt) return { principal: null, failure: "disabled" };
    const sessionFailure = await sessionRefusal(db, sid, read.session, admin.id, options);
    if (sessionFailure) return { principal: null, failure: sessionFailure };
    return {
      principal: {
        kind,
        id: admin.id,
        role: supportRoleOf(admin.level),
        name: admin.username,
        displayName: admin.displayName,
        tokenVersion: admin.tokenVersion,
        ...(sid ? { sessionId: sid } : {}),
        ...(enrollOnly ? { enrollOnly } : {}),
      },
      language: admin.language,
      supportAdmin: admin,
    };
  }
  const read = await callingAccountWithSession(db, sub, sid);
  if (!read) return { principal: null, failure: "invalid" };
  const account = read.row;
  if (account.tokenVersion !== ver) return { principal: null, failure: "revoked" };
  if (account.status !== "ACTIVE" || account.domainStatus !== "ACTIVE") return { principal: null, failure: "suspended" };
  const sessionFailure = await sessionRefusal(db, sid, read.session, account.id, options);
  if (sessionFailure) return { principal: null, failure: sessionFailure };
  const { isAdmin } = account;
  return {
    account: { row: accountRowOf(account), isAdmin },
    language: account.language,
    principal: {
      kind,
      id: account.id,
      role: isAdmin ? "DOMAIN_ADMIN" : "USER",
      name: account.address,
      displayName: account.displayName,
      domainId: account.domainId,
      tokenVersion: account.tokenVersion,
      ...(sid ? { sessionId: sid } : {}),
      ...(enrollOnly ? { enrollOnly } : {}),
    },
  };
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
    if (admin.disabledAt) return refused("disabled");
    authentication = {
      // A token acts with its creator's powers as they are now: a creator made read-only makes its tokens read-only.
      principal: {
        kind: "support",
        id: admin.id,
        role: supportRoleOf(admin.level),
        name: admin.username,
        displayName: admin.displayName,
        tokenVersion: admin.tokenVersion,
        apiToken: use,
      },
      language: admin.language,
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
        displayName: account.displayName,
        domainId: account.domainId,
        tokenVersion: account.tokenVersion,
        apiToken: use,
      },
      language: account.language,
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
