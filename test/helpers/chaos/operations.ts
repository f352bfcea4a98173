// The chaos run's operation table: one entry per kind of request, saying
//
//   - the GraphQL document (variables carry every value; nothing is pasted
//     into the text);
//   - how often it is chosen;
//   - the audit actions an acceptance writes;
//   - how to draw its arguments, valid or with one fault at a time (so that
//     the expected code does not depend on the order of the server's
//     checks), and, for those arguments: the fault's code, whether the named
//     object exists, the policy checks the service makes (policy.ts, who may
//     do it), the service's own rules, and how an acceptance changes the
//     model.
//
// `predict` turns an entry's draft into the expected answer, the same way for
// every operation: no principal -> UNAUTHENTICATED; then the argument fault,
// a missing object (NOT_FOUND), the policy's refusal, the service's rules, in
// that order (createDomain asks the policy first).
import jwt from "jsonwebtoken";
import { ModelMismatch, type Actor, type ChaosModel, type ExpectedAudit, type ModelDomain, type Someone, type Status } from "./model";
import { refusalOf, type ModelAction, type Target } from "./policy";

/** What one request's arguments are, and what the model expects of them. */
export interface Draft {
  variables: Record<string, unknown>;
  /** The policy checks the service makes, in order: the action and the object it concerns. */
  authorize?: readonly (readonly [ModelAction, Target])[];
  /** The service asks the policy before it checks the arguments. */
  authorizeFirst?: boolean;
  /** A fault in the arguments: the code the server answers before it looks anything up. */
  fault?: string | null;
  /** false: the object named does not exist (NOT_FOUND, before the policy is asked). */
  found?: boolean;
  /** The service's own rules once the caller may act: a refusal's code, or null. */
  refusal?: () => string | null;
  /** Audit records a refusal writes (only a failed login of someone real does). */
  refusalAudits?: ExpectedAudit[];
  /** Whom an acceptance's audit records name as actor (default: the caller). */
  auditActorId?: string;
  /** Applies an accepted answer to the model and checks its data; returns the audited objects' ids, one per action of the entry's `audit`, or [] when nothing changed. */
  apply?: (data: any) => string[];
}

export interface Operation {
  /** The GraphQL document. */
  document: string;
  /** How often it is chosen against the others, given the model's state. */
  weight: (model: ChaosModel) => number;
  /** Sent without a token (login). */
  anonymous?: boolean;
  /** The audit actions an acceptance writes, in order (none for a read). */
  audit: readonly string[];
  /** Draws the arguments for a request by this actor. */
  draft: (model: ChaosModel, actor: Actor) => Draft;
}

/** The model's answer to one request, computed before it is sent. */
export interface Prediction {
  /** null: accepted; otherwise the refusal's extensions.code. */
  code: string | null;
  /** Whether the caller's role may do this at all (false: an acceptance is a policy violation). */
  permitted: boolean;
  /** Audit records the refusal writes. */
  refusalAudits?: ExpectedAudit[];
  /** Applies an accepted answer to the model, checks its data, and names the audit records it must have written. */
  accept?: (data: any) => ExpectedAudit[];
}

const MAX_WRONG_LOGINS_PER_IDENTIFIER = 500;

/** The id of the principal acting, when the actor is someone (the model asks only once it is a valid principal). */
const isCaller = (actor: Actor, id: string) => (actor.kind === "support" || actor.kind === "account") && actor.id === id;

/** One fault of a list, drawn with the given probability (null: a valid request). */
function fault<T extends string>(model: ChaosModel, probability: number, faults: readonly T[]): T | null {
  return model.random.chance(probability) ? model.random.pick(faults) : null;
}

