// The support team: named support accounts at two levels (FULL, READ_ONLY),
// managed by full support staff. Rules:
//   - the username is a login name (never an address: those are accounts');
//   - the last active FULL support admin can be neither disabled, nor made
//     READ_ONLY, nor deleted, so the service always keeps someone who can
//     manage it (checked under a lock on the active FULL rows, so that two
//     admins disabling each other at once cannot both succeed);
//   - disabling an account or setting its password ends its sessions;
//   - an API token never sets a support admin's password (credentials.ts).
import type { Prisma, SupportAdmin } from "../generated/prisma/client";
import type { Caller, ServiceDeps } from "../service-deps";
import { authorize } from "./policy";
import { generatePassword } from "./passwords";
import { refuseAdministratorCredentialByToken } from "./credentials";
import { endSessionsOf } from "./sessions.service";
import { SECRET_CHANGED, changedFields, writeAudit, type Change } from "../audit/audit.service";
import { BadInputError, ConflictError, NotFoundError } from "../errors";
import { message } from "../i18n/messages";
import { parseId, parsePassword } from "../shared/validation";
import { isUniqueViolation } from "../shared/db-errors";

export type SupportLevel = "FULL" | "READ_ONLY";
export type SupportAdminStatus = "ACTIVE" | "DISABLED";

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;

function parseUsername(input: string): string {
  const username = input.trim().toLowerCase();
  if (!USERNAME.test(username)) {
    throw new BadInputError("username", message("auth.support.username"));
  }
  return username;
}

function parseSupportDisplayName(input: string): string {
  const name = input.trim();
  if (name.length < 1 || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name) || !name.isWellFormed()) {
    throw new BadInputError("displayName", message("auth.support.display_name"));
  }
  return name;
}

function parseLevel(level: string): SupportLevel {
  if (level !== "FULL" && level !== "READ_ONLY") throw new BadInputError("level", message("auth.support.level"));
  return level;
}

export function supportAdminStatus(admin: Pick<SupportAdmin, "disabledAt">): SupportAdminStatus {
  return admin.disabledAt ? "DISABLED" : "ACTIVE";
}

/** Every support admin, ordered by username (support staff, read-only included). */
export async function listSupportAdmins(deps: ServiceDeps, caller: Caller) {
  authorize(caller.principal, "support_admin.read", {}, ["support admin", ""]);
  return deps.db.supportAdmin.findMany({ orderBy: { username: "asc" } });
}

/** When each support admin last used a login session. */
export async function lastActiveOf(deps: Pick<ServiceDeps, "db">, ids: readonly string[]): Promise<Map<string, Date>> {
  const rows = await deps.db.loginSession.groupBy({ by: ["principalId"], where: { principalId: { in: [...ids] } }, _max: { lastUsedAt: true, createdAt: true } });
  const result = new Map<string, Date>();
  for (const row of rows) {
    const times = [row._max.lastUsedAt, row._max.createdAt].filter((time): time is Date => time !== null);
    if (times.length > 0) result.set(row.principalId, new Date(Math.max(...times.map((time) => time.getTime()))));
  }
  return result;
}

