// Two-factor login (TOTP): enrolment, the second step of a login, turning it
// off, and support's reset for a person who lost the phone. Codes are
// checked by totp.ts; here are the rules:
//   - a code is accepted once: the step it belongs to must be later than the
//     last accepted one (a conditional update, so two requests with one code
//     cannot both pass);
//   - a recovery code is accepted once (marked used by a conditional update);
//   - wrong codes count towards the same failure lock as wrong passwords
//     (the principal's identifier and the client address);
//   - secrets and codes never reach the audit trail, logs or error messages.
import type { Caller, ServiceDeps } from "../service-deps";
import type { Principal } from "./principal";
import { supportRoleOf } from "./principal";
import { authorize } from "./policy";
import { auditLogin, identifierKeyOf, type LoginThrottle } from "./auth.service";
import { openSession, type SessionRequest } from "./sessions.service";
import { hashRecoveryCode, matchingTotpStep, newRecoveryCodes, newTotpSecret, normaliseRecoveryCode, openSecret, sealSecret, totpProvisioning } from "./totp";
import { writeAudit, type Db } from "../audit/audit.service";
import { BadInputError, ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from "../errors";
import { message } from "../i18n/messages";
import { totpRequiredFor } from "../config";
import { parseId } from "../shared/validation";
import { callingAccountById, supportAdminById } from "./auth.sql";

const WRONG_CODE = message("auth.totp.wrong_code");

function objectOf(principal: Principal) {
  return {
    objectType: principal.kind === "support" ? ("support_admin" as const) : ("account" as const),
    objectId: principal.id,
    domainId: principal.kind === "account" ? principal.domainId : null,
  };
}

/** Starts (or restarts) an enrolment: a new secret, shown once; login is unchanged until confirmTotpEnrollment. */
export async function startTotpEnrollment(deps: ServiceDeps, caller: Caller) {
  const principal = caller.principal;
  refuseThroughApiToken(principal, "startTotpEnrollment");
  const existing = await deps.db.totpFactor.findUnique({ where: { principalId: principal.id } });
  if (existing?.confirmedAt) throw new ConflictError(message("auth.totp.already_on_enrol"));
  const secret = newTotpSecret();
  const secretSealed = sealSecret(secret, deps.config.JWT_SECRET);
  await deps.db.totpFactor.upsert({
    where: { principalId: principal.id },
    create: { principalId: principal.id, principalKind: principal.kind, secretSealed },
    update: { secretSealed, confirmedAt: null, lastUsedStep: null, createdAt: deps.now() },
  });
  return { secret, ...(await totpProvisioning(secret, deps.config.TOTP_ISSUER, principal.name)) };
}

function refuseThroughApiToken(principal: Principal, operation: string): void {
  if (principal.apiToken) throw new ForbiddenError(message("auth.login_token_only", { operation, prefix: principal.apiToken.prefix }));
}

/**
 * Accepts a TOTP code for a principal at most once: the step it matches must
 * come after the last accepted one. Returns false for a wrong or reused code.
 */
async function acceptTotpCode(db: Db, principalId: string, secretSealed: string, jwtSecret: string, code: string, now: Date): Promise<boolean> {
  const secret = openSecret(secretSealed, jwtSecret);
  if (secret === null) return false;
  const step = matchingTotpStep(secret, code.trim(), now);
  if (step === null) return false;
  const updated = await db.totpFactor.updateMany({ where: { principalId, OR: [{ lastUsedStep: null }, { lastUsedStep: { lt: step } }] }, data: { lastUsedStep: step } });
  return updated.count === 1;
}

/** Accepts an unused recovery code of the principal once. */
async function acceptRecoveryCode(db: Db, principalId: string, code: string, now: Date): Promise<boolean> {
  const normalised = normaliseRecoveryCode(code);
  if (normalised === null) return false;
  const used = await db.recoveryCode.updateMany({ where: { principalId, codeHash: hashRecoveryCode(normalised), usedAt: null }, data: { usedAt: now } });
  return used.count === 1;
}

function parseCode(code: string): string {
  if (code.length > 64) throw new BadInputError("code", message("auth.totp.code_form"));
  return code;
}

/** Confirms an enrolment with a first code; returns the recovery codes (shown once). */
export async function confirmTotpEnrollment(deps: ServiceDeps & { throttle: LoginThrottle }, caller: Caller, code: string) {
  const principal = caller.principal;
  refuseThroughApiToken(principal, "confirmTotpEnrollment");
  parseCode(code);
  const keys = [`totp:${principal.id}`];
  await deps.throttle.ensureNotLocked(keys);
  const factor = await deps.db.totpFactor.findUnique({ where: { principalId: principal.id } });
  if (!factor) throw new ConflictError(message("auth.totp.no_enrolment"));
  if (factor.confirmedAt) throw new ConflictError(message("auth.totp.already_on"));
  const now = deps.now();
  const recoveryCodes = newRecoveryCodes();
  const accepted = await deps.db.$transaction(async (tx) => {
    if (!(await acceptTotpCode(tx, principal.id, factor.secretSealed, deps.config.JWT_SECRET, code, now))) return false;
    await tx.totpFactor.update({ where: { principalId: principal.id }, data: { confirmedAt: now } });
    await tx.recoveryCode.deleteMany({ where: { principalId: principal.id } });
    await tx.recoveryCode.createMany({ data: recoveryCodes.map((recovery) => ({ principalId: principal.id, codeHash: hashRecoveryCode(normaliseRecoveryCode(recovery)!) })) });
    await writeAudit(tx, caller.actor, { action: "auth.totp_enroll", ...objectOf(principal), changes: [{ field: "totpEnabled", before: false, after: true }] });
    return true;
  });
  if (!accepted) {
    await deps.throttle.recordFailure(keys[0]!, undefined);
    throw new BadInputError("code", message("auth.totp.enrolment_code_wrong"));
  }
  await deps.throttle.recordSuccess(keys[0]!);
  return { recoveryCodes, principal };
}

/** Turns one's own two-factor login off, with a current code or a recovery code. */
export async function disableTotp(deps: ServiceDeps & { throttle: LoginThrottle }, caller: Caller, code: string) {
  const principal = caller.principal;
  refuseThroughApiToken(principal, "disableTotp");
  parseCode(code);
  if (totpRequiredFor(deps.config, principal.role)) {
    throw new ForbiddenError(message("auth.totp.compulsory"));
  }
  const keys = [`totp:${principal.id}`];
  await deps.throttle.ensureNotLocked(keys);
  const factor = await deps.db.totpFactor.findUnique({ where: { principalId: principal.id } });
  if (!factor?.confirmedAt) throw new ConflictError(message("auth.totp.not_on"));
  const now = deps.now();
  const done = await deps.db.$transaction(async (tx) => {
    const ok = (await acceptTotpCode(tx, principal.id, factor.secretSealed, deps.config.JWT_SECRET, code, now)) || (await acceptRecoveryCode(tx, principal.id, code, now));
    if (!ok) return false;
    await tx.totpFactor.delete({ where: { principalId: principal.id } });
    await tx.recoveryCode.deleteMany({ where: { principalId: principal.id } });
    await writeAudit(tx, caller.actor, { action: "auth.totp_disable", ...objectOf(principal), changes: [{ field: "totpEnabled", before: true, after: false }] });
    return true;
  });
  if (!done) {
    await deps.throttle.recordFailure(keys[0]!, undefined);
    throw new BadInputError("code", WRONG_CODE);
  }
  await deps.throttle.recordSuccess(keys[0]!);
  return { principalId: principal.id, totpEnabled: false };
}

/** Removes a person's second factor (full support staff): it then logs in with the password alone and enrols again. */
export async function resetTotp(deps: ServiceDeps, caller: Caller, principalId: string) {
  const id = parseId(principalId, "principalId");
  return deps.db.$transaction(async (tx) => {
    const admin = await tx.supportAdmin.findUnique({ where: { id } });
    const account = admin ? null : await tx.account.findUnique({ where: { id } });
    if (!admin && !account) throw new NotFoundError("principal", id);
    authorize(caller.principal, "totp.reset", account ? { domainId: account.domainId, accountId: account.id } : {}, ["principal", id]);
    const factor = await tx.totpFactor.findUnique({ where: { principalId: id } });
    await tx.totpFactor.deleteMany({ where: { principalId: id } });
    await tx.recoveryCode.deleteMany({ where: { principalId: id } });
    await writeAudit(tx, caller.actor, {
      action: "auth.totp_reset",
      objectType: admin ? "support_admin" : "account",
      objectId: id,
      domainId: account?.domainId ?? null,
      changes: [{ field: "totpEnabled", before: Boolean(factor?.confirmedAt), after: false }],
    });
    return { principalId: id, totpEnabled: false };
  });
}

/** The principal a challenge names, as login found it. */
async function challengePrincipal(
  deps: ServiceDeps,
  kind: "support" | "account",
  id: string,
): Promise<{ principal: Principal; active: boolean; domainName: string | null } | null> {
  if (kind === "support") {
    const admin = await supportAdminById(deps.db, id);
    if (!admin) return null;
    return {
      principal: { kind, id, role: supportRoleOf(admin.level), name: admin.username, displayName: admin.displayName, tokenVersion: admin.tokenVersion },
      active: !admin.disabledAt,
      domainName: null,
    };
  }
  const account = await callingAccountById(deps.db, id);
  if (!account) return null;
  return {
    principal: {
      kind,
      id,
      role: account.isAdmin ? "DOMAIN_ADMIN" : "USER",
      name: account.address,
      displayName: account.displayName,
      domainId: account.domainId,
      tokenVersion: account.tokenVersion,
    },
    active: account.status === "ACTIVE" && account.domainStatus === "ACTIVE",
    domainName: account.domainName,
  };
}

/** The second step of a login: the challenge and a TOTP code or a recovery code. */
export async function completeLogin(deps: ServiceDeps & { throttle: LoginThrottle }, challenge: string, code: string, request: SessionRequest) {
  if (challenge.length > 2048) throw new BadInputError("challenge", message("auth.challenge.unknown"));
  parseCode(code);
  const verified = deps.tokens.verifyChallenge(challenge);
  if ("error" in verified) {
    throw new UnauthenticatedError(verified.error === "expired" ? message("auth.challenge.expired") : message("auth.challenge.unknown_login_again"));
  }
  const found = await challengePrincipal(deps, verified.claims.kind, verified.claims.sub);
  // A password change, a disabled account or a reset factor since the first step: start again.
  if (!found || found.principal.tokenVersion !== verified.claims.ver) throw new UnauthenticatedError(message("auth.challenge.no_longer_valid"));
  const { principal } = found;
  const identifierKey = identifierKeyOf(principal);
  const clientKey = request.clientIp ? `ip:${request.clientIp}` : undefined;
  await deps.throttle.ensureNotLocked(clientKey ? [identifierKey, clientKey] : [identifierKey]);
  if (!found.active) throw new UnauthenticatedError(message("auth.failure.suspended"));
  const factor = await deps.db.totpFactor.findUnique({ where: { principalId: principal.id } });
  if (!factor?.confirmedAt) throw new UnauthenticatedError(message("auth.challenge.totp_off"));
  const now = deps.now();
  let method: "totp" | "recovery_code" | null = null;
  if (await acceptTotpCode(deps.db, principal.id, factor.secretSealed, deps.config.JWT_SECRET, code, now)) method = "totp";
  else if (await acceptRecoveryCode(deps.db, principal.id, code, now)) method = "recovery_code";
  if (!method) {
    await deps.throttle.recordFailure(identifierKey, clientKey);
    await auditLogin(deps, found, "auth.second_factor_failed", request);
    throw new UnauthenticatedError(WRONG_CODE);
  }
  await deps.throttle.recordSuccess(identifierKey);
  if (method === "recovery_code") await auditLogin(deps, found, "auth.recovery_code_used", request);
  await auditLogin(deps, found, "auth.login", request, [{ field: "secondFactor", before: null, after: method }]);
  const issued = await openSession(deps, principal, request);
  const recoveryCodesLeft = await deps.db.recoveryCode.count({ where: { principalId: principal.id, usedAt: null } });
  return { token: issued.token, expiresAt: issued.expiresAt, principal: { ...principal, sessionId: issued.sessionId }, recoveryCodesLeft };
}

/** Whether each principal has two-factor login on. */
export async function totpEnabledOf(deps: Pick<ServiceDeps, "db">, ids: readonly string[]): Promise<Set<string>> {
  const rows = await deps.db.totpFactor.findMany({ where: { principalId: { in: [...ids] }, confirmedAt: { not: null } }, select: { principalId: true } });
  return new Set(rows.map((row) => row.principalId));
}
