// One error base class with fixed codes. Services throw these; the GraphQL
// layer turns them into errors with `extensions.code` (and `field` where one
// input field is at fault). Anything else reaching a client is masked.
import { message, type Message } from "./i18n/messages";
import type { Language } from "./i18n/language";

/** What an error says: English text, or a message by id that is written in the answer's language (src/i18n). */
export type ErrorText = string | Message;

export type ErrorCode = "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT" | "CONFLICT" | "QUOTA_EXCEEDED" | "RATE_LIMITED" | "SERVICE_UNAVAILABLE";

export class AppError extends Error {
  /** The message by id, when it was given as one: answers in other languages use it. */
  readonly localized?: Message;

  constructor(
    readonly code: ErrorCode,
    text: ErrorText,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(typeof text === "string" ? text : text.in("en"));
    this.name = "AppError";
    if (typeof text !== "string") this.localized = text;
  }

  /** The message in a language; text given in English only stays English. */
  messageIn(language: Language): string {
    return this.localized ? this.localized.in(language) : this.message;
  }
}

export class UnauthenticatedError extends AppError {
  constructor(text: ErrorText = message("error.unauthenticated")) {
    super("UNAUTHENTICATED", text);
  }
}

export class ForbiddenError extends AppError {
  constructor(text: ErrorText, field?: string) {
    super("FORBIDDEN", text, field ? { field } : {});
  }
}

/**
 * What a NOT_FOUND message names: the kind of object, how it was referred to,
 * and whether the noun is plural ("delivery records for x@example.tw"), so
 * that the sentence agrees with it.
 */
export type ObjectDescription = [what: string, reference: string, number?: "one" | "many"];

/** The nouns NOT_FOUND names that have a translation; others stay as written. */
const OBJECT_NOUNS: Record<string, Message> = {
  domain: message("object.domain"),
  account: message("object.account"),
  alias: message("object.alias"),
  "alias domain": message("object.alias_domain"),
};

function objectNoun(what: string): string | Message {
  return OBJECT_NOUNS[what] ?? what;
}

export class NotFoundError extends AppError {
  constructor(...[what, reference, number = "one"]: ObjectDescription) {
    super("NOT_FOUND", message(number === "many" ? "error.not_found.many" : "error.not_found.one", { what: objectNoun(what), reference }));
  }
}

export class BadInputError extends AppError {
  constructor(
    readonly field: string,
    text: ErrorText,
  ) {
    super("BAD_USER_INPUT", text, { field });
  }
}

export class ConflictError extends AppError {
  constructor(text: ErrorText, field?: string) {
    super("CONFLICT", text, field ? { field } : {});
  }
}

export class QuotaExceededError extends AppError {
  constructor(field: string, text: ErrorText) {
    super("QUOTA_EXCEEDED", text, { field });
  }
}

export class RateLimitedError extends AppError {
  constructor(text: ErrorText, retryAfterSeconds: number) {
    super("RATE_LIMITED", text, { retryAfterSeconds });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(text: ErrorText = message("error.service_unavailable")) {
    super("SERVICE_UNAVAILABLE", text);
  }
}
