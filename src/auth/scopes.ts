// What an API token's scopes let it do. A login token (JWT) is not limited by
// scopes: only requests made with an API token are checked here, on top of the
// role rules of the policy table, which apply to a token as to its creator.
//
//   READ   every query (GraphQL) and GET (REST), except the delivery logs
//   WRITE  every mutation (GraphQL) and PUT/POST/DELETE (REST), except the delivery logs
//   LOGS   the delivery logs: mailLog, Account.mailLog, rejectedLogLines,
//          diagnoseDelivery (it shows log lines), ingestMailLog, and their REST routes
//   USAGE  the usage push of mail stores other than Dovecot (reportMailboxUsage,
//          PUT /api/v1/mailbox-usage), which WRITE does not cover: a store's
//          token should not be able to change anything else
//
// Creating and revoking API tokens, and changing a password, need a login
// session: a token cannot make more tokens or take over its creator's login.
import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { ForbiddenError } from "../errors";
import { message } from "../i18n/messages";
import type { ApiTokenScope } from "./api-tokens";
import type { Principal } from "./principal";

export type ScopeRequirement = ApiTokenScope | "LOGIN_SESSION";

/** GraphQL fields whose requirement is not the default of their root type (Query: READ, Mutation: WRITE). */
export const GRAPHQL_FIELD_SCOPES: Record<string, ScopeRequirement> = {
  "Query.mailLog": "LOGS",
  "Account.mailLog": "LOGS",
  "Query.rejectedLogLines": "LOGS",
  "Query.diagnoseDelivery": "LOGS",
  // The support test domain's results are delivery records and received mail (docs/test-domain.md).
  "Query.testMessage": "LOGS",
  "Account.receivedTestMessages": "LOGS",
  "Mutation.ingestMailLog": "LOGS",
  "Mutation.reportMailboxUsage": "USAGE",
  "Mutation.changePassword": "LOGIN_SESSION",
  "Mutation.setPreferredLanguage": "LOGIN_SESSION",
  "Mutation.createApiToken": "LOGIN_SESSION",
  "Mutation.revokeApiToken": "LOGIN_SESSION",
  "Mutation.startTotpEnrollment": "LOGIN_SESSION",
  "Mutation.confirmTotpEnrollment": "LOGIN_SESSION",
  "Mutation.disableTotp": "LOGIN_SESSION",
  "Mutation.resetTotp": "LOGIN_SESSION",
  "Mutation.endSession": "LOGIN_SESSION",
  "Mutation.endAllSessions": "LOGIN_SESSION",
  "Mutation.createSupportAdmin": "LOGIN_SESSION",
  "Mutation.updateSupportAdmin": "LOGIN_SESSION",
  "Mutation.deleteSupportAdmin": "LOGIN_SESSION",
  "Mutation.createAppPassword": "LOGIN_SESSION",
  "Mutation.revokeAppPassword": "LOGIN_SESSION",
};

/** Throws FORBIDDEN when the request was made with an API token that lacks what `operation` needs. */
export function requireScope(principal: Principal, requirement: ScopeRequirement, operation: string): void {
  const token = principal.apiToken;
  if (!token) return;
  if (requirement === "LOGIN_SESSION") {
    throw new ForbiddenError(message("auth.login_token_only", { operation, prefix: token.prefix }));
  }
  if (!token.scopes.includes(requirement)) {
    throw new ForbiddenError(message("auth.scope.missing", { prefix: token.prefix, name: token.name, scopes: token.scopes.join(", "), operation, requirement }));
  }
}

type FieldResolver = (parent: unknown, args: unknown, context: { authentication: { principal: Principal | null } }, info: unknown) => unknown;

function requirementOf(typeName: string, fieldName: string): ScopeRequirement | undefined {
  const listed = GRAPHQL_FIELD_SCOPES[`${typeName}.${fieldName}`];
  if (listed) return listed;
  if (typeName === "Query") return "READ";
  // login is how a caller without a token gets one.
  if (typeName === "Mutation") return fieldName === "login" || fieldName === "completeLogin" ? undefined : "WRITE";
  return undefined;
}

/**
 * Wraps the root fields (and the listed nested ones) so that a request made
 * with an API token is checked against its scopes before the resolver runs.
 */
