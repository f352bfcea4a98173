// Accounts (mailboxes) of a domain: creation within the domain's limits,
// changes, password resets and deletion. Quota rules are checked with the
// domain row locked, so concurrent requests cannot overshoot a limit together.
import { Prisma as PrismaSql, type Account, type Prisma } from "../generated/prisma/client";
import type { Caller, ServiceDeps, Warning } from "../service-deps";
import type { Principal } from "../auth/principal";
import { authorize } from "../auth/policy";
import { refuseAdministratorCredentialByToken } from "../auth/credentials";
import { changedFields, SECRET_CHANGED, writeAudit } from "../audit/audit.service";
import { BadInputError, ConflictError, ForbiddenError, NotFoundError, QuotaExceededError } from "../errors";
import { message } from "../i18n/messages";
import { isUniqueViolation } from "../shared/db-errors";
import { toConnection } from "../shared/connection";
import { checkMailboxQuota, domainUsage, lockDomain } from "../domains/domains.service";
import { storeHandTypedUsage } from "../usage/usage.service";
import { detachAddress, lockAliasGraph } from "../aliases/aliases.service";
import {
  MAX_TOTAL_MB,
  decodeCursor,
  idOrAddress,
  likeEscaped,
  parseDisplayName,
  parseId,
  parseLocalPart,
  parsePageSize,
  parsePassword,
  parseQuotaMb,
  parseSearch,
} from "../shared/validation";

type AccountStatus = "ACTIVE" | "SUSPENDED";
const AUDITED_ACCOUNT_FIELDS = ["address", "displayName", "status", "quotaMb", "usedMb"] as const;

function describeAccount(reference: { id?: string | null; address?: string | null }): [string, string] {
  return ["account", reference.address ? `with address ${reference.address}` : `with id ${reference.id ?? ""}`];
}

/** Finds an account the principal may read (itself, its domain's as administrator, any as support). */
export async function findAccount(deps: Pick<ServiceDeps, "db">, principal: Principal, reference: { id?: string | null; address?: string | null }): Promise<Account> {
  const where = idOrAddress(reference, message("account.reference_both"));
  const account = await deps.db.account.findUnique({ where });
  if (!account) throw new NotFoundError(...describeAccount(reference));
  authorize(principal, "account.read", { domainId: account.domainId, accountId: account.id }, describeAccount(reference));
  return account;
}

export interface AccountListQuery {
  search?: string | null;
  role?: "SUPPORT_ADMIN" | "SUPPORT_READONLY" | "DOMAIN_ADMIN" | "USER" | null;
  status?: AccountStatus | null;
  first?: number | null;
  after?: string | null;
}

/** The validated form of an accounts query, shared by the single and the batched listing. */
function accountQuery(query: AccountListQuery) {
  const search = parseSearch(query.search);
  return {
    first: parsePageSize(query.first, 20),
    search,
    afterAddress: decodeCursor(query.after),
    role: query.role ?? null,
    status: query.status ?? null,
  };
}

function accountWhere(domainIds: string[], query: ReturnType<typeof accountQuery>): Prisma.AccountWhereInput {
  const roleFilter: Prisma.AccountWhereInput =
    query.role === "DOMAIN_ADMIN"
      ? { adminOf: { isNot: null } }
      : query.role === "USER"
        ? { adminOf: { is: null } }
        : query.role === "SUPPORT_ADMIN" || query.role === "SUPPORT_READONLY"
          ? { id: { in: [] } }
          : {};
  return {
    domainId: { in: domainIds },
    ...roleFilter,
    ...(query.status ? { status: query.status } : {}),
    ...(query.search
      ? {
          OR: [{ address: { contains: likeEscaped(query.search.toLowerCase()) } }, { displayName: { contains: likeEscaped(query.search), mode: "insensitive" as const } }],
        }
      : {}),
  };
}

