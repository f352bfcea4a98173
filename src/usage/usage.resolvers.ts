import type { Resolvers } from "../generated/graphql";
import type { Account, Domain } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { listMailboxesAboveQuota, reportMailboxUsage, usagePercentOf, type MailboxesAboveQuotaQuery, type MailboxUsageReport } from "./usage.service";

export const usageResolvers = {
  Query: {
    mailboxesAboveQuota: (_: unknown, args: MailboxesAboveQuotaQuery, context: GraphQLContext) => listMailboxesAboveQuota(context.deps, principalOf(context), args),
  },
  Mutation: {
    reportMailboxUsage: (_: unknown, args: { input: MailboxUsageReport[] }, context: GraphQLContext) => reportMailboxUsage(context.deps, callerOf(context), args.input),
  },
  Domain: {
    mailboxesAboveQuota: (domain: Domain, args: Omit<MailboxesAboveQuotaQuery, "domainId">, context: GraphQLContext) =>
      listMailboxesAboveQuota(context.deps, principalOf(context), { ...args, domainId: domain.id }),
  },
  Account: {
    usagePercent: (account: Account) => usagePercentOf(account),
  },
} satisfies Resolvers;
