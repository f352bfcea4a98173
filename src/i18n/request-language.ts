// The language of one GraphQL or REST request, worked out when an answer has
// something to write for a person (an error, a finding). The saved preference
// comes with the caller's row (authenticate reads it), so writing an error
// never asks the database, which may be the very thing that failed.
import type { Authentication } from "../auth/principal";
import type { ServiceDeps } from "../service-deps";
import { negotiateLanguage, requestLanguage, type Language } from "./language";

export type LanguageOf = () => Promise<Language>;

export function languageResolver(deps: Pick<ServiceDeps, "config">, acceptLanguage: string | string[] | undefined, authentication: Authentication | undefined): LanguageOf {
  let answer: Language | undefined;
  return () => {
    // A header naming a language with a catalogue wins; "*" or only others (fetch sends "*") do not.
    answer ??= negotiateLanguage(acceptLanguage) ?? requestLanguage(undefined, authentication?.principal ? authentication.language : undefined, deps.config.DEFAULT_LANGUAGE);
    return Promise.resolve(answer);
  };
}
