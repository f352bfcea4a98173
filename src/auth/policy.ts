// The policy table: who may do what to which object. Services ask
// `authorize`; it answers whether the caller may act, may only see the
// object (FORBIDDEN), or may not even see it (NOT_FOUND, so that another
// domain's objects are indistinguishable from missing ones).
import { ForbiddenError, NotFoundError, UnauthenticatedError, type ObjectDescription } from "../errors";
import type { AuthFailure, Authentication, Principal } from "./principal";
import { message, type Message } from "../i18n/messages";

/** What an action is about: the domain it touches and, for account actions, the account. */
export interface Target {
  domainId?: string;
  accountId?: string;
}

type Rule = (principal: Principal, target: Target) => boolean;

/** Full support staff: may change anything support may change. */
const isSupport: Rule = (p) => p.role === "SUPPORT_ADMIN";
/** Any support staff, read-only included: may read and check (DNS, probes, diagnosis) everything, change nothing. */
const isAnySupport: Rule = (p) => p.kind === "support";
const isAdminOfTargetDomain: Rule = (p, t) => p.kind === "account" && p.role === "DOMAIN_ADMIN" && p.domainId === t.domainId;
const isTargetAccount: Rule = (p, t) => p.kind === "account" && t.accountId !== undefined && p.id === t.accountId;
const isMemberOfTargetDomain: Rule = (p, t) => p.kind === "account" && p.domainId === t.domainId;
const anyOf =
  (...rules: Rule[]): Rule =>
  (p, t) =>
    rules.some((rule) => rule(p, t));

export type Action =
  | "domain.create"
  | "domain.read"
  | "domain.update"
  | "domain.delete"
  | "domain.reassign_admin"
  | "domain.list_accounts"
  | "account.create"
  | "account.read"
  | "account.update"
  | "account.update_usage"
  | "account.set_password"
  | "account.delete"
  | "account.set_forwarding"
  | "account.set_auto_reply"
  | "alias.read"
  | "alias.manage"
  | "domain.set_catch_all"
  | "domain.manage_alias_domains"
  | "audit.read"
  | "dns.check"
  | "dkim.read"
  | "dkim.manage"
  | "dkim.force_confirm"
  | "dns.check_all"
  | "maillog.read"
  | "maillog.ingest"
  | "maillog.rejected"
  | "usage.report"
  | "probe.hosted"
  | "probe.remote"
  | "delivery.diagnose"
  | "api_token.create"
  | "api_token.read"
  | "api_token.revoke"
  | "test_message.send"
  | "test_message.read"
  | "test_mailbox.read"
  | "test_mailbox.empty"
  | "support_admin.read"
  | "support_admin.manage"
  | "totp.reset"
  | "session.read"
  | "session.end_all"
  | "app_password.read"
  | "app_password.manage";

