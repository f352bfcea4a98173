import type { Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { principalObject } from "../graphql/principal-object";
import { changePassword, login } from "./auth.service";

export const authResolvers = {
  Query: {
    me: (_: unknown, __: unknown, context: GraphQLContext) => principalObject(context, principalOf(context)),
  },
  Mutation: {
    login: async (_: unknown, args: { identifier: string; password: string }, context: GraphQLContext) => {
      const result = await login(context.deps, args.identifier, args.password, { requestId: context.requestId, clientIp: context.clientIp });
      return { token: result.token, expiresAt: result.expiresAt, principal: await principalObject(context, result.principal) };
    },
    changePassword: async (_: unknown, args: { currentPassword: string; newPassword: string }, context: GraphQLContext) => {
      const result = await changePassword(context.deps, callerOf(context), args.currentPassword, args.newPassword);
      context.loaders.accountById.clearAll();
      return { token: result.token, expiresAt: result.expiresAt, principal: await principalObject(context, result.principal) };
    },
  },
  Principal: {
    __resolveType: (object) => ("username" in object ? "SupportAdmin" : "Account"),
  },
  SupportAdmin: {
    role: () => "SUPPORT_ADMIN",
    loginName: (admin: { username: string }) => admin.username,
  },
} satisfies Resolvers;
