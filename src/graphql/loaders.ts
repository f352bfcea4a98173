// Per-request batch loaders, so that a page of domains with their
// administrators and totals costs a fixed number of queries, not one per row.
import DataLoader from "dataloader";
import type { Account, Domain, PrismaClient } from "../generated/prisma/client";
import { usageByDomainSql, usageOfRow, type DomainUsage } from "../domains/domains.service";
import { firstAccountPages, type AccountListQuery } from "../accounts/accounts.service";
import type { Connection } from "../shared/connection";
import { rawRows } from "../db/raw";

export interface Loaders {
  domainById: DataLoader<string, Domain | null>;
  accountById: DataLoader<string, Account | null>;
  adminByDomainId: DataLoader<string, Account | null>;
  isAdminByAccountId: DataLoader<string, boolean>;
  usageByDomainId: DataLoader<string, DomainUsage>;
  /** First pages of accounts by domain, one loader per set of list arguments (those batch together). */
  firstAccountPage(query: AccountListQuery): DataLoader<string, Connection<Account>>;
}

function byKey<T, K>(keys: readonly K[], rows: T[], keyOf: (row: T) => K): (T | null)[] {
  const index = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => index.get(key) ?? null);
}

export function createLoaders(db: PrismaClient): Loaders {
  const accountPageLoaders = new Map<string, DataLoader<string, Connection<Account>>>();
  return {
    firstAccountPage(query) {
      const key = JSON.stringify([query.search ?? null, query.role ?? null, query.status ?? null, query.first ?? null]);
      let loader = accountPageLoaders.get(key);
      if (!loader) {
        loader = new DataLoader((domainIds) => firstAccountPages(db, [...domainIds], query));
        accountPageLoaders.set(key, loader);
      }
      return loader;
    },
    // Through the pg pool (see db/raw.ts): these run for every row of every page.
    domainById: new DataLoader(async (ids) => byKey(ids, await rawRows<Domain>(db, `SELECT * FROM "domain" WHERE "id" = ANY($1)`, [ids]), (d) => d.id)),
    accountById: new DataLoader(async (ids) => byKey(ids, await rawRows<Account>(db, `SELECT * FROM "account" WHERE "id" = ANY($1)`, [ids]), (a) => a.id)),
    adminByDomainId: new DataLoader(async (domainIds) => {
      const rows = await rawRows<Account>(db, `SELECT a.* FROM "domain_admin" da JOIN "account" a ON a."id" = da."accountId" WHERE da."domainId" = ANY($1)`, [domainIds]);
      return byKey(domainIds, rows, (account) => account.domainId);
    }),
    isAdminByAccountId: new DataLoader(async (accountIds) => {
      const rows = await rawRows<{ accountId: string }>(db, `SELECT "accountId" FROM "domain_admin" WHERE "accountId" = ANY($1)`, [accountIds]);
      const admins = new Set(rows.map((row) => row.accountId));
      return accountIds.map((id) => admins.has(id));
    }),
    usageByDomainId: new DataLoader(async (domainIds) => {
      const rows = await rawRows<{ domainId: string; accountCount: string; allocatedQuotaMb: string; usedMb: string }>(db, usageByDomainSql(`"domainId" = ANY($1)`), [domainIds]);
      const index = new Map(rows.map((row) => [row.domainId, row]));
      return domainIds.map((id) => usageOfRow(index.get(id)));
    }),
  };
}
