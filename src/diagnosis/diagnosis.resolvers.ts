import type { Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { principalOf } from "../graphql/context";
import { writtenFor } from "../i18n/text";
import { diagnoseDelivery, type DeliveryDiagnosis, type DiagnosisFinding, type Evidence, type FindingAction } from "./diagnosis.service";

export const diagnosisResolvers = {
  Query: {
    diagnoseDelivery: (_: unknown, args: { address?: string | null; logRecordId?: string | null }, context: GraphQLContext) =>
      diagnoseDelivery(context.deps, principalOf(context), args),
  },
  // The diagnosis's sentences are Messages: written in the request's language (codes, enums and values stay as they are).
  DeliveryDiagnosis: {
    verdict: async (diagnosis: DeliveryDiagnosis, _: unknown, context: GraphQLContext) => (await writtenFor(context.language, diagnosis.verdict))!,
  },
  DiagnosisFinding: {
    summary: async (finding: DiagnosisFinding, _: unknown, context: GraphQLContext) => (await writtenFor(context.language, finding.summary))!,
    action: (finding: DiagnosisFinding, _: unknown, context: GraphQLContext) => writtenFor(context.language, finding.action),
  },
  DiagnosisAction: {
    text: async (action: FindingAction, _: unknown, context: GraphQLContext) => (await writtenFor(context.language, action.text))!,
    escalation: (action: FindingAction, _: unknown, context: GraphQLContext) => writtenFor(context.language, action.escalation),
  },
  DiagnosisEvidence: {
    text: async (evidence: Evidence, _: unknown, context: GraphQLContext) => (await writtenFor(context.language, evidence.text))!,
  },
} satisfies Resolvers;
