// Messages by id, written in the request's language at the edge (GraphQL's
// error formatting, REST problems): services say *which* message with which
// values, never assemble a sentence themselves. The English text is also the
// message of the error object, for logs and for code that reads it.
import { IntlMessageFormat } from "intl-messageformat";
import { en, type MessageId } from "./catalogues/en";
import { zhTW } from "./catalogues/zh-TW";
import type { Language } from "./language";

export type { MessageId } from "./catalogues/en";
/** Values put into a message; a Message among them is written in the same language first. */
export type MessageValues = Record<string, string | number | Message>;

export const CATALOGUES: Record<Language, Record<MessageId, string>> = { en, "zh-TW": zhTW };

const compiled = new Map<string, IntlMessageFormat>();

/** One message in one language, with its values put in (numbers formatted the language's way). */
export function translate(language: Language, id: MessageId, values: MessageValues = {}): string {
  const key = `${language}\u0000${id}`;
  let format = compiled.get(key);
  if (!format) {
    format = new IntlMessageFormat(CATALOGUES[language][id], language, undefined, { ignoreTag: true });
    compiled.set(key, format);
  }
  const written: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(values)) written[name] = value instanceof Message ? value.in(language) : value;
  return String(format.format(written));
}

/** A message to be written later, in whichever language the answer is in. */
export class Message {
  constructor(
    readonly id: MessageId,
    readonly values: MessageValues = {},
  ) {}

  in(language: Language): string {
    return translate(language, this.id, this.values);
  }

  toString(): string {
    return this.in("en");
  }

  /** Kept in JSON as its id and values (src/i18n/text.ts reads it back), so a stored text is written in its reader's language. */
  toJSON(): { messageId: MessageId; values: MessageValues } {
    return { messageId: this.id, values: this.values };
  }
}

export function message(id: MessageId, values: MessageValues = {}): Message {
  return new Message(id, values);
}
