// The chaos run: random valid and invalid operations from every kind of
// caller (support staff, domain administrators, ordinary accounts, anonymous
// callers, forged and revoked tokens), sent one after the other through the
// real GraphQL API, from a seeded generator so that a seed replays the same
// run. A model of the service, written from the rules (docs/authorization.md "Who may do
// what", the services' checks), predicts each answer; after every step the
// database is checked:
//
//   - every domain has exactly one administrator, an account of its own;
//   - quotas within the domain's limits: no mailbox quota above the domain
//     quota, their sum within it, the default within it, no more accounts
//     than maxAccounts;
//   - one audit record for each accepted change, and none for a refusal
//     (except auth.login_failed, which a refused login writes by design);
//   - nothing accepted that the caller's role may not do (a USER's
//     createAccount, an administrator's updateDomain, ...);
//   - the domains, accounts and token versions in the database are exactly
//     the model's: a refused request changed nothing, an accepted one changed
//     what it should.
//
// Two entry points share this module: test/chaos/chaos.test.ts (a short run
// in every test pass) and bench/chaos.ts (`npm run bench:chaos -- --minutes 5
// --seed N`). The run stops at the first violation and reports the steps
// leading to it.
//
// Not covered: API tokens, the REST API, imports, delivery logs, DNS checks
// and probes (each has its own tests); concurrency beyond the two bursts.
import { randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import type { PrismaClient } from "../src/generated/prisma/client";
import type { PasswordHasher } from "../src/auth/passwords";

// ---------------------------------------------------------------------------
// What the run needs and reports

export interface ChaosTarget {
  /** Base URL of the server (http://127.0.0.1:port). */
  url: string;
  /** The server's database, for the checks after each step. */
  db: PrismaClient;
  /** To store the run's support admins (their passwords hashed as the server would). */
  passwords: PasswordHasher;
  /** The server's DEFAULT_MAILBOX_QUOTA_MB. */
  defaultMailboxQuotaMb: number;
}

export interface ChaosOptions {
  seed: number;
  /** Stop after this many steps... */
  maxSteps?: number;
  /** ...or at this time (ms since the epoch), whichever comes first. */
  until?: number;
  /** Called every `progressEvery` steps. */
  onProgress?: (report: ChaosReport) => void;
  progressEvery?: number;
}

export interface Violation {
  step: number;
  kind: "policy" | "prediction" | "invariant" | "audit" | "state" | "server-error" | "read";
  operation: string;
  detail: string;
}

export interface ChaosReport {
  seed: number;
  steps: number;
  accepted: number;
  refused: number;
  /** Accepted / refused per operation. */
  operations: Record<string, { accepted: number; refused: number }>;
  /** Refusal codes seen, with their counts. */
  codes: Record<string, number>;
  /** Accepted operations the policy forbids: must stay 0. */
  policyViolations: number;
  auditRecordsChecked: number;
  violations: Violation[];
  /** The last steps before the first violation, to reproduce it. */
  recentSteps: string[];
  /** Domains and accounts alive at the end. */
  finalState: { domains: number; accounts: number };
}

// ---------------------------------------------------------------------------
// A small seeded generator (mulberry32): the same seed gives the same run.

export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let value = this.state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  chance(probability: number): boolean {
    return this.next() < probability;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[this.int(items.length)]!;
  }
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let point = this.next() * total;
    for (const [item, weight] of entries) {
      point -= weight;
      if (point < 0) return item;
    }
    return entries[entries.length - 1]![0];
  }
}

// ---------------------------------------------------------------------------
// The model

type Status = "ACTIVE" | "SUSPENDED";

interface ModelDomain {
  id: string;
  name: string;
  status: Status;
  isTestDomain: boolean;
  quotaMb: number | null;
  maxAccounts: number | null;
  defaultMailboxQuotaMb: number;
  adminId: string;
}