/** [who may do it, who may see the object it concerns] */
const policy: Record<Action, { allow: Rule; see: Rule; deniedMessage: Message | null }> = {
  "domain.create": { allow: isSupport, see: () => true, deniedMessage: message("policy.domain.create") },
  "domain.read": { allow: anyOf(isAnySupport, isMemberOfTargetDomain), see: anyOf(isAnySupport, isMemberOfTargetDomain), deniedMessage: null },
  "domain.update": {
    allow: isSupport,
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.domain.update"),
  },
  "domain.delete": { allow: isSupport, see: anyOf(isAnySupport, isMemberOfTargetDomain), deniedMessage: message("policy.domain.delete") },
  "domain.reassign_admin": {
    allow: isSupport,
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.domain.reassign_admin"),
  },
  "dkim.read": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.dkim.read"),
  },
  "dkim.manage": {
    allow: anyOf(isSupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.dkim.manage"),
  },
  "dkim.force_confirm": {
    allow: isSupport,
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.dkim.force_confirm"),
  },
  "domain.list_accounts": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.domain.list_accounts"),
  },
  "account.create": {
    allow: anyOf(isSupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.account.create"),
  },
  "account.read": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: null,
  },
  "account.update": {
    allow: anyOf(isSupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.account.update"),
  },
  "account.update_usage": {
    allow: isSupport,
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.account.update_usage"),
  },
  "account.set_password": {
    allow: anyOf(isSupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.account.set_password"),
  },
  "account.delete": {
    allow: anyOf(isSupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.account.delete"),
  },
  // A user may forward its own mail (or stop doing so); its domain's administrator and support may too.
  "account.set_forwarding": {
    allow: anyOf(isSupport, isAdminOfTargetDomain, isTargetAccount),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: null,
  },
  "account.set_auto_reply": {
    allow: anyOf(isSupport, isAdminOfTargetDomain, isTargetAccount),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: null,
  },
  "alias.read": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.alias.read"),
  },
  "alias.manage": {
    allow: anyOf(isSupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.alias.manage"),
  },
  "domain.set_catch_all": {
    allow: anyOf(isSupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.domain.set_catch_all"),
  },
  // Adding a name to the service is like creating a domain: support's.
  "domain.manage_alias_domains": {
    allow: isSupport,
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.domain.manage_alias_domains"),
  },
  "maillog.read": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: null,
  },
  // A log shipper's service token is an API token with the LOGS scope created by support staff: its principal is support.
  "maillog.ingest": {
    allow: isSupport,
    see: () => true,
    deniedMessage: message("policy.maillog.ingest"),
  },
  // Usage is the mail store's number: a customer (a domain administrator) must
  // not be able to type its own in, whatever its token's scopes. The service's
  // foreign stores push with an API token with the USAGE scope created by support staff.
  "usage.report": {
    allow: isSupport,
    see: () => true,
    deniedMessage: message("policy.usage.report"),
  },
  "maillog.rejected": { allow: isAnySupport, see: () => true, deniedMessage: message("policy.maillog.rejected") },
  "dns.check": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.dns.check"),
  },
  "probe.hosted": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.probe.hosted"),
  },
  "probe.remote": { allow: isAnySupport, see: () => true, deniedMessage: message("policy.probe.remote") },
  "delivery.diagnose": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: null,
  },
  "dns.check_all": { allow: isAnySupport, see: () => true, deniedMessage: message("policy.dns.check_all") },
  // A domain administrator's tokens are its domain's (target: the token's domain); support tokens have no domain, so only support sees them.
  "api_token.create": {
    allow: anyOf(isSupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.api_token.create"),
  },
  "api_token.read": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.api_token.read"),
  },
  "api_token.revoke": { allow: anyOf(isSupport, isAdminOfTargetDomain), see: anyOf(isAnySupport, isAdminOfTargetDomain), deniedMessage: null },
  // The support test domain is support's own (docs/test-domain.md): nobody else sends test messages or reads their results.
  "test_message.send": { allow: isSupport, see: () => true, deniedMessage: message("policy.test_message.send") },
  "test_message.read": { allow: isAnySupport, see: isAnySupport, deniedMessage: null },
  "test_mailbox.read": {
    allow: isAnySupport,
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.test_mailbox.read"),
  },
  "test_mailbox.empty": {
    allow: isSupport,
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.test_mailbox.empty"),
  },
  "support_admin.read": { allow: isAnySupport, see: () => true, deniedMessage: message("policy.support_admin.read") },
  "support_admin.manage": {
    allow: isSupport,
    see: () => true,
    deniedMessage: message("policy.support_admin.manage"),
  },
  // Target: the principal whose second factor is reset (an account's domainId, or none for support staff).
  "totp.reset": {
    allow: isSupport,
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.totp.reset"),
  },
  // Another principal's sessions: support staff (both levels) read them; to anyone else they do not exist.
  "session.read": { allow: isAnySupport, see: isAnySupport, deniedMessage: null },
  "session.end_all": {
    allow: isSupport,
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.session.end_all"),
  },
  "app_password.read": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: null,
  },
  "app_password.manage": {
    allow: anyOf(isSupport, isAdminOfTargetDomain, isTargetAccount),
    see: anyOf(isAnySupport, isAdminOfTargetDomain, isTargetAccount),
    deniedMessage: message("policy.app_password.manage"),
  },
  "audit.read": {
    allow: anyOf(isAnySupport, isAdminOfTargetDomain),
    see: anyOf(isAnySupport, isMemberOfTargetDomain),
    deniedMessage: message("policy.audit.read"),
  },
};

const READ_ONLY_SUPPORT_MESSAGE = message("policy.read_only_support");

export function can(principal: Principal, action: Action, target: Target = {}): boolean {
  return policy[action].allow(principal, target);
}

/**
 * Throws unless the principal may perform the action. `describe` names the
 * object for the NOT_FOUND message (for example: ["domain", "example.com"]).
 */
export function authorize(principal: Principal, action: Action, target: Target, describe: ObjectDescription): void {
  const rule = policy[action];
  if (rule.allow(principal, target)) return;
  if (!rule.see(principal, target)) throw new NotFoundError(...describe);
  if (principal.role === "SUPPORT_READONLY") throw new ForbiddenError(READ_ONLY_SUPPORT_MESSAGE);
  throw new ForbiddenError(rule.deniedMessage ?? "");
}

const failureMessages: Record<AuthFailure, Message> = {
  missing: message("auth.failure.missing"),
  expired: message("auth.failure.expired"),
  invalid: message("auth.failure.invalid"),
  revoked: message("auth.failure.revoked"),
  suspended: message("auth.failure.suspended"),
  disabled: message("auth.failure.disabled"),
  session_ended: message("auth.failure.session_ended"),
  api_token_invalid: message("auth.failure.api_token_invalid"),
  api_token_expired: message("auth.failure.api_token_expired"),
  api_token_revoked: message("auth.failure.api_token_revoked"),
  api_token_creator_gone: message("auth.failure.api_token_creator_gone"),
};

export function authenticationFailureMessage(failure: AuthFailure): string {
  return failureMessages[failure].in("en");
}

export function requirePrincipal(authentication: Authentication): Principal {
  if (authentication.principal) return authentication.principal;
  throw new UnauthenticatedError(failureMessages[authentication.failure]);
}
