// Texts for people that travel as data (a DNS finding's fix, a diagnosis
// action, a probe verdict, an import row's error): services return a Message
// (id and values), never a sentence; whoever answers writes it in the
// request's language. A text kept in the database (a stored DNS check, an
// import job's row errors) is kept as its id and values, so it is written in
// the language of whoever reads it later; texts stored as English sentences
// before this existed come back as they are.
import type { Language } from "./language";
import { CATALOGUES, Message, type MessageId, type MessageValues } from "./messages";

/** A text for a person: a Message, or a plain string (a name, a value found in DNS, an English text stored before catalogues). */
export type Text = Message | string;

/** How a Message is kept in JSON: Message.toJSON writes it, textFromJSON reads it back. */
export interface StoredMessage {
  messageId: string;
  values?: Record<string, unknown>;
}

function isStoredMessage(value: unknown): value is StoredMessage {
  return typeof value === "object" && value !== null && typeof (value as StoredMessage).messageId === "string";
}

function valuesFromJSON(values: Record<string, unknown> | undefined): MessageValues {
  const read: MessageValues = {};
  for (const [name, value] of Object.entries(values ?? {})) {
    if (typeof value === "string" || typeof value === "number") read[name] = value;
    else if (isStoredMessage(value)) {
      const inner = textFromJSON(value);
      if (inner !== null) read[name] = inner;
    }
  }
  return read;
}

/**
 * A text read back from JSON: a stored Message becomes a Message again (an id
 * no catalogue knows any more, after a rename, becomes null rather than a
 * crash), a string stays a string, anything else is null.
 */
export function textFromJSON(value: unknown): Text | null {
  if (typeof value === "string") return value;
  if (!isStoredMessage(value)) return null;
  if (!Object.prototype.hasOwnProperty.call(CATALOGUES.en, value.messageId)) return null;
  return new Message(value.messageId as MessageId, valuesFromJSON(value.values));
}

/** A text written in one language; null stays null. */
export function writeText(text: Text | null | undefined, language: Language): string | null {
  if (text === null || text === undefined) return null;
  return typeof text === "string" ? text : text.in(language);
}

/** A text written in the language of a request's answer (GraphQL context or REST request): `await writtenFor(context.language, finding.fix)`. */
export async function writtenFor(languageOf: () => Promise<Language>, text: Text | null | undefined): Promise<string | null> {
  if (text === null || text === undefined) return null;
  return typeof text === "string" ? text : text.in(await languageOf());
}
