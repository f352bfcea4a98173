import type { Resolvers } from "../generated/graphql";
import type { Domain } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { listAccounts, type AccountListQuery } from "../accounts/accounts.service";
import { authorize } from "../auth/policy";
import {
  createDomain,
  deleteDomain,
  findDomain,
  listDomains,
  reassignDomainAdmin,
  updateDomain,
  type CreateDomainInput,
  type DomainListQuery,
  type UpdateDomainInput,
} from "./domains.service";

export const domainResolvers = {
  Query: {
    domain: (_: unknown, args: { id?: string | null; name?: string | null }, context: GraphQLContext) =>
      findDomain(context.deps, principalOf(context), args),
    domains: (_: unknown, args: DomainListQuery, context: GraphQLContext) => listDomains(context.deps, principalOf(context), args),
  },
  Mutation: {
    createDomain: (_: unknown, args: { input: CreateDomainInput }, context: GraphQLContext) => createDomain(context.deps, callerOf(context), args.input),
    updateDomain: (_: unknown, args: { id: string; input: UpdateDomainInput }, context: GraphQLContext) =>
      updateDomain(context.deps, callerOf(context), args.id, args.input),
    deleteDomain: (_: unknown, args: { id: string; force?: boolean | null }, context: GraphQLContext) =>
      deleteDomain(context.deps, callerOf(context), args.id, args.force ?? false),
    reassignDomainAdmin: (_: unknown, args: { domainId: string; accountId: string }, context: GraphQLContext) =>
      reassignDomainAdmin(context.deps, callerOf(context), args.domainId, args.accountId),
  },
  Domain: {
    admin: async (domain: Domain, _: unknown, context: GraphQLContext) => {
      const admin = await context.loaders.adminByDomainId.load(domain.id);
      // The schema promises one; a domain without one is a broken invariant, not a client error.
      if (!admin) throw new Error(`domain ${domain.id} has no administrator`);
      return admin;
    },
    accounts: (domain: Domain, args: AccountListQuery, context: GraphQLContext) => {
      // First pages batch across the domains of a list; a later page (after) is one domain's own query.
      if (args.after != null) return listAccounts(context.deps, principalOf(context), domain.id, args);
      authorize(principalOf(context), "domain.list_accounts", { domainId: domain.id }, ["domain", `with id ${domain.id}`]);
      return context.loaders.firstAccountPage(args).load(domain.id);
    },
    accountCount: async (domain: Domain, _: unknown, context: GraphQLContext) => (await context.loaders.usageByDomainId.load(domain.id)).accountCount,
    allocatedQuotaMb: async (domain: Domain, _: unknown, context: GraphQLContext) =>
      (await context.loaders.usageByDomainId.load(domain.id)).allocatedQuotaMb,
    usedMb: async (domain: Domain, _: unknown, context: GraphQLContext) => (await context.loaders.usageByDomainId.load(domain.id)).usedMb,
  },
} satisfies Resolvers;
