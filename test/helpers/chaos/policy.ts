// Who may do what, in the chaos model: written from docs/authorization.md
// ("Who may do what"), not imported from src/auth/policy.ts, so that a wrong
// rule there shows as a wrong answer here. test/chaos/chaos-policy.test.ts
// holds the two to the same answers for every role and target.
//
// Each action names who may do it and who may see the object it concerns:
// a caller who may not act but may see gets FORBIDDEN, one who may not even
// see gets NOT_FOUND (another domain's objects do not exist for it).
import type { Action } from "../../../src/auth/policy";
import type { Principal } from "./model";

/** What an action is about: the domain it touches and, for account actions, the account. */
export interface Target {
  domainId?: string;
  accountId?: string;
}

type Rule = (principal: Principal, target: Target) => boolean;

export const isSupport: Rule = (p) => p.role === "SUPPORT_ADMIN";
export const isAdminOf: Rule = (p, t) => p.kind === "account" && p.role === "DOMAIN_ADMIN" && p.domainId === t.domainId;
export const isMemberOf: Rule = (p, t) => p.kind === "account" && p.domainId === t.domainId;
const isSelf: Rule = (p, t) => p.kind === "account" && p.id === t.accountId;
const anyone: Rule = () => true;
const anyOf =
  (...rules: Rule[]): Rule =>
  (p, t) =>
    rules.some((rule) => rule(p, t));

const supportOrMember = anyOf(isSupport, isMemberOf);
const supportOrAdmin = anyOf(isSupport, isAdminOf);
const supportAdminOrSelf = anyOf(isSupport, isAdminOf, isSelf);

/** The actions the chaos run sends, as the table of docs/authorization.md gives them. */
export const MODEL_POLICY = {
  // "create / update / delete domains, reassignDomainAdmin": support only.
  "domain.create": { allow: isSupport, see: anyone },
  "domain.update": { allow: isSupport, see: supportOrMember },
  "domain.delete": { allow: isSupport, see: supportOrMember },
  "domain.reassign_admin": { allow: isSupport, see: supportOrMember },
  // "read a domain": any, its own, its own.
  "domain.read": { allow: supportOrMember, see: supportOrMember },
  // "list a domain's accounts": any, its own, FORBIDDEN.
  "domain.list_accounts": { allow: supportOrAdmin, see: supportOrMember },
  // "create / update / delete accounts, setAccountPassword": any domain, its own domain.
  "account.create": { allow: supportOrAdmin, see: supportOrMember },
  "account.update": { allow: supportOrAdmin, see: supportAdminOrSelf },
  "account.set_password": { allow: supportOrAdmin, see: supportAdminOrSelf },
  "account.delete": { allow: supportOrAdmin, see: supportAdminOrSelf },
  // "set usedMb": support only.
  "account.update_usage": { allow: isSupport, see: supportAdminOrSelf },
  // "read an account": any, its own domain's, itself.
  "account.read": { allow: supportAdminOrSelf, see: supportAdminOrSelf },
  // "auditLog": everything, its own domain's.
  "audit.read": { allow: supportOrAdmin, see: supportOrMember },
} satisfies Partial<Record<Action, { allow: Rule; see: Rule }>>;

export type ModelAction = keyof typeof MODEL_POLICY;

/** null when the principal may act; otherwise the refusal's code. */
export function refusalOf(principal: Principal, action: ModelAction, target: Target): "FORBIDDEN" | "NOT_FOUND" | null {
  const rule = MODEL_POLICY[action];
  if (rule.allow(principal, target)) return null;
  return rule.see(principal, target) ? "FORBIDDEN" : "NOT_FOUND";
}
