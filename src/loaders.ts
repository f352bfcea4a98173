// The per-request batch loaders of both APIs (a GraphQL request's context, a
// REST request's views), made of each capability's loaders, which sit beside
// the data they load (src/domains/domains.loaders.ts, src/accounts/accounts.loaders.ts).
import type { PrismaClient } from "./generated/prisma/client";
import { accountLoaders, type AccountLoaders } from "./accounts/accounts.loaders";
import { domainLoaders, type DomainLoaders } from "./domains/domains.loaders";

export type Loaders = DomainLoaders & AccountLoaders;

export function createLoaders(db: PrismaClient): Loaders {
  return { ...accountLoaders(db), ...domainLoaders(db) };
}
