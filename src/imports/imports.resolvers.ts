// Thin resolvers: unpack the arguments, name the caller, call the service.
import type { Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, principalOf } from "../graphql/context";
import { appendAccountImportContent, findAccountImport, importAccounts, startAccountImport, type ImportAccountsInput, type StartAccountImportInput } from "./imports.service";

export const importResolvers = {
  Query: {
    accountImport: (_: unknown, args: { id: string }, context: GraphQLContext) => findAccountImport(context.deps, principalOf(context), args.id),
  },
  Mutation: {
    importAccounts: (_: unknown, args: { input: ImportAccountsInput }, context: GraphQLContext) => importAccounts(context.deps, callerOf(context), args.input),
    startAccountImport: (_: unknown, args: { input: StartAccountImportInput }, context: GraphQLContext) => startAccountImport(context.deps, callerOf(context), args.input),
    appendAccountImportContent: (_: unknown, args: { id: string; content: string; more?: boolean | null }, context: GraphQLContext) =>
      appendAccountImportContent(context.deps, callerOf(context), args.id, args.content, args.more ?? false),
  },
} satisfies Resolvers;
