// The language the command-line tools write in: MAILADMIN_LANGUAGE (en,
// zh-TW), else the locale of the shell (LC_ALL, LC_MESSAGES, LANG, the first
// one set, as POSIX orders them: zh_TW.UTF-8 is zh-TW, en_US.UTF-8 is en),
// else DEFAULT_LANGUAGE, else English. A locale without a catalogue (C.UTF-8,
// zh_CN.UTF-8, fr_FR.UTF-8) falls through to DEFAULT_LANGUAGE. What programs
// read (JSON output, exit codes, codes) never changes with the language.
import { isLanguage, negotiateLanguage, type Language } from "../i18n/language";
import { translate, type MessageId, type MessageValues } from "../i18n/messages";

/** A POSIX locale name (zh_TW.UTF-8, en_US, zh_TW@calendar) as a BCP 47 tag (zh-TW), or undefined for C and POSIX. */
function tagOfLocale(locale: string): string | undefined {
  const name = locale.split(/[.@]/)[0]!.trim();
  if (name === "" || name === "C" || name === "POSIX") return undefined;
  return name.replace(/_/g, "-");
}

/** A language named as mailadmin names it (en, zh-TW) or as a locale (zh_TW.UTF-8). */
function languageNamed(value: string): Language | undefined {
  if (isLanguage(value)) return value;
  const tag = tagOfLocale(value);
  return tag ? negotiateLanguage(tag) : undefined;
}

export function cliLanguage(env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Language {
  const fallback = env.DEFAULT_LANGUAGE && isLanguage(env.DEFAULT_LANGUAGE) ? env.DEFAULT_LANGUAGE : "en";
  const chosen = env.MAILADMIN_LANGUAGE?.trim();
  if (chosen) {
    const language = languageNamed(chosen);
    if (language) return language;
    warn(translate(fallback, "cli.unknown_language", { value: chosen.slice(0, 40) }));
  }
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((value) => value !== undefined && value.trim() !== "");
  return (locale && languageNamed(locale)) || fallback;
}

/** The messages of one command-line run, in its language (worked out once, after .env is read). */
export function cliMessages(env: NodeJS.ProcessEnv = process.env) {
  let language: Language | undefined;
  const languageOf = () => (language ??= cliLanguage(env));
  return {
    language: languageOf,
    text: (id: MessageId, values: MessageValues = {}) => translate(languageOf(), id, values),
  };
}
