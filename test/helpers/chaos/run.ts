// The chaos run: random valid and invalid operations from every kind of
// caller (support staff, domain administrators, ordinary accounts, anonymous
// callers, forged and revoked tokens), sent one after the other through the
// real GraphQL API, from a seeded generator so that a seed replays the same
// run. A model of the service, written from the rules (docs/authorization.md
// "Who may do what", the services' checks), predicts each answer; after every
// step the database is checked:
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
// The parts: random.ts (the seeded generator), model.ts (the model's state
// and who is who), policy.ts (who may do what), operations.ts (the table of
// operations and the one prediction), checks.ts (the database checks), and
// this file (choosing, sending, comparing, reporting). Two entry points use
// it: test/chaos/chaos.test.ts (a short run in every test pass) and
// bench/chaos.ts (`npm run bench:chaos -- --minutes 5 --seed N`). The run
// stops at the first violation and reports the steps leading to it.
//
// Not covered: API tokens, the REST API, imports, delivery logs, DNS checks
// and probes (each has its own tests); concurrency beyond the two bursts.
import type { PrismaClient } from "../../../src/generated/prisma/client";
import type { PasswordHasher } from "../../../src/auth/passwords";
import { auditDifference, invariantProblems, stateDifferences } from "./checks";
import { ChaosModel, ModelMismatch, type Actor, type ExpectedAudit, type Someone } from "./model";
import { OPERATIONS, forgedToken, loginDraft, predict, type Draft, type Operation, type OperationName, type Prediction } from "./operations";
import { SeededRandom } from "./random";

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

interface ChaosRequest {
  operation: OperationName;
  draft: Draft;
  actor: Actor;
}

interface GraphQLAnswer {
  status: number;
  data?: any;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const codeOf = (answer: GraphQLAnswer): string | null => (answer.errors?.length ? (answer.errors[0]!.extensions?.code ?? "NO_CODE") : null);

export class ChaosRun {
  private readonly model: ChaosModel;
  private readonly random: SeededRandom;
  private auditWatermark = 0n;
  private readonly report: ChaosReport;
  private readonly recent: string[] = [];

