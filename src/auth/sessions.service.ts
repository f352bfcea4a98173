// Login sessions: every login (login, completeLogin, changePassword) opens
// one, and its token carries the session's id (sid), so that a principal can
// list where it is logged in and end any of those sessions, and support can
// end all of a person's sessions. authenticate.ts refuses a token whose
// session was ended; ending all sessions also raises the token version, which
// revokes tokens that carry no session (those made by tools and tests).
import { randomUUID } from "node:crypto";
import type { Prisma } from "../generated/prisma/client";
import type { Caller, ServiceDeps } from "../service-deps";
import type { PrincipalKind } from "./tokens";
import { authorize } from "./policy";
import { writeAudit, type Db } from "../audit/audit.service";
import { NotFoundError } from "../errors";
import { parseId } from "../shared/validation";

export interface SessionRequest {
  requestId?: string;
  clientIp?: string;
  userAgent?: string;
}

/** Opens a session and issues its token. */
export async function openSession(
  deps: Pick<ServiceDeps, "db" | "tokens">,
  principal: { id: string; kind: PrincipalKind; tokenVersion: number; enrollOnly?: boolean },
  request: SessionRequest,
  db: Db = deps.db,
) {
  const sessionId = randomUUID();
  const issued = deps.tokens.issue({ sub: principal.id, kind: principal.kind, ver: principal.tokenVersion, sid: sessionId, ...(principal.enrollOnly ? { enrollOnly: true } : {}) });
  await db.loginSession.create({
    data: {
      id: sessionId,
      principalId: principal.id,
      principalKind: principal.kind,
      expiresAt: issued.expiresAt,
      clientIp: request.clientIp ?? null,
      userAgent: request.userAgent?.slice(0, 300) ?? null,
    },
  });
  return { ...issued, sessionId };
}

/** Whose sessions a principal id names, and the policy target for acting on them. */
async function principalTarget(db: Db, principalId: string) {
  const admin = await db.supportAdmin.findUnique({ where: { id: principalId } });
  if (admin) return { kind: "support" as const, id: admin.id, name: admin.username, target: {}, domainId: null };
  const account = await db.account.findUnique({ where: { id: principalId } });
  if (account)
    return { kind: "account" as const, id: account.id, name: account.address, target: { domainId: account.domainId, accountId: account.id }, domainId: account.domainId };
  return null;
}

/** A principal's open sessions, newest first: its own, or (support staff, read-only included) anyone's. */
export async function listSessions(deps: ServiceDeps, caller: Caller, principalId: string | null | undefined) {
  const id = principalId ? parseId(principalId, "principalId") : caller.principal.id;
  if (id !== caller.principal.id) {
    const whose = await principalTarget(deps.db, id);
    if (!whose) throw new NotFoundError("principal", id);
    authorize(caller.principal, "session.read", whose.target, ["principal", id]);
  }
  const now = deps.now();
  const rows = await deps.db.loginSession.findMany({
    where: { principalId: id, endedAt: null, expiresAt: { gt: now } },
    orderBy: { createdAt: "desc" },
    take: 200,
  });
  return rows.map((row) => ({ ...row, current: row.id === caller.principal.sessionId }));
}

/** Ends one of the caller's own sessions. */
export async function endSession(deps: ServiceDeps, caller: Caller, sessionId: string) {
  const id = parseId(sessionId, "id");
  return deps.db.$transaction(async (tx) => {
    const session = await tx.loginSession.findUnique({ where: { id } });
    if (!session || session.principalId !== caller.principal.id) throw new NotFoundError("session", id);
    if (!session.endedAt) {
      await tx.loginSession.update({ where: { id }, data: { endedAt: deps.now(), endedByName: caller.principal.name } });
      await writeAudit(tx, caller.actor, {
        action: "session.end",
        objectType: "login_session",
        objectId: id,
        domainId: caller.principal.kind === "account" ? caller.principal.domainId : null,
        changes: [{ field: "endedAt", before: null, after: deps.now().toISOString() }],
      });
    }
    return { sessionId: id };
  });
}

/**
 * Ends every session of a principal and revokes all its tokens (token
 * version raised), inside the caller's transaction. Used by endAllSessions,
 * and by disabling a support account or resetting its password.
 */
export async function endSessionsOf(tx: Prisma.TransactionClient, now: Date, principal: { kind: PrincipalKind; id: string }, endedByName: string): Promise<number> {
  const ended = await tx.loginSession.updateMany({ where: { principalId: principal.id, endedAt: null, expiresAt: { gt: now } }, data: { endedAt: now, endedByName } });
  if (principal.kind === "support") await tx.supportAdmin.update({ where: { id: principal.id }, data: { tokenVersion: { increment: 1 } } });
  else await tx.account.update({ where: { id: principal.id }, data: { tokenVersion: { increment: 1 } } });
  return ended.count;
}

/** Ends all sessions of a principal: the caller's own, or (full support staff) anyone's. */
export async function endAllSessions(deps: ServiceDeps, caller: Caller, principalId: string) {
  const id = parseId(principalId, "principalId");
  return deps.db.$transaction(async (tx) => {
    const whose = await principalTarget(tx, id);
    if (!whose) throw new NotFoundError("principal", id);
    if (id !== caller.principal.id) authorize(caller.principal, "session.end_all", whose.target, ["principal", id]);
    const endedCount = await endSessionsOf(tx, deps.now(), whose, caller.principal.name);
    await writeAudit(tx, caller.actor, {
      action: "session.end_all",
      objectType: whose.kind === "support" ? "support_admin" : "account",
      objectId: id,
      domainId: whose.domainId,
      changes: [{ field: "sessions", before: endedCount, after: 0 }],
    });
    return { principalId: id, endedCount };
  });
}

/** A session as the API shows it. */
export type SessionView = Prisma.LoginSessionGetPayload<object> & { current: boolean };
