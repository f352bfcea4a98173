// One error base class with fixed codes. Services throw these; the GraphQL
// layer turns them into errors with `extensions.code` (and `field` where one
// input field is at fault). Anything else reaching a client is masked.
export type ErrorCode = "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT" | "CONFLICT" | "QUOTA_EXCEEDED" | "RATE_LIMITED" | "SERVICE_UNAVAILABLE";

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = "You are not logged in, or your session has expired: log in again.") {
    super("UNAUTHENTICATED", message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string, field?: string) {
    super("FORBIDDEN", message, field ? { field } : {});
  }
}

/**
 * What a NOT_FOUND message names: the kind of object, how it was referred to,
 * and whether the noun is plural ("delivery records for x@example.tw"), so
 * that the sentence agrees with it.
 */
export type ObjectDescription = [what: string, reference: string, number?: "one" | "many"];

export class NotFoundError extends AppError {
  constructor(...[what, reference, number = "one"]: ObjectDescription) {
    super("NOT_FOUND", number === "many" ? `No ${what} ${reference} exist, or you may not see them.` : `No ${what} ${reference} exists, or you may not see it.`);
  }
}

export class BadInputError extends AppError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super("BAD_USER_INPUT", message, { field });
  }
}

export class ConflictError extends AppError {
  constructor(message: string, field?: string) {
    super("CONFLICT", message, field ? { field } : {});
  }
}

export class QuotaExceededError extends AppError {
  constructor(field: string, message: string) {
    super("QUOTA_EXCEEDED", message, { field });
  }
}

export class RateLimitedError extends AppError {
  constructor(message: string, retryAfterSeconds: number) {
    super("RATE_LIMITED", message, { retryAfterSeconds });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message = "The database is not answering; try again in a moment.") {
    super("SERVICE_UNAVAILABLE", message);
  }
}