  constructor(
    private readonly target: ChaosTarget,
    private readonly options: ChaosOptions,
  ) {
    this.random = new SeededRandom(options.seed);
    // Names are unique to this run (tests share one database); the seed alone decides everything else.
    const label = `r${options.seed.toString(36)}x${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    this.model = new ChaosModel(this.random, label, target.defaultMailboxQuotaMb);
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
      finalState: { domains: this.model.domains.size, accounts: this.model.accounts.size },
    };
  }

  /** Two support admins of the run's own, straight into the database (their creation is not an API operation). */
  private async setUp(): Promise<void> {
    for (const index of [1, 2]) {
      const username = `chaos-${this.model.label}-s${index}`;
      const password = `support password ${index} ${this.model.label}`.slice(0, 60);
      const created = await this.target.db.supportAdmin.create({
        data: { username, displayName: "Chaos support", passwordHash: await this.target.passwords.hash(password) },
      });
      this.model.supports.set(created.id, { id: created.id, username, password, tokenVersion: 0 });
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
      const operation = OPERATIONS[request.operation];
      const prediction = predict(this.model, operation, request.draft, request.actor);
      const answer = await this.send(operation, request.draft.variables, operation.anonymous ? { kind: "anonymous" } : request.actor);
      const audits = this.judge(step, request, prediction, answer);
      if (audits) await this.checkDatabase(step, request.operation, audits);
      // After a wrong answer, say too whether the stored data now breaks a rule.
      else await this.checkInvariants(step, request.operation);
    } catch (error) {
      if (error instanceof ModelMismatch) this.violation(step, "read", "(step)", error.message);
      else throw error;
    }
  }

  private async send(operation: Operation, variables: Record<string, unknown>, actor: Actor): Promise<GraphQLAnswer> {
    const token = actor.kind === "anonymous" ? undefined : actor.token;
    const response = await fetch(`${this.target.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query: operation.document, variables }),
    });
    const text = await response.text();
    try {
      const body = JSON.parse(text) as { data?: any; errors?: GraphQLAnswer["errors"] };
      return { status: response.status, data: body.data, errors: body.errors };
    } catch {
      return { status: response.status, errors: [{ message: text.slice(0, 200), extensions: { code: `HTTP_${response.status}` } }] };
    }
  }

  /** Counts answers in the report, per operation and per refusal code. */
  private count(operation: string, codes: (string | null)[]): void {
    const counts = (this.report.operations[operation] ??= { accepted: 0, refused: 0 });
    for (const code of codes) {
      if (code === null) {
        counts.accepted++;
        this.report.accepted++;
      } else {
        counts.refused++;
        this.report.refused++;
        this.report.codes[code] = (this.report.codes[code] ?? 0) + 1;
      }
    }
  }

  private remember(summary: string): void {
    this.recent.push(summary);
    if (this.recent.length > 12) this.recent.shift();
  }

  /** Compares an answer with the prediction; returns the audit records expected, or undefined after a violation. */
  private judge(step: number, request: ChaosRequest, prediction: Prediction, answer: GraphQLAnswer): ExpectedAudit[] | undefined {
    const code = codeOf(answer);
    const who = this.model.describeActor(OPERATIONS[request.operation].anonymous ? { kind: "anonymous" } : request.actor);
    const summary = `#${step} ${request.operation} by ${who}: expected ${prediction.code ?? "accepted"}, got ${code ?? "accepted"} ${JSON.stringify(request.draft.variables).slice(0, 160)}`;
    this.remember(summary);
    this.count(request.operation, [code]);
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
  // The database checks after each step (checks.ts)

  private async checkDatabase(step: number, operation: string, expectedAudits: ExpectedAudit[]): Promise<void> {
    await this.checkInvariants(step, operation);
    const audit = await auditDifference(this.target.db, this.auditWatermark, expectedAudits);
    this.auditWatermark = audit.watermark;
    this.report.auditRecordsChecked += audit.checked;
    if (audit.problem) this.violation(step, "audit", operation, audit.problem);
    const differences = await stateDifferences(this.target.db, this.model);
    if (differences.length > 0) this.violation(step, "state", operation, differences.slice(0, 5).join("; "));
  }

  private async checkInvariants(step: number, operation: string): Promise<void> {
    for (const problem of await invariantProblems(this.target.db, this.model)) this.violation(step, "invariant", operation, problem);
  }

  // -------------------------------------------------------------------------
  // Choosing the next request

  /** A caller: mostly someone real, sometimes anonymous or forged. A principal without a valid token logs in first. */
  private chooseActor(): Actor | ChaosRequest {
    const { model, random } = this;
    const kind = random.weighted([
      ["support", 34],
      ["admin", 26],
      ["user", 26],
      ["anonymous", 8],
      ["forged", 6],
    ] as const);
    if (kind === "anonymous") return { kind: "anonymous" };
    if (kind === "forged") return { kind: "forged", token: forgedToken(model) };
    const anySupport = (): Someone => ({ kind: "support", id: random.pick([...model.supports.keys()]) });
    let someone: Someone;
    if (kind === "support" || model.domains.size === 0) someone = anySupport();
    else if (kind === "admin") someone = { kind: "account", id: random.pick([...model.domains.values()]).adminId };
    else {
      const users = [...model.accounts.values()].filter((account) => model.domains.get(account.domainId)?.adminId !== account.id);
      someone = users.length > 0 ? { kind: "account", id: random.pick(users).id } : anySupport();
    }
    const held = model.held.get(someone.id);
    const login = (): ChaosRequest => ({ operation: "login", draft: loginDraft(model, someone, "right"), actor: { kind: "anonymous" } });
    if (!held) return login();
    const actor: Actor = { ...someone, token: held.token };
    // A revoked or suspended token is used now and then (it must be refused), otherwise renewed.
    if (!model.principalOf(actor) && random.chance(0.6)) return login();
    return actor;
  }

  private nextRequest(): ChaosRequest {
    const chosen = this.chooseActor();
    if ("operation" in chosen) return chosen;
    const names = Object.keys(OPERATIONS) as OperationName[];
    const operation = this.random.weighted(names.map((name) => [name, OPERATIONS[name].weight(this.model)] as const));
    return { operation, draft: OPERATIONS[operation].draft(this.model, chosen), actor: chosen };
  }

  // -------------------------------------------------------------------------
  // Concurrent requests: the row lock must keep the limits whatever the interleaving.

  private supportActor(): (Actor & { id: string }) | undefined {
    for (const support of this.model.supports.values()) {
      const held = this.model.held.get(support.id);
      const actor = held ? ({ kind: "support", id: support.id, token: held.token } as const) : undefined;
      if (actor && this.model.principalOf(actor)) return actor;
    }
    return undefined;
  }

  /** Sends the same operation several times at once; counts the answers in the report under `name`. */
  private async burst(name: string, operation: Operation, variables: Record<string, unknown>[], actor: Actor, summary: string): Promise<GraphQLAnswer[]> {
    const answers = await Promise.all(variables.map((each) => this.send(operation, each, actor)));
    this.count(name, answers.map(codeOf));
    this.remember(`${summary}: refused ${answers.map(codeOf).filter(Boolean).join(",") || "none"}`);
    return answers;
  }

  /** Four concurrent createAccount of one quota in one domain: exactly as many as fit are accepted, the rest QUOTA_EXCEEDED. */
  private async burstCreate(step: number): Promise<boolean> {
    const { model, random } = this;
    const actor = this.supportActor();
    const candidates = [...model.domains.values()].filter((domain) => domain.quotaMb !== null || domain.maxAccounts !== null);
    if (!actor || candidates.length === 0) return false;
    const domain = random.pick(candidates);
    const quotaMb = random.pick([50, 100, 300]);
    const usage = model.usage(domain.id);
    const byCount = domain.maxAccounts === null ? Infinity : Math.max(0, domain.maxAccounts - usage.count);
    const byQuota = domain.quotaMb === null ? Infinity : quotaMb > domain.quotaMb ? 0 : Math.max(0, Math.floor((domain.quotaMb - usage.allocated) / quotaMb));
    const fits = Math.min(4, byCount, byQuota);
    const inputs = [1, 2, 3, 4].map(() => ({ domainId: domain.id, localPart: `u${++model.accountCounter}`, password: model.password(), quotaMb }));
    const answers = await this.burst(
      "burstCreateAccount",
      OPERATIONS.createAccount,
      inputs.map((input) => ({ input })),
      actor,
      `#${step} 4 concurrent createAccount of ${quotaMb} MiB in ${domain.name}: ${fits} fit`,
    );
    const codes = answers.map(codeOf);
    const accepted = codes.filter((code) => code === null).length;
    if (accepted !== fits || codes.some((code) => code !== null && code !== "QUOTA_EXCEEDED")) {
      this.violation(step, "prediction", "burstCreateAccount", `${fits} of 4 fit in ${domain.name}, ${accepted} accepted, refusals ${codes.filter(Boolean).join(",")}`);
      return true;
    }
    const audits: ExpectedAudit[] = [];
    answers.forEach((answer, index) => {
      if (answer.errors?.length) return;
      const { id } = answer.data.createAccount.account;
      model.addAccount({ id, domainId: domain.id, localPart: inputs[index]!.localPart, status: "ACTIVE", quotaMb, password: inputs[index]!.password });
      audits.push({ action: "account.create", actorId: actor.id, objectId: id });
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
    const { model } = this;
    const actor = this.supportActor();
    const candidates = [...model.accounts.values()].filter((account) => account.status === "ACTIVE" && model.domains.get(account.domainId)!.adminId !== account.id);
    if (!actor || candidates.length === 0) return false;
    const account = this.random.pick(candidates);
    const domain = model.domains.get(account.domainId)!;
    const variables = { domainId: domain.id, accountId: account.id };
    const answers = await this.burst(
      "burstReassign",
      OPERATIONS.reassignDomainAdmin,
      [variables, variables],
      actor,
      `#${step} 2 concurrent reassignDomainAdmin of ${domain.name} to ${account.address}`,
    );
    const refused = answers.filter((answer) => answer.errors?.length);
    if (refused.length > 0) {
      this.violation(step, "prediction", "burstReassign", `refused: ${refused.map((answer) => answer.errors![0]!.message).join("; ")}`);
      return true;
    }
    model.accounts.get(domain.adminId)!.tokenVersion++;
    domain.adminId = account.id;
    await this.checkDatabase(step, "burstReassign", [{ action: "domain.reassign_admin", actorId: actor.id, objectId: domain.id }]);
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
