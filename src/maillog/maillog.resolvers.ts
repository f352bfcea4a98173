import type { Resolvers } from "../generated/graphql";
import type { Account, MailLogRecord, RejectedLogLine } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { listRejectedLines, pushMailLog, readMailLog, type MailLogQuery } from "./maillog.service";

export const mailLogResolvers = {
  Query: {
    mailLog: (_: unknown, args: MailLogQuery, context: GraphQLContext) => readMailLog(context.deps, principalOf(context), args),
    rejectedLogLines: (_: unknown, args: { source?: string | null; first?: number | null; after?: string | null }, context: GraphQLContext) =>
      listRejectedLines(context.deps, principalOf(context), args),
  },
  Mutation: {
    ingestMailLog: (_: unknown, args: { source: string; lines: string[]; timeZone?: string | null; format?: "EZML" | "POSTFIX" | null }, context: GraphQLContext) =>
      pushMailLog(context.deps, callerOf(context), { ...args, format: args.format === "POSTFIX" ? "postfix" : "ezml" }),
  },
  Account: {
    mailLog: (account: Account, args: Omit<MailLogQuery, "address">, context: GraphQLContext) =>
      readMailLog(context.deps, principalOf(context), { ...args, address: account.address }),
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
