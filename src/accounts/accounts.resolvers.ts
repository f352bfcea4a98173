import type { Resolvers } from "../generated/graphql";
import type { Account } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { createAccount, deleteAccount, findAccount, setAccountPassword, updateAccount, type CreateAccountInput, type UpdateAccountInput } from "./accounts.service";

export const accountResolvers = {
  Query: {
    account: (_: unknown, args: { id?: string | null; address?: string | null }, context: GraphQLContext) => findAccount(context.deps, principalOf(context), args),
  },
  Mutation: {
    createAccount: (_: unknown, args: { input: CreateAccountInput }, context: GraphQLContext) => createAccount(context.deps, callerOf(context), args.input),
    updateAccount: (_: unknown, args: { id: string; input: UpdateAccountInput }, context: GraphQLContext) => updateAccount(context.deps, callerOf(context), args.id, args.input),
    setAccountPassword: (_: unknown, args: { id: string; password: string }, context: GraphQLContext) =>
      setAccountPassword(context.deps, callerOf(context), args.id, args.password),
    deleteAccount: (_: unknown, args: { id: string }, context: GraphQLContext) => deleteAccount(context.deps, callerOf(context), args.id),
  },
  Account: {
    loginName: (account: Account) => account.address,
    role: async (account: Account, _: unknown, context: GraphQLContext) => ((await context.loaders.isAdminByAccountId.load(account.id)) ? "DOMAIN_ADMIN" : "USER"),
    domain: async (account: Account, _: unknown, context: GraphQLContext) => {
      const domain = await context.loaders.domainById.load(account.domainId);
      if (!domain) throw new Error(`account ${account.id} has no domain`);
      return domain;
    },
  },
} satisfies Resolvers;
