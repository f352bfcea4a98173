// Per-request batch loaders, so that a page of domains with their
// administrators and totals costs a fixed number of queries, not one per row.
import DataLoader from "dataloader";
import type { Account, Domain, PrismaClient } from "../generated/prisma/client";
import type { DomainUsage } from "../domains/domains.service";
import { firstAccountPages, type AccountListQuery } from "../accounts/accounts.service";
import type { Connection } from "../shared/connection";

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
    domainById: new DataLoader(async (ids) => byKey(ids, await db.domain.findMany({ where: { id: { in: [...ids] } } }), (d) => d.id)),
    accountById: new DataLoader(async (ids) => byKey(ids, await db.account.findMany({ where: { id: { in: [...ids] } } }), (a) => a.id)),
    adminByDomainId: new DataLoader(async (domainIds) => {
      const rows = await db.domainAdmin.findMany({ where: { domainId: { in: [...domainIds] } }, include: { account: true } });
      return byKey(domainIds, rows, (row) => row.domainId).map((row) => row?.account ?? null);
    }),
    isAdminByAccountId: new DataLoader(async (accountIds) => {
      const rows = await db.domainAdmin.findMany({ where: { accountId: { in: [...accountIds] } }, select: { accountId: true } });
      const admins = new Set(rows.map((row) => row.accountId));
      return accountIds.map((id) => admins.has(id));
    }),
    usageByDomainId: new DataLoader(async (domainIds) => {
      const rows = await db.account.groupBy({
        by: ["domainId"],
        where: { domainId: { in: [...domainIds] } },
        _count: { _all: true },
        _sum: { quotaMb: true, usedMb: true },
      });
      const index = new Map(rows.map((row) => [row.domainId, row]));
      return domainIds.map((id) => {
        const row = index.get(id);
        return {
          accountCount: row?._count._all ?? 0,
          allocatedQuotaMb: Number(row?._sum.quotaMb ?? 0),
          usedMb: Number(row?._sum.usedMb ?? 0),
        };
      });
    }),
  };
}
