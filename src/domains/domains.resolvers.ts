import type { GraphQLResolveInfo } from "graphql";
import type { Resolvers } from "../generated/graphql";
import { selectedNodeFields, subFieldNames } from "../graphql/selection";
import type { Domain } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import type { Warning } from "../service-deps";
import { writtenFor } from "../i18n/text";
import { callerOf, principalOf } from "../graphql/context";
import { listAccounts, type AccountListQuery } from "../accounts/accounts.service";
import { authorize } from "../auth/policy";
import {
  createDomain,
  deleteDomain,
  findDomain,
  listDomains,
  reassignDomainAdmin,
  ADMIN_BRIEF_COLUMNS,
  ADMIN_LIST_COLUMNS,
  DOMAIN_BRIEF_COLUMNS,
  DOMAIN_LIST_COLUMNS,
  type ColumnSet,
  updateDomain,
  type CreateDomainInput,
  type DomainListQuery,
  type ListedDomain,
  type UpdateDomainInput,
} from "./domains.service";

const USAGE_FIELDS = ["accountCount", "allocatedQuotaMb", "usedMb"] as const;

// The Domain and Account fields that a page's "list" columns answer (see
// ColumnSet): each a column of that set, or resolved without the row's other
// columns (totals, relations by id). A field not named here, such as
// lastDnsCheck or mailLog, has the page read every column.
// The same for the "brief" sets: the administrator's loginName is its address, its role is read by its id.
const DOMAIN_FIELDS_OF_LIST = new Set<string>(["__typename", ...DOMAIN_LIST_COLUMNS, ...USAGE_FIELDS, "admin", "accounts"]);
const ACCOUNT_FIELDS_OF_LIST = new Set<string>(["__typename", ...ADMIN_LIST_COLUMNS, "loginName", "role", "domain"]);
const DOMAIN_FIELDS_OF_BRIEF = new Set<string>(["__typename", ...DOMAIN_BRIEF_COLUMNS, ...USAGE_FIELDS, "admin", "accounts"]);
const ACCOUNT_FIELDS_OF_BRIEF = new Set<string>(["__typename", ...ADMIN_BRIEF_COLUMNS, "loginName", "role"]);

/** The smallest column set that answers every one of these fields. */
function columnSetFor(fields: Iterable<string>, ofBrief: Set<string>, ofList: Set<string>): ColumnSet {
  let set: ColumnSet = "brief";
  for (const field of fields) {
    if (ofBrief.has(field)) continue;
    if (!ofList.has(field)) return "all";
    set = "list";
  }
  return set;
}

function usageOf(domain: ListedDomain, context: GraphQLContext, field: (typeof USAGE_FIELDS)[number]): number | Promise<number> {
  const usage = domain.preloaded?.usage;
  return usage ? usage[field] : context.loaders.usageByDomainId.load(domain.id).then((loaded) => loaded[field]);
}

async function loadAdmin(context: GraphQLContext, domainId: string) {
  const admin = await context.loaders.adminByDomainId.load(domainId);
  // The schema promises one; a domain without one is a broken invariant, not a client error.
  if (!admin) throw new Error(`domain ${domainId} has no administrator`);
  return admin;
}

export const domainResolvers = {
  Query: {
    domain: (_: unknown, args: { id?: string | null; name?: string | null }, context: GraphQLContext) => findDomain(context.deps, principalOf(context), args),
    domains: async (_: unknown, args: DomainListQuery, context: GraphQLContext, info: GraphQLResolveInfo) => {
      const fields = selectedNodeFields(info);
      const adminFields = fields.get("admin");
      const page = await listDomains(context.deps, principalOf(context), args, {
        columns: columnSetFor(fields.keys(), DOMAIN_FIELDS_OF_BRIEF, DOMAIN_FIELDS_OF_LIST),
        admin: adminFields ? columnSetFor(subFieldNames(adminFields, info), ACCOUNT_FIELDS_OF_BRIEF, ACCOUNT_FIELDS_OF_LIST) : undefined,
        usage: USAGE_FIELDS.some((field) => fields.has(field)),
      });
      for (const domain of page.nodes) {
        const admin = domain.preloaded?.admin;
        // What the administrator's own fields (its role) would otherwise query again.
        if (admin) context.loaders.isAdminByAccountId.prime(admin.id, true);
      }
      return page;
    },
  },
  Mutation: {
    createDomain: (_: unknown, args: { input: CreateDomainInput }, context: GraphQLContext) => createDomain(context.deps, callerOf(context), args.input),
    updateDomain: (_: unknown, args: { id: string; input: UpdateDomainInput }, context: GraphQLContext) => updateDomain(context.deps, callerOf(context), args.id, args.input),
    deleteDomain: (_: unknown, args: { id: string; force?: boolean | null }, context: GraphQLContext) =>
      deleteDomain(context.deps, callerOf(context), args.id, args.force ?? false),
    reassignDomainAdmin: (_: unknown, args: { domainId: string; accountId: string }, context: GraphQLContext) =>
      reassignDomainAdmin(context.deps, callerOf(context), args.domainId, args.accountId),
  },
  Domain: {
    // A listed domain brings its administrator and totals when the page asked
    // for them (see listDomains): answered without a promise, which across
    // the fields of a page of 50 is a good part of its cost.
    admin: (domain: ListedDomain, _: unknown, context: GraphQLContext) => domain.preloaded?.admin ?? loadAdmin(context, domain.id),
    accounts: (domain: Domain, args: AccountListQuery, context: GraphQLContext) => {
      // First pages batch across the domains of a list; a later page (after) is one domain's own query.
      if (args.after != null) return listAccounts(context.deps, principalOf(context), domain.id, args);
      authorize(principalOf(context), "domain.list_accounts", { domainId: domain.id }, ["domain", `with id ${domain.id}`]);
      return context.loaders.firstAccountPage(args).load(domain.id);
    },
    accountCount: (domain: ListedDomain, _: unknown, context: GraphQLContext) => usageOf(domain, context, "accountCount"),
    allocatedQuotaMb: (domain: ListedDomain, _: unknown, context: GraphQLContext) => usageOf(domain, context, "allocatedQuotaMb"),
    usedMb: (domain: ListedDomain, _: unknown, context: GraphQLContext) => usageOf(domain, context, "usedMb"),
  },
  // The warnings of domain, account and alias changes: written in the answer's language.
  Warning: {
    message: async (warning: Warning, _: unknown, context: GraphQLContext) => (await writtenFor(context.language, warning.message))!,
  },
} satisfies Resolvers;
