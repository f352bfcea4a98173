// English messages of the REST API's own refusals (see ./index.ts for how the
// catalogues fit together): request validation said the way a support person
// reads it, unknown routes, HTTP errors raised before a handler runs. Problem
// titles of the error codes are in ./core.ts (problem.*); what services refuse
// comes with their AppErrors.
export const rest = {
  // src/rest/problem.ts: request validation (Fastify's ajv). {where} is body, querystring or another part of the request.
  "rest.validation.required": "{where, select, body {} querystring {query parameter } other {path parameter }}{field} is required.",
  "rest.validation.not_a_field":
    "{where, select, body {} querystring {query parameter } other {path parameter }}{field} is not a field of this request: check its spelling against the OpenAPI document ({openapi}).",
  "rest.validation.one_of": "{where, select, body {} querystring {query parameter } other {path parameter }}{field} must be one of {values}.",
  "rest.validation.invalid": "{where, select, body {} querystring {query parameter } other {path parameter }}{field} {reason}.",
  "rest.validation.the_value": "the value",
  "rest.validation.the_body": "the request body",
  "rest.validation.a_parameter": "a parameter",
  "rest.validation.not_valid": "is not valid",

  // src/rest/problem.ts: unknown routes, and HTTP errors Fastify raises itself (their English is Fastify's own).
  "rest.no_route": "No route {method} {path} exists in this API; the routes are listed in {openapi}.",
  "rest.title.405": "Method not allowed",
  "rest.title.406": "Not acceptable",
  "rest.title.413": "Request body too large",
  "rest.title.415": "Unsupported media type",
  "rest.http.FST_ERR_CTP_BODY_TOO_LARGE": "Request body is too large",
  "rest.http.FST_ERR_CTP_INVALID_CONTENT_LENGTH": "Request body size did not match Content-Length",
  "rest.http.FST_ERR_CTP_EMPTY_JSON_BODY": "Body cannot be empty when content-type is set to 'application/json'",
  "rest.http.FST_ERR_CTP_INVALID_JSON_BODY": "Body is not valid JSON but content-type is set to 'application/json'",

  // src/rest/auth.ts, domains.routes.ts, provisioning.ts
  "rest.totp_required": "Two-factor login is compulsory for you and you have not enrolled yet: enrol through the GraphQL API (startTotpEnrollment), then log in again.",
  "rest.no_account_create_first": "There is no account {address}: create it first ({route}).",
  "rest.no_account_give_password": "There is no account {address} yet: give its password to create it.",
} as const;
