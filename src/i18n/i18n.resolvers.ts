import type { Language as LanguageEnum, Resolvers } from "../generated/graphql";
import type { GraphQLContext } from "../graphql/context";
import { callerOf } from "../graphql/context";
import type { Language } from "./language";
import { setPreferredLanguage, storedLanguage } from "./preferences.service";

/** The GraphQL enum's values and the catalogues' tags (src/i18n/language.ts). */
const TAG_OF: Record<LanguageEnum, Language> = { EN: "en", ZH_TW: "zh-TW" };
const ENUM_OF: Record<Language, LanguageEnum> = { en: "EN", "zh-TW": "ZH_TW" };
const enumOf = (language: Language | null) => (language ? ENUM_OF[language] : null);

export const i18nResolvers = {
  Mutation: {
    setPreferredLanguage: async (_: unknown, args: { language?: LanguageEnum | null }, context: GraphQLContext) => ({
      preferredLanguage: enumOf(await setPreferredLanguage(context.deps, callerOf(context), args.language ? TAG_OF[args.language] : null)),
    }),
  },
  Query: {
    answerLanguage: async (_: unknown, __: unknown, context: GraphQLContext) => ENUM_OF[await context.language()],
  },
  SupportAdmin: {
    preferredLanguage: (admin: { language?: string | null }) => enumOf(storedLanguage(admin.language)),
  },
  Account: {
    preferredLanguage: (account: { language?: string | null }) => enumOf(storedLanguage(account.language)),
  },
} satisfies Resolvers;