/** Locks the active FULL support admins' rows and answers how many there are besides `except`. */
async function otherActiveFullAdmins(tx: Prisma.TransactionClient, except: string): Promise<number> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "support_admin" WHERE "level" = 'FULL' AND "disabledAt" IS NULL ORDER BY "id" FOR UPDATE`;
  return rows.filter((row) => row.id !== except).length;
}

export interface CreateSupportAdminInput {
  username: string;
  displayName: string;
  level: SupportLevel;
  password?: string | null;
}

export async function createSupportAdmin(deps: ServiceDeps, caller: Caller, input: CreateSupportAdminInput) {
  authorize(caller.principal, "support_admin.manage", {}, ["support admin", input.username]);
  refuseAdministratorCredentialByToken(caller.principal, message("auth.credential.create_support"), "password");
  const username = parseUsername(input.username);
  const displayName = parseSupportDisplayName(input.displayName);
  const level = parseLevel(input.level);
  const generatedPassword = input.password == null ? generatePassword() : null;
  const password = input.password == null ? generatedPassword! : parsePassword(input.password, "password");
  const passwordHash = await deps.passwords.hash(password);
  try {
    const supportAdmin = await deps.db.$transaction(async (tx) => {
      const created = await tx.supportAdmin.create({ data: { username, displayName, level, passwordHash } });
      await writeAudit(tx, caller.actor, {
        action: "support_admin.create",
        objectType: "support_admin",
        objectId: created.id,
        changes: [
          { field: "username", before: null, after: username },
          { field: "displayName", before: null, after: displayName },
          { field: "level", before: null, after: level },
          { field: "password", before: null, after: SECRET_CHANGED },
        ],
      });
      return created;
    });
    return { supportAdmin, generatedPassword };
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(message("auth.support.exists", { username }), "username");
    throw error;
  }
}

export interface UpdateSupportAdminInput {
  displayName?: string | null;
  level?: SupportLevel | null;
  status?: SupportAdminStatus | null;
  password?: string | null;
}

export async function updateSupportAdmin(deps: ServiceDeps, caller: Caller, id: string, input: UpdateSupportAdminInput) {
  const adminId = parseId(id, "id");
  authorize(caller.principal, "support_admin.manage", {}, ["support admin", adminId]);
  const displayName = input.displayName == null ? undefined : parseSupportDisplayName(input.displayName);
  const level = input.level == null ? undefined : parseLevel(input.level);
  if (input.status != null && input.status !== "ACTIVE" && input.status !== "DISABLED") throw new BadInputError("status", message("auth.support.status"));
  const password = input.password == null ? undefined : parsePassword(input.password, "password");
  if (password !== undefined) {
    refuseAdministratorCredentialByToken(caller.principal, message("auth.credential.support_password"), "password");
    if (adminId === caller.principal.id) throw new BadInputError("password", message("auth.support.own_password"));
  }
  const passwordHash = password === undefined ? undefined : await deps.passwords.hash(password);
  const now = deps.now();
  const supportAdmin = await deps.db.$transaction(async (tx) => {
    const before = await tx.supportAdmin.findUnique({ where: { id: adminId } });
    if (!before) throw new NotFoundError("support admin", adminId);
    const disabling = input.status === "DISABLED" && !before.disabledAt;
    const demoting = level === "READ_ONLY" && before.level === "FULL";
    if ((disabling || demoting) && before.level === "FULL" && !before.disabledAt && (await otherActiveFullAdmins(tx, before.id)) === 0) {
      throw new ConflictError(message("auth.support.last_full_admin", { username: before.username }), disabling ? "status" : "level");
    }
    const disabledAt = input.status == null ? before.disabledAt : input.status === "DISABLED" ? (before.disabledAt ?? now) : null;
    let after = await tx.supportAdmin.update({
      where: { id: adminId },
      data: { displayName, level, disabledAt, ...(passwordHash ? { passwordHash } : {}) },
    });
    const changes: Change[] = changedFields(
      { displayName: before.displayName, level: before.level, status: supportAdminStatus(before) },
      { displayName: after.displayName, level: after.level, status: supportAdminStatus(after) },
      ["displayName", "level", "status"],
    );
    if (passwordHash) changes.push({ field: "password", before: SECRET_CHANGED, after: SECRET_CHANGED });
    if (disabling || passwordHash) {
      await endSessionsOf(tx, now, { kind: "support", id: adminId }, caller.principal.name);
      after = await tx.supportAdmin.findUniqueOrThrow({ where: { id: adminId } });
    }
    if (changes.length > 0) {
      await writeAudit(tx, caller.actor, {
        action: passwordHash && changes.length === 1 ? "support_admin.set_password" : "support_admin.update",
        objectType: "support_admin",
        objectId: adminId,
        changes,
      });
    }
    return after;
  });
  return { supportAdmin, generatedPassword: null };
}

export async function deleteSupportAdmin(deps: ServiceDeps, caller: Caller, id: string) {
  const adminId = parseId(id, "id");
  authorize(caller.principal, "support_admin.manage", {}, ["support admin", adminId]);
  return deps.db.$transaction(async (tx) => {
    const admin = await tx.supportAdmin.findUnique({ where: { id: adminId } });
    if (!admin) throw new NotFoundError("support admin", adminId);
    if (admin.level === "FULL" && !admin.disabledAt && (await otherActiveFullAdmins(tx, admin.id)) === 0) {
      throw new ConflictError(message("auth.support.last_full_admin", { username: admin.username }), "id");
    }
    await tx.supportAdmin.delete({ where: { id: adminId } });
    // What belonged to it and names it by id only: its sessions, second factor and recovery codes.
    await tx.loginSession.deleteMany({ where: { principalId: adminId } });
    await tx.totpFactor.deleteMany({ where: { principalId: adminId } });
    await tx.recoveryCode.deleteMany({ where: { principalId: adminId } });
    // Its API tokens stop working with it (authenticate refuses a token whose creator is gone); they are revoked for the record.
    await tx.apiToken.updateMany({ where: { createdById: adminId, revokedAt: null }, data: { revokedAt: deps.now(), revokedByName: caller.principal.name } });
    await writeAudit(tx, caller.actor, {
      action: "support_admin.delete",
      objectType: "support_admin",
      objectId: adminId,
      changes: [
        { field: "username", before: admin.username, after: null },
        { field: "displayName", before: admin.displayName, after: null },
        { field: "level", before: admin.level, after: null },
      ],
    });
    return { deletedSupportAdminId: adminId, username: admin.username };
  });
}
