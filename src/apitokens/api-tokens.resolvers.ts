import type { Resolvers } from "../generated/graphql";
import type { ApiToken } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { apiTokenStatus, createApiToken, listApiTokens, revokeApiToken } from "./api-tokens.service";
import { prefixOf } from "../auth/api-tokens";

export const apiTokenResolvers = {
  Query: {
    apiTokens: (_, args, context) => listApiTokens(context.deps, principalOf(context), args),
  },
  Mutation: {
    createApiToken: (_, args, context) => createApiToken(context.deps, callerOf(context), args.input),
    revokeApiToken: (_, args, context) => revokeApiToken(context.deps, callerOf(context), args),
  },
  ApiToken: {
    prefix: (token: ApiToken) => prefixOf(token.publicId),
    status: async (token: ApiToken, _: unknown, context: GraphQLContext) => {
      const admin = token.domainId ? await context.loaders.adminByDomainId.load(token.domainId) : null;
      return apiTokenStatus(token, context.deps.now(), admin?.id);
    },
    domain: (token: ApiToken, _: unknown, context: GraphQLContext) => (token.domainId ? context.loaders.domainById.load(token.domainId) : null),
    createdByRole: (token: ApiToken) => (token.createdByRole === "SUPPORT_ADMIN" ? "SUPPORT_ADMIN" : "DOMAIN_ADMIN"),
    createdBy: (token: ApiToken) => token.createdByName,
    revokedBy: (token: ApiToken) => token.revokedByName,
  },
} satisfies Resolvers;
