import type { Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { principalOf } from "../graphql/context";
import { probeDomainMailServers } from "./probe.service";

export const probeResolvers = {
  Query: {
    probeMailServer: (_: unknown, args: { domain: string }, context: GraphQLContext) => probeDomainMailServers(context.deps, principalOf(context), args.domain),
  },
} satisfies Resolvers;
