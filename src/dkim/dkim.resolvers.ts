import type { Resolvers } from "../generated/graphql";
import type { DkimKey, Domain } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf } from "../graphql/context";
import { dkimHost, dkimRecordFor, RECORD_TTL, zoneLine } from "../dns/dns.records";
import { pendingDkimKeysPublished } from "../dns/dns.service";
import { cancelDkimRotation, confirmDkimRotation, ensureDkimKeys, readDkimKeys, startDkimRotation } from "./dkim.service";

async function domainNameOf(key: DkimKey, context: GraphQLContext): Promise<string> {
  const domain = await context.loaders.domainById.load(key.domainId);
  if (!domain) throw new Error(`domain ${key.domainId} of a DKIM key no longer exists`);
  return domain.name;
}

/** TXT data in strings of at most 255 bytes (RFC 1035 §3.3.14); the record's text is ASCII. */
export function txtStrings(text: string): string[] {
  const strings: string[] = [];
  for (let index = 0; index < text.length; index += 255) strings.push(text.slice(index, index + 255));
  return strings;
}

export const dkimResolvers = {
  Mutation: {
    ensureDkimKeys: (_: unknown, args: { domainId: string; ed25519?: boolean | null }, context: GraphQLContext) =>
      ensureDkimKeys(context.deps, callerOf(context), args.domainId, args.ed25519 ?? false),
    startDkimRotation: (_: unknown, args: { domainId: string }, context: GraphQLContext) => startDkimRotation(context.deps, callerOf(context), args.domainId),
    confirmDkimRotation: (_: unknown, args: { domainId: string; force?: boolean | null }, context: GraphQLContext) =>
      confirmDkimRotation(context.deps, callerOf(context), args.domainId, args.force ?? false, pendingDkimKeysPublished(context.deps)),
    cancelDkimRotation: (_: unknown, args: { domainId: string }, context: GraphQLContext) => cancelDkimRotation(context.deps, callerOf(context), args.domainId),
  },
  Domain: {
    dkimKeys: (domain: Domain, args: { includeRetired?: boolean | null }, context: GraphQLContext) =>
      readDkimKeys(context.deps, callerOf(context), domain, args.includeRetired ?? false),
  },
  DkimKey: {
    dnsName: async (key: DkimKey, _: unknown, context: GraphQLContext) => dkimHost(key.selector, await domainNameOf(key, context)),
    txtValue: (key: DkimKey) => dkimRecordFor(key.publicKey),
    txtStrings: (key: DkimKey) => txtStrings(dkimRecordFor(key.publicKey)),
    zoneLine: async (key: DkimKey, _: unknown, context: GraphQLContext) =>
      zoneLine({ name: dkimHost(key.selector, await domainNameOf(key, context)), type: "TXT", ttl: RECORD_TTL, preference: null, value: dkimRecordFor(key.publicKey) }),
  },
} satisfies Resolvers;
