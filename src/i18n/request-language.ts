// The language of one GraphQL or REST request, worked out only when an answer
// has something to write for a person (an error, a finding): most answers
// never need it, so the saved preference costs a query only then.
import type { Authentication } from "../auth/principal";
import type { ServiceDeps } from "../service-deps";
import { negotiateLanguage, requestLanguage, type Language } from "./language";

export type LanguageOf = () => Promise<Language>;

export function languageResolver(deps: Pick<ServiceDeps, "db" | "config">, acceptLanguage: string | string[] | undefined, authentication: Authentication | undefined): LanguageOf {
  let answer: Promise<Language> | undefined;
  return () => {
    answer ??= (async () => {
      // A header naming a language with a catalogue wins; "*" or only others (fetch sends "*") do not.
      const asked = negotiateLanguage(acceptLanguage);
      if (asked) return asked;
      let preference: string | null | undefined;
      if (authentication?.principal) {
        const { principal } = authentication;
        preference =
          principal.kind === "account"
            ? (authentication.account?.row.language ?? (await deps.db.account.findUnique({ where: { id: principal.id }, select: { language: true } }))?.language)
            : (await deps.db.supportAdmin.findUnique({ where: { id: principal.id }, select: { language: true } }))?.language;
      }
      return requestLanguage(undefined, preference, deps.config.DEFAULT_LANGUAGE);
    })();
    return answer;
  };
}
