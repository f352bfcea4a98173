// One error base class with fixed codes. Services throw these; the GraphQL
// layer turns them into errors with `extensions.code` (and `field` where one
// input field is at fault). Anything else reaching a client is masked.
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "CONFLICT"
  | "QUOTA_EXCEEDED"
  | "RATE_LIMITED"
  | "SERVICE_UNAVAILABLE";

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
  constructor(message: string) {
    super("FORBIDDEN", message);
  }
}

export class NotFoundError extends AppError {
  constructor(what: string, reference: string) {
    super("NOT_FOUND", `No ${what} ${reference} exists, or you may not see it.`);
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
