// English messages every capability shares: errors, REST problem titles,
// authentication failures, input rules, the language preference.
export const core = {
  // src/errors.ts
  "error.unauthenticated": "You are not logged in, or your session has expired: log in again.",
  "error.not_found.one": "No {what} {reference} exists, or you may not see it.",
  "error.not_found.many": "No {what} {reference} exist, or you may not see them.",
  "error.service_unavailable": "The database is not answering; try again in a moment.",
  "error.internal": "Internal error. It has been logged; quote the requestId to support.",

  // Nouns NOT_FOUND names (src/errors.ts ObjectDescription).
  "object.domain": "domain",
  "object.account": "account",
  "object.alias": "alias",
  "object.alias_domain": "alias domain",

  // REST problem titles (src/rest/problem.ts).
  "problem.UNAUTHENTICATED": "Not authenticated",
  "problem.FORBIDDEN": "Forbidden",
  "problem.NOT_FOUND": "Not found",
  "problem.BAD_USER_INPUT": "Bad input",
  "problem.CONFLICT": "Conflict",
  "problem.QUOTA_EXCEEDED": "Quota exceeded",
  "problem.RATE_LIMITED": "Too many requests",
  "problem.SERVICE_UNAVAILABLE": "Service unavailable",
  "problem.INTERNAL_SERVER_ERROR": "Internal error",

  // src/auth/policy.ts: why a request is not authenticated.
  "auth.failure.missing": "You are not logged in: call login and send its token as 'Authorization: Bearer <token>'.",
  "auth.failure.expired": "Your session has expired: log in again.",
  "auth.failure.invalid": "The token sent is not valid: log in again.",
  "auth.failure.revoked": "This token was revoked by a password or administrator change: log in again.",
  "auth.failure.suspended": "This account or its domain is suspended: ask support.",
  "auth.failure.disabled": "This support account is disabled: ask a support administrator to enable it.",
  "auth.failure.session_ended": "This session was ended (endSession or endAllSessions): log in again.",
  "auth.failure.api_token_invalid": "The API token sent is not known: check that it was copied whole (mat_ and 56 more characters).",
  "auth.failure.api_token_expired": "This API token has expired: create a new one (createApiToken).",
  "auth.failure.api_token_revoked": "This API token was revoked: create a new one (createApiToken).",
  "auth.failure.api_token_creator_gone":
    "This API token no longer works: whoever created it is no longer the domain's administrator (or no longer exists). Ask the domain's administrator or support for a new token.",

  // src/shared/validation.ts
  "input.too_long": "{field} is too long (at most {max} characters).",
  "input.control_characters": "{field} contains control characters.",
  "input.lone_surrogate": "{field} is not valid Unicode text (it holds a lone surrogate).",
  "input.domain_name": '"{input}" is not a valid domain name: use letters, digits and hyphens in dot-separated labels, such as example.com.',
  "input.local_part": '"{input}" is not a valid mailbox name: use 1 to 64 letters, digits and . _ - + (no leading, trailing or double dots).',
  "input.address": '"{input}" is not an e-mail address such as user@example.com.',
  "input.quota": "{field} must be a whole number of MiB, 0 or more (got {value}).",
  "input.max_accounts": "{field} must be at least 1: the domain's administrator is an account too (got {value}).",
  "input.password_short": "{field} must be at least 10 characters long.",
  "input.password_long": "{field} is too long: at most 72 bytes (72 ASCII characters, fewer with accents or CJK).",
  "input.password_nul": "{field} contains a NUL character.",
  "input.cursor": "{field} is not a cursor returned by this API.",
  "input.id": "{field} is not a valid id.",
  "input.page_size": "{field} must be between 1 and 100 (got {value}).",

  // src/i18n (the language preference itself)
  "language.account_only": "Only a logged-in support admin or account has a saved language.",
} as const;
