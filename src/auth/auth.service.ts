// Logging in, changing one's own password, and the first support admin.
import type { PrismaClient } from "../generated/prisma/client";
import type { Caller, ServiceDeps } from "../service-deps";
import type { Config } from "../config";
import { supportRoleOf, type Principal } from "./principal";
import { openSession, type SessionRequest } from "./sessions.service";
import { totpRequiredFor } from "../config";
import { generatePassword, type PasswordHasher } from "./passwords";
import { actorOf, SECRET_CHANGED, systemActor, writeAudit } from "../audit/audit.service";
import { BadInputError, RateLimitedError, UnauthenticatedError } from "../errors";
import { message } from "../i18n/messages";
import { parseAddress, parsePassword } from "../shared/validation";
import { rawRows } from "../db/raw";
import { callingAccountByAddress, supportAdminByUsername } from "./auth.sql";

/** A support admin or an account, as the login needs it. */
interface LoginCandidate {
  principal: Principal;
  passwordHash: string;
  active: boolean;
  domainName: string | null;
}

const WRONG_CREDENTIALS = message("auth.wrong_credentials");

/**
 * The canonical form of what was typed at login: a username in lower case, or
 * an address with its domain in punycode (mary@書店.台灣 and mary@xn--... are
 * one identifier, for the lookup and for the failure counter alike);
 * null when it cannot name anybody.
 */
function canonicalIdentifier(identifier: string): string | null {
  const normalised = identifier.trim().toLowerCase();
  if (normalised.length === 0 || normalised.length > 320) return null;
  if (!normalised.includes("@")) return normalised;
  try {
    return parseAddress(normalised).address;
  } catch {
    return null;
  }
}

// Both reads go through the pg pool (auth.sql.ts): they run before the
// password check, for every login attempt.
async function findLoginCandidate(db: PrismaClient, canonical: string | null): Promise<LoginCandidate | null> {
  if (canonical === null) return null;
  if (!canonical.includes("@")) {
    const admin = await supportAdminByUsername(db, canonical);
    if (!admin) return null;
    return {
      principal: { kind: "support", id: admin.id, role: supportRoleOf(admin.level), name: admin.username, displayName: admin.displayName, tokenVersion: admin.tokenVersion },
      passwordHash: admin.passwordHash,
      active: !admin.disabledAt,
      domainName: null,
    };
  }
  const account = await callingAccountByAddress(db, canonical);
  if (!account) return null;
  return {
    principal: {
      kind: "account",
      id: account.id,
      role: account.isAdmin ? "DOMAIN_ADMIN" : "USER",
      name: account.address,
      displayName: account.displayName,
      domainId: account.domainId,
      tokenVersion: account.tokenVersion,
    },
    passwordHash: account.passwordHash,
    active: account.status === "ACTIVE" && account.domainStatus === "ACTIVE",
    domainName: account.domainName,
  };
}

/**
 * Failed-login counters per identifier and per client address, in the
 * database so that every server instance shares them. A key that reaches its
 * limit within the window is locked for LOGIN_LOCK_SECONDS. Unknown
 * identifiers are counted exactly like known ones.
 */
export class LoginThrottle {
  constructor(
    private readonly db: PrismaClient,
    private readonly config: Pick<Config, "LOGIN_MAX_FAILURES" | "LOGIN_CLIENT_MAX_FAILURES" | "LOGIN_WINDOW_SECONDS" | "LOGIN_LOCK_SECONDS">,
    private readonly now: () => Date,
  ) {}

  /** Throws RATE_LIMITED while any of the keys is locked. */
  async ensureNotLocked(keys: string[]): Promise<void> {
    const now = this.now();
    // Timestamps are stored as UTC without a zone; the ISO text's "Z" is ignored by the cast.
    const [locked] = await rawRows<{ lockedUntil: Date | null }>(
      this.db,
      `SELECT max("lockedUntil") AS "lockedUntil" FROM "login_throttle" WHERE "key" = ANY($1) AND "lockedUntil" > $2::timestamp`,
      [keys, now.toISOString()],
    );
    if (!locked?.lockedUntil) return;
    const seconds = Math.ceil((locked.lockedUntil.getTime() - now.getTime()) / 1000);
    throw new RateLimitedError(message("limit.failed_logins", { minutes: Math.ceil(seconds / 60) }), seconds);
  }

  async recordFailure(identifierKey: string, clientKey: string | undefined): Promise<void> {
    await this.bump(identifierKey, this.config.LOGIN_MAX_FAILURES);
    if (clientKey) await this.bump(clientKey, this.config.LOGIN_CLIENT_MAX_FAILURES);
  }

