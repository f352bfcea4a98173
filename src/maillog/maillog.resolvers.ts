import type { Resolvers } from "../generated/graphql";
import type { Account, MailLogRecord, RejectedLogLine } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import type { GraphQLResolveInfo } from "graphql";
import { selectedNodeFields } from "../graphql/selection";
import { listRejectedLines, MAIL_LOG_BRIEF_COLUMNS, pushMailLog, readMailLog, type MailLogColumns, type MailLogQuery } from "./maillog.service";

/** The record's fields the brief columns answer (id, sizeBytes and queuedForSeconds are computed from them). */
const FIELDS_OF_BRIEF = new Set<string>(["__typename", ...MAIL_LOG_BRIEF_COLUMNS, "queuedForSeconds"]);

/** "brief" when every field the page asks of its records is answered by the brief columns. */
function columnsFor(info: GraphQLResolveInfo): MailLogColumns {
  for (const field of selectedNodeFields(info).keys()) if (!FIELDS_OF_BRIEF.has(field)) return "all";
  return "brief";
}

export const mailLogResolvers = {
  Query: {
    mailLog: (_: unknown, args: MailLogQuery, context: GraphQLContext, info: GraphQLResolveInfo) => readMailLog(context.deps, principalOf(context), args, columnsFor(info)),
    rejectedLogLines: (_: unknown, args: { source?: string | null; first?: number | null; after?: string | null }, context: GraphQLContext) =>
      listRejectedLines(context.deps, principalOf(context), args),
  },
  Mutation: {
    ingestMailLog: (_: unknown, args: { source: string; lines: string[]; timeZone?: string | null; format?: "EZML" | "POSTFIX" | null }, context: GraphQLContext) =>
      pushMailLog(context.deps, callerOf(context), { ...args, format: args.format === "POSTFIX" ? "postfix" : "ezml" }),
  },
  Account: {
    mailLog: (account: Account, args: Omit<MailLogQuery, "address">, context: GraphQLContext, info: GraphQLResolveInfo) =>
      readMailLog(context.deps, principalOf(context), { ...args, address: account.address }, columnsFor(info)),
  },
  StoredRejectedLogLine: {
    id: (line: RejectedLogLine) => line.id.toString(),
    source: (line: RejectedLogLine) => line.sourceName,
    line: (line: RejectedLogLine) => line.rawLine,
  },
  MailLogRecord: {
    id: (record: MailLogRecord) => record.id.toString(),
    source: (record: MailLogRecord) => record.sourceName,
    // Postfix does not log a rejected message's size: 0, as the field's description says.
    sizeBytes: (record: MailLogRecord) => record.sizeBytes ?? 0,
    queuedForSeconds: (record: MailLogRecord) => (record.queuedAt ? Math.round((record.loggedAt.getTime() - record.queuedAt.getTime()) / 1000) : null),
  },
} satisfies Resolvers;
