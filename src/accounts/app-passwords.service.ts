// App passwords: named passwords of a mailbox for its mail clients (IMAP,
// POP3, SMTP submission through Dovecot's SASL), shown once and stored as a
// bcrypt hash, revocable one by one. They never log in to the API or the IDE:
// login looks only at the account's own password. The password is
// ap<publicId>-<secret>; the mail server's passdb finds the row by its first
// 12 characters (docs/mail-stack.md) and checks the hash.
import { randomBytes } from "node:crypto";
import type { AppPassword } from "../generated/prisma/client";
import type { Caller, ServiceDeps } from "../service-deps";
import { authorize } from "../auth/policy";
import { writeAudit } from "../audit/audit.service";
import { BadInputError, ConflictError, ForbiddenError, NotFoundError } from "../errors";
import { message } from "../i18n/messages";
import { parseId } from "../shared/validation";

const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";
/** How many active app passwords one account may have. */
export const MAX_APP_PASSWORDS = 50;

function randomText(length: number): string {
  return Array.from(randomBytes(length), (byte) => ALPHABET[byte % ALPHABET.length]).join("");
}

export function appPasswordPrefix(row: Pick<AppPassword, "publicId">): string {
  return `ap${row.publicId}`;
}

export function appPasswordStatus(row: Pick<AppPassword, "revokedAt">): "ACTIVE" | "REVOKED" {
  return row.revokedAt ? "REVOKED" : "ACTIVE";
}

function parseAppPasswordName(input: string): string {
  const name = input.trim();
  if (name.length < 1 || name.length > 64 || /[\u0000-\u001f\u007f]/.test(name) || !name.isWellFormed()) {
    throw new BadInputError("name", message("app_password.name"));
  }
  return name;
}

async function accountTarget(deps: ServiceDeps, accountId: string) {
  const account = await deps.db.account.findUnique({ where: { id: accountId } });
  return account;
}

export async function createAppPassword(deps: ServiceDeps, caller: Caller, input: { accountId: string; name: string }) {
  const accountId = parseId(input.accountId, "accountId");
  const account = await accountTarget(deps, accountId);
  if (!account) throw new NotFoundError("account", accountId);
  authorize(caller.principal, "app_password.manage", { domainId: account.domainId, accountId }, ["account", accountId]);
  if (caller.principal.apiToken) throw new ForbiddenError(message("auth.login_token_only", { operation: "createAppPassword", prefix: caller.principal.apiToken.prefix }));
  const name = parseAppPasswordName(input.name);
  const publicId = randomText(10);
  const password = `ap${publicId}-${randomText(20)}`;
  const passwordHash = await deps.passwords.hash(password);
  const appPassword = await deps.db.$transaction(async (tx) => {
    // The account's row is locked so that two creations cannot pass the limit together.
    await tx.$queryRaw`SELECT 1 FROM "account" WHERE "id" = ${accountId} FOR UPDATE`;
    const active = await tx.appPassword.findMany({ where: { accountId, revokedAt: null }, select: { name: true } });
    if (active.length >= MAX_APP_PASSWORDS) throw new ConflictError(message("app_password.too_many", { address: account.address, max: MAX_APP_PASSWORDS }), "accountId");
    if (active.some((other) => other.name.toLowerCase() === name.toLowerCase())) {
      throw new ConflictError(message("app_password.name_taken", { address: account.address, name }), "name");
    }
    const created = await tx.appPassword.create({ data: { accountId, publicId, name, passwordHash, createdByName: caller.principal.name } });
    await writeAudit(tx, caller.actor, {
      action: "app_password.create",
      objectType: "app_password",
      objectId: created.id,
      domainId: account.domainId,
      changes: [
        { field: "account", before: null, after: account.address },
        { field: "name", before: null, after: name },
        { field: "password", before: null, after: "(set)" },
      ],
    });
    return created;
  });
  return { appPassword, password };
}

export async function revokeAppPassword(deps: ServiceDeps, caller: Caller, id: string) {
  const appPasswordId = parseId(id, "id");
  return deps.db.$transaction(async (tx) => {
    const row = await tx.appPassword.findUnique({ where: { id: appPasswordId }, include: { account: { select: { domainId: true, address: true } } } });
    if (!row) throw new NotFoundError("app password", appPasswordId);
    authorize(caller.principal, "app_password.manage", { domainId: row.account.domainId, accountId: row.accountId }, ["app password", appPasswordId]);
    if (row.revokedAt) return { appPassword: row };
    const revoked = await tx.appPassword.update({ where: { id: appPasswordId }, data: { revokedAt: deps.now(), revokedByName: caller.principal.name } });
    await writeAudit(tx, caller.actor, {
      action: "app_password.revoke",
      objectType: "app_password",
      objectId: appPasswordId,
      domainId: row.account.domainId,
      changes: [{ field: "status", before: "ACTIVE", after: "REVOKED" }],
    });
    return { appPassword: revoked };
  });
}

/** An account's app passwords, newest first (the account, its domain's administrator, support staff). */
export async function listAppPasswords(deps: ServiceDeps, caller: Caller, account: { id: string; domainId: string; address: string }) {
  authorize(caller.principal, "app_password.read", { domainId: account.domainId, accountId: account.id }, ["account", account.address]);
  return deps.db.appPassword.findMany({ where: { accountId: account.id }, orderBy: { createdAt: "desc" } });
}