  async recordSuccess(identifierKey: string): Promise<void> {
    // Only the identifier's counter is cleared: a success with one account
    // must not reset a client's count of guesses at other accounts.
    await this.db.loginThrottle.deleteMany({ where: { key: identifierKey } });
  }

  private async bump(key: string, limit: number): Promise<void> {
    const now = this.now();
    const windowStart = new Date(now.getTime() - this.config.LOGIN_WINDOW_SECONDS * 1000);
    const lockUntil = new Date(now.getTime() + this.config.LOGIN_LOCK_SECONDS * 1000);
    // One statement, so that concurrent failures are all counted.
    await this.db.$executeRaw`
      INSERT INTO "login_throttle" ("key", "failures", "windowStartedAt", "lockedUntil")
      VALUES (${key}, 1, ${now}, CASE WHEN 1 >= ${limit} THEN ${lockUntil}::timestamp ELSE NULL END)
      ON CONFLICT ("key") DO UPDATE SET
        "failures" = CASE WHEN "login_throttle"."windowStartedAt" < ${windowStart}::timestamp THEN 1 ELSE "login_throttle"."failures" + 1 END,
        "windowStartedAt" = CASE WHEN "login_throttle"."windowStartedAt" < ${windowStart}::timestamp THEN ${now}::timestamp ELSE "login_throttle"."windowStartedAt" END,
        "lockedUntil" = CASE
          WHEN (CASE WHEN "login_throttle"."windowStartedAt" < ${windowStart}::timestamp THEN 1 ELSE "login_throttle"."failures" + 1 END) >= ${limit}
          THEN ${lockUntil}::timestamp
          ELSE "login_throttle"."lockedUntil" END`;
  }
}

export function auditLogin(
  deps: Pick<ServiceDeps, "db">,
  candidate: Pick<LoginCandidate, "principal" | "domainName">,
  action: "auth.login" | "auth.login_failed" | "auth.second_factor_failed" | "auth.recovery_code_used",
  request: { requestId?: string; clientIp?: string },
  changes: { field: string; before: unknown; after: unknown }[] = [],
) {
  const { principal } = candidate;
  return writeAudit(deps.db, actorOf(principal, request), {
    action,
    objectType: principal.kind === "support" ? "support_admin" : "account",
    objectId: principal.id,
    domainId: principal.kind === "account" ? principal.domainId : null,
    domainName: candidate.domainName,
    changes,
  });
}

/** The failure counter key of a principal's logins (the canonical identifier: a username or an address). */
export function identifierKeyOf(principal: Principal): string {
  return `id:${principal.name}`;
}

/** What login answers: a session, a second-step challenge, or (two-factor login compulsory, not enrolled) a session limited to enrolling. */
export type LoginResult =
  | { kind: "session"; token: string; expiresAt: Date; principal: Principal; enrollmentRequired: boolean }
  | { kind: "challenge"; challenge: string; expiresAt: Date; principal: Principal };

export async function login(deps: ServiceDeps & { throttle: LoginThrottle }, identifier: string, password: string, request: SessionRequest): Promise<LoginResult> {
  if (identifier.length > 320) throw new BadInputError("identifier", message("input.too_long", { field: "identifier", max: 320 }));
  // No username or address holds control characters or broken Unicode; such
  // an identifier is refused before it reaches the failure counter's key.
  if (/[\u0000-\u001f\u007f]/.test(identifier) || !identifier.isWellFormed()) {
    throw new BadInputError("identifier", message("auth.identifier_characters"));
  }
  if (password.length > 1024) throw new BadInputError("password", message("auth.password_too_long"));
  const canonical = canonicalIdentifier(identifier);
  const identifierKey = `id:${canonical ?? identifier.trim().toLowerCase()}`;
  const clientKey = request.clientIp ? `ip:${request.clientIp}` : undefined;
  await deps.throttle.ensureNotLocked(clientKey ? [identifierKey, clientKey] : [identifierKey]);

  const candidate = await findLoginCandidate(deps.db, canonical);
  const passwordMatches = candidate ? await deps.passwords.verify(password, candidate.passwordHash) : await deps.passwords.verifyAgainstNobody(password);
  if (!candidate || !passwordMatches) {
    await deps.throttle.recordFailure(identifierKey, clientKey);
    // Failures are recorded for principals that exist; guesses at unknown names are only counted.
    if (candidate) await auditLogin(deps, candidate, "auth.login_failed", request);
    throw new UnauthenticatedError(WRONG_CREDENTIALS);
  }
  // The password was right, so saying why the login is refused reveals nothing.
  if (!candidate.active) {
    throw new UnauthenticatedError(candidate.principal.kind === "support" ? message("auth.support_disabled") : message("auth.failure.suspended"));
  }
  const { principal } = candidate;
  const factor = await deps.db.totpFactor.findUnique({ where: { principalId: principal.id }, select: { confirmedAt: true } });
  if (factor?.confirmedAt) {
    // The password was right; the counter is cleared when the second step succeeds (completeLogin).
    const challenge = deps.tokens.issueChallenge({ sub: principal.id, kind: principal.kind, ver: principal.tokenVersion });
    return { kind: "challenge", challenge: challenge.token, expiresAt: challenge.expiresAt, principal };
  }
  await deps.throttle.recordSuccess(identifierKey);
  await auditLogin(deps, candidate, "auth.login", request);
  const enrollmentRequired = totpRequiredFor(deps.config, principal.role);
  const issued = await openSession(deps, { ...principal, enrollOnly: enrollmentRequired }, request);
  return { kind: "session", token: issued.token, expiresAt: issued.expiresAt, principal: { ...principal, sessionId: issued.sessionId }, enrollmentRequired };
}

