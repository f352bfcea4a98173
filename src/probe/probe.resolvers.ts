import type { Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { principalOf } from "../graphql/context";
import { writtenFor } from "../i18n/text";
import { probeDomainMailServers } from "./probe.service";
import type { MailServerProbe, ProbeExchanger } from "./probe";

export const probeResolvers = {
  Query: {
    probeMailServer: (_: unknown, args: { domain: string }, context: GraphQLContext) => probeDomainMailServers(context.deps, principalOf(context), args.domain),
  },
  // The probe's sentences are Messages: written in the request's language.
  MailServerProbe: {
    verdict: async (probe: MailServerProbe, _: unknown, context: GraphQLContext) => (await writtenFor(context.language, probe.verdict))!,
  },
  ProbeExchanger: {
    dnsError: (exchanger: ProbeExchanger, _: unknown, context: GraphQLContext) => writtenFor(context.language, exchanger.dnsError),
  },
} satisfies Resolvers;
