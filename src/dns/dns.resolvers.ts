import type { Resolvers } from "../generated/graphql";
import type { Domain } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf } from "../graphql/context";
import type { DnsSetup } from "./dns.records";
import { checkDomainDns, checkDomainsDns, expectedDnsRecordsOf, lastDnsCheckOf, type DnsCheckView, type DnsSweepQuery } from "./dns.service";

export const dnsResolvers = {
  Mutation: {
    checkDomainDns: (_: unknown, args: { domain: string; setup?: DnsSetup | null; refresh?: boolean | null }, context: GraphQLContext) =>
      checkDomainDns(context.deps, callerOf(context), args.domain, args.setup, args.refresh ?? false),
    checkDomainsDns: (_: unknown, args: DnsSweepQuery, context: GraphQLContext) => checkDomainsDns(context.deps, callerOf(context), args),
  },
  Domain: {
    expectedDnsRecords: (domain: Domain, args: { setup?: DnsSetup | null }, context: GraphQLContext) => expectedDnsRecordsOf(context.deps, domain, args.setup),
    lastDnsCheck: (domain: Domain) => lastDnsCheckOf(domain),
  },
  DnsCheck: {
    domain: async (check: DnsCheckView, _: unknown, context: GraphQLContext) => {
      // The check was of a domain the caller may see; it can only be missing if deleted since.
      const domain = await context.loaders.domainById.load(check.domainId);
      if (!domain) throw new Error(`domain ${check.domainId} of a DNS check no longer exists`);
      return domain;
    },
    aliasDomain: (check: DnsCheckView, _: unknown, context: GraphQLContext) =>
      check.aliasDomainName ? context.deps.db.aliasDomain.findUnique({ where: { name: check.aliasDomainName } }) : null,
  },
} satisfies Resolvers;
