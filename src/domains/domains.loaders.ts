// Batch loaders of domains, their administrators and their totals, so that a
// page of domains costs a fixed number of queries, not one per row. Through
// the pg pool (src/db/raw.ts): they run for every row of every page.
import DataLoader from "dataloader";
import type { Account, Domain, PrismaClient } from "../generated/prisma/client";
import { rawRows } from "../db/raw";
import { byKey } from "../shared/batch";
import { usageByDomainSql, usageOfRow, type DomainUsage } from "./domains.service";

export interface DomainLoaders {
  domainById: DataLoader<string, Domain | null>;
  adminByDomainId: DataLoader<string, Account | null>;
  usageByDomainId: DataLoader<string, DomainUsage>;
}

export function domainLoaders(db: PrismaClient): DomainLoaders {
  return {
    domainById: new DataLoader(async (ids) => byKey(ids, await rawRows<Domain>(db, `SELECT * FROM "domain" WHERE "id" = ANY($1)`, [ids]), (d) => d.id)),
    adminByDomainId: new DataLoader(async (domainIds) => {
      const rows = await rawRows<Account>(db, `SELECT a.* FROM "domain_admin" da JOIN "account" a ON a."id" = da."accountId" WHERE da."domainId" = ANY($1)`, [domainIds]);
      return byKey(domainIds, rows, (account) => account.domainId);
    }),
    usageByDomainId: new DataLoader(async (domainIds) => {
      const rows = await rawRows<{ domainId: string; accountCount: string; allocatedQuotaMb: string; usedMb: string }>(db, usageByDomainSql(`"domainId" = ANY($1)`), [domainIds]);
      const index = new Map(rows.map((row) => [row.domainId, row]));
      return domainIds.map((id) => usageOfRow(index.get(id)));
    }),
  };
}
