// The idempotent PUTs of the REST API, composed from the same services as
// GraphQL: "make this domain / account be like this". A PUT creates what is
// missing and otherwise changes only the fields it gives, so sending the same
// PUT twice leaves the same state, and the second one, changing nothing,
// writes no audit record (the services audit only actual changes).
import { refuseAdministratorCredentialByToken } from "../auth/credentials";
import type { Account, Domain } from "../generated/prisma/client";
import type { Caller, ServiceDeps, Warning } from "../service-deps";
import { AppError, BadInputError } from "../errors";
import { message } from "../i18n/messages";
import { createDomain, findDomain, updateDomain, type CreateDomainInput, type UpdateDomainInput } from "../domains/domains.service";
import { createAccount, findAccount, setAccountPassword, updateAccount, type UpdateAccountInput } from "../accounts/accounts.service";
import { authorize } from "../auth/policy";
import { parseLocalPart, parsePassword } from "../shared/validation";

export interface PutDomainBody extends UpdateDomainInput {
  /** Create a name that can pass for another knowingly (GraphQL's CreateDomainInput.confirmLookalikeName). */
  confirmLookalikeName?: boolean;
  /** Used only when the PUT creates the domain. */
  admin?: { localPart?: string; displayName?: string; password?: string; quotaMb?: number };
}

const DOMAIN_SETTINGS = ["status", "isTestDomain", "quotaMb", "maxAccounts", "defaultMailboxQuotaMb", "dnsSetup", "webServerAddress", "dkimPublicKey"] as const;

function isConflictOn(error: unknown, field: string): boolean {
  return error instanceof AppError && error.code === "CONFLICT" && error.extensions.field === field;
}

/** The domain when the caller may see it, or null when it does not exist for this caller. */
async function visibleDomain(deps: ServiceDeps, caller: Caller, name: string): Promise<Domain | null> {
  try {
    return await findDomain(deps, caller.principal, { name });
  } catch (error) {
    if (error instanceof AppError && error.code === "NOT_FOUND") return null;
    throw error;
  }
}

export async function putDomain(deps: ServiceDeps, caller: Caller, name: string, body: PutDomainBody) {
  const settings: UpdateDomainInput = {};
  for (const field of DOMAIN_SETTINGS) if (body[field] !== undefined) (settings as Record<string, unknown>)[field] = body[field];

  const existing = await visibleDomain(deps, caller, name);
  if (!existing) {
    // Not there, or not visible: creating is what support may do, and what
    // anyone else is refused (FORBIDDEN whether or not another's domain has that name).
    const input: CreateDomainInput = {
      name,
      ...(settings as Omit<CreateDomainInput, "name">),
      adminLocalPart: body.admin?.localPart,
      adminDisplayName: body.admin?.displayName,
      adminPassword: body.admin?.password,
      adminQuotaMb: body.admin?.quotaMb,
      confirmLookalikeName: body.confirmLookalikeName,
    };
    try {
      const created = await createDomain(deps, caller, input);
      return { domain: created.domain, created: true, generatedAdminPassword: created.generatedAdminPassword, warnings: created.warnings };
    } catch (error) {
      // Another request created it meanwhile: this PUT becomes an update, as if it had come second.
      if (!isConflictOn(error, "name")) throw error;
    }
  }
  const domain = existing ?? (await findDomain(deps, caller.principal, { name }));
  const updated = await updateDomain(deps, caller, domain.id, settings);
  return { domain: updated.domain, created: false, generatedAdminPassword: null, warnings: updated.warnings };
}

export interface PutAccountBody {
  displayName?: string;
  password?: string;
  quotaMb?: number;
  status?: "ACTIVE" | "SUSPENDED";
}

export async function putAccount(deps: ServiceDeps, caller: Caller, domainName: string, localPartInput: string, body: PutAccountBody) {
  const domain = await findDomain(deps, caller.principal, { name: domainName });
  const localPart = parseLocalPart(localPartInput);
  // Checked before anything changes, so that a bad password does not leave half a PUT applied.
  if (body.password !== undefined) parsePassword(body.password);
  const address = `${localPart}@${domain.name}`;
  let account = await deps.db.account.findUnique({ where: { address } });
  // Before telling apart "exists" and "does not": someone who may not change
  // the account gets NOT_FOUND either way (FORBIDDEN for a user's own account).
  authorize(caller.principal, "account.update", { domainId: domain.id, accountId: account?.id }, ["account", `with address ${address}`]);
  if (!account) {
    if (body.password === undefined) {
      throw new BadInputError("password", message("rest.no_account_give_password", { address: `${localPart}@${domain.name}` }));
    }
    try {
      const created = await createAccount(deps, caller, { domainId: domain.id, localPart, ...body, password: body.password });
      return { account: created.account, created: true, warnings: created.warnings };
    } catch (error) {
      if (!isConflictOn(error, "localPart")) throw error;
      account = await deps.db.account.findUnique({ where: { address: `${localPart}@${domain.name}` } });
      if (!account) throw error;
    }
  }
  if (body.password !== undefined && caller.principal.apiToken) {
    // Refused before anything changes (setAccountPassword would refuse it after the other fields were applied).
    const isAdministrator = (await deps.db.domainAdmin.count({ where: { accountId: account.id } })) > 0;
    if (isAdministrator && !(await deps.passwords.verify(body.password, account.passwordHash))) {
      refuseAdministratorCredentialByToken(caller.principal, message("account.credential.admin_password", { address: account.address, domain: domain.name }), "password");
    }
  }
  const patch: UpdateAccountInput = {};
  if (body.displayName !== undefined) patch.displayName = body.displayName;
  if (body.quotaMb !== undefined) patch.quotaMb = body.quotaMb;
  if (body.status !== undefined) patch.status = body.status;
  // Always through updateAccount, even with nothing to change: it is where the caller's right to change the account is checked.
  const updated = await updateAccount(deps, caller, account.id, patch);
  let result: { account: Account; warnings: Warning[] } = updated;
  if (body.password !== undefined && !(await deps.passwords.verify(body.password, updated.account.passwordHash))) {
    const withPassword = await setAccountPassword(deps, caller, account.id, body.password);
    result = { account: withPassword.account, warnings: updated.warnings };
  }
  return { ...result, created: false };
}

/** An account of a domain by its local part, as routes name it in the path; NOT_FOUND unless the caller may read it. */
export async function accountByPath(deps: ServiceDeps, caller: Caller, domainName: string, localPartInput: string): Promise<Account> {
  const domain = await findDomain(deps, caller.principal, { name: domainName });
  return findAccount(deps, caller.principal, { address: `${parseLocalPart(localPartInput)}@${domain.name}` });
}
