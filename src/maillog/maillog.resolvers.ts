import type { Account, MailLogRecord } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { pushMailLog, readMailLog, type MailLogQuery } from "./maillog.service";

export const mailLogResolvers = {
  Query: {
    mailLog: (_: unknown, args: MailLogQuery, context: GraphQLContext) => readMailLog(context.deps, principalOf(context), args),
  },
  Mutation: {
    ingestMailLog: (_: unknown, args: { source: string; lines: string[]; timeZone?: string | null }, context: GraphQLContext) =>
      pushMailLog(context.deps, callerOf(context), args),
  },
  Account: {
    mailLog: (account: Account, args: Omit<MailLogQuery, "address">, context: GraphQLContext) =>
      readMailLog(context.deps, principalOf(context), { ...args, address: account.address }),
  },
  MailLogRecord: {
    id: (record: MailLogRecord) => record.id.toString(),
    source: (record: MailLogRecord) => record.sourceName,
    queuedForSeconds: (record: MailLogRecord) =>
      record.queuedAt ? Math.round((record.loggedAt.getTime() - record.queuedAt.getTime()) / 1000) : null,
  },
};
