import type { Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { principalOf } from "../graphql/context";
import { diagnoseDelivery } from "./diagnosis.service";

export const diagnosisResolvers = {
  Query: {
    diagnoseDelivery: (_: unknown, args: { address?: string | null; logRecordId?: string | null }, context: GraphQLContext) =>
      diagnoseDelivery(context.deps, principalOf(context), args),
  },
} satisfies Resolvers;
