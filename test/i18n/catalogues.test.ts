// The catalogues agree: every message id exists in every language, with the
// same placeholders (a translation that drops {field} would hide the field at
// fault), every message parses as ICU MessageFormat, and the Traditional
// Chinese one is Chinese (no English sentence left untranslated).
import { IntlMessageFormat } from "intl-messageformat";
import { CATALOGUES, translate, type MessageId } from "../../src/i18n/messages";
import { LANGUAGES } from "../../src/i18n/language";

/** The argument names a message uses, from its parsed form (ICU's AST: literals are type 0, # is 7). */
function placeholders(text: string, language: string): string[] {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    const element = node as { type?: number; value?: unknown; options?: Record<string, { value: unknown }> };
    if (typeof element.type === "number" && element.type !== 0 && element.type !== 7 && typeof element.value === "string") names.add(element.value);
    if (element.options) for (const option of Object.values(element.options)) walk(option.value);
  };
  walk(new IntlMessageFormat(text, language, undefined, { ignoreTag: true }).getAst());
  return [...names].sort();
}

const ids = Object.keys(CATALOGUES.en) as MessageId[];

describe("message catalogues", () => {
  it.each(LANGUAGES.filter((language) => language !== "en"))("%s has every English id, and nothing else", (language) => {
    expect(Object.keys(CATALOGUES[language]).sort()).toEqual([...ids].sort());
  });

  it.each(LANGUAGES.flatMap((language) => ids.map((id) => [language, id] as const)))("%s %s has the English placeholders", (language, id) => {
    expect(placeholders(CATALOGUES[language][id], language)).toEqual(placeholders(CATALOGUES.en[id], "en"));
  });

  it("writes zh-TW messages in Chinese: each has Han characters and no run of three English words", () => {
    const english = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;
    for (const id of ids) {
      // Every placeholder gets a value (a number: some are counts); the usual ones get realistic ones.
      const values = Object.fromEntries(placeholders(CATALOGUES.en[id], "en").map((name) => [name, 1]));
      const text = translate("zh-TW", id, { ...values, field: "name", input: "x", value: "1", max: 3, what: "網域", reference: "x" });
      expect({ id, han: /\p{Script=Han}/u.test(text) }).toEqual({ id, han: true });
      expect({ id, english: english.test(text.replace(/\b(requestId|Unicode|MiB|NUL|API|id|example\.com|user@example\.com)\b/g, "")) }).toEqual({ id, english: false });
    }
  });

  it("uses Taiwan's terms, not mainland ones", () => {
    const all = Object.values(CATALOGUES["zh-TW"]).join("\n");
    // 域名 (mainland for 網域名稱), 邮 (Simplified), 用户 (mainland: user), 服务器 (Simplified), 默认 (mainland: default), 账号, 信息.
    for (const term of [/(?<!網)域名/, /邮/, /用户/, /服务器/, /默认/, /账号/, /信息/])
      expect({ term: term.source, found: term.test(all) }).toEqual({ term: term.source, found: false });
  });
});
