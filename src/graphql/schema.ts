// The executable schema: schema.graphql (the public contract, read at start)
// plus the resolvers of each area.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from "graphql";
import { EARLIEST_INSTANT, LATEST_INSTANT } from "../shared/validation";
import { projectRoot } from "../shared/project-root";
import { authResolvers } from "../auth/auth.resolvers";
import { domainResolvers } from "../domains/domains.resolvers";
import { accountResolvers } from "../accounts/accounts.resolvers";
import { auditResolvers } from "../audit/audit.resolvers";
import { mailLogResolvers } from "../maillog/maillog.resolvers";
import { dnsResolvers } from "../dns/dns.resolvers";
import { probeResolvers } from "../probe/probe.resolvers";
import { diagnosisResolvers } from "../diagnosis/diagnosis.resolvers";
import { apiTokenResolvers } from "../apitokens/api-tokens.resolvers";
import { importResolvers } from "../imports/imports.resolvers";
import { usageResolvers } from "../usage/usage.resolvers";
import { aliasResolvers } from "../aliases/aliases.resolvers";
import { dkimResolvers } from "../dkim/dkim.resolvers";
import { i18nResolvers } from "../i18n/i18n.resolvers";
import { testMailResolvers } from "../testmail/testmail.resolvers";
import { supportTeamResolvers } from "../auth/support-team.resolvers";
import { appPasswordResolvers } from "../accounts/app-passwords.resolvers";
import { withTokenScopes } from "../auth/scopes";

export const typeDefs = readFileSync(join(projectRoot, "schema.graphql"), "utf8");

function parseDateTime(value: unknown): Date {
  const date = typeof value === "string" ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new GraphQLError("DateTime must be an ISO 8601 string such as 2026-11-28T15:04:05Z");
  // JavaScript reads years up to 275760; PostgreSQL's timestamps and every real date stay within these.
  if (date.getTime() < EARLIEST_INSTANT || date.getTime() > LATEST_INSTANT) {
    throw new GraphQLError(`DateTime must be between 1970-01-01 and 9999-12-31 (got ${String(value).slice(0, 40)})`);
  }
  return date;
}

const DateTime = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  serialize(value) {
    if (value instanceof Date) return value.toISOString();
    throw new GraphQLError("DateTime cannot represent a non-date value");
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError("DateTime must be an ISO 8601 string");
    return parseDateTime(ast.value);
  },
});

function literalToJson(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
    case Kind.ENUM:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.LIST:
      return ast.values.map(literalToJson);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, literalToJson(field.value)]));
    default:
      return null;
  }
}

const JSONScalar = new GraphQLScalarType({
  name: "JSON",
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literalToJson,
});

function merge(...parts: Record<string, Record<string, unknown>>[]) {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const part of parts) {
    for (const [type, fields] of Object.entries(part)) merged[type] = { ...merged[type], ...fields };
  }
  return merged;
}

// withTokenScopes: a request made with an API token is held to the token's scopes (src/auth/scopes.ts).
export const resolvers = withTokenScopes({
  DateTime,
  JSON: JSONScalar,
  ...merge(
    authResolvers,
    domainResolvers,
    accountResolvers,
    auditResolvers,
    mailLogResolvers,
    dnsResolvers,
    probeResolvers,
    diagnosisResolvers,
    apiTokenResolvers,
    importResolvers,
    usageResolvers,
    aliasResolvers,
    dkimResolvers,
    i18nResolvers,
    testMailResolvers,
    supportTeamResolvers,
    appPasswordResolvers,
  ),
});