/** A login of someone the model knows, with their password or a wrong one. */
export function loginDraft(model: ChaosModel, someone: Someone, password: "right" | "wrong"): Draft {
  const known = model.record(someone);
  if (!known) throw new Error("login for a principal the model does not know");
  const { record, loginName } = known;
  const wrong = password === "wrong" && (model.wrongLogins.get(loginName) ?? 0) < MAX_WRONG_LOGINS_PER_IDENTIFIER;
  if (wrong) model.wrongLogins.set(loginName, (model.wrongLogins.get(loginName) ?? 0) + 1);
  return {
    variables: { identifier: model.random.chance(0.2) ? loginName.toUpperCase() : loginName, password: wrong ? `${record.password} but wrong` : record.password },
    fault: wrong ? "UNAUTHENTICATED" : null,
    refusalAudits: wrong ? [{ action: "auth.login_failed", actorId: someone.id, objectId: someone.id }] : undefined,
    refusal: () => ("domainId" in record && (record.status !== "ACTIVE" || model.domains.get(record.domainId)!.status !== "ACTIVE") ? "UNAUTHENTICATED" : null),
    auditActorId: someone.id,
    apply: (data) => {
      const token = data?.login?.token;
      if (typeof token !== "string") throw new ModelMismatch("login answered without a token");
      model.held.set(someone.id, { token, version: record.tokenVersion });
      model.wrongLogins.delete(loginName);
      return [someone.id];
    },
  };
}

/** A token that is not the server's: signed with another secret, or not a JWT at all. */
export function forgedToken(model: ChaosModel): string {
  return model.random.chance(0.5)
    ? jwt.sign({ kind: "support", ver: 0 }, "a secret the server does not have, long enough", {
        subject: model.random.pick([...model.supports.keys()]),
        issuer: "mailadmin",
        audience: "mailadmin-api",
        expiresIn: 3600,
      })
    : `not.a.token${model.random.int(1000)}`;
}

const createDomainFaults = ["badName", "negativeQuota", "noAccounts", "defaultAboveQuota", "adminAboveQuota", "shortPassword", "duplicate"] as const;