interface ModelAccount {
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

interface ModelSupport {
  id: string;
  username: string;
  password: string;
  tokenVersion: number;
}

/** Who is calling, as the server will see it. */
type Principal = { kind: "support"; id: string; role: "SUPPORT_ADMIN" } | { kind: "account"; id: string; role: "DOMAIN_ADMIN" | "USER"; domainId: string };

/** Who sends a request, with which token. */
type Actor = { kind: "anonymous" } | { kind: "forged"; token: string } | { kind: "support" | "account"; id: string; token: string };

interface ExpectedAudit {
  action: string;
  actorId: string | null;
  objectId: string | null;
}

/** The model's answer to one request, computed before it is sent. */
interface Prediction {
  /** null: accepted; otherwise the refusal's extensions.code. */
  code: string | null;
  /** Whether the caller's role may do this at all (false: an acceptance is a policy violation). */
  permitted: boolean;
  /** Audit records a refusal writes (only a failed login of an existing principal does). */
  refusalAudits?: ExpectedAudit[];
  /** Applies an accepted answer to the model, checks its data, and names the audit records it must have written. */
  accept?: (data: any) => ExpectedAudit[];
}

interface ChaosRequest {
  operation: string;
  query: string;
  variables: Record<string, unknown>;
  actor: Actor;
  predict: () => Prediction;
}

class ModelMismatch extends Error {}

const MAX_WRONG_LOGINS_PER_IDENTIFIER = 500;

// GraphQL documents (variables carry every value; nothing is pasted into the text).
const Q = {
  login: `mutation($identifier: String!, $password: String!) { login(identifier: $identifier, password: $password) { token principal { __typename role loginName } } }`,
  changePassword: `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { token } }`,
  createDomain: `mutation($input: CreateDomainInput!) { createDomain(input: $input) { domain { id name status quotaMb maxAccounts defaultMailboxQuotaMb } admin { id address quotaMb } } }`,
  updateDomain: `mutation($id: ID!, $input: UpdateDomainInput!) { updateDomain(id: $id, input: $input) { domain { id status quotaMb maxAccounts defaultMailboxQuotaMb isTestDomain } } }`,
  deleteDomain: `mutation($id: ID!, $force: Boolean) { deleteDomain(id: $id, force: $force) { deletedDomainId deletedAccountCount } }`,
  reassign: `mutation($domainId: ID!, $accountId: ID!) { reassignDomainAdmin(domainId: $domainId, accountId: $accountId) { admin { id } previousAdmin { id } } }`,
  createAccount: `mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id address status quotaMb usedMb } } }`,
  updateAccount: `mutation($id: ID!, $input: UpdateAccountInput!) { updateAccount(id: $id, input: $input) { account { id status quotaMb usedMb } } }`,
  setPassword: `mutation($id: ID!, $password: String!) { setAccountPassword(id: $id, password: $password) { account { id } } }`,
  deleteAccount: `mutation($id: ID!) { deleteAccount(id: $id) { deletedAccountId } }`,
  domain: `query($id: ID) { domain(id: $id) { id name } }`,
  account: `query($id: ID) { account(id: $id) { id address } }`,
  domains: `query($search: String) { domains(search: $search, first: 100) { totalCount nodes { id } } }`,
  accounts: `query($id: ID) { domain(id: $id) { id accounts(first: 100) { totalCount nodes { id } } } }`,
  auditLog: `query($domainId: ID) { auditLog(domainId: $domainId, first: 1) { totalCount } }`,
};

interface GraphQLAnswer {
  status: number;
  data?: any;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export class ChaosRun {
  private readonly random: SeededRandom;
  private readonly label: string;
  private readonly domains = new Map<string, ModelDomain>();
  private readonly accounts = new Map<string, ModelAccount>();
  private readonly supports = new Map<string, ModelSupport>();
  /** The newest token held for each principal, with the token version it was issued for. */
  private readonly held = new Map<string, { token: string; version: number }>();
  private readonly wrongLogins = new Map<string, number>();
  private domainCounter = 0;
  private accountCounter = 0;
  private auditWatermark = 0n;
  private readonly report: ChaosReport;
  private readonly recent: string[] = [];

  constructor(
    private readonly target: ChaosTarget,
    private readonly options: ChaosOptions,
  ) {
    this.random = new SeededRandom(options.seed);
    // Names are unique to this run (tests share one database); the seed alone decides everything else.
    this.label = `r${options.seed.toString(36)}x${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    this.report = {
      seed: options.seed,
      steps: 0,
      accepted: 0,
      refused: 0,
      operations: {},
      codes: {},
      policyViolations: 0,
      auditRecordsChecked: 0,
      violations: [],
      recentSteps: [],
      finalState: { domains: 0, accounts: 0 },
    };
  }

  // -------------------------------------------------------------------------
  // Running

  async run(): Promise<ChaosReport> {
    await this.setUp();
    const maxSteps = this.options.maxSteps ?? Number.POSITIVE_INFINITY;
    const until = this.options.until ?? Number.POSITIVE_INFINITY;
    const every = this.options.progressEvery ?? 500;
    while (this.report.steps < maxSteps && Date.now() < until && this.report.violations.length === 0) {
      await this.step();
      if (this.report.steps % every === 0) this.options.onProgress?.(this.snapshot());
    }
    return this.snapshot();
  }

  private snapshot(): ChaosReport {
    return {
      ...this.report,
      operations: structuredClone(this.report.operations),
      codes: { ...this.report.codes },
      violations: [...this.report.violations],
      recentSteps: this.report.violations.length > 0 ? [...this.recent] : [],
      finalState: { domains: this.domains.size, accounts: this.accounts.size },
    };
  }

  /** Two support admins of the run's own, straight into the database (their creation is not an API operation). */
  private async setUp(): Promise<void> {
    for (const index of [1, 2]) {
      const username = `chaos-${this.label}-s${index}`;
      const password = `support password ${index} ${this.label}`.slice(0, 60);
      const created = await this.target.db.supportAdmin.create({
        data: { username, displayName: "Chaos support", passwordHash: await this.target.passwords.hash(password) },
      });
      this.supports.set(created.id, { id: created.id, username, password, tokenVersion: 0 });
    }
    // A client lockout left by an earlier test file would refuse every login of this run.
    await this.target.db.loginThrottle.deleteMany({ where: { key: { startsWith: "ip:" } } });
    this.auditWatermark = (await this.target.db.auditEntry.aggregate({ _max: { id: true } }))._max.id ?? 0n;
  }

  private async step(): Promise<void> {
    this.report.steps++;
    const step = this.report.steps;
    const choice = this.random.weighted([
      ["single", 96],
      ["burstCreate", 2],
      ["burstReassign", 2],
    ] as const);
    try {
      if (choice === "burstCreate" && (await this.burstCreate(step))) return;
      if (choice === "burstReassign" && (await this.burstReassign(step))) return;
      const request = this.nextRequest();
      const prediction = request.predict();
      const answer = await this.send(request);
      const audits = this.judge(step, request, prediction, answer);
      if (audits) await this.checkDatabase(step, request.operation, audits);
      // After a wrong answer, say too whether the stored data now breaks a rule.
      else await this.checkInvariants(step, request.operation);
    } catch (error) {
      if (error instanceof ModelMismatch) this.violation(step, "read", "(step)", error.message);
      else throw error;
    }
  }

  private async send(request: ChaosRequest): Promise<GraphQLAnswer> {
    const token = request.actor.kind === "anonymous" ? undefined : request.actor.token;
    const response = await fetch(`${this.target.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: request.query, variables: request.variables }),
    });
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { data?: any; errors?: GraphQLAnswer["errors"] };
      return { status: response.status, data: body.data, errors: body.errors };
    } catch {
      return { status: response.status, errors: [{ message: text.slice(0, 200), extensions: { code: `HTTP_${response.status}` } }] };
    }
  }

  /** Compares an answer with the prediction; returns the audit records expected, or undefined after a violation. */
  private judge(step: number, request: ChaosRequest, prediction: Prediction, answer: GraphQLAnswer): ExpectedAudit[] | undefined {
    const code = answer.errors?.length ? (answer.errors[0]!.extensions?.code ?? "NO_CODE") : null;
    const who = this.describeActor(request.actor);
    const summary = `#${step} ${request.operation} by ${who}: expected ${prediction.code ?? "accepted"}, got ${code ?? "accepted"} ${JSON.stringify(request.variables).slice(0, 160)}`;
    this.recent.push(summary);
    if (this.recent.length > 12) this.recent.shift();
    const counts = (this.report.operations[request.operation] ??= { accepted: 0, refused: 0 });
    if (code === null) {
      counts.accepted++;
      this.report.accepted++;
    } else {
      counts.refused++;
      this.report.refused++;
      this.report.codes[code] = (this.report.codes[code] ?? 0) + 1;
    }
    if (answer.status >= 500 || code === "INTERNAL_SERVER_ERROR") {
      this.violation(step, "server-error", request.operation, `${summary}: HTTP ${answer.status} ${answer.errors?.[0]?.message ?? ""}`);
      return undefined;
    }
    if (code === null && prediction.code !== null) {
      if (!prediction.permitted) this.report.policyViolations++;
      this.violation(step, prediction.permitted ? "prediction" : "policy", request.operation, summary);
      return undefined;
    }
    if (code !== prediction.code) {
      this.violation(step, "prediction", request.operation, `${summary}: ${answer.errors?.[0]?.message ?? ""}`);
      return undefined;
    }
    if (code !== null) return prediction.refusalAudits ?? [];
    try {
      return prediction.accept ? prediction.accept(answer.data) : [];
    } catch (error) {
      if (error instanceof ModelMismatch) {
        this.violation(step, "read", request.operation, `${summary}: ${error.message}`);
        return undefined;
      }
      throw error;
    }
  }

  private violation(step: number, kind: Violation["kind"], operation: string, detail: string): void {
    this.report.violations.push({ step, kind, operation, detail });
  }

  // -------------------------------------------------------------------------
  // The database checks after each step

  private async checkDatabase(step: number, operation: string, expectedAudits: ExpectedAudit[]): Promise<void> {
    await this.checkInvariants(step, operation);
    await this.checkAuditAndState(step, operation, expectedAudits);
  }

  /** The rules the stored data must obey whatever the model says. */
  private async checkInvariants(step: number, operation: string): Promise<void> {
    const { db } = this.target;
    const suffix = `%.${this.label}.chaos.example`;

    // One administrator per domain, an account of that domain.
    const withoutAdmin = await db.$queryRaw<{ name: string; problem: string }[]>`
      SELECT d."name", CASE WHEN da."domainId" IS NULL THEN 'no administrator'
                            WHEN a."id" IS NULL THEN 'administrator account missing'
                            ELSE 'administrator of another domain' END AS problem
      FROM "domain" d
      LEFT JOIN "domain_admin" da ON da."domainId" = d."id"
      LEFT JOIN "account" a ON a."id" = da."accountId"
      WHERE d."name" LIKE ${suffix} AND (da."domainId" IS NULL OR a."id" IS NULL OR a."domainId" <> d."id")`;
    for (const row of withoutAdmin) this.violation(step, "invariant", operation, `${row.name}: ${row.problem}`);

    // Quotas and limits.
    const overLimit = await db.$queryRaw<{ name: string; quotaMb: number | null; maxAccounts: number | null; defaultMb: number; count: bigint; total: bigint; largest: number }[]>`
      SELECT d."name", d."quotaMb", d."maxAccounts", d."defaultMailboxQuotaMb" AS "defaultMb",
             COUNT(a."id") AS count, COALESCE(SUM(a."quotaMb"), 0) AS total, COALESCE(MAX(a."quotaMb"), 0) AS largest
      FROM "domain" d LEFT JOIN "account" a ON a."domainId" = d."id"
      WHERE d."name" LIKE ${suffix}
      GROUP BY d."id"
      HAVING (d."quotaMb" IS NOT NULL AND (COALESCE(SUM(a."quotaMb"), 0) > d."quotaMb" OR COALESCE(MAX(a."quotaMb"), 0) > d."quotaMb" OR d."defaultMailboxQuotaMb" > d."quotaMb"))
          OR (d."maxAccounts" IS NOT NULL AND COUNT(a."id") > d."maxAccounts")`;
    for (const row of overLimit) {
      this.violation(
        step,
        "invariant",
        operation,
        `${row.name}: quota ${row.quotaMb} MiB, maxAccounts ${row.maxAccounts}, default ${row.defaultMb} MiB; holds ${row.count} accounts, ${row.total} MiB of quotas, largest ${row.largest} MiB`,
      );
    }
  }

  /** The audit records and the stored state, against the model's. */
  private async checkAuditAndState(step: number, operation: string, expectedAudits: ExpectedAudit[]): Promise<void> {
    const { db } = this.target;
    // The audit records written since the last step, against the ones expected.
    const rows = await db.auditEntry.findMany({
      where: { id: { gt: this.auditWatermark } },
      orderBy: { id: "asc" },
      select: { id: true, action: true, actorId: true, objectId: true },
    });
    if (rows.length > 0) this.auditWatermark = rows[rows.length - 1]!.id;
    this.report.auditRecordsChecked += rows.length;
    const key = (audit: ExpectedAudit) => `${audit.action} by ${audit.actorId ?? "-"} on ${audit.objectId ?? "-"}`;
    const actual = rows.map((row) => key(row)).sort();
    const expected = expectedAudits.map(key).sort();
    if (actual.join("\n") !== expected.join("\n")) {
      this.violation(step, "audit", operation, `audit records written: [${actual.join("; ")}], expected: [${expected.join("; ")}]`);
    }

    // The stored domains, accounts and token versions are exactly the model's.
    const domains = await db.domain.findMany({ where: { name: { endsWith: `.${this.label}.chaos.example` } }, include: { admin: true } });
    const accounts = await db.account.findMany({ where: { domainId: { in: domains.map((domain) => domain.id) } } });
    const differences: string[] = [];
    if (domains.length !== this.domains.size) differences.push(`${domains.length} domains stored, model has ${this.domains.size}`);
    for (const stored of domains) {
      const model = this.domains.get(stored.id);
      if (!model) {
        differences.push(`domain ${stored.name} stored but not in the model`);
        continue;
      }
      const actualFields = [stored.status, stored.isTestDomain, stored.quotaMb, stored.maxAccounts, stored.defaultMailboxQuotaMb, stored.admin?.accountId ?? null];
      const modelFields = [model.status, model.isTestDomain, model.quotaMb, model.maxAccounts, model.defaultMailboxQuotaMb, model.adminId];
      if (JSON.stringify(actualFields) !== JSON.stringify(modelFields))
        differences.push(`domain ${stored.name}: stored ${JSON.stringify(actualFields)}, model ${JSON.stringify(modelFields)}`);
    }
    if (accounts.length !== this.accounts.size) differences.push(`${accounts.length} accounts stored, model has ${this.accounts.size}`);
    for (const stored of accounts) {
      const model = this.accounts.get(stored.id);
      if (!model) {
        differences.push(`account ${stored.address} stored but not in the model`);
        continue;
      }
      const actualFields = [stored.domainId, stored.address, stored.displayName, stored.status, stored.quotaMb, stored.usedMb, stored.tokenVersion];
      const modelFields = [model.domainId, model.address, model.displayName, model.status, model.quotaMb, model.usedMb, model.tokenVersion];
      if (JSON.stringify(actualFields) !== JSON.stringify(modelFields))
        differences.push(`account ${stored.address}: stored ${JSON.stringify(actualFields)}, model ${JSON.stringify(modelFields)}`);
    }
    const supports = await db.supportAdmin.findMany({ where: { id: { in: [...this.supports.keys()] } }, select: { id: true, tokenVersion: true } });
    for (const stored of supports) {
      const model = this.supports.get(stored.id)!;
      if (stored.tokenVersion !== model.tokenVersion) differences.push(`support ${model.username}: token version ${stored.tokenVersion}, model ${model.tokenVersion}`);
    }
    if (differences.length > 0) this.violation(step, "state", operation, differences.slice(0, 5).join("; "));
  }

  // -------------------------------------------------------------------------
  // Who is who, in the model

  private principalOf(actor: Actor): Principal | null {
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

  private describeActor(actor: Actor): string {
    if (actor.kind === "anonymous") return "anonymous";
    if (actor.kind === "forged") return "a forged token";
    const principal = this.principalOf(actor);
    const name = actor.kind === "support" ? this.supports.get(actor.id)?.username : (this.accounts.get(actor.id)?.address ?? `deleted account ${actor.id}`);
    return principal ? `${principal.role} ${name}` : `${name} (token no longer valid)`;
  }

  // Policy, as docs/authorization.md states it.
  private static isSupport = (p: Principal) => p.role === "SUPPORT_ADMIN";
  private static isAdminOf = (p: Principal, domainId: string) => p.kind === "account" && p.role === "DOMAIN_ADMIN" && p.domainId === domainId;
  private static isMemberOf = (p: Principal, domainId: string) => p.kind === "account" && p.domainId === domainId;

  /** FORBIDDEN when the caller may see the object, NOT_FOUND otherwise (another domain's objects do not exist for it). */
  private static refusal(canSee: boolean): string {
    return canSee ? "FORBIDDEN" : "NOT_FOUND";
  }

  private usage(domainId: string, excludingAccountId?: string) {
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
  private quotaRefusal(domain: ModelDomain, quotaMb: number, excludingAccountId?: string): string | null {
    if (domain.quotaMb === null) return null;
    if (quotaMb > domain.quotaMb) return "QUOTA_EXCEEDED";
    return this.usage(domain.id, excludingAccountId).allocated + quotaMb > domain.quotaMb ? "QUOTA_EXCEEDED" : null;
  }

  private accountsOf(domainId: string): ModelAccount[] {
    return [...this.accounts.values()].filter((account) => account.domainId === domainId);
  }

  private removeDomain(domainId: string): void {
    for (const account of this.accountsOf(domainId)) this.accounts.delete(account.id);
    this.domains.delete(domainId);
  }

  // -------------------------------------------------------------------------
  // Choosing the next request

  private password(): string {
    return `pw ${this.random.int(1e9).toString(36)} long enough`;
  }

  private unknownId(): string {
    // A well-formed id of nothing; randomUUID is not seeded, but the answer (NOT_FOUND) does not depend on its value.
    return randomUUID();
  }

  /** A caller: mostly someone real, sometimes anonymous or forged. A principal without a valid token logs in first. */
  private chooseActor(): Actor | ChaosRequest {
    const kind = this.random.weighted([
      ["support", 34],
      ["admin", 26],
      ["user", 26],
      ["anonymous", 8],
      ["forged", 6],
    ] as const);
    if (kind === "anonymous") return { kind: "anonymous" };
    if (kind === "forged") {
      const token = this.random.chance(0.5)
        ? jwt.sign({ kind: "support", ver: 0 }, "a secret the server does not have, long enough", {
            subject: this.random.pick([...this.supports.keys()]),
            issuer: "mailadmin",
            audience: "mailadmin-api",
            expiresIn: 3600,
          })
        : `not.a.token${this.random.int(1000)}`;
      return { kind: "forged", token };
    }
    let principal: { kind: "support" | "account"; id: string } | undefined;
    if (kind === "support" || this.domains.size === 0) principal = { kind: "support", id: this.random.pick([...this.supports.keys()]) };
    else if (kind === "admin") principal = { kind: "account", id: this.random.pick([...this.domains.values()]).adminId };
    else {
      const users = [...this.accounts.values()].filter((account) => this.domains.get(account.domainId)?.adminId !== account.id);
      principal = users.length > 0 ? { kind: "account", id: this.random.pick(users).id } : { kind: "support", id: this.random.pick([...this.supports.keys()]) };
    }
    const held = this.held.get(principal.id);
    if (!held) return this.loginRequest(principal, "right");
    const actor: Actor = { ...principal, token: held.token };
    // A revoked or suspended token is used now and then (it must be refused), otherwise renewed.
    if (!this.principalOf(actor) && this.random.chance(0.6)) return this.loginRequest(principal, "right");
    return actor;
  }

  private nextRequest(): ChaosRequest {
    const chosen = this.chooseActor();
    if ("operation" in chosen) return chosen;
    const actor = chosen;
    const domainCount = this.domains.size;
    const operation = this.random.weighted([
      ["login", 4],
      ["createDomain", domainCount < 3 ? 20 : domainCount > 10 ? 1 : 6],
      ["updateDomain", 9],
      ["deleteDomain", domainCount > 10 ? 8 : 2],
      ["reassignDomainAdmin", 6],
      ["createAccount", 16],
      ["updateAccount", 14],
      ["setAccountPassword", 4],
      ["deleteAccount", 8],
      ["changePassword", 3],
      ["readDomain", 4],
      ["readAccount", 4],
      ["listDomains", 3],
      ["listAccounts", 3],
      ["readAuditLog", 2],
    ] as const);
    switch (operation) {
      case "login":
        return this.randomLogin();
      case "createDomain":
        return this.createDomain(actor);
      case "updateDomain":
        return this.updateDomain(actor);
      case "deleteDomain":
        return this.deleteDomain(actor);
      case "reassignDomainAdmin":
        return this.reassign(actor);
      case "createAccount":
        return this.createAccount(actor);
      case "updateAccount":
        return this.updateAccount(actor);
      case "setAccountPassword":
        return this.setAccountPassword(actor);
      case "deleteAccount":
        return this.deleteAccount(actor);
      case "changePassword":
        return this.changePassword(actor);
      case "readDomain":
        return this.readDomain(actor);
      case "readAccount":
        return this.readAccount(actor);
      case "listDomains":
        return this.listDomains(actor);
      case "listAccounts":
        return this.listAccounts(actor);
      case "readAuditLog":
        return this.readAuditLog(actor);
    }
  }

  /** A domain the actor is likely to act on: its own most of the time (for an account), any other, or none. */
  private targetDomainId(actor: Actor): string {
    const principal = this.principalOf(actor);
    if (this.domains.size === 0 || this.random.chance(0.06)) return this.unknownId();
    if (principal?.kind === "account" && this.domains.has(principal.domainId) && this.random.chance(0.6)) return principal.domainId;
    return this.random.pick([...this.domains.keys()]);
  }

  /** An account the actor is likely to act on: itself, one of its domain's, any, or none. */
  private targetAccountId(actor: Actor): string {
    const principal = this.principalOf(actor);
    if (this.accounts.size === 0 || this.random.chance(0.06)) return this.unknownId();
    if (principal?.kind === "account") {
      if (this.random.chance(0.2)) return principal.id;
      const own = this.accountsOf(principal.domainId);
      if (own.length > 0 && this.random.chance(0.6)) return this.random.pick(own).id;
    }
    return this.random.pick([...this.accounts.keys()]);
  }

  // -------------------------------------------------------------------------
  // Operations

  private loginRequest(principal: { kind: "support" | "account"; id: string }, password: "right" | "wrong"): ChaosRequest {
    const record = principal.kind === "support" ? this.supports.get(principal.id) : this.accounts.get(principal.id);
    if (!record) throw new Error("login for a principal the model does not know");
    const identifier = "username" in record ? record.username : record.address;
    const wrong = password === "wrong" && (this.wrongLogins.get(identifier) ?? 0) < MAX_WRONG_LOGINS_PER_IDENTIFIER;
    const sent = wrong ? `${record.password} but wrong` : record.password;
    return {
      operation: "login",
      query: Q.login,
      variables: { identifier: this.random.chance(0.2) ? identifier.toUpperCase() : identifier, password: sent },
      actor: { kind: "anonymous" },
      predict: () => {
        const current = principal.kind === "support" ? this.supports.get(principal.id) : this.accounts.get(principal.id);
        if (!current) return { code: "UNAUTHENTICATED", permitted: true };
        const audit = { actorId: principal.id, objectId: principal.id };
        if (wrong) {
          return { code: "UNAUTHENTICATED", permitted: true, refusalAudits: [{ action: "auth.login_failed", ...audit }] };
        }
        if ("domainId" in current) {
          const domain = this.domains.get(current.domainId)!;
          if (current.status !== "ACTIVE" || domain.status !== "ACTIVE") return { code: "UNAUTHENTICATED", permitted: true };
        }
        return {
          code: null,
          permitted: true,
          accept: (data) => {
            const token = data?.login?.token;
            if (typeof token !== "string") throw new ModelMismatch("login answered without a token");
            this.held.set(principal.id, { token, version: current.tokenVersion });
            this.wrongLogins.delete(identifier);
            return [{ action: "auth.login", ...audit }];
          },
        };
      },
    };
  }

  private randomLogin(): ChaosRequest {
    const variant = this.random.weighted([
      ["right", 4],
      ["wrong", 3],
      ["unknown", 2],
      ["malformed", 1],
    ] as const);
    if (variant === "right" || variant === "wrong") {
      const pool = [...[...this.supports.keys()].map((id) => ({ kind: "support" as const, id })), ...[...this.accounts.keys()].map((id) => ({ kind: "account" as const, id }))];
      const principal = this.random.pick(pool);
      const request = this.loginRequest(principal, variant);
      if (variant === "wrong") {
        const record = principal.kind === "support" ? this.supports.get(principal.id)! : this.accounts.get(principal.id)!;
        const identifier = "username" in record ? record.username : record.address;
        this.wrongLogins.set(identifier, (this.wrongLogins.get(identifier) ?? 0) + 1);
      }
      return request;
    }
    const identifier = variant === "unknown" ? `nobody${this.random.int(1e9)}@${this.label}.chaos.example` : `not an address @@ ${this.random.int(1000)}`;
    return {
      operation: "login",
      query: Q.login,
      variables: { identifier, password: this.password() },
      actor: { kind: "anonymous" },
      predict: () => ({ code: "UNAUTHENTICATED", permitted: true }),
    };
  }

  private changePassword(actor: Actor): ChaosRequest {
    const wrongCurrent = this.random.chance(0.2);
    const tooShort = this.random.chance(0.1);
    const next = tooShort ? "short" : this.password();
    const record = actor.kind === "support" ? this.supports.get(actor.id) : actor.kind === "account" ? this.accounts.get(actor.id) : undefined;
    const current = wrongCurrent || !record ? "not the current password" : record.password;
    return {
      operation: "changePassword",
      query: Q.changePassword,
      variables: { current, next },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        if (tooShort) return { code: "BAD_USER_INPUT", permitted: true };
        if (wrongCurrent) return { code: "BAD_USER_INPUT", permitted: true };
        const self = principal.kind === "support" ? this.supports.get(principal.id)! : this.accounts.get(principal.id)!;
        return {
          code: null,
          permitted: true,
          accept: (data) => {
            self.password = next;
            self.tokenVersion++;
            this.held.set(principal.id, { token: data.changePassword.token, version: self.tokenVersion });
            return [{ action: "auth.change_password", actorId: principal.id, objectId: principal.id }];
          },
        };
      },
    };
  }

  private createDomain(actor: Actor): ChaosRequest {
    this.domainCounter++;
    const name = `d${this.domainCounter}.${this.label}.chaos.example`;
    const quotaMb = this.random.pick([null, 1000, 2000, 5000]);
    const maxAccounts = this.random.pick([null, 2, 3, 5, 8]);
    const givesDefault = this.random.chance(0.7);
    let defaultMailboxQuotaMb: number | null = givesDefault ? this.random.pick([100, 200, 500]) : null;
    const adminQuotaMb = this.random.pick([0, 0, 50]);
    const adminPassword = this.password();
    const status = this.random.chance(0.1) ? "SUSPENDED" : "ACTIVE";
    const input: Record<string, unknown> = { name, quotaMb, maxAccounts, adminQuotaMb, adminPassword, status, ...(givesDefault ? { defaultMailboxQuotaMb } : {}) };
    // One fault at a time, so that the expected code does not depend on the order of the checks.
    const fault = this.random.chance(0.3)
      ? this.random.pick(["badName", "negativeQuota", "noAccounts", "defaultAboveQuota", "adminAboveQuota", "shortPassword", "duplicate"] as const)
      : null;
    let expectedFault: string | null = null;
    switch (fault) {
      case "badName":
        input.name = `bad_name!.${this.label}.chaos.example`;
        expectedFault = "BAD_USER_INPUT";
        break;
      case "negativeQuota":
        input.quotaMb = -5;
        expectedFault = "BAD_USER_INPUT";
        break;
      case "noAccounts":
        input.maxAccounts = 0;
        expectedFault = "BAD_USER_INPUT";
        break;
      case "defaultAboveQuota":
        input.quotaMb = 300;
        input.defaultMailboxQuotaMb = defaultMailboxQuotaMb = 500;
        input.adminQuotaMb = 0;
        expectedFault = "QUOTA_EXCEEDED";
        break;
      case "adminAboveQuota":
        input.quotaMb = 1000;
        input.defaultMailboxQuotaMb = defaultMailboxQuotaMb = 100;
        input.adminQuotaMb = 1500;
        expectedFault = "QUOTA_EXCEEDED";
        break;
      case "shortPassword":
        input.adminPassword = "short";
        expectedFault = "BAD_USER_INPUT";
        break;
      case "duplicate":
        if (this.domains.size > 0) {
          input.name = this.random.pick([...this.domains.values()]).name;
          expectedFault = "CONFLICT";
        }
        break;
    }
    return {
      operation: "createDomain",
      query: Q.createDomain,
      variables: { input },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        if (!ChaosRun.isSupport(principal)) return { code: "FORBIDDEN", permitted: false };
        if (expectedFault) return { code: expectedFault, permitted: true };
        const quota = input.quotaMb as number | null;
        const effectiveDefault = (input.defaultMailboxQuotaMb as number | undefined) ?? Math.min(this.target.defaultMailboxQuotaMb, quota ?? Number.MAX_SAFE_INTEGER);
        if (quota !== null && effectiveDefault > quota) return { code: "QUOTA_EXCEEDED", permitted: true };
        return {
          code: null,
          permitted: true,
          accept: (data) => {
            const domain = data.createDomain.domain;
            const admin = data.createDomain.admin;
            if (domain.defaultMailboxQuotaMb !== effectiveDefault) throw new ModelMismatch(`default mailbox quota ${domain.defaultMailboxQuotaMb}, expected ${effectiveDefault}`);
            this.domains.set(domain.id, {
              id: domain.id,
              name,
              status: status,
              isTestDomain: false,
              quotaMb: quota,
              maxAccounts: input.maxAccounts as number | null,
              defaultMailboxQuotaMb: effectiveDefault,
              adminId: admin.id,
            });
            this.accounts.set(admin.id, {
              id: admin.id,
              domainId: domain.id,
              localPart: "admin",
              address: `admin@${name}`,
              displayName: `Administrator of ${name}`,
              status: "ACTIVE",
              quotaMb: input.adminQuotaMb as number,
              usedMb: 0,
              password: input.adminPassword as string,
              tokenVersion: 0,
            });
            return [
              { action: "domain.create", actorId: principal.id, objectId: domain.id },
              { action: "account.create", actorId: principal.id, objectId: admin.id },
            ];
          },
        };
      },
    };
  }

  private updateDomain(actor: Actor): ChaosRequest {
    const id = this.random.chance(0.04) ? "" : this.targetDomainId(actor);
    const domain = this.domains.get(id);
    const usage = domain ? this.usage(domain.id) : { count: 0, allocated: 0 };
    const input: Record<string, unknown> = {};
    if (this.random.chance(0.35)) input.status = this.random.pick(["ACTIVE", "SUSPENDED", "ACTIVE"]);
    if (this.random.chance(0.4)) input.quotaMb = this.random.chance(0.2) ? null : Math.max(0, usage.allocated + this.random.pick([-100, -1, 0, 50, 500, 3000]));
    if (this.random.chance(0.3)) input.maxAccounts = this.random.chance(0.2) ? null : Math.max(1, usage.count + this.random.pick([-1, 0, 1, 3]));
    if (this.random.chance(0.25)) input.defaultMailboxQuotaMb = this.random.pick([0, 100, 200, 800]);
    if (this.random.chance(0.15)) input.isTestDomain = this.random.chance(0.5);
    const fault = this.random.chance(0.15) ? this.random.pick(["negativeQuota", "zeroAccounts", "nullStatus"] as const) : null;
    if (fault === "negativeQuota") input.quotaMb = -1;
    if (fault === "zeroAccounts") input.maxAccounts = 0;
    if (fault === "nullStatus") input.status = null;
    return {
      operation: "updateDomain",
      query: Q.updateDomain,
      variables: { id, input },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const permitted = ChaosRun.isSupport(principal);
        if (id === "" || fault) return { code: "BAD_USER_INPUT", permitted };
        const current = this.domains.get(id);
        if (!current) return { code: "NOT_FOUND", permitted };
        if (!permitted) return { code: ChaosRun.refusal(ChaosRun.isMemberOf(principal, id)), permitted };
        const quotaMb = "quotaMb" in input ? (input.quotaMb as number | null) : current.quotaMb;
        const maxAccounts = "maxAccounts" in input ? (input.maxAccounts as number | null) : current.maxAccounts;
        const defaultMailboxQuotaMb = (input.defaultMailboxQuotaMb as number | undefined) ?? current.defaultMailboxQuotaMb;
        const now = this.usage(id);
        if (quotaMb !== null && (now.allocated > quotaMb || defaultMailboxQuotaMb > quotaMb)) return { code: "QUOTA_EXCEEDED", permitted };
        if (maxAccounts !== null && now.count > maxAccounts) return { code: "CONFLICT", permitted };
        return {
          code: null,
          permitted,
          accept: () => {
            const after: ModelDomain = {
              ...current,
              status: (input.status as Status | undefined) ?? current.status,
              isTestDomain: (input.isTestDomain as boolean | undefined) ?? current.isTestDomain,
              quotaMb,
              maxAccounts,
              defaultMailboxQuotaMb,
            };
            const changed = (["status", "isTestDomain", "quotaMb", "maxAccounts", "defaultMailboxQuotaMb"] as const).some((field) => after[field] !== current[field]);
            this.domains.set(id, after);
            return changed ? [{ action: "domain.update", actorId: principal.id, objectId: id }] : [];
          },
        };
      },
    };
  }

  private deleteDomain(actor: Actor): ChaosRequest {
    const id = this.random.chance(0.04) ? "" : this.targetDomainId(actor);
    const force = this.random.chance(0.6);
    return {
      operation: "deleteDomain",
      query: Q.deleteDomain,
      variables: { id, force },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const permitted = ChaosRun.isSupport(principal);
        if (id === "") return { code: "BAD_USER_INPUT", permitted };
        const current = this.domains.get(id);
        if (!current) return { code: "NOT_FOUND", permitted };
        if (!permitted) return { code: ChaosRun.refusal(ChaosRun.isMemberOf(principal, id)), permitted };
        const mailboxes = this.accountsOf(id).filter((account) => account.id !== current.adminId);
        if (mailboxes.length > 0 && !force) return { code: "CONFLICT", permitted };
        return {
          code: null,
          permitted,
          accept: (data) => {
            const expectedCount = this.accountsOf(id).length;
            if (data.deleteDomain.deletedAccountCount !== expectedCount)
              throw new ModelMismatch(`deletedAccountCount ${data.deleteDomain.deletedAccountCount}, model ${expectedCount}`);
            this.removeDomain(id);
            return [{ action: "domain.delete", actorId: principal.id, objectId: id }];
          },
        };
      },
    };
  }

  private reassign(actor: Actor): ChaosRequest {
    const domainId = this.targetDomainId(actor);
    const domain = this.domains.get(domainId);
    const candidates = domain ? this.accountsOf(domainId) : [];
    const variant = this.random.weighted([
      ["ownDomain", 7],
      ["otherDomain", 1],
      ["unknownAccount", 1],
    ] as const);
    let accountId: string;
    if (variant === "ownDomain" && candidates.length > 0) accountId = this.random.pick(candidates).id;
    else if (variant === "unknownAccount" || this.accounts.size === 0) accountId = this.unknownId();
    else accountId = this.random.pick([...this.accounts.keys()]);
    return {
      operation: "reassignDomainAdmin",
      query: Q.reassign,
      variables: { domainId, accountId },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const permitted = ChaosRun.isSupport(principal);
        const current = this.domains.get(domainId);
        if (!current) return { code: "NOT_FOUND", permitted };
        if (!permitted) return { code: ChaosRun.refusal(ChaosRun.isMemberOf(principal, domainId)), permitted };
        const account = this.accounts.get(accountId);
        if (!account) return { code: "NOT_FOUND", permitted };
        if (account.domainId !== domainId) return { code: "BAD_USER_INPUT", permitted };
        if (current.adminId === accountId) return { code: null, permitted, accept: () => [] };
        if (account.status !== "ACTIVE") return { code: "CONFLICT", permitted };
        return {
          code: null,
          permitted,
          accept: () => {
            this.accounts.get(current.adminId)!.tokenVersion++;
            current.adminId = accountId;
            return [{ action: "domain.reassign_admin", actorId: principal.id, objectId: domainId }];
          },
        };
      },
    };
  }

  private createAccount(actor: Actor): ChaosRequest {
    const domainId = this.random.chance(0.03) ? "" : this.targetDomainId(actor);
    const domain = this.domains.get(domainId);
    this.accountCounter++;
    let localPart = `u${this.accountCounter}`;
    const quotaMb = this.random.chance(0.25) ? null : this.random.pick([0, 50, 100, 300, 600, 1200]);
    const status = this.random.chance(0.1) ? "SUSPENDED" : "ACTIVE";
    let password = this.password();
    const fault = this.random.chance(0.2) ? this.random.pick(["badLocalPart", "shortPassword", "negativeQuota", "duplicate"] as const) : null;
    let duplicate = false;
    if (fault === "badLocalPart") localPart = this.random.pick(["bad local", "..", "a@b", ""]);
    if (fault === "shortPassword") password = "short";
    if (fault === "duplicate" && domain) {
      localPart = this.random.pick(this.accountsOf(domainId)).localPart;
      duplicate = true;
    }
    const input: Record<string, unknown> = { domainId, localPart, password, status, ...(fault === "negativeQuota" ? { quotaMb: -10 } : quotaMb === null ? {} : { quotaMb }) };
    return {
      operation: "createAccount",
      query: Q.createAccount,
      variables: { input },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const permitted = ChaosRun.isSupport(principal) || ChaosRun.isAdminOf(principal, domainId);
        if (domainId === "" || fault === "badLocalPart" || fault === "shortPassword" || fault === "negativeQuota") return { code: "BAD_USER_INPUT", permitted };
        const current = this.domains.get(domainId);
        if (!current) return { code: "NOT_FOUND", permitted };
        if (!permitted) return { code: ChaosRun.refusal(ChaosRun.isMemberOf(principal, domainId)), permitted };
        const usage = this.usage(domainId);
        if (current.maxAccounts !== null && usage.count >= current.maxAccounts) return { code: "QUOTA_EXCEEDED", permitted };
        const effectiveQuota = quotaMb ?? current.defaultMailboxQuotaMb;
        const quotaRefusal = this.quotaRefusal(current, effectiveQuota);
        if (quotaRefusal) return { code: quotaRefusal, permitted };
        if (duplicate || this.accountsOf(domainId).some((account) => account.localPart === localPart)) return { code: "CONFLICT", permitted };
        return {
          code: null,
          permitted,
          accept: (data) => {
            const created = data.createAccount.account;
            if (created.quotaMb !== effectiveQuota) throw new ModelMismatch(`created with quota ${created.quotaMb}, expected ${effectiveQuota}`);
            this.accounts.set(created.id, {
              id: created.id,
              domainId,
              localPart,
              address: `${localPart}@${current.name}`,
              displayName: "",
              status: status,
              quotaMb: effectiveQuota,
              usedMb: 0,
              password,
              tokenVersion: 0,
            });
            return [{ action: "account.create", actorId: principal.id, objectId: created.id }];
          },
        };
      },
    };
  }

  private updateAccount(actor: Actor): ChaosRequest {
    const id = this.random.chance(0.03) ? "" : this.targetAccountId(actor);
    const input: Record<string, unknown> = {};
    if (this.random.chance(0.5)) input.quotaMb = this.random.pick([0, 50, 100, 300, 600, 1200, 6000]);
    if (this.random.chance(0.3)) input.status = this.random.pick(["ACTIVE", "SUSPENDED", "ACTIVE"]);
    if (this.random.chance(0.2)) input.usedMb = this.random.pick([0, 10, 400, 2000]);
    if (this.random.chance(0.2)) input.displayName = `Name ${this.random.int(100)}`;
    const fault = this.random.chance(0.1) ? this.random.pick(["negativeQuota", "nullStatus"] as const) : null;
    if (fault === "negativeQuota") input.quotaMb = -1;
    if (fault === "nullStatus") input.status = null;
    return {
      operation: "updateAccount",
      query: Q.updateAccount,
      variables: { id, input },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const account = this.accounts.get(id);
        const domainId = account?.domainId ?? "";
        const mayUpdate = ChaosRun.isSupport(principal) || ChaosRun.isAdminOf(principal, domainId);
        const permitted = mayUpdate && (input.usedMb === undefined || ChaosRun.isSupport(principal));
        if (id === "" || fault) return { code: "BAD_USER_INPUT", permitted };
        if (!account) return { code: "NOT_FOUND", permitted };
        const canSee = ChaosRun.isSupport(principal) || ChaosRun.isAdminOf(principal, domainId) || principal.id === id;
        if (!mayUpdate) return { code: ChaosRun.refusal(canSee), permitted };
        if (input.usedMb !== undefined && !ChaosRun.isSupport(principal)) return { code: "FORBIDDEN", permitted };
        if (input.status === "SUSPENDED" && principal.id === id) return { code: "FORBIDDEN", permitted };
        const domain = this.domains.get(domainId)!;
        if (input.quotaMb !== undefined) {
          const refusal = this.quotaRefusal(domain, input.quotaMb as number, id);
          if (refusal) return { code: refusal, permitted };
        }
        return {
          code: null,
          permitted,
          accept: () => {
            const before = { ...account };
            if (input.quotaMb !== undefined) account.quotaMb = input.quotaMb as number;
            if (input.status !== undefined) account.status = input.status as Status;
            if (input.usedMb !== undefined) account.usedMb = input.usedMb as number;
            if (input.displayName !== undefined) account.displayName = input.displayName as string;
            const changed = (["quotaMb", "status", "usedMb", "displayName"] as const).some((field) => before[field] !== account[field]);
            return changed ? [{ action: "account.update", actorId: principal.id, objectId: id }] : [];
          },
        };
      },
    };
  }

  private setAccountPassword(actor: Actor): ChaosRequest {
    const id = this.random.chance(0.03) ? "" : this.targetAccountId(actor);
    const tooShort = this.random.chance(0.1);
    const password = tooShort ? "short" : this.password();
    return {
      operation: "setAccountPassword",
      query: Q.setPassword,
      variables: { id, password },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const account = this.accounts.get(id);
        const domainId = account?.domainId ?? "";
        const permitted = ChaosRun.isSupport(principal) || ChaosRun.isAdminOf(principal, domainId);
        if (id === "" || tooShort) return { code: "BAD_USER_INPUT", permitted };
        if (!account) return { code: "NOT_FOUND", permitted };
        if (!permitted) return { code: ChaosRun.refusal(principal.id === id), permitted };
        return {
          code: null,
          permitted,
          accept: () => {
            account.password = password;
            account.tokenVersion++;
            return [{ action: "account.set_password", actorId: principal.id, objectId: id }];
          },
        };
      },
    };
  }

  private deleteAccount(actor: Actor): ChaosRequest {
    const id = this.random.chance(0.03) ? "" : this.targetAccountId(actor);
    return {
      operation: "deleteAccount",
      query: Q.deleteAccount,
      variables: { id },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const account = this.accounts.get(id);
        const domainId = account?.domainId ?? "";
        const permitted = ChaosRun.isSupport(principal) || ChaosRun.isAdminOf(principal, domainId);
        if (id === "") return { code: "BAD_USER_INPUT", permitted };
        if (!account) return { code: "NOT_FOUND", permitted };
        if (!permitted) return { code: ChaosRun.refusal(principal.id === id), permitted };
        if (this.domains.get(domainId)!.adminId === id) return { code: "CONFLICT", permitted };
        return {
          code: null,
          permitted,
          accept: () => {
            this.accounts.delete(id);
            return [{ action: "account.delete", actorId: principal.id, objectId: id }];
          },
        };
      },
    };
  }

  // Reads: what a caller may see, and that it sees exactly that.

  private readDomain(actor: Actor): ChaosRequest {
    const id = this.targetDomainId(actor);
    return {
      operation: "readDomain",
      query: Q.domain,
      variables: { id },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const domain = this.domains.get(id);
        const permitted = ChaosRun.isSupport(principal) || ChaosRun.isMemberOf(principal, id);
        if (!domain || !permitted) return { code: "NOT_FOUND", permitted };
        return {
          code: null,
          permitted,
          accept: (data) => {
            if (data.domain?.name !== domain.name) throw new ModelMismatch(`domain ${id} read as ${JSON.stringify(data.domain)}`);
            return [];
          },
        };
      },
    };
  }

  private readAccount(actor: Actor): ChaosRequest {
    const id = this.targetAccountId(actor);
    return {
      operation: "readAccount",
      query: Q.account,
      variables: { id },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const account = this.accounts.get(id);
        const permitted = ChaosRun.isSupport(principal) || ChaosRun.isAdminOf(principal, account?.domainId ?? "") || principal.id === id;
        if (!account || !permitted) return { code: "NOT_FOUND", permitted };
        return {
          code: null,
          permitted,
          accept: (data) => {
            if (data.account?.address !== account.address) throw new ModelMismatch(`account ${id} read as ${JSON.stringify(data.account)}`);
            return [];
          },
        };
      },
    };
  }

  private listDomains(actor: Actor): ChaosRequest {
    return {
      operation: "listDomains",
      query: Q.domains,
      variables: { search: this.label },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const visible = [...this.domains.values()].filter((domain) => ChaosRun.isSupport(principal) || ChaosRun.isMemberOf(principal, domain.id)).map((domain) => domain.id);
        return {
          code: null,
          permitted: true,
          accept: (data) => {
            const listed = (data.domains.nodes as { id: string }[]).map((node) => node.id).sort();
            // More than 100 domains never exist in a run (deletions outweigh creations past 10).
            if (JSON.stringify(listed) !== JSON.stringify(visible.sort())) throw new ModelMismatch(`domains listed ${listed.length}, visible to the caller ${visible.length}`);
            return [];
          },
        };
      },
    };
  }

  private listAccounts(actor: Actor): ChaosRequest {
    const id = this.targetDomainId(actor);
    return {
      operation: "listAccounts",
      query: Q.accounts,
      variables: { id },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const domain = this.domains.get(id);
        const canRead = ChaosRun.isSupport(principal) || ChaosRun.isMemberOf(principal, id);
        const permitted = ChaosRun.isSupport(principal) || ChaosRun.isAdminOf(principal, id);
        if (!domain || !canRead) return { code: "NOT_FOUND", permitted };
        if (!permitted) return { code: "FORBIDDEN", permitted };
        const expected = this.accountsOf(id)
          .map((account) => account.id)
          .sort();
        return {
          code: null,
          permitted,
          accept: (data) => {
            const listed = (data.domain.accounts.nodes as { id: string }[]).map((node) => node.id).sort();
            if (JSON.stringify(listed) !== JSON.stringify(expected)) throw new ModelMismatch(`accounts listed ${listed.length}, model ${expected.length}`);
            return [];
          },
        };
      },
    };
  }

  private readAuditLog(actor: Actor): ChaosRequest {
    const domainId = this.targetDomainId(actor);
    return {
      operation: "readAuditLog",
      query: Q.auditLog,
      variables: { domainId },
      actor,
      predict: () => {
        const principal = this.principalOf(actor);
        if (!principal) return { code: "UNAUTHENTICATED", permitted: false };
        const permitted = ChaosRun.isSupport(principal) || ChaosRun.isAdminOf(principal, domainId);
        if (!permitted) return { code: ChaosRun.refusal(ChaosRun.isMemberOf(principal, domainId)), permitted };
        return { code: null, permitted, accept: () => [] };
      },
    };
  }

  // -------------------------------------------------------------------------
  // Concurrent requests: the row lock must keep the limits whatever the interleaving.

  private supportActor(): Actor | undefined {
    for (const support of this.supports.values()) {
      const held = this.held.get(support.id);
      const actor: Actor | undefined = held ? { kind: "support", id: support.id, token: held.token } : undefined;
      if (actor && this.principalOf(actor)) return actor;
    }
    return undefined;
  }

  /** Four concurrent createAccount of one quota in one domain: exactly as many as fit are accepted, the rest QUOTA_EXCEEDED. */
  private async burstCreate(step: number): Promise<boolean> {
    const actor = this.supportActor();
    const candidates = [...this.domains.values()].filter((domain) => domain.quotaMb !== null || domain.maxAccounts !== null);
    if (!actor || candidates.length === 0) return false;
    const domain = this.random.pick(candidates);
    const quotaMb = this.random.pick([50, 100, 300]);
    const usage = this.usage(domain.id);
    const byCount = domain.maxAccounts === null ? Infinity : Math.max(0, domain.maxAccounts - usage.count);
    const byQuota = domain.quotaMb === null ? Infinity : quotaMb > domain.quotaMb ? 0 : Math.max(0, Math.floor((domain.quotaMb - usage.allocated) / quotaMb));
    const fits = Math.min(4, byCount, byQuota);
    const parts = [1, 2, 3, 4].map(() => `u${++this.accountCounter}`);
    const passwords = parts.map(() => this.password());
    const answers = await Promise.all(
      parts.map((localPart, index) =>
        this.send({
          operation: "burstCreateAccount",
          query: Q.createAccount,
          variables: { input: { domainId: domain.id, localPart, password: passwords[index], quotaMb } },
          actor,
          predict: () => ({ code: null, permitted: true }),
        }),
      ),
    );
    const accepted = answers.filter((answer) => !answer.errors?.length);
    const refusedCodes = answers.filter((answer) => answer.errors?.length).map((answer) => answer.errors![0]!.extensions?.code);
    const counts = (this.report.operations.burstCreateAccount ??= { accepted: 0, refused: 0 });
    counts.accepted += accepted.length;
    counts.refused += refusedCodes.length;
    this.report.accepted += accepted.length;
    this.report.refused += refusedCodes.length;
    for (const code of refusedCodes) this.report.codes[code ?? "NO_CODE"] = (this.report.codes[code ?? "NO_CODE"] ?? 0) + 1;
    this.recent.push(`#${step} 4 concurrent createAccount of ${quotaMb} MiB in ${domain.name}: ${fits} fit, ${accepted.length} accepted, refused ${refusedCodes.join(",")}`);
    if (this.recent.length > 12) this.recent.shift();
    if (accepted.length !== fits || refusedCodes.some((code) => code !== "QUOTA_EXCEEDED")) {
      this.violation(step, "prediction", "burstCreateAccount", `${fits} of 4 fit in ${domain.name}, ${accepted.length} accepted, refusals ${refusedCodes.join(",")}`);
      return true;
    }
    const audits: ExpectedAudit[] = [];
    answers.forEach((answer, index) => {
      if (answer.errors?.length) return;
      const created = answer.data.createAccount.account;
      this.accounts.set(created.id, {
        id: created.id,
        domainId: domain.id,
        localPart: parts[index]!,
        address: `${parts[index]}@${domain.name}`,
        displayName: "",
        status: "ACTIVE",
        quotaMb,
        usedMb: 0,
        password: passwords[index]!,
        tokenVersion: 0,
      });
      audits.push({ action: "account.create", actorId: actor.kind === "support" ? actor.id : null, objectId: created.id });
    });
    await this.checkDatabase(step, "burstCreateAccount", audits);
    return true;
  }

  /**
   * Two concurrent reassignments of one domain to the same account: the first
   * makes it the administrator, the second finds it already is and changes
   * nothing. Without the domain's row lock both would replace the former
   * administrator (two audit records, its token version raised twice). The
   * same target keeps the outcome independent of the order the database
   * picks, so that a seed still replays the same run.
   */
  private async burstReassign(step: number): Promise<boolean> {
    const actor = this.supportActor();
    const candidates = [...this.accounts.values()].filter((account) => account.status === "ACTIVE" && this.domains.get(account.domainId)!.adminId !== account.id);
    if (!actor || candidates.length === 0) return false;
    const account = this.random.pick(candidates);
    const domain = this.domains.get(account.domainId)!;
    const answers = await Promise.all(
      [1, 2].map(() =>
        this.send({
          operation: "burstReassign",
          query: Q.reassign,
          variables: { domainId: domain.id, accountId: account.id },
          actor,
          predict: () => ({ code: null, permitted: true }),
        }),
      ),
    );
    const counts = (this.report.operations.burstReassign ??= { accepted: 0, refused: 0 });
    const refused = answers.filter((answer) => answer.errors?.length);
    counts.accepted += answers.length - refused.length;
    counts.refused += refused.length;
    this.report.accepted += answers.length - refused.length;
    this.report.refused += refused.length;
    this.recent.push(`#${step} 2 concurrent reassignDomainAdmin of ${domain.name} to ${account.address}: ${refused.length} refused`);
    if (this.recent.length > 12) this.recent.shift();
    if (refused.length > 0) {
      this.violation(step, "prediction", "burstReassign", `refused: ${refused.map((answer) => answer.errors![0]!.message).join("; ")}`);
      return true;
    }
    this.accounts.get(domain.adminId)!.tokenVersion++;
    domain.adminId = account.id;
    await this.checkDatabase(step, "burstReassign", [{ action: "domain.reassign_admin", actorId: actor.kind === "support" ? actor.id : null, objectId: domain.id }]);
    return true;
  }
}

