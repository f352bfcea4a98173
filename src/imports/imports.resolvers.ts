// Thin resolvers: unpack the arguments, name the caller, call the service;
// the import's row errors and failure are written in the request's language.
import type { Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { appendAccountImportContent, findAccountImport, importAccounts, startAccountImport, type ImportAccountsInput, type StartAccountImportInput } from "./imports.service";
import { writtenImportView, type AccountImportView } from "./imports.jobs";

const answer = async (context: GraphQLContext, view: Promise<AccountImportView>) => writtenImportView(await view, context.language);

export const importResolvers = {
  Query: {
    accountImport: (_: unknown, args: { id: string }, context: GraphQLContext) => answer(context, findAccountImport(context.deps, principalOf(context), args.id)),
  },
  Mutation: {
    importAccounts: (_: unknown, args: { input: ImportAccountsInput }, context: GraphQLContext) => answer(context, importAccounts(context.deps, callerOf(context), args.input)),
    startAccountImport: (_: unknown, args: { input: StartAccountImportInput }, context: GraphQLContext) =>
      answer(context, startAccountImport(context.deps, callerOf(context), args.input)),
    appendAccountImportContent: (_: unknown, args: { id: string; content: string; more?: boolean | null }, context: GraphQLContext) =>
      answer(context, appendAccountImportContent(context.deps, callerOf(context), args.id, args.content, args.more ?? false)),
  },
} satisfies Resolvers;
