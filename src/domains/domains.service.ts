// Domains: creation with their administrator, limits and quotas, deletion,
// and the administrator's replacement. Each change locks the domain row, checks
// its rules, writes the change and its audit record in one transaction.
import { Prisma, type Account, type Domain } from "../generated/prisma/client";
import type { Caller, ServiceDeps, Warning } from "../service-deps";
import { authorize } from "../auth/policy";
import type { Principal } from "../auth/principal";
import { refuseAdministratorCredentialByToken } from "../auth/credentials";
import { lookalikeFindings } from "../shared/lookalike";
import { changedFields, SECRET_CHANGED, writeAudit, type Db } from "../audit/audit.service";
import { generatePassword } from "../auth/passwords";
import { BadInputError, ConflictError, NotFoundError, QuotaExceededError } from "../errors";
import { message } from "../i18n/messages";
import { isUniqueViolation } from "../shared/db-errors";
import { toConnection, type Connection } from "../shared/connection";
import { pageTotal, rawArrayRows } from "../db/raw";
import { algorithmsFor, generateKeyPairs, storeKeys } from "../dkim/dkim.service";
import { checkSetupRequirements, parseDkimPublicKey, parseWebServerAddress } from "../dns/dns.input";
import {
  MAX_TOTAL_MB,
  decodeCursor,
  likeEscaped,
  parseDisplayName,
  parseDomainName,
  parseId,
  parseLocalPart,
  parseMaxAccounts,
  parsePageSize,
  parsePassword,
  parseQuotaMb,
  parseSearch,
} from "../shared/validation";

type DomainStatus = "ACTIVE" | "SUSPENDED";
type DnsSetup = "A_ONLY" | "MX" | "MX_WEB" | "MX_WEB_BACKUP";

const AUDITED_DOMAIN_FIELDS = [
  "name",
  "status",
  "isTestDomain",
  "quotaMb",
  "maxAccounts",
  "defaultMailboxQuotaMb",
  "dnsSetup",
  "webServerAddress",
  "dkimPublicKey",
  "allowExternalForwarding",
  "maxAliases",
  "maxDestinations",
] as const;

export interface DomainUsage {
  accountCount: number;
  allocatedQuotaMb: number;
  usedMb: number;
}

/**
 * Locks the domain row until the transaction ends: every change that depends on
 * the domain's totals (quotas, account count, administrator) is serialised per
 * domain, so two concurrent requests cannot both squeeze under a limit.
 */
