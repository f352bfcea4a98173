import type { Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf, sessionRequestOf } from "../graphql/context";
import { principalObject } from "../graphql/principal-object";
import { changePassword, login } from "./auth.service";
import { supportRoleOf } from "./principal";

export const authResolvers = {
  Query: {
    me: (_: unknown, __: unknown, context: GraphQLContext) => principalObject(context, principalOf(context), { asAuthenticated: true }),
  },
  Mutation: {
    login: async (_: unknown, args: { identifier: string; password: string }, context: GraphQLContext) => {
      const result = await login(context.deps, args.identifier, args.password, sessionRequestOf(context));
      if (result.kind === "challenge") {
        return {
          token: null,
          expiresAt: null,
          principal: null,
          enrollmentRequired: false,
          challenge: { challenge: result.challenge, expiresAt: result.expiresAt, method: "TOTP" },
        };
      }
      return {
        token: result.token,
        expiresAt: result.expiresAt,
        principal: await principalObject(context, result.principal),
        enrollmentRequired: result.enrollmentRequired,
        challenge: null,
      };
    },
    changePassword: async (_: unknown, args: { currentPassword: string; newPassword: string }, context: GraphQLContext) => {
      const result = await changePassword(context.deps, callerOf(context), args.currentPassword, args.newPassword, sessionRequestOf(context));
      context.loaders.accountById.clearAll();
      return { token: result.token, expiresAt: result.expiresAt, principal: await principalObject(context, result.principal) };
    },
  },
  Principal: {
    __resolveType: (object) => ("username" in object ? "SupportAdmin" : "Account"),
  },
  SupportAdmin: {
    role: (admin: { level: "FULL" | "READ_ONLY" }) => supportRoleOf(admin.level),
    loginName: (admin: { username: string }) => admin.username,
  },
} satisfies Resolvers;
