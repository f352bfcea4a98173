// The reads of authentication and login, through the pg pool (src/db/raw.ts):
// authentication runs on every request, the login's reads before the password
// check of every attempt (a burst of logins through Prisma's query compiler
// held other requests up by a few hundred milliseconds: bench:login).
import type { Account, PrismaClient, SupportAdmin } from "../generated/prisma/client";
import { rawRows } from "../db/raw";

/** An account with what decides whether it may act (its domain's status), its domain's name and its role. */
export type CallingAccountRow = Account & { domainName: string; domainStatus: string; isAdmin: boolean };

/** The one join of account, domain and role that authentication and login share. */
function callingAccountSql(where: string): string {
  return `
  SELECT a.*, d."name" AS "domainName", d."status" AS "domainStatus",
         EXISTS (SELECT 1 FROM "domain_admin" da WHERE da."accountId" = a."id") AS "isAdmin"
  FROM "account" a JOIN "domain" d ON d."id" = a."domainId"
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

export async function sessionStateById(db: PrismaClient, id: string): Promise<SessionState | undefined> {
  return (await rawRows<SessionState>(db, `SELECT "principalId", "endedAt", "expiresAt", "lastUsedAt" FROM "login_session" WHERE "id" = $1`, [id]))[0];
}