export async function listAccounts(deps: Pick<ServiceDeps, "db">, principal: Principal, domainId: string, input: AccountListQuery) {
  authorize(principal, "domain.list_accounts", { domainId }, ["domain", `with id ${domainId}`]);
  const query = accountQuery(input);
  const where = accountWhere([domainId], query);
  const [rows, totalCount] = await Promise.all([
    deps.db.account.findMany({
      where: query.afterAddress !== undefined ? { AND: [where, { address: { gt: query.afterAddress } }] } : where,
      orderBy: { address: "asc" },
      take: query.first + 1,
    }),
    deps.db.account.count({ where }),
  ]);
  return toConnection(rows, query.first, totalCount, (node) => node.address, query.afterAddress);
}

/** LIKE pattern for "contains", with the pattern characters of the text escaped. */
function containsPattern(text: string): string {
  return `%${likeEscaped(text)}%`;
}

/**
 * The first page of accounts of many domains at once (a page of domains with
 * their accounts): two statements whatever the number of domains, instead of
 * two per domain. Callers authorize each domain first.
 */
export async function firstAccountPages(db: ServiceDeps["db"], domainIds: string[], input: AccountListQuery) {
  const query = accountQuery(input);
  const conditions = [PrismaSql.sql`a."domainId" IN (${PrismaSql.join(domainIds)})`];
  if (query.status) conditions.push(PrismaSql.sql`a."status" = ${query.status}::"AccountStatus"`);
  if (query.role === "DOMAIN_ADMIN") conditions.push(PrismaSql.sql`EXISTS (SELECT 1 FROM "domain_admin" da WHERE da."accountId" = a."id")`);
  if (query.role === "USER") conditions.push(PrismaSql.sql`NOT EXISTS (SELECT 1 FROM "domain_admin" da WHERE da."accountId" = a."id")`);
  if (query.role === "SUPPORT_ADMIN" || query.role === "SUPPORT_READONLY") conditions.push(PrismaSql.sql`FALSE`);
  if (query.search) {
    conditions.push(PrismaSql.sql`(a."address" LIKE ${containsPattern(query.search.toLowerCase())} OR a."displayName" ILIKE ${containsPattern(query.search)})`);
  }
  const [rows, counts] = await Promise.all([
    db.$queryRaw<(Account & { rowNumber: bigint })[]>`
      SELECT * FROM (
        SELECT a.*, ROW_NUMBER() OVER (PARTITION BY a."domainId" ORDER BY a."address") AS "rowNumber"
        FROM "account" a WHERE ${PrismaSql.join(conditions, " AND ")}
      ) numbered WHERE "rowNumber" <= ${query.first + 1} ORDER BY "domainId", "address"`,
    db.account.groupBy({ by: ["domainId"], where: accountWhere(domainIds, query), _count: { _all: true } }),
  ]);
  const countOf = new Map(counts.map((row) => [row.domainId, row._count._all]));
  const rowsOf = new Map<string, Account[]>();
  for (const { rowNumber: _rowNumber, ...account } of rows) {
    const list = rowsOf.get(account.domainId) ?? [];
    list.push(account);
    rowsOf.set(account.domainId, list);
  }
  return domainIds.map((domainId) => toConnection(rowsOf.get(domainId) ?? [], query.first, countOf.get(domainId) ?? 0, (node) => node.address, query.afterAddress));
}

function quotaWarnings(account: Pick<Account, "quotaMb" | "usedMb" | "address">): Warning[] {
  // quota 0 is a login without a mailbox; usage against it is not a problem to report.
  if (account.quotaMb > 0 && account.usedMb > account.quotaMb) {
    return [
      {
        code: "QUOTA_BELOW_USAGE",
        field: "quotaMb",
        message: message("account.warning.quota_below_usage", { address: account.address, usedMb: account.usedMb, quotaMb: account.quotaMb }),
      },
    ];
  }
  return [];
}

export interface CreateAccountInput {
  domainId: string;
  localPart: string;
  displayName?: string | null;
  password: string;
  quotaMb?: number | null;
  status?: AccountStatus | null;
}

