import type { Resolvers } from "../generated/graphql";
import type { Account, AppPassword } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf } from "../graphql/context";
import { appPasswordPrefix, appPasswordStatus, createAppPassword, listAppPasswords, revokeAppPassword } from "./app-passwords.service";

export const appPasswordResolvers = {
  Mutation: {
    createAppPassword: (_, args, context) => createAppPassword(context.deps, callerOf(context), args.input),
    revokeAppPassword: (_, args, context) => revokeAppPassword(context.deps, callerOf(context), args.id),
  },
  Account: {
    appPasswords: (account: Account, _: unknown, context: GraphQLContext) => listAppPasswords(context.deps, callerOf(context), account),
  },
  AppPassword: {
    prefix: (row: AppPassword) => appPasswordPrefix(row),
    status: (row: AppPassword) => appPasswordStatus(row),
    createdBy: (row: AppPassword) => row.createdByName,
  },
} satisfies Resolvers;