export async function lockDomain(tx: Prisma.TransactionClient, domainId: string): Promise<Domain | null> {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "domain" WHERE "id" = ${domainId} FOR UPDATE`;
  if (locked.length === 0) return null;
  return tx.domain.findUnique({ where: { id: domainId } });
}

/**
 * Each domain's totals over the accounts `accountsWhere` selects: one row per
 * domain, as the batch loader and the domain page read them. Sums as bigint
 * (they may pass 2^31 MiB), which pg gives as text: see usageOfRow.
 */
export function usageByDomainSql(accountsWhere: string): string {
  return `SELECT "domainId", count(*) AS "accountCount", sum("quotaMb"::bigint) AS "allocatedQuotaMb", sum("usedMb"::bigint) AS "usedMb"
          FROM "account" WHERE ${accountsWhere} GROUP BY "domainId"`;
}

/**
 * A row of usageByDomainSql as numbers; a domain without accounts has no row.
 * usedMb is shown at most MAX_TOTAL_MB (2 PiB, GraphQL's Int): the mail
 * stores report each mailbox's usage on their own (mailbox_usage), so unlike
 * the quotas nothing keeps the domain's sum within it.
 */
export function usageOfRow(row: { accountCount?: string | null; allocatedQuotaMb?: string | null; usedMb?: string | null } | undefined): DomainUsage {
  return {
    accountCount: Number(row?.accountCount ?? 0),
    allocatedQuotaMb: Number(row?.allocatedQuotaMb ?? 0),
    usedMb: Math.min(Number(row?.usedMb ?? 0), MAX_TOTAL_MB),
  };
}

export async function domainUsage(db: Db, domainId: string, excludingAccountId?: string): Promise<DomainUsage> {
  const totals = await db.account.aggregate({
    where: { domainId, ...(excludingAccountId ? { id: { not: excludingAccountId } } : {}) },
    _count: { _all: true },
    _sum: { quotaMb: true, usedMb: true },
  });
  return {
    accountCount: totals._count._all,
    allocatedQuotaMb: Number(totals._sum.quotaMb ?? 0),
    usedMb: Number(totals._sum.usedMb ?? 0),
  };
}

/**
 * The mailbox-quota rules of a domain: a mailbox quota never exceeds the
 * domain's quota, and all mailbox quotas together stay within it.
 * `others` is the domain's usage without the mailbox being set;
 * `currentQuotaMb` that mailbox's quota now, when it exists already.
 */
export function checkMailboxQuota(domain: Domain, quotaMb: number, others: DomainUsage, field = "quotaMb", currentQuotaMb = 0): void {
  if (domain.quotaMb === null) {
    // Unlimited still has a ceiling: the domain's totals must fit the API's integers.
    if (others.allocatedQuotaMb + quotaMb > MAX_TOTAL_MB) {
      throw new QuotaExceededError(field, message("domain.quota.total_ceiling", { domain: domain.name, most: MAX_TOTAL_MB }));
    }
    return;
  }
  if (quotaMb > domain.quotaMb) {
    throw new QuotaExceededError(field, message("domain.quota.mailbox_above_domain", { quotaMb, domain: domain.name, domainQuotaMb: domain.quotaMb }));
  }
  const total = others.allocatedQuotaMb + quotaMb;
  if (total > domain.quotaMb) {
    // "Free" is what no mailbox holds now; an existing mailbox may grow by that much, up to its own quota plus it.
    const unallocated = Math.max(0, domain.quotaMb - others.allocatedQuotaMb - currentQuotaMb);
    const values = { quotaMb, domain: domain.name, total, domainQuotaMb: domain.quotaMb, unallocated };
    throw new QuotaExceededError(
      field,
      currentQuotaMb > 0
        ? message("domain.quota.mailboxes_above_domain_room", { ...values, currentQuotaMb, most: domain.quotaMb - others.allocatedQuotaMb })
        : message("domain.quota.mailboxes_above_domain", values),
    );
  }
}

function describeDomain(reference: { id?: string | null; name?: string | null }): [string, string] {
  return ["domain", reference.name ? `named ${reference.name}` : `with id ${reference.id ?? ""}`];
}

/** Finds a domain the principal may read; anything else answers NOT_FOUND. */
export async function findDomain(deps: Pick<ServiceDeps, "db">, principal: Principal, reference: { id?: string | null; name?: string | null }): Promise<Domain> {
  if ((reference.id == null) === (reference.name == null)) {
    throw new BadInputError(reference.id == null ? "id" : "name", message("domain.reference_both"));
  }
  const where = reference.id != null ? { id: parseId(reference.id) } : { name: parseDomainName(reference.name!).name };
  const domain = await deps.db.domain.findUnique({ where });
  if (!domain) throw new NotFoundError(...describeDomain(reference));
  authorize(principal, "domain.read", { domainId: domain.id }, describeDomain(reference));
  return domain;
}

export interface DomainListQuery {
  search?: string | null;
  status?: DomainStatus | null;
  /** Support staff: list (and count) the support test domains too; left out otherwise (docs/test-domain.md). */
  includeTestDomains?: boolean | null;
  first?: number | null;
  after?: string | null;
}

/**
 * Which columns of its rows a page reads: "brief", what a list of domains
 * shows at a glance (the support IDE's domain search, the portal's front
 * page), "list", the columns a list of domains shows, or "all". A few sets
 * rather than exactly the fields asked: each statement text is a prepared
 * statement on every connection (src/db/raw.ts), so the texts must stay few.
 */
export type ColumnSet = "brief" | "list" | "all";

// What a list shows. The rest of a domain row (the stored DNS check, a JSON
// document of a few KiB once checked, the DKIM key, the timestamps) is most
// of its bytes and of the work of decoding it.
export const DOMAIN_LIST_COLUMNS = [
  "id",
  "name",
  "unicodeName",
  "status",
  "isTestDomain",
  "quotaMb",
  "maxAccounts",
  "defaultMailboxQuotaMb",
  "dnsSetup",
] as const satisfies readonly (keyof Domain)[];
// The administrator as a list shows it; "all" is every column but the password hash, which no page shows.
export const ADMIN_LIST_COLUMNS = ["id", "domainId", "localPart", "address", "displayName", "status", "quotaMb", "usedMb"] as const satisfies readonly (keyof Account)[];
// A brief list: a domain's name, state and limits, its administrator's address and name.
export const DOMAIN_BRIEF_COLUMNS = ["id", "name", "unicodeName", "status", "quotaMb", "maxAccounts"] as const satisfies readonly (keyof Domain)[];
export const ADMIN_BRIEF_COLUMNS = ["id", "address", "displayName"] as const satisfies readonly (keyof Account)[];

/** What a page of domains may bring along, read in the page's own statement. */
export interface DomainPageExtras {
  /** The domain columns to read (default "all"). */
  columns?: ColumnSet;
  /** The administrator, with these of its columns. */
  admin?: ColumnSet;
  usage?: boolean;
}

/** A domain of a list, with the extras its page asked for (the resolvers use them without a query of their own). */
export type ListedDomain = Domain & { preloaded?: { admin?: Account; usage?: DomainUsage } };

const DOMAIN_FIELDS: Record<ColumnSet, readonly string[]> = { brief: DOMAIN_BRIEF_COLUMNS, list: DOMAIN_LIST_COLUMNS, all: Object.values(Prisma.DomainScalarFieldEnum) };
const ADMIN_FIELDS: Record<ColumnSet, readonly string[]> = {
  brief: ADMIN_BRIEF_COLUMNS,
  list: ADMIN_LIST_COLUMNS,
  all: Object.values(Prisma.AccountScalarFieldEnum).filter((field) => field !== "passwordHash"),
};
// The select lists of each set, made once, every column named: the rows come
// as arrays (rawArrayRows), read by position. The page's columns first, then
// its total, then the administrator's, then the usage totals.
const selectOf = (fields: readonly string[], table: string) => fields.map((field) => `${table}."${field}"`).join(", ");
const COLUMN_SETS: readonly ColumnSet[] = ["brief", "list", "all"];
const DOMAIN_SELECT = Object.fromEntries(COLUMN_SETS.map((set) => [set, selectOf(DOMAIN_FIELDS[set], `"domain"`)])) as Record<ColumnSet, string>;
const PAGE_SELECT = Object.fromEntries(COLUMN_SETS.map((set) => [set, selectOf(DOMAIN_FIELDS[set], "page")])) as Record<ColumnSet, string>;
const ADMIN_SELECT = Object.fromEntries(COLUMN_SETS.map((set) => [set, selectOf(ADMIN_FIELDS[set], "a")])) as Record<ColumnSet, string>;
const ADMIN_ID_INDEX = Object.fromEntries(COLUMN_SETS.map((set) => [set, ADMIN_FIELDS[set].indexOf("id")])) as Record<ColumnSet, number>;

/** One row of a page (see listDomains' statement): built field by field by position, a page of 50 rows is read on every portal visit. */
function listedDomain(row: unknown[], columns: ColumnSet, admin: ColumnSet | undefined, usage: boolean): ListedDomain {
  const domainFields = DOMAIN_FIELDS[columns];
  const domain: Record<string, unknown> = {};
  for (let index = 0; index < domainFields.length; index++) domain[domainFields[index]!] = row[index];
  if (!admin && !usage) return domain as Domain;
  // After the domain's columns: its total (read once, from the first row), then the administrator's.
  let at = domainFields.length + 1;
  const preloaded: NonNullable<ListedDomain["preloaded"]> = {};
  if (admin) {
    const adminFields = ADMIN_FIELDS[admin];
    if (row[at + ADMIN_ID_INDEX[admin]] != null) {
      const account: Record<string, unknown> = {};
      for (let index = 0; index < adminFields.length; index++) account[adminFields[index]!] = row[at + index];
      preloaded.admin = account as Account;
    }
    at += adminFields.length;
  }
  if (usage) {
    preloaded.usage = usageOfRow({ accountCount: row[at] as string | null, allocatedQuotaMb: row[at + 1] as string | null, usedMb: row[at + 2] as string | null });
  }
  return Object.assign(domain as Domain, { preloaded });
}

/**
 * A page of domains. With `columns: "list"` (or an administrator's "list")
 * the rows hold only those columns: the caller must know that what it reads
 * of them is among them (the GraphQL resolvers decide it from the selection).
 */
export async function listDomains(deps: Pick<ServiceDeps, "db">, principal: Principal, query: DomainListQuery, extras: DomainPageExtras = {}): Promise<Connection<ListedDomain>> {
  const first = parsePageSize(query.first, 20);
  const search = parseSearch(query.search);
  const afterName = decodeCursor(query.after);
  // Through the pg pool (db/raw.ts): the domain list is the portal's front
  // page, and with its administrators and totals it is one statement.
  const values: unknown[] = [];
  const param = (value: unknown) => `$${values.push(value)}`;
  const conditions: string[] = [];
  if (principal.kind === "account") conditions.push(`"id" = ${param(principal.domainId)}`);
  // Support's test domains are not customers' domains: the list and its totalCount leave
  // them out unless support asks for them (then each is marked by isTestDomain). An
  // account's list is its own domain, whatever it is.
  else if (!query.includeTestDomains) conditions.push(`NOT "isTestDomain"`);
  if (query.status) conditions.push(`"status" = ${param(query.status)}`);
  if (search) {
    conditions.push(`("name" LIKE ${param(`%${likeEscaped(search.toLowerCase())}%`)} OR "unicodeName" ILIKE ${param(`%${likeEscaped(search)}%`)})`);
  }
  const filter = conditions.length > 0 ? conditions.join(" AND ") : "TRUE";
  const filterValues = values.length;
  const pageFilter = afterName !== undefined ? `${filter} AND "name" > ${param(afterName)}` : filter;
  const columns = extras.columns ?? "all";
  const admin = extras.admin;
  const usage = extras.usage ?? false;
  const rows = await rawArrayRows(
    deps.db,
    `WITH page AS (SELECT ${DOMAIN_SELECT[columns]} FROM "domain" WHERE ${pageFilter} ORDER BY "name" LIMIT ${param(first + 1)})
     SELECT ${PAGE_SELECT[columns]}, (SELECT count(*) FROM "domain" WHERE ${filter}) AS "totalCount"
       ${admin ? `, ${ADMIN_SELECT[admin]}` : ""}
       ${usage ? `, u."accountCount" AS "pageAccountCount", u."allocatedQuotaMb" AS "pageAllocatedQuotaMb", u."usedMb" AS "pageUsedMb"` : ""}
     FROM page
       ${admin ? `LEFT JOIN "domain_admin" da ON da."domainId" = page."id" LEFT JOIN "account" a ON a."id" = da."accountId"` : ""}
       ${usage ? `LEFT JOIN (${usageByDomainSql(`"domainId" IN (SELECT "id" FROM page)`)}) u ON u."domainId" = page."id"` : ""}
     ORDER BY page."name"`,
    values,
  );
  // Counts come as bigint, which pg gives as text.
  const totals = rows.length > 0 ? [{ totalCount: rows[0]![DOMAIN_FIELDS[columns].length] as string }] : [];
  const totalCount = await pageTotal(deps.db, totals, { table: "domain", filter, filterValues: values.slice(0, filterValues), afterCursor: afterName !== undefined });
  return toConnection(
    rows.map((row) => listedDomain(row, columns, admin, usage)),
    first,
    totalCount,
    (node) => node.name,
    afterName,
  );
}

export interface CreateDomainInput {
  name: string;
  status?: DomainStatus | null;
  isTestDomain?: boolean | null;
  quotaMb?: number | null;
  maxAccounts?: number | null;
  defaultMailboxQuotaMb?: number | null;
  adminLocalPart?: string | null;
  adminDisplayName?: string | null;
  adminPassword?: string | null;
  adminQuotaMb?: number | null;
  dnsSetup?: DnsSetup | null;
  webServerAddress?: string | null;
  dkimPublicKey?: string | null;
  /** Also make an Ed25519 DKIM key alongside the RSA one (RFC 8463); default DKIM_ED25519. */
  dkimEd25519?: boolean | null;
  /** Create a name that can pass for another (see shared/lookalike.ts) knowingly. */
  confirmLookalikeName?: boolean | null;
}

export async function createDomain(deps: ServiceDeps, caller: Caller, input: CreateDomainInput) {
  authorize(caller.principal, "domain.create", {}, ["domain", input.name]);
  const { name, unicodeName } = parseDomainName(input.name);
  const lookalike = lookalikeFindings(unicodeName);
  if (lookalike.length > 0 && !input.confirmLookalikeName) {
    throw new ConflictError(message("domain.lookalike", { unicodeName, name, reasons: lookalike.map((finding) => finding.reason).join("; ") }), "confirmLookalikeName");
  }
  const lookalikeWarnings: Warning[] = lookalike.map((finding) => ({
    code: "LOOKALIKE_NAME",
    field: "name",
    message: message("domain.warning.lookalike_confirmed", { reason: finding.reason }),
  }));
  const quotaMb = input.quotaMb == null ? null : parseQuotaMb(input.quotaMb, "quotaMb");
  const maxAccounts = input.maxAccounts == null ? null : parseMaxAccounts(input.maxAccounts);
  const defaultMailboxQuotaMb =
    input.defaultMailboxQuotaMb == null
      ? Math.min(deps.config.DEFAULT_MAILBOX_QUOTA_MB, quotaMb ?? Number.MAX_SAFE_INTEGER)
      : parseQuotaMb(input.defaultMailboxQuotaMb, "defaultMailboxQuotaMb");
  if (quotaMb !== null && defaultMailboxQuotaMb > quotaMb) {
    throw new QuotaExceededError("defaultMailboxQuotaMb", message("domain.quota.default_above_domain", { defaultMailboxQuotaMb, quotaMb }));
  }
  const adminLocalPart = parseLocalPart(input.adminLocalPart ?? "admin", "adminLocalPart");
  const adminQuotaMb = parseQuotaMb(input.adminQuotaMb ?? 0, "adminQuotaMb");
  if (quotaMb !== null && adminQuotaMb > quotaMb) {
    throw new QuotaExceededError("adminQuotaMb", message("domain.quota.admin_above_domain", { adminQuotaMb, quotaMb }));
  }
  const adminDisplayName = parseDisplayName(input.adminDisplayName ?? `Administrator of ${unicodeName}`, "adminDisplayName");
  const dnsSetup = input.dnsSetup ?? "MX";
  const webServerAddress = input.webServerAddress == null ? null : parseWebServerAddress(input.webServerAddress);
  const dkimPublicKey = input.dkimPublicKey == null ? null : parseDkimPublicKey(input.dkimPublicKey);
  checkSetupRequirements(deps.config, dnsSetup, webServerAddress, { setup: "dnsSetup", webServerAddress: "webServerAddress" });
  if (input.adminPassword != null) refuseAdministratorCredentialByToken(caller.principal, message("domain.credential.new_admin_password"), "adminPassword");
  // Through an API token the administrator gets a password nobody learns
  // (see auth/credentials.ts): support sets one with a login session.
  const viaApiToken = caller.principal.apiToken !== undefined;
  const generatedAdminPassword = input.adminPassword == null ? generatePassword() : null;
  const adminPassword = parsePassword(input.adminPassword ?? generatedAdminPassword!, "adminPassword");
  // Hash before the transaction: bcrypt takes a quarter of a second and the
  // embedded database has a single connection.
  const passwordHash = await deps.passwords.hash(adminPassword);
  // The domain's DKIM keys, made off the event loop before the transaction
  // (an RSA key takes a fraction of a second). A domain given a hand-typed
  // key signs elsewhere: mailadmin makes none for it.
  const dkimPairs = dkimPublicKey === null ? await generateKeyPairs(deps, algorithmsFor(input.dkimEd25519 ?? deps.config.DKIM_ED25519)) : [];

  try {
    return await deps.db.$transaction(async (tx) => {
      const domain = await tx.domain.create({
        data: {
          name,
          unicodeName,
          status: input.status ?? "ACTIVE",
          isTestDomain: input.isTestDomain ?? false,
          quotaMb,
          maxAccounts,
          defaultMailboxQuotaMb,
          dnsSetup,
          webServerAddress,
          dkimPublicKey,
        },
      });
      const admin = await tx.account.create({
        data: {
          domainId: domain.id,
          localPart: adminLocalPart,
          address: `${adminLocalPart}@${name}`,
          displayName: adminDisplayName,
          passwordHash,
          quotaMb: adminQuotaMb,
        },
      });
      await tx.domainAdmin.create({ data: { domainId: domain.id, accountId: admin.id } });
      const dkimKeys = await storeKeys(tx, deps, domain.id, dkimPairs, "ACTIVE");
      await writeAudit(tx, caller.actor, {
        action: "domain.create",
        objectType: "domain",
        objectId: domain.id,
        domainId: domain.id,
        domainName: domain.name,
        changes: [
          ...changedFields(null, domain, [...AUDITED_DOMAIN_FIELDS]),
          { field: "admin", before: null, after: admin.address },
          ...dkimKeys.map((key) => ({ field: "dkimKey", before: null, after: `${key.selector} (${key.algorithm === "RSA_SHA256" ? "rsa" : "ed25519"}) ACTIVE` })),
        ],
      });
      await writeAudit(tx, caller.actor, {
        action: "account.create",
        objectType: "account",
        objectId: admin.id,
        domainId: domain.id,
        domainName: domain.name,
        changes: [
          ...changedFields(null, admin, ["address", "displayName", "quotaMb", "status"]),
          { field: "role", before: null, after: "DOMAIN_ADMIN" },
          { field: "password", before: null, after: SECRET_CHANGED },
        ],
      });
      if (viaApiToken) {
        const warning: Warning = {
          code: "ADMIN_PASSWORD_NOT_SHOWN",
          field: "adminPassword",
          message: message("domain.warning.admin_password_unknown", { address: admin.address }),
        };
        return { domain, admin, generatedAdminPassword: null, warnings: [...lookalikeWarnings, warning] };
      }
      return { domain, admin, generatedAdminPassword, warnings: lookalikeWarnings };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(message("domain.exists", { name }), "name");
    throw error;
  }
}

export interface UpdateDomainInput {
  status?: DomainStatus | null;
  isTestDomain?: boolean | null;
  quotaMb?: number | null;
  maxAccounts?: number | null;
  defaultMailboxQuotaMb?: number | null;
  dnsSetup?: DnsSetup | null;
  webServerAddress?: string | null;
  dkimPublicKey?: string | null;
  allowExternalForwarding?: boolean | null;
  maxAliases?: number | null;
  maxDestinations?: number | null;
}

export async function updateDomain(deps: ServiceDeps, caller: Caller, id: string, input: UpdateDomainInput) {
  const domainId = parseId(id);
  // `null` clears a limit (unlimited); an absent field is left alone.
  const has = (field: keyof UpdateDomainInput) => Object.prototype.hasOwnProperty.call(input, field) && input[field] !== undefined;
  for (const field of ["status", "isTestDomain", "defaultMailboxQuotaMb", "dnsSetup", "allowExternalForwarding", "maxDestinations"] as const) {
    if (has(field) && input[field] === null) throw new BadInputError(field, message("domain.field_not_null", { field }));
  }
  const patch: Prisma.DomainUpdateInput = {};
  if (has("status")) patch.status = input.status!;
  if (has("isTestDomain")) patch.isTestDomain = input.isTestDomain!;
  if (has("quotaMb")) patch.quotaMb = input.quotaMb === null ? null : parseQuotaMb(input.quotaMb!, "quotaMb");
  if (has("maxAccounts")) patch.maxAccounts = input.maxAccounts === null ? null : parseMaxAccounts(input.maxAccounts!);
  if (has("defaultMailboxQuotaMb")) patch.defaultMailboxQuotaMb = parseQuotaMb(input.defaultMailboxQuotaMb!, "defaultMailboxQuotaMb");
  if (has("dnsSetup")) patch.dnsSetup = input.dnsSetup!;
  if (has("webServerAddress")) patch.webServerAddress = input.webServerAddress === null ? null : parseWebServerAddress(input.webServerAddress!);
  if (has("dkimPublicKey")) patch.dkimPublicKey = input.dkimPublicKey === null ? null : parseDkimPublicKey(input.dkimPublicKey!);
  if (has("allowExternalForwarding")) patch.allowExternalForwarding = input.allowExternalForwarding!;
  if (has("maxAliases")) {
    if (input.maxAliases !== null && (!Number.isInteger(input.maxAliases) || input.maxAliases! < 0)) {
      throw new BadInputError("maxAliases", message("domain.max_aliases"));
    }
    patch.maxAliases = input.maxAliases;
  }
  if (has("maxDestinations")) {
    const max = input.maxDestinations!;
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw new BadInputError("maxDestinations", message("domain.max_destinations"));
    patch.maxDestinations = max;
  }

  return deps.db.$transaction(async (tx) => {
    const before = await lockDomain(tx, domainId);
    if (!before) throw new NotFoundError("domain", `with id ${domainId}`);
    authorize(caller.principal, "domain.update", { domainId }, ["domain", `with id ${domainId}`]);
    const quotaMb = patch.quotaMb !== undefined ? (patch.quotaMb as number | null) : before.quotaMb;
    const maxAccounts = patch.maxAccounts !== undefined ? (patch.maxAccounts as number | null) : before.maxAccounts;
    const defaultMailboxQuotaMb = (patch.defaultMailboxQuotaMb as number | undefined) ?? before.defaultMailboxQuotaMb;
    // The set-up and the web server address are checked together, as they
    // will be after the change, and only when one of them changes: a quota
    // change must not trip over a rule the domain already met when it was set.
    if (patch.dnsSetup !== undefined || patch.webServerAddress !== undefined) {
      checkSetupRequirements(
        deps.config,
        (patch.dnsSetup as DnsSetup | undefined) ?? before.dnsSetup,
        patch.webServerAddress !== undefined ? (patch.webServerAddress as string | null) : before.webServerAddress,
        { setup: "dnsSetup", webServerAddress: "webServerAddress" },
        { backupMxHost: patch.dnsSetup !== undefined },
      );
    }
    const usage = await domainUsage(tx, domainId);
    const warnings: Warning[] = [];
    if (quotaMb !== null) {
      if (usage.allocatedQuotaMb > quotaMb) {
        throw new QuotaExceededError("quotaMb", message("domain.quota.below_allocated", { allocatedQuotaMb: usage.allocatedQuotaMb, quotaMb }));
      }
      if (defaultMailboxQuotaMb > quotaMb) {
        throw new QuotaExceededError("defaultMailboxQuotaMb", message("domain.quota.default_above_domain", { defaultMailboxQuotaMb, quotaMb }));
      }
      if (usage.usedMb > quotaMb) {
        warnings.push({
          code: "QUOTA_BELOW_USAGE",
          field: "quotaMb",
          message: message("domain.warning.quota_below_usage", { usedMb: usage.usedMb, quotaMb }),
        });
      }
    }
    if (maxAccounts !== null && usage.accountCount > maxAccounts) {
      throw new ConflictError(message("domain.max_accounts_below_count", { accountCount: usage.accountCount, maxAccounts }), "maxAccounts");
    }
    // A change that changes nothing writes nothing (not even updatedAt): repeating a request leaves the same state.
    const unchanged = Object.entries(patch).every(([field, value]) => value === before[field as keyof typeof before]);
    const domain = unchanged ? before : await tx.domain.update({ where: { id: domainId }, data: patch });
    const changes = changedFields(before, domain, [...AUDITED_DOMAIN_FIELDS]);
    if (changes.length > 0) {
      await writeAudit(tx, caller.actor, { action: "domain.update", objectType: "domain", objectId: domainId, domainId, domainName: domain.name, changes });
    }
    return { domain, warnings };
  });
}

export async function deleteDomain(deps: ServiceDeps, caller: Caller, id: string, force: boolean) {
  const domainId = parseId(id);
  return deps.db.$transaction(async (tx) => {
    const domain = await lockDomain(tx, domainId);
    if (!domain) throw new NotFoundError("domain", `with id ${domainId}`);
    authorize(caller.principal, "domain.delete", { domainId }, ["domain", `with id ${domainId}`]);
    const admin = await tx.domainAdmin.findUnique({ where: { domainId } });
    const accounts = await tx.account.findMany({ where: { domainId }, select: { id: true, address: true } });
    const mailboxes = accounts.filter((account) => account.id !== admin?.accountId);
    if (mailboxes.length > 0 && !force) {
      throw new ConflictError(message("domain.delete_has_accounts", { domain: domain.name, count: mailboxes.length, example: mailboxes[0]!.address }), "force");
    }
    await tx.domainAdmin.deleteMany({ where: { domainId } });
    await tx.account.deleteMany({ where: { domainId } });
    await tx.domain.delete({ where: { id: domainId } });
    await writeAudit(tx, caller.actor, {
      action: "domain.delete",
      objectType: "domain",
      objectId: domainId,
      domainId,
      domainName: domain.name,
      changes: [...changedFields(domain, null, [...AUDITED_DOMAIN_FIELDS]), { field: "accounts", before: accounts.map((account) => account.address), after: null }],
    });
    return { deletedDomainId: domainId, name: domain.name, deletedAccountCount: accounts.length };
  });
}

export async function reassignDomainAdmin(deps: ServiceDeps, caller: Caller, domainIdInput: string, accountIdInput: string) {
  const domainId = parseId(domainIdInput, "domainId");
  const accountId = parseId(accountIdInput, "accountId");
  return deps.db.$transaction(async (tx) => {
    // The lock makes concurrent reassignments of one domain run one after the
    // other; the primary key of domain_admin keeps one administrator whatever happens.
    const domain = await lockDomain(tx, domainId);
    if (!domain) throw new NotFoundError("domain", `with id ${domainId}`);
    authorize(caller.principal, "domain.reassign_admin", { domainId }, ["domain", `with id ${domainId}`]);
    const account = await tx.account.findUnique({ where: { id: accountId } });
    if (!account) throw new NotFoundError("account", `with id ${accountId}`);
    if (account.domainId !== domainId) {
      throw new BadInputError("accountId", message("domain.admin_of_other_domain", { address: account.address, domain: domain.name }));
    }
    const current = await tx.domainAdmin.findUnique({ where: { domainId }, include: { account: true } });
    if (current?.accountId === accountId) {
      return { domain, admin: account, previousAdmin: null };
    }
    refuseAdministratorCredentialByToken(caller.principal, message("domain.credential.change_admin", { domain: domain.name }), "accountId");
    if (account.status !== "ACTIVE") {
      throw new ConflictError(message("domain.admin_suspended", { address: account.address }), "accountId");
    }
    await tx.domainAdmin.upsert({
      where: { domainId },
      create: { domainId, accountId },
      update: { accountId, assignedAt: new Date() },
    });
    // The former administrator's tokens stop working at once, and for good:
    // its API tokens are marked, so that making it administrator again does
    // not bring them back.
    const previousAdmin = current ? await tx.account.update({ where: { id: current.accountId }, data: { tokenVersion: { increment: 1 } } }) : null;
    if (current) {
      await tx.apiToken.updateMany({ where: { domainId, createdById: current.accountId, creatorReplacedAt: null }, data: { creatorReplacedAt: deps.now() } });
    }
    await writeAudit(tx, caller.actor, {
      action: "domain.reassign_admin",
      objectType: "domain",
      objectId: domainId,
      domainId,
      domainName: domain.name,
      changes: [{ field: "admin", before: current?.account.address ?? null, after: account.address }],
    });
    return { domain, admin: account, previousAdmin };
  });
}
