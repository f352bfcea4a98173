// The languages mailadmin writes in, and which one a request gets: the
// request's Accept-Language, else the caller's saved preference, else the
// service's DEFAULT_LANGUAGE (docs/i18n.md). Codes, field names, enum values
// and the JSON shape never change with the language.
import Negotiator from "negotiator";

/** BCP 47 tags of the catalogues (src/i18n/catalogues): a third language is a new file and a new entry here. */
export const LANGUAGES = ["en", "zh-TW"] as const;
export type Language = (typeof LANGUAGES)[number];

export function isLanguage(value: unknown): value is Language {
  return typeof value === "string" && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * Traditional Chinese as Taiwan writes it answers every Chinese request that
 * is not explicitly Simplified: zh-TW, zh-Hant, zh-HK, zh-MO and a bare zh.
 * A request asking only for Simplified Chinese (zh-CN, zh-Hans, zh-SG) gets
 * no match here, and falls back like any language without a catalogue.
 */
function catalogueFor(tag: string): Language | undefined {
  const lower = tag.toLowerCase();
  if (lower === "en" || lower.startsWith("en-")) return "en";
  if (lower === "zh" || /^zh-(tw|hant|hk|mo)\b/.test(lower)) return "zh-TW";
  return undefined;
}

/** The best catalogue for an Accept-Language header, honouring its q-values; undefined when none fits. */
export function negotiateLanguage(acceptLanguage: string | string[] | undefined): Language | undefined {
  if (!acceptLanguage) return undefined;
  const header = Array.isArray(acceptLanguage) ? acceptLanguage.join(",") : acceptLanguage;
  // Negotiator lists every tag the header names, best first (q=0 left out).
  for (const tag of new Negotiator({ headers: { "accept-language": header } }).languages()) {
    if (tag === "*") return undefined;
    const language = catalogueFor(tag);
    if (language) return language;
  }
  return undefined;
}

/** The language of one request: Accept-Language, else the saved preference, else the service's default. */
export function requestLanguage(acceptLanguage: string | string[] | undefined, preference: string | null | undefined, fallback: Language): Language {
  return negotiateLanguage(acceptLanguage) ?? (isLanguage(preference) ? preference : fallback);
}
