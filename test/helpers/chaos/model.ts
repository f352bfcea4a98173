// The chaos run's model of the service: the domains, accounts and support
// staff the run has made, who holds which token, and who is who as the server
// will see it. The operation table (operations.ts) changes it on every
// accepted answer; checks.ts compares it with the database after every step.
import { randomUUID } from "node:crypto";
import type { SeededRandom } from "./random";

export type Status = "ACTIVE" | "SUSPENDED";

export interface ModelDomain {
  id: string;
  name: string;
  status: Status;
  isTestDomain: boolean;
  quotaMb: number | null;
  maxAccounts: number | null;
  defaultMailboxQuotaMb: number;
  adminId: string;
}

export interface ModelAccount {
  id: string;
  domainId: string;
  localPart: string;
  address: string;
  displayName: string;
  status: Status;
  quotaMb: number;
  usedMb: number;
  password: string;
  tokenVersion: number;
}

export interface ModelSupport {
  id: string;
  username: string;
  password: string;
  tokenVersion: number;
}

/** Who is calling, as the server will see it. */
export type Principal = { kind: "support"; id: string; role: "SUPPORT_ADMIN" } | { kind: "account"; id: string; role: "DOMAIN_ADMIN" | "USER"; domainId: string };

/** Who sends a request, with which token. */
export type Actor = { kind: "anonymous" } | { kind: "forged"; token: string } | { kind: "support" | "account"; id: string; token: string };

/** A principal the run can log in as. */
export interface Someone {
  kind: "support" | "account";
  id: string;
}

/** An audit record: what the database must hold after an accepted change. */
export interface ExpectedAudit {
  action: string;
  actorId: string | null;
  objectId: string | null;
}

/** An answer whose data contradicts the model (a read that shows too much or too little, a wrong computed value). */
export class ModelMismatch extends Error {}

export class ChaosModel {
  readonly domains = new Map<string, ModelDomain>();
  readonly accounts = new Map<string, ModelAccount>();
  readonly supports = new Map<string, ModelSupport>();
  /** The newest token held for each principal, with the token version it was issued for. */
  readonly held = new Map<string, { token: string; version: number }>();
  /** Wrong passwords sent per login name (bounded, so that no lockout is ever reached). */
  readonly wrongLogins = new Map<string, number>();
  domainCounter = 0;
  accountCounter = 0;

  constructor(
    readonly random: SeededRandom,
    /** Part of every name the run makes (tests share one database). */
    readonly label: string,
    /** The server's DEFAULT_MAILBOX_QUOTA_MB. */
    readonly defaultMailboxQuotaMb: number,
  ) {}

  /** The domain names of this run end in this. */
  get domainSuffix(): string {
    return `.${this.label}.chaos.example`;
  }

  principalOf(actor: Actor): Principal | null {
    if (actor.kind === "anonymous" || actor.kind === "forged") return null;
    const held = this.held.get(actor.id);
    if (!held || held.token !== actor.token) return null;
    if (actor.kind === "support") {
      const support = this.supports.get(actor.id);
      return support && support.tokenVersion === held.version ? { kind: "support", id: support.id, role: "SUPPORT_ADMIN" } : null;
    }
    const account = this.accounts.get(actor.id);
    if (!account || account.tokenVersion !== held.version || account.status !== "ACTIVE") return null;
    const domain = this.domains.get(account.domainId)!;
    if (domain.status !== "ACTIVE") return null;
    return { kind: "account", id: account.id, role: domain.adminId === account.id ? "DOMAIN_ADMIN" : "USER", domainId: account.domainId };
  }

  describeActor(actor: Actor): string {
    if (actor.kind === "anonymous") return "anonymous";
    if (actor.kind === "forged") return "a forged token";
    const principal = this.principalOf(actor);
    const name = actor.kind === "support" ? this.supports.get(actor.id)?.username : (this.accounts.get(actor.id)?.address ?? `deleted account ${actor.id}`);
    return principal ? `${principal.role} ${name}` : `${name} (token no longer valid)`;
  }

  /** The support admin or account behind a login, and its login name. */
  record(someone: Someone): { record: ModelSupport | ModelAccount; loginName: string } | undefined {
    const record = someone.kind === "support" ? this.supports.get(someone.id) : this.accounts.get(someone.id);
    if (!record) return undefined;
    return { record, loginName: "username" in record ? record.username : record.address };
  }

  usage(domainId: string, excludingAccountId?: string) {
    let count = 0;
    let allocated = 0;
    for (const account of this.accounts.values()) {
      if (account.domainId !== domainId || account.id === excludingAccountId) continue;
      count++;
      allocated += account.quotaMb;
    }
    return { count, allocated };
  }

  /** The mailbox-quota rule: QUOTA_EXCEEDED or null. */
  quotaRefusal(domain: ModelDomain, quotaMb: number, excludingAccountId?: string): string | null {
    if (domain.quotaMb === null) return null;
    if (quotaMb > domain.quotaMb) return "QUOTA_EXCEEDED";
    return this.usage(domain.id, excludingAccountId).allocated + quotaMb > domain.quotaMb ? "QUOTA_EXCEEDED" : null;
  }

  accountsOf(domainId: string): ModelAccount[] {
    return [...this.accounts.values()].filter((account) => account.domainId === domainId);
  }

  /** A new account as the server stores it (no display name, nothing used, token version 0). */
  addAccount(fields: Pick<ModelAccount, "id" | "domainId" | "localPart" | "status" | "quotaMb" | "password"> & { displayName?: string }): void {
    const domain = this.domains.get(fields.domainId)!;
    this.accounts.set(fields.id, { displayName: "", ...fields, address: `${fields.localPart}@${domain.name}`, usedMb: 0, tokenVersion: 0 });
  }

  removeDomain(domainId: string): void {
    for (const account of this.accountsOf(domainId)) this.accounts.delete(account.id);
    this.domains.delete(domainId);
  }

  // Drawing arguments

  password(): string {
    return `pw ${this.random.int(1e9).toString(36)} long enough`;
  }

  unknownId(): string {
    // A well-formed id of nothing; randomUUID is not seeded, but the answer (NOT_FOUND) does not depend on its value.
    return randomUUID();
  }

  /** A domain the actor is likely to act on: its own most of the time (for an account), any other, or none. */
  targetDomainId(actor: Actor): string {
    const principal = this.principalOf(actor);
    if (this.domains.size === 0 || this.random.chance(0.06)) return this.unknownId();
    if (principal?.kind === "account" && this.domains.has(principal.domainId) && this.random.chance(0.6)) return principal.domainId;
    return this.random.pick([...this.domains.keys()]);
  }

  /** An account the actor is likely to act on: itself, one of its domain's, any, or none. */
  targetAccountId(actor: Actor): string {
    const principal = this.principalOf(actor);
    if (this.accounts.size === 0 || this.random.chance(0.06)) return this.unknownId();
    if (principal?.kind === "account") {
      if (this.random.chance(0.2)) return principal.id;
      const own = this.accountsOf(principal.domainId);
      if (own.length > 0 && this.random.chance(0.6)) return this.random.pick(own).id;
    }
    return this.random.pick([...this.accounts.keys()]);
  }
}
