// The reads of authentication and login, through the pg pool (src/db/raw.ts):
// authentication runs on every request, the login's reads before the password
// check of every attempt (a burst of logins through Prisma's query compiler
// held other requests up by a few hundred milliseconds: bench:login).
import type { Account, PrismaClient, SupportAdmin } from "../generated/prisma/client";
import { rawRows } from "../db/raw";

/** An account with what decides whether it may act (its domain's status), its domain's name and its role. */
export type CallingAccountRow = Account & { domainName: string; domainStatus: string; isAdmin: boolean };

/** The one join of account, domain and role that authentication and login share (authentication adds its session). */
function callingAccountSql(where: string, session?: { columns: string; join: string }): string {
  return `
  SELECT a.*, d."name" AS "domainName", d."status" AS "domainStatus",
         EXISTS (SELECT 1 FROM "domain_admin" da WHERE da."accountId" = a."id") AS "isAdmin"${session ? `, ${session.columns}` : ""}
  FROM "account" a JOIN "domain" d ON d."id" = a."domainId" ${session?.join ?? ""}
  WHERE ${where}`;
}
const CALLING_ACCOUNT_BY_ID = callingAccountSql(`a."id" = $1`);
const CALLING_ACCOUNT_BY_ADDRESS = callingAccountSql(`a."address" = $1`);

export async function callingAccountById(db: PrismaClient, id: string): Promise<CallingAccountRow | undefined> {
  return (await rawRows<CallingAccountRow>(db, CALLING_ACCOUNT_BY_ID, [id]))[0];
}

export async function callingAccountByAddress(db: PrismaClient, address: string): Promise<CallingAccountRow | undefined> {
  return (await rawRows<CallingAccountRow>(db, CALLING_ACCOUNT_BY_ADDRESS, [address]))[0];
}

/** The account's own row: what the join adds left out. */
export function accountRowOf(row: CallingAccountRow): Account {
  const { domainName: _domainName, domainStatus: _domainStatus, isAdmin: _isAdmin, ...account } = row;
  return account;
}

/**
 * A support admin as authentication reads it on every request: what decides
 * whether it may act and what `me` shows of it, not its password hash (nor
 * when its row last changed).
 */
export type CallingSupportAdmin = Omit<SupportAdmin, "passwordHash" | "updatedAt">;
const CALLING_SUPPORT_ADMIN_COLUMNS = [
  "id",
  "username",
  "displayName",
  "level",
  "disabledAt",
  "tokenVersion",
  "createdAt",
  "language",
] as const satisfies readonly (keyof CallingSupportAdmin)[];
const CALLING_SUPPORT_ADMIN_BY_ID = `SELECT ${CALLING_SUPPORT_ADMIN_COLUMNS.map((column) => `"${column}"`).join(", ")} FROM "support_admin" WHERE "id" = $1`;

export async function supportAdminById(db: PrismaClient, id: string): Promise<CallingSupportAdmin | undefined> {
  return (await rawRows<CallingSupportAdmin>(db, CALLING_SUPPORT_ADMIN_BY_ID, [id]))[0];
}

export async function supportAdminByUsername(db: PrismaClient, username: string): Promise<SupportAdmin | undefined> {
  return (await rawRows<SupportAdmin>(db, `SELECT * FROM "support_admin" WHERE "username" = $1`, [username]))[0];
}

/** What authentication needs of a login session. */
export interface SessionState {
  principalId: string;
  endedAt: Date | null;
  expiresAt: Date;
  lastUsedAt: Date | null;
}

/**
 * The login session a token names, read in the same statement as its
 * principal (one round trip per request instead of two): a LEFT JOIN on the
 * session's id, which is null for a token without one.
 */
const SESSION_JOIN = `LEFT JOIN "login_session" s ON s."id" = $2`;
const SESSION_COLUMNS = `s."principalId" AS "session.principalId", s."endedAt" AS "session.endedAt", s."expiresAt" AS "session.expiresAt", s."lastUsedAt" AS "session.lastUsedAt"`;
type SessionColumns = { "session.principalId": string | null; "session.endedAt": Date | null; "session.expiresAt": Date | null; "session.lastUsedAt": Date | null };

/** The session columns split off a row: null when the join found no session (or the token named none). */
function splitSession<Row>(row: Row & SessionColumns): { row: Row; session: SessionState | null } {
  const { "session.principalId": principalId, "session.endedAt": endedAt, "session.expiresAt": expiresAt, "session.lastUsedAt": lastUsedAt, ...rest } = row;
  const session = principalId !== null && expiresAt !== null ? { principalId, endedAt, expiresAt, lastUsedAt } : null;
  return { row: rest as Row, session };
}

const CALLING_SUPPORT_ADMIN_WITH_SESSION = `SELECT ${CALLING_SUPPORT_ADMIN_COLUMNS.map((column) => `sa."${column}"`).join(", ")}, ${SESSION_COLUMNS}
  FROM "support_admin" sa ${SESSION_JOIN} WHERE sa."id" = $1`;

/** A principal's row read with the session `sid` names ($1 the principal's id, $2 the session's), the two split apart. */
async function readWithSession<Row>(db: PrismaClient, sql: string, id: string, sid: string | undefined): Promise<{ row: Row; session: SessionState | null } | undefined> {
  const row = (await rawRows<Row & SessionColumns>(db, sql, [id, sid ?? null]))[0];
  return row && splitSession(row);
}

/** A support admin as authentication reads it, and the login session `sid` names (null: none, or no such session). */
export function supportAdminWithSession(db: PrismaClient, id: string, sid: string | undefined) {
  return readWithSession<CallingSupportAdmin>(db, CALLING_SUPPORT_ADMIN_WITH_SESSION, id, sid);
}

const CALLING_ACCOUNT_WITH_SESSION = callingAccountSql(`a."id" = $1`, { columns: SESSION_COLUMNS, join: SESSION_JOIN });

/** An account as authentication reads it (callingAccountById's row), and the login session `sid` names. */
export function callingAccountWithSession(db: PrismaClient, id: string, sid: string | undefined) {
  return readWithSession<CallingAccountRow>(db, CALLING_ACCOUNT_WITH_SESSION, id, sid);
}