const TABLE = {
  login: {
    document: `mutation($identifier: String!, $password: String!) { login(identifier: $identifier, password: $password) { token principal { __typename role loginName } } }`,
    weight: () => 4,
    anonymous: true,
    audit: ["auth.login"],
    draft: (model) => {
      const variant = model.random.weighted([
        ["right", 4],
        ["wrong", 3],
        ["unknown", 2],
        ["malformed", 1],
      ] as const);
      if (variant === "right" || variant === "wrong") {
        const pool: Someone[] = [
          ...[...model.supports.keys()].map((id) => ({ kind: "support" as const, id })),
          ...[...model.accounts.keys()].map((id) => ({ kind: "account" as const, id })),
        ];
        return loginDraft(model, model.random.pick(pool), variant);
      }
      const identifier = variant === "unknown" ? `nobody${model.random.int(1e9)}@${model.label}.chaos.example` : `not an address @@ ${model.random.int(1000)}`;
      return { variables: { identifier, password: model.password() }, fault: "UNAUTHENTICATED" };
    },
  },

  createDomain: {
    document: `mutation($input: CreateDomainInput!) { createDomain(input: $input) { domain { id name status quotaMb maxAccounts defaultMailboxQuotaMb } admin { id address quotaMb } } }`,
    weight: (model) => (model.domains.size < 3 ? 20 : model.domains.size > 10 ? 1 : 6),
    audit: ["domain.create", "account.create"],
    draft: (model) => {
      const { random } = model;
      const name = `d${++model.domainCounter}${model.domainSuffix}`;
      const givesDefault = random.chance(0.7);
      const defaultMailboxQuotaMb = random.pick([100, 200, 500]);
      const input: Record<string, unknown> = {
        name,
        quotaMb: random.pick([null, 1000, 2000, 5000]),
        maxAccounts: random.pick([null, 2, 3, 5, 8]),
        adminQuotaMb: random.pick([0, 0, 50]),
        adminPassword: model.password(),
        status: random.chance(0.1) ? "SUSPENDED" : "ACTIVE",
        ...(givesDefault ? { defaultMailboxQuotaMb } : {}),
      };
      const faults: Record<(typeof createDomainFaults)[number], () => string | null> = {
        badName: () => ((input.name = `bad_name!${model.domainSuffix}`), "BAD_USER_INPUT"),
        negativeQuota: () => ((input.quotaMb = -5), "BAD_USER_INPUT"),
        noAccounts: () => ((input.maxAccounts = 0), "BAD_USER_INPUT"),
        defaultAboveQuota: () => (Object.assign(input, { quotaMb: 300, defaultMailboxQuotaMb: 500, adminQuotaMb: 0 }), "QUOTA_EXCEEDED"),
        adminAboveQuota: () => (Object.assign(input, { quotaMb: 1000, defaultMailboxQuotaMb: 100, adminQuotaMb: 1500 }), "QUOTA_EXCEEDED"),
        shortPassword: () => ((input.adminPassword = "short"), "BAD_USER_INPUT"),
        duplicate: () => (model.domains.size > 0 ? ((input.name = random.pick([...model.domains.values()]).name), "CONFLICT") : null),
      };
      const chosen = fault(model, 0.3, createDomainFaults);
      const quota = () => input.quotaMb as number | null;
      const effectiveDefault = () => (input.defaultMailboxQuotaMb as number | undefined) ?? Math.min(model.defaultMailboxQuotaMb, quota() ?? Number.MAX_SAFE_INTEGER);
      return {
        variables: { input },
        authorize: [["domain.create", {}]],
        authorizeFirst: true,
        fault: chosen ? faults[chosen]() : null,
        refusal: () => (quota() !== null && effectiveDefault() > quota()! ? "QUOTA_EXCEEDED" : null),
        apply: (data) => {
          const { domain, admin } = data.createDomain;
          if (domain.defaultMailboxQuotaMb !== effectiveDefault()) throw new ModelMismatch(`default mailbox quota ${domain.defaultMailboxQuotaMb}, expected ${effectiveDefault()}`);
          model.domains.set(domain.id, {
            id: domain.id,
            name,
            status: input.status as Status,
            isTestDomain: false,
            quotaMb: quota(),
            maxAccounts: input.maxAccounts as number | null,
            defaultMailboxQuotaMb: effectiveDefault(),
            adminId: admin.id,
          });
          model.addAccount({
            id: admin.id,
            domainId: domain.id,
            localPart: "admin",
            displayName: `Administrator of ${name}`,
            status: "ACTIVE",
            quotaMb: input.adminQuotaMb as number,
            password: input.adminPassword as string,
          });
          return [domain.id, admin.id];
        },
      };
    },
  },

  updateDomain: {
    document: `mutation($id: ID!, $input: UpdateDomainInput!) { updateDomain(id: $id, input: $input) { domain { id status quotaMb maxAccounts defaultMailboxQuotaMb isTestDomain } } }`,
    weight: () => 9,
    audit: ["domain.update"],
    draft: (model, actor) => {
      const { random } = model;
      const id = random.chance(0.04) ? "" : model.targetDomainId(actor);
      const usage = model.usage(id);
      const input: Record<string, unknown> = {};
      if (random.chance(0.35)) input.status = random.pick(["ACTIVE", "SUSPENDED", "ACTIVE"]);
      if (random.chance(0.4)) input.quotaMb = random.chance(0.2) ? null : Math.max(0, usage.allocated + random.pick([-100, -1, 0, 50, 500, 3000]));
      if (random.chance(0.3)) input.maxAccounts = random.chance(0.2) ? null : Math.max(1, usage.count + random.pick([-1, 0, 1, 3]));
      if (random.chance(0.25)) input.defaultMailboxQuotaMb = random.pick([0, 100, 200, 800]);
      if (random.chance(0.15)) input.isTestDomain = random.chance(0.5);
      const chosen = fault(model, 0.15, ["negativeQuota", "zeroAccounts", "nullStatus"] as const);
      if (chosen) Object.assign(input, { negativeQuota: { quotaMb: -1 }, zeroAccounts: { maxAccounts: 0 }, nullStatus: { status: null } }[chosen]);
      const current = model.domains.get(id);
      const after = (domain: ModelDomain): ModelDomain => ({
        ...domain,
        status: (input.status as Status | undefined) ?? domain.status,
        isTestDomain: (input.isTestDomain as boolean | undefined) ?? domain.isTestDomain,
        quotaMb: "quotaMb" in input ? (input.quotaMb as number | null) : domain.quotaMb,
        maxAccounts: "maxAccounts" in input ? (input.maxAccounts as number | null) : domain.maxAccounts,
        defaultMailboxQuotaMb: (input.defaultMailboxQuotaMb as number | undefined) ?? domain.defaultMailboxQuotaMb,
      });
      return {
        variables: { id, input },
        authorize: [["domain.update", { domainId: id }]],
        fault: id === "" || chosen ? "BAD_USER_INPUT" : null,
        found: current !== undefined,
        refusal: () => {
          const { quotaMb, maxAccounts, defaultMailboxQuotaMb } = after(current!);
          const now = model.usage(id);
          if (quotaMb !== null && (now.allocated > quotaMb || defaultMailboxQuotaMb > quotaMb)) return "QUOTA_EXCEEDED";
          return maxAccounts !== null && now.count > maxAccounts ? "CONFLICT" : null;
        },
        apply: () => {
          const updated = after(current!);
          model.domains.set(id, updated);
          const changed = (["status", "isTestDomain", "quotaMb", "maxAccounts", "defaultMailboxQuotaMb"] as const).some((field) => updated[field] !== current![field]);
          return changed ? [id] : [];
        },
      };
    },
  },

  deleteDomain: {
    document: `mutation($id: ID!, $force: Boolean) { deleteDomain(id: $id, force: $force) { deletedDomainId deletedAccountCount } }`,
    weight: (model) => (model.domains.size > 10 ? 8 : 2),
    audit: ["domain.delete"],
    draft: (model, actor) => {
      const id = model.random.chance(0.04) ? "" : model.targetDomainId(actor);
      const force = model.random.chance(0.6);
      const current = model.domains.get(id);
      return {
        variables: { id, force },
        authorize: [["domain.delete", { domainId: id }]],
        fault: id === "" ? "BAD_USER_INPUT" : null,
        found: current !== undefined,
        refusal: () => (!force && model.accountsOf(id).some((account) => account.id !== current!.adminId) ? "CONFLICT" : null),
        apply: (data) => {
          const expectedCount = model.accountsOf(id).length;
          if (data.deleteDomain.deletedAccountCount !== expectedCount)
            throw new ModelMismatch(`deletedAccountCount ${data.deleteDomain.deletedAccountCount}, model ${expectedCount}`);
          model.removeDomain(id);
          return [id];
        },
      };
    },
  },

  reassignDomainAdmin: {
    document: `mutation($domainId: ID!, $accountId: ID!) { reassignDomainAdmin(domainId: $domainId, accountId: $accountId) { admin { id } previousAdmin { id } } }`,
    weight: () => 6,
    audit: ["domain.reassign_admin"],
    draft: (model, actor) => {
      const { random } = model;
      const domainId = model.targetDomainId(actor);
      const candidates = model.accountsOf(domainId);
      const variant = random.weighted([
        ["ownDomain", 7],
        ["otherDomain", 1],
        ["unknownAccount", 1],
      ] as const);
      let accountId: string;
      if (variant === "ownDomain" && candidates.length > 0) accountId = random.pick(candidates).id;
      else if (variant === "unknownAccount" || model.accounts.size === 0) accountId = model.unknownId();
      else accountId = random.pick([...model.accounts.keys()]);
      const domain = model.domains.get(domainId);
      const account = model.accounts.get(accountId);
      return {
        variables: { domainId, accountId },
        authorize: [["domain.reassign_admin", { domainId }]],
        found: domain !== undefined,
        refusal: () => {
          if (!account) return "NOT_FOUND";
          if (account.domainId !== domainId) return "BAD_USER_INPUT";
          // Already the administrator: accepted, nothing changes.
          return domain!.adminId !== accountId && account.status !== "ACTIVE" ? "CONFLICT" : null;
        },
        apply: () => {
          if (domain!.adminId === accountId) return [];
          model.accounts.get(domain!.adminId)!.tokenVersion++;
          domain!.adminId = accountId;
          return [domainId];
        },
      };
    },
  },

  createAccount: {
    document: `mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id address status quotaMb usedMb } } }`,
    weight: () => 16,
    audit: ["account.create"],
    draft: (model, actor) => {
      const { random } = model;
      const domainId = random.chance(0.03) ? "" : model.targetDomainId(actor);
      const domain = model.domains.get(domainId);
      let localPart = `u${++model.accountCounter}`;
      const quotaMb = random.chance(0.25) ? null : random.pick([0, 50, 100, 300, 600, 1200]);
      const status = random.chance(0.1) ? "SUSPENDED" : "ACTIVE";
      let password = model.password();
      const chosen = fault(model, 0.2, ["badLocalPart", "shortPassword", "negativeQuota", "duplicate"] as const);
      if (chosen === "badLocalPart") localPart = random.pick(["bad local", "..", "a@b", ""]);
      if (chosen === "shortPassword") password = "short";
      if (chosen === "duplicate" && domain) localPart = random.pick(model.accountsOf(domainId)).localPart;
      const input: Record<string, unknown> = { domainId, localPart, password, status, ...(chosen === "negativeQuota" ? { quotaMb: -10 } : quotaMb === null ? {} : { quotaMb }) };
      const effectiveQuota = () => quotaMb ?? domain!.defaultMailboxQuotaMb;
      return {
        variables: { input },
        authorize: [["account.create", { domainId }]],
        fault: domainId === "" || chosen === "badLocalPart" || chosen === "shortPassword" || chosen === "negativeQuota" ? "BAD_USER_INPUT" : null,
        found: domain !== undefined,
        refusal: () => {
          if (domain!.maxAccounts !== null && model.usage(domainId).count >= domain!.maxAccounts) return "QUOTA_EXCEEDED";
          return model.quotaRefusal(domain!, effectiveQuota()) ?? (model.accountsOf(domainId).some((account) => account.localPart === localPart) ? "CONFLICT" : null);
        },
        apply: (data) => {
          const created = data.createAccount.account;
          if (created.quotaMb !== effectiveQuota()) throw new ModelMismatch(`created with quota ${created.quotaMb}, expected ${effectiveQuota()}`);
          model.addAccount({ id: created.id, domainId, localPart, status, quotaMb: effectiveQuota(), password });
          return [created.id];
        },
      };
    },
  },

  updateAccount: {
    document: `mutation($id: ID!, $input: UpdateAccountInput!) { updateAccount(id: $id, input: $input) { account { id status quotaMb usedMb } } }`,
    weight: () => 14,
    audit: ["account.update"],
    draft: (model, actor) => {
      const { random } = model;
      const id = random.chance(0.03) ? "" : model.targetAccountId(actor);
      const input: Record<string, unknown> = {};
      if (random.chance(0.5)) input.quotaMb = random.pick([0, 50, 100, 300, 600, 1200, 6000]);
      if (random.chance(0.3)) input.status = random.pick(["ACTIVE", "SUSPENDED", "ACTIVE"]);
      if (random.chance(0.2)) input.usedMb = random.pick([0, 10, 400, 2000]);
      if (random.chance(0.2)) input.displayName = `Name ${random.int(100)}`;
      const chosen = fault(model, 0.1, ["negativeQuota", "nullStatus"] as const);
      if (chosen) Object.assign(input, { negativeQuota: { quotaMb: -1 }, nullStatus: { status: null } }[chosen]);
      const account = model.accounts.get(id);
      const target = { domainId: account?.domainId, accountId: id };
      return {
        variables: { id, input },
        authorize: [["account.update", target], ...(input.usedMb !== undefined ? [["account.update_usage", target] as const] : [])],
        fault: id === "" || chosen ? "BAD_USER_INPUT" : null,
        found: account !== undefined,
        refusal: () => {
          if (input.status === "SUSPENDED" && isCaller(actor, id)) return "FORBIDDEN";
          return input.quotaMb !== undefined ? model.quotaRefusal(model.domains.get(account!.domainId)!, input.quotaMb as number, id) : null;
        },
        apply: () => {
          const before = { ...account! };
          Object.assign(account!, input);
          const changed = (["quotaMb", "status", "usedMb", "displayName"] as const).some((field) => before[field] !== account![field]);
          return changed ? [id] : [];
        },
      };
    },
  },

  setAccountPassword: {
    document: `mutation($id: ID!, $password: String!) { setAccountPassword(id: $id, password: $password) { account { id } } }`,
    weight: () => 4,
    audit: ["account.set_password"],
    draft: (model, actor) => {
      const id = model.random.chance(0.03) ? "" : model.targetAccountId(actor);
      const tooShort = model.random.chance(0.1);
      const password = tooShort ? "short" : model.password();
      const account = model.accounts.get(id);
      return {
        variables: { id, password },
        authorize: [["account.set_password", { domainId: account?.domainId, accountId: id }]],
        fault: id === "" || tooShort ? "BAD_USER_INPUT" : null,
        found: account !== undefined,
        apply: () => {
          account!.password = password;
          account!.tokenVersion++;
          return [id];
        },
      };
    },
  },

  deleteAccount: {
    document: `mutation($id: ID!) { deleteAccount(id: $id) { deletedAccountId } }`,
    weight: () => 8,
    audit: ["account.delete"],
    draft: (model, actor) => {
      const id = model.random.chance(0.03) ? "" : model.targetAccountId(actor);
      const account = model.accounts.get(id);
      return {
        variables: { id },
        authorize: [["account.delete", { domainId: account?.domainId, accountId: id }]],
        fault: id === "" ? "BAD_USER_INPUT" : null,
        found: account !== undefined,
        // A domain's administrator is deleted with its domain, or after a reassignment.
        refusal: () => (model.domains.get(account!.domainId)!.adminId === id ? "CONFLICT" : null),
        apply: () => {
          model.accounts.delete(id);
          return [id];
        },
      };
    },
  },

  changePassword: {
    document: `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { token } }`,
    weight: () => 3,
    audit: ["auth.change_password"],
    draft: (model, actor) => {
      const wrongCurrent = model.random.chance(0.2);
      const tooShort = model.random.chance(0.1);
      const next = tooShort ? "short" : model.password();
      const self = actor.kind === "support" || actor.kind === "account" ? model.record(actor)?.record : undefined;
      return {
        variables: { current: wrongCurrent || !self ? "not the current password" : self.password, next },
        fault: tooShort || wrongCurrent ? "BAD_USER_INPUT" : null,
        apply: (data) => {
          self!.password = next;
          self!.tokenVersion++;
          model.held.set(self!.id, { token: data.changePassword.token, version: self!.tokenVersion });
          return [self!.id];
        },
      };
    },
  },

  // Reads: what a caller may see, and that it sees exactly that.

  readDomain: {
    document: `query($id: ID) { domain(id: $id) { id name } }`,
    weight: () => 4,
    audit: [],
    draft: (model, actor) => {
      const id = model.targetDomainId(actor);
      const domain = model.domains.get(id);
      return {
        variables: { id },
        authorize: [["domain.read", { domainId: id }]],
        found: domain !== undefined,
        apply: (data) => {
          if (data.domain?.name !== domain!.name) throw new ModelMismatch(`domain ${id} read as ${JSON.stringify(data.domain)}`);
          return [];
        },
      };
    },
  },

  readAccount: {
    document: `query($id: ID) { account(id: $id) { id address } }`,
    weight: () => 4,
    audit: [],
    draft: (model, actor) => {
      const id = model.targetAccountId(actor);
      const account = model.accounts.get(id);
      return {
        variables: { id },
        authorize: [["account.read", { domainId: account?.domainId, accountId: id }]],
        found: account !== undefined,
        apply: (data) => {
          if (data.account?.address !== account!.address) throw new ModelMismatch(`account ${id} read as ${JSON.stringify(data.account)}`);
          return [];
        },
      };
    },
  },

  listDomains: {
    document: `query($search: String) { domains(search: $search, first: 100) { totalCount nodes { id } } }`,
    weight: () => 3,
    audit: [],
    draft: (model, actor) => ({
      variables: { search: model.label },
      apply: (data) => {
        const principal = model.principalOf(actor)!;
        const visible = [...model.domains.keys()].filter((domainId) => refusalOf(principal, "domain.read", { domainId }) === null).sort();
        const listed = (data.domains.nodes as { id: string }[]).map((node) => node.id).sort();
        // More than 100 domains never exist in a run (deletions outweigh creations past 10).
        if (JSON.stringify(listed) !== JSON.stringify(visible)) throw new ModelMismatch(`domains listed ${listed.length}, visible to the caller ${visible.length}`);
        return [];
      },
    }),
  },

  listAccounts: {
    document: `query($id: ID) { domain(id: $id) { id accounts(first: 100) { totalCount nodes { id } } } }`,
    weight: () => 3,
    audit: [],
    draft: (model, actor) => {
      const id = model.targetDomainId(actor);
      return {
        variables: { id },
        authorize: [["domain.list_accounts", { domainId: id }]],
        found: model.domains.has(id),
        apply: (data) => {
          const expected = model
            .accountsOf(id)
            .map((account) => account.id)
            .sort();
          const listed = (data.domain.accounts.nodes as { id: string }[]).map((node) => node.id).sort();
          if (JSON.stringify(listed) !== JSON.stringify(expected)) throw new ModelMismatch(`accounts listed ${listed.length}, model ${expected.length}`);
          return [];
        },
      };
    },
  },

  readAuditLog: {
    document: `query($domainId: ID) { auditLog(domainId: $domainId, first: 1) { totalCount } }`,
    weight: () => 2,
    audit: [],
    // No lookup first: an unknown domain is NOT_FOUND for an administrator (not its own), an empty log for support.
    draft: (model, actor) => {
      const domainId = model.targetDomainId(actor);
      return { variables: { domainId }, authorize: [["audit.read", { domainId }]] };
    },
  },
} satisfies Record<string, Operation>;