export async function changePassword(deps: ServiceDeps, caller: Caller, currentPassword: string, newPassword: string, request: SessionRequest = {}) {
  const principal = caller.principal;
  const password = parsePassword(newPassword, "newPassword");
  const stored =
    principal.kind === "support"
      ? await deps.db.supportAdmin.findUniqueOrThrow({ where: { id: principal.id }, select: { passwordHash: true } })
      : await deps.db.account.findUniqueOrThrow({ where: { id: principal.id }, select: { passwordHash: true } });
  if (currentPassword.length > 1024 || !(await deps.passwords.verify(currentPassword, stored.passwordHash))) {
    throw new BadInputError("currentPassword", message("auth.current_password_wrong"));
  }
  const passwordHash = await deps.passwords.hash(password);
  const tokenVersion = await deps.db.$transaction(async (tx) => {
    const data = { passwordHash, tokenVersion: { increment: 1 } };
    const updated =
      principal.kind === "support" ? await tx.supportAdmin.update({ where: { id: principal.id }, data }) : await tx.account.update({ where: { id: principal.id }, data });
    // The older tokens stop working (token version): their sessions are listed as ended.
    await tx.loginSession.updateMany({ where: { principalId: principal.id, endedAt: null }, data: { endedAt: deps.now(), endedByName: principal.name } });
    await writeAudit(tx, caller.actor, {
      action: "auth.change_password",
      objectType: principal.kind === "support" ? "support_admin" : "account",
      objectId: principal.id,
      domainId: principal.kind === "account" ? principal.domainId : null,
      changes: [{ field: "password", before: SECRET_CHANGED, after: SECRET_CHANGED }],
    });
    return updated.tokenVersion;
  });
  const issued = await openSession(deps, { ...principal, tokenVersion }, { ...request, clientIp: request.clientIp ?? caller.actor.clientIp });
  return { token: issued.token, expiresAt: issued.expiresAt, principal: { ...principal, tokenVersion, sessionId: issued.sessionId } };
}

/**
 * On a database without any support admin, creates the first one from
 * BOOTSTRAP_ADMIN_USERNAME / BOOTSTRAP_ADMIN_PASSWORD, or with a generated
 * password that is returned for printing once. Later starts change nothing.
 */
export async function bootstrapSupportAdmin(
  db: PrismaClient,
  passwords: PasswordHasher,
  config: Pick<Config, "BOOTSTRAP_ADMIN_USERNAME" | "BOOTSTRAP_ADMIN_PASSWORD">,
): Promise<{ created: false } | { created: true; username: string; generatedPassword: string | null }> {
  if ((await db.supportAdmin.count()) > 0) return { created: false };
  const username = config.BOOTSTRAP_ADMIN_USERNAME.trim().toLowerCase();
  if (username.includes("@")) throw new Error("BOOTSTRAP_ADMIN_USERNAME must not contain @ (addresses are for mailbox accounts)");
  const generatedPassword = config.BOOTSTRAP_ADMIN_PASSWORD ? null : generatePassword();
  const passwordHash = await passwords.hash(config.BOOTSTRAP_ADMIN_PASSWORD ?? generatedPassword!);
  const created = await db.$transaction(async (tx) => {
    // Checked again inside the transaction: two instances starting together create one admin.
    if ((await tx.supportAdmin.count()) > 0) return null;
    const admin = await tx.supportAdmin.create({ data: { username, displayName: "Support", passwordHash } });
    await writeAudit(tx, systemActor, {
      action: "support_admin.bootstrap",
      objectType: "support_admin",
      objectId: admin.id,
      changes: [
        { field: "username", before: null, after: username },
        { field: "password", before: null, after: SECRET_CHANGED },
      ],
    });
    return admin;
  });
  if (!created) return { created: false };
  return { created: true, username, generatedPassword };
}
