// Batch loaders of accounts: by id, whether each administers its domain, and
// the first page of each domain's accounts. The reads by id go through the pg
// pool (src/db/raw.ts): they run for every row of every page.
import DataLoader from "dataloader";
import type { Account, PrismaClient } from "../generated/prisma/client";
import { rawRows } from "../db/raw";
import { byKey } from "../shared/batch";
import type { Connection } from "../shared/connection";
import { firstAccountPages, type AccountListQuery } from "./accounts.service";

export interface AccountLoaders {
  accountById: DataLoader<string, Account | null>;
  isAdminByAccountId: DataLoader<string, boolean>;
  /** First pages of accounts by domain, one loader per set of list arguments (those batch together). */
  firstAccountPage(query: AccountListQuery): DataLoader<string, Connection<Account>>;
}

export function accountLoaders(db: PrismaClient): AccountLoaders {
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
    accountById: new DataLoader(async (ids) => byKey(ids, await rawRows<Account>(db, `SELECT * FROM "account" WHERE "id" = ANY($1)`, [ids]), (a) => a.id)),
    isAdminByAccountId: new DataLoader(async (accountIds) => {
      const rows = await rawRows<{ accountId: string }>(db, `SELECT "accountId" FROM "domain_admin" WHERE "accountId" = ANY($1)`, [accountIds]);
      const admins = new Set(rows.map((row) => row.accountId));
      return accountIds.map((id) => admins.has(id));
    }),
  };
}
