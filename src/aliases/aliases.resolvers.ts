import type { Resolvers } from "../generated/graphql";
import type { Account, Alias, AliasDomain, Domain } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { domainToUnicode } from "node:url";
import { expectedDnsRecordsOf } from "../dns/dns.service";
import {
  addAliasDomain,
  aliasDomainsOf,
  autoReplyOf,
  createAlias,
  deleteAlias,
  findAlias,
  listAliases,
  removeAliasDomain,
  setCatchAll,
  setAutoReply,
  setForwarding,
  updateAlias,
  type AutoReplyInput,
  type AliasListQuery,
  type CreateAliasInput,
} from "./aliases.service";

async function domainOf(domainId: string, context: GraphQLContext): Promise<Domain> {
  const domain = await context.loaders.domainById.load(domainId);
  if (!domain) throw new Error(`domain ${domainId} is missing`);
  return domain;
}

export const aliasResolvers = {
  Query: {
    alias: (_: unknown, args: { id?: string | null; address?: string | null }, context: GraphQLContext) => findAlias(context.deps, principalOf(context), args),
  },
  Mutation: {
    createAlias: (_: unknown, args: { input: CreateAliasInput }, context: GraphQLContext) => createAlias(context.deps, callerOf(context), args.input),
    updateAlias: (_: unknown, args: { id: string; input: { destinations?: string[] | null } }, context: GraphQLContext) =>
      updateAlias(context.deps, callerOf(context), args.id, args.input),
    deleteAlias: (_: unknown, args: { id: string }, context: GraphQLContext) => deleteAlias(context.deps, callerOf(context), args.id),
    setForwarding: (_: unknown, args: { accountId: string; destinations: string[]; keepCopy?: boolean | null }, context: GraphQLContext) =>
      setForwarding(context.deps, callerOf(context), args.accountId, args.destinations, args.keepCopy),
    setAutoReply: (_: unknown, args: { accountId: string; input?: AutoReplyInput | null }, context: GraphQLContext) =>
      setAutoReply(context.deps, callerOf(context), args.accountId, args.input),
    setCatchAll: (_: unknown, args: { domainId: string; destination?: string | null }, context: GraphQLContext) =>
      setCatchAll(context.deps, callerOf(context), args.domainId, args.destination),
    addAliasDomain: (_: unknown, args: { domainId: string; name: string }, context: GraphQLContext) => addAliasDomain(context.deps, callerOf(context), args.domainId, args.name),
    removeAliasDomain: (_: unknown, args: { name: string }, context: GraphQLContext) => removeAliasDomain(context.deps, callerOf(context), args.name),
  },
  Alias: {
    domain: (alias: Alias, _: unknown, context: GraphQLContext) => domainOf(alias.domainId, context),
  },
  AliasDomain: {
    unicodeName: (aliasDomain: AliasDomain) => domainToUnicode(aliasDomain.name) || aliasDomain.name,
    domain: (aliasDomain: AliasDomain, _: unknown, context: GraphQLContext) => domainOf(aliasDomain.domainId, context),
    // The customer publishes for the alias domain what its domain's set-up asks, under the alias domain's name.
    expectedDnsRecords: async (aliasDomain: AliasDomain, _: unknown, context: GraphQLContext) => {
      const domain = await domainOf(aliasDomain.domainId, context);
      return expectedDnsRecordsOf(context.deps, { ...domain, name: aliasDomain.name, unicodeName: domainToUnicode(aliasDomain.name) || aliasDomain.name });
    },
  },
  Domain: {
    aliases: (domain: Domain, args: AliasListQuery, context: GraphQLContext) => listAliases(context.deps, principalOf(context), domain.id, args),
    aliasDomains: (domain: Domain, _: unknown, context: GraphQLContext) => aliasDomainsOf(context.deps.db, domain.id),
  },
  Account: {
    autoReply: (account: Account, _: unknown, context: GraphQLContext) => autoReplyOf(context.deps.db, account.id),
    forwarding: (account: Account) => (account.forwardTo.length > 0 ? { destinations: account.forwardTo, keepCopy: account.forwardKeepCopy } : null),
  },
} satisfies Resolvers;