export type OperationName = keyof typeof TABLE;
export const OPERATIONS: Record<OperationName, Operation> = TABLE;

/** The expected answer to a draft: the same steps for every operation. */
export function predict(model: ChaosModel, operation: Operation, draft: Draft, actor: Actor): Prediction {
  const principal = operation.anonymous ? null : model.principalOf(actor);
  if (!operation.anonymous && !principal) return { code: "UNAUTHENTICATED", permitted: false };
  const policyRefusals = principal ? (draft.authorize ?? []).map(([action, target]) => refusalOf(principal, action, target)) : [];
  const permitted = policyRefusals.every((code) => code === null);
  const policyRefusal = policyRefusals.find((code) => code !== null) ?? null;
  const refuse = (code: string): Prediction => ({ code, permitted, refusalAudits: draft.refusalAudits });
  if (draft.authorizeFirst && policyRefusal) return refuse(policyRefusal);
  if (draft.fault) return refuse(draft.fault);
  if (draft.found === false) return refuse("NOT_FOUND");
  if (policyRefusal) return refuse(policyRefusal);
  const ruled = draft.refusal?.() ?? null;
  if (ruled) return refuse(ruled);
  return {
    code: null,
    permitted,
    accept: (data) => {
      const objects = draft.apply?.(data) ?? [];
      if (objects.length === 0) return [];
      if (objects.length !== operation.audit.length) throw new Error(`the model names ${objects.length} audited objects for ${operation.audit.join(", ")}`);
      const actorId = draft.auditActorId ?? principal?.id ?? null;
      return operation.audit.map((action, index) => ({ action, actorId, objectId: objects[index]! }));
    },
  };
}
