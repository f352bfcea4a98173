import type { Resolvers } from "../generated/graphql";
import type { Domain } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf } from "../graphql/context";
import { writtenFor } from "../i18n/text";
import type { DnsFinding } from "./dns.check-common";
import type { DnsSetup, ExpectedRecord } from "./dns.records";
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
  // Texts for people are Messages (values found in DNS stay strings): written in the request's language.
  DnsFinding: {
    expected: (finding: DnsFinding, _: unknown, context: GraphQLContext) => writtenFor(context.language, finding.expected),
    found: (finding: DnsFinding, _: unknown, context: GraphQLContext) => writtenFor(context.language, finding.found),
    fix: (finding: DnsFinding, _: unknown, context: GraphQLContext) => writtenFor(context.language, finding.fix),
  },
  DnsRecord: {
    purpose: async (record: ExpectedRecord, _: unknown, context: GraphQLContext) => (await writtenFor(context.language, record.purpose)) ?? "",
  },
} satisfies Resolvers;