/** Runs the chaos against a server and its database. */
export function runChaos(target: ChaosTarget, options: ChaosOptions): Promise<ChaosReport> {
  return new ChaosRun(target, options).run();
}

/** The report as a few lines for a person. */
export function describeReport(report: ChaosReport): string {
  const lines = [
    `seed ${report.seed}: ${report.steps} steps, ${report.accepted} accepted, ${report.refused} refused, ${report.auditRecordsChecked} audit records checked, ${report.policyViolations} policy violations`,
    `refusals: ${Object.entries(report.codes)
      .sort((a, b) => b[1] - a[1])
      .map(([code, count]) => `${code} ${count}`)
      .join(", ")}`,
    `operations: ${Object.entries(report.operations)
      .map(([name, counts]) => `${name} ${counts.accepted}/${counts.accepted + counts.refused}`)
      .join(", ")} (accepted/sent)`,
    `at the end: ${report.finalState.domains} domains, ${report.finalState.accounts} accounts`,
  ];
  for (const violation of report.violations) lines.push(`VIOLATION at step ${violation.step} (${violation.kind}, ${violation.operation}): ${violation.detail}`);
  if (report.recentSteps.length > 0) lines.push("the steps before it:", ...report.recentSteps.map((step) => `  ${step}`));
  return lines.join("\n");
}
