import type { Resolvers } from "../generated/graphql";
import type { Account } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { writtenFor } from "../i18n/text";
import { emptyTestMailbox, listReceivedTestMessages, probeOfTestMessage, readTestMessage, sendTestMessage, type TestMessageView } from "./testmail.service";

export const testMailResolvers = {
  Query: {
    testMessage: (_: unknown, args: { id: string }, context: GraphQLContext) => readTestMessage(context.deps, principalOf(context), args.id),
  },
  Mutation: {
    sendTestMessage: (_: unknown, args: { input: { from: string; to: string; subject?: string | null } }, context: GraphQLContext) =>
      sendTestMessage(context.deps, callerOf(context), args.input),
    emptyTestMailbox: (_: unknown, args: { accountId: string }, context: GraphQLContext) => emptyTestMailbox(context.deps, callerOf(context), args.accountId),
  },
  Account: {
    receivedTestMessages: (account: Account, args: { first?: number | null; after?: string | null }, context: GraphQLContext) =>
      listReceivedTestMessages(context.deps, principalOf(context), account, args),
  },
  TestMessage: {
    id: (view: TestMessageView) => view.row.id,
    messageId: (view: TestMessageView) => view.row.messageId,
    from: (view: TestMessageView) => view.row.fromAddress,
    to: (view: TestMessageView) => view.row.toAddress,
    subject: (view: TestMessageView) => view.row.subject,
    remote: (view: TestMessageView) => !view.row.targetIsLocal,
    sentBy: (view: TestMessageView) => view.row.sentByName,
    sentAt: (view: TestMessageView) => view.row.createdAt,
    queueId: (view: TestMessageView) => view.row.queueId,
    summary: async (view: TestMessageView, _: unknown, context: GraphQLContext) => (await writtenFor(context.language, view.summary))!,
    submissionReply: (view: TestMessageView) => view.row.submissionReply,
    relay: (view: TestMessageView) => view.latest?.relay ?? null,
    dsn: (view: TestMessageView) => view.latest?.dsn ?? null,
    reason: (view: TestMessageView) => view.latest?.reason ?? null,
    deliveryRecords: (view: TestMessageView) => view.records,
    probe: (view: TestMessageView, _: unknown, context: GraphQLContext) => probeOfTestMessage(context.deps, principalOf(context), view),
  },
} satisfies Resolvers;