export function withTokenScopes<T extends Record<string, unknown>>(resolvers: T): T {
  const wrapped: Record<string, unknown> = { ...resolvers };
  const checkedTypes = new Set(["Query", "Mutation", ...Object.keys(GRAPHQL_FIELD_SCOPES).map((key) => key.split(".")[0]!)]);
  for (const [typeName, fields] of Object.entries(resolvers)) {
    if (!checkedTypes.has(typeName) || typeof fields !== "object" || fields === null) continue;
    const typeFields: Record<string, unknown> = { ...(fields as Record<string, unknown>) };
    for (const [fieldName, resolver] of Object.entries(typeFields)) {
      const requirement = requirementOf(typeName, fieldName);
      if (!requirement || typeof resolver !== "function") continue;
      const resolve = resolver as FieldResolver;
      typeFields[fieldName] = (parent: unknown, args: unknown, context: Parameters<FieldResolver>[2], info: unknown) => {
        const principal = context.authentication.principal;
        if (principal) requireScope(principal, requirement, fieldName);
        return resolve(parent, args, context, info);
      };
    }
    wrapped[typeName] = typeFields;
  }
  return wrapped as T;
}

/** The only root fields a token limited to enrolling in two-factor login may reach. */
export const ENROLLMENT_FIELDS: ReadonlySet<string> = new Set(["startTotpEnrollment", "confirmTotpEnrollment"]);

/**
 * Refuses an operation of a token that may only enrol in two-factor login
 * (compulsory for its principal, which has not enrolled yet) when it reaches
 * anything else; null when it may run.
 */
export function enrollmentOnlyRefusal(operation: OperationDefinitionNode, principal: Principal | null): ForbiddenError | null {
  if (!principal?.enrollOnly) return null;
  const other = operation.selectionSet.selections.find(
    (selection) => selection.kind !== Kind.FIELD || (selection.name.value !== "__typename" && !ENROLLMENT_FIELDS.has(selection.name.value)),
  );
  if (!other) return null;
  return new ForbiddenError(message("auth.totp.enrol_first"));
}

/**
 * What reading an object of each type needs when it is reached below the
 * answer of the operation's root field: objects of the service's data, not
 * the value objects (findings, page info, warnings) that describe them.
 */
export const ENTITY_TYPE_SCOPES: Record<string, ApiTokenScope> = {
  Domain: "READ",
  Account: "READ",
  SupportAdmin: "READ",
  AppPassword: "READ",
  LoginSession: "READ",
  AuditEntry: "READ",
  ApiToken: "READ",
  DnsCheck: "READ",
  AccountImport: "READ",
  MailLogRecord: "LOGS",
  StoredRejectedLogLine: "LOGS",
};

/**
 * The answer of a root field may show the objects it names (a mutation's
 * payload shows what was changed; diagnoseDelivery the account it is about):
 * up to this depth (1 is the root field) the root field's own requirement
 * covers them. Anything reached further down (that account's domain, the
 * domain's other accounts) is a read of its own and needs its scope.
 */
const ROOT_ANSWER_DEPTH = 2;

/**
 * Checks a whole operation against the scopes of the API token it runs with,
 * before any resolver runs: every field reaching an object of the service's
 * data below the root answer needs that object's scope, whichever operation
 * or payload it is reached through (a WRITE-only token cannot read domains
 * through checkDomainsDns, a LOGS-only one cannot read a domain's accounts
 * through diagnoseDelivery). The root fields themselves are checked by
 * withTokenScopes. Returns the refusal, or null.
 */
export function operationScopeRefusal(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, principal: Principal | null): ForbiddenError | null {
  const token = principal?.apiToken;
  if (!token) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return null;
  let refusal: ForbiddenError | null = null;
  // Fragments may be spread many times: each (fragment, type, depth) is walked once.
  const walked = new Set<string>();

  function walk(selectionSet: SelectionSetNode, parentType: GraphQLNamedType, depth: number, path: string): void {
    for (const selection of selectionSet.selections) {
      if (refusal) return;
      if (selection.kind === Kind.FIELD) {
        if (!isObjectType(parentType) && !isInterfaceType(parentType)) continue;
        const field = parentType.getFields()[selection.name.value];
        if (!field) continue;
        const fieldType = getNamedType(field.type);
        const fieldPath = `${path}.${selection.name.value}`;
        const needed = ENTITY_TYPE_SCOPES[fieldType.name];
        if (needed && depth > ROOT_ANSWER_DEPTH && !token!.scopes.includes(needed)) {
          refusal = new ForbiddenError(
            message("auth.scope.missing_for_type", {
              prefix: token!.prefix,
              name: token!.name,
              scopes: token!.scopes.join(", "),
              type: fieldType.name,
              path: fieldPath.slice(1),
              needed,
            }),
          );
          return;
        }
        if (selection.selectionSet) walk(selection.selectionSet, fieldType, depth + 1, fieldPath);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        if (type) walk(selection.selectionSet, type, depth, path);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment) continue;
        const type = schema.getType(fragment.typeCondition.name.value);
        const key = `${fragment.name.value}:${type?.name}:${depth}`;
        if (!type || walked.has(key)) continue;
        walked.add(key);
        walk(fragment.selectionSet, type, depth, path);
      }
    }
  }
  walk(operation.selectionSet, rootType, 1, "");
  return refusal;
}