export async function createAccount(deps: ServiceDeps, caller: Caller, input: CreateAccountInput) {
  const domainId = parseId(input.domainId, "domainId");
  const localPart = parseLocalPart(input.localPart);
  const displayName = parseDisplayName(input.displayName ?? "");
  const password = parsePassword(input.password);
  const requestedQuota = input.quotaMb == null ? null : parseQuotaMb(input.quotaMb, "quotaMb");
  // Refuse callers before spending a bcrypt hash on them.
  const visible = await deps.db.domain.findUnique({ where: { id: domainId }, select: { id: true } });
  if (!visible) throw new NotFoundError("domain", `with id ${domainId}`);
  authorize(caller.principal, "account.create", { domainId }, ["domain", `with id ${domainId}`]);
  const passwordHash = await deps.passwords.hash(password);

  try {
    return await deps.db.$transaction(async (tx) => {
      const domain = await lockDomain(tx, domainId);
      if (!domain) throw new NotFoundError("domain", `with id ${domainId}`);
      const usage = await domainUsage(tx, domainId);
      if (domain.maxAccounts !== null && usage.accountCount >= domain.maxAccounts) {
        throw new QuotaExceededError("domainId", message("account.max_accounts_reached", { domain: domain.name, maxAccounts: domain.maxAccounts }));
      }
      const quotaMb = requestedQuota ?? domain.defaultMailboxQuotaMb;
      checkMailboxQuota(domain, quotaMb, usage);
      const account = await tx.account.create({
        data: {
          domainId,
          localPart,
          address: `${localPart}@${domain.name}`,
          displayName,
          passwordHash,
          quotaMb,
          status: input.status ?? "ACTIVE",
        },
      });
      await writeAudit(tx, caller.actor, {
        action: "account.create",
        objectType: "account",
        objectId: account.id,
        domainId,
        domainName: domain.name,
        changes: [...changedFields(null, account, [...AUDITED_ACCOUNT_FIELDS]), { field: "password", before: null, after: SECRET_CHANGED }],
      });
      return { account, warnings: [] as Warning[] };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(message("account.exists", { localPart }), "localPart");
    throw error;
  }
}

export interface UpdateAccountInput {
  displayName?: string | null;
  quotaMb?: number | null;
  status?: AccountStatus | null;
  /** Deprecated: usage is the mail store's number (see storeHandTypedUsage). */
  usedMb?: number | null;
}

/** Loads an account for a change and checks the caller's right to make it. */
async function lockedAccountFor(
  tx: Prisma.TransactionClient,
  principal: Principal,
  accountId: string,
  action: "account.update" | "account.update_usage" | "account.set_password" | "account.delete",
) {
  const existing = await tx.account.findUnique({ where: { id: accountId }, select: { domainId: true } });
  if (!existing) throw new NotFoundError("account", `with id ${accountId}`);
  const domain = await lockDomain(tx, existing.domainId);
  const account = await tx.account.findUnique({ where: { id: accountId }, include: { adminOf: true } });
  if (!domain || !account) throw new NotFoundError("account", `with id ${accountId}`);
  authorize(principal, action, { domainId: account.domainId, accountId }, ["account", `with id ${accountId}`]);
  return { domain, account };
}

export async function updateAccount(deps: ServiceDeps, caller: Caller, id: string, input: UpdateAccountInput) {
  const accountId = parseId(id);
  for (const field of ["displayName", "quotaMb", "status", "usedMb"] as const) {
    if (input[field] === null) throw new BadInputError(field, message("domain.field_not_null", { field }));
  }
  const patch: Prisma.AccountUpdateInput = {};
  if (input.displayName != null) patch.displayName = parseDisplayName(input.displayName);
  if (input.quotaMb != null) patch.quotaMb = parseQuotaMb(input.quotaMb, "quotaMb");
  if (input.status != null) patch.status = input.status;
  const usedMb = input.usedMb != null ? parseQuotaMb(input.usedMb, "usedMb") : undefined;

  return deps.db.$transaction(async (tx) => {
    const { domain, account: before } = await lockedAccountFor(tx, caller.principal, accountId, "account.update");
    if (usedMb !== undefined) {
      authorize(caller.principal, "account.update_usage", { domainId: before.domainId, accountId }, ["account", `with id ${accountId}`]);
    }
    if (patch.status === "SUSPENDED" && caller.principal.id === accountId) {
      throw new ForbiddenError(message("account.suspend_self"));
    }
    if (patch.quotaMb !== undefined || usedMb !== undefined) {
      const others = await domainUsage(tx, domain.id, accountId);
      if (patch.quotaMb !== undefined) checkMailboxQuota(domain, patch.quotaMb as number, others, "quotaMb", before.quotaMb);
      if (usedMb !== undefined && others.usedMb + usedMb > MAX_TOTAL_MB) {
        throw new QuotaExceededError("usedMb", message("account.used_total_ceiling", { domain: domain.name, most: MAX_TOTAL_MB }));
      }
    }
    // A change that changes nothing writes nothing (not even updatedAt): repeating a request leaves the same state.
    const unchanged = Object.entries(patch).every(([field, value]) => value === before[field as keyof typeof before]);
    let account = unchanged ? before : await tx.account.update({ where: { id: accountId }, data: patch });
    if (usedMb !== undefined && usedMb !== before.usedMb) {
      // Through mailbox_usage, like the mail store's own reports, never into the account row directly.
      await storeHandTypedUsage(tx, before, usedMb);
      account = await tx.account.findUniqueOrThrow({ where: { id: accountId } });
    }
    const changes = changedFields(before, account, [...AUDITED_ACCOUNT_FIELDS]);
    if (changes.length > 0) {
      await writeAudit(tx, caller.actor, { action: "account.update", objectType: "account", objectId: accountId, domainId: domain.id, domainName: domain.name, changes });
    }
    return { account, warnings: quotaWarnings(account) };
  });
}

export async function setAccountPassword(deps: ServiceDeps, caller: Caller, id: string, password: string) {
  const accountId = parseId(id);
  const checked = parsePassword(password);
  const target = await deps.db.account.findUnique({ where: { id: accountId }, select: { domainId: true } });
  if (!target) throw new NotFoundError("account", `with id ${accountId}`);
  authorize(caller.principal, "account.set_password", { domainId: target.domainId, accountId }, ["account", `with id ${accountId}`]);
  const passwordHash = await deps.passwords.hash(checked);
  return deps.db.$transaction(async (tx) => {
    const { domain, account: target } = await lockedAccountFor(tx, caller.principal, accountId, "account.set_password");
    if (target.adminOf)
      refuseAdministratorCredentialByToken(caller.principal, message("account.credential.admin_password", { address: target.address, domain: domain.name }), "password");
    // A new token version: whoever holds the account's older tokens is logged out.
    const account = await tx.account.update({ where: { id: accountId }, data: { passwordHash, tokenVersion: { increment: 1 } } });
    await writeAudit(tx, caller.actor, {
      action: "account.set_password",
      objectType: "account",
      objectId: accountId,
      domainId: domain.id,
      domainName: domain.name,
      changes: [{ field: "password", before: SECRET_CHANGED, after: SECRET_CHANGED }],
    });
    return { account, warnings: [] as Warning[] };
  });
}

export async function deleteAccount(deps: ServiceDeps, caller: Caller, id: string) {
  const accountId = parseId(id);
  return deps.db.$transaction(async (tx) => {
    // The alias graph's lock before the domain's row lock, in the order every alias change takes them (no deadlock between the two).
    await lockAliasGraph(tx);
    const { domain, account } = await lockedAccountFor(tx, caller.principal, accountId, "account.delete");
    if (account.adminOf) {
      throw new ConflictError(message("account.delete_admin", { address: account.address, domain: domain.name }), "id");
    }
    // Aliases, forwardings and catch-alls that sent mail here let go of the address (each named in a warning).
    const warnings = await detachAddress(tx, caller, account.address);
    await tx.account.delete({ where: { id: accountId } });
    await writeAudit(tx, caller.actor, {
      action: "account.delete",
      objectType: "account",
      objectId: accountId,
      domainId: domain.id,
      domainName: domain.name,
      changes: changedFields(account, null, [...AUDITED_ACCOUNT_FIELDS]),
    });
    return { deletedAccountId: accountId, address: account.address, warnings };
  });
}
