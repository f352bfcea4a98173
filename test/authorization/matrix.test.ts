// The authorization matrix: every mutation and every read, called through HTTP
// by each role, with the outcome the contract promises. Each row builds its own
// world (two domains, their administrators, two ordinary users of domain A).
//
//   anonymous                                  -> UNAUTHENTICATED
//   an object the caller may not even see      -> NOT_FOUND, exactly like a missing one
//   a visible object the caller may not change -> FORBIDDEN
//
// An allowed mutation must change the database and write one audit_entry row
// (carrying the request's id); a refused one must change nothing at all.
import jwt from "jsonwebtoken";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";
import { createHash, randomUUID } from "node:crypto";
import type { Account } from "../../src/generated/prisma/client";
import { errorCode, startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, makeWorld, PASSWORD, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";

type RoleKey = "support" | "readOnly" | "admin" | "otherAdmin" | "user" | "anonymous";
type Refusal = "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND";
type Outcome = "allowed" | Refusal;
/** Each role's outcome; read-only support staff's follows from support's unless given (outcomeOf). */
type RoleOutcomes = Partial<Record<RoleKey, Outcome>> & Record<Exclude<RoleKey, "readOnly">, Outcome>;

const ROLES: RoleKey[] = ["support", "readOnly", "admin", "otherAdmin", "user", "anonymous"];

/** Support staff of either level: they see the same objects. */
function isSupportRole(role: RoleKey): boolean {
  return role === "support" || role === "readOnly";
}

/**
 * Read-only support staff read everything full support staff read and change
 * nothing: unless a row says otherwise, a read's outcome is support's and a
 * mutation is FORBIDDEN (every object is visible to support staff).
 */
function outcomeOf(expected: Partial<Record<RoleKey, Outcome>> & Record<Exclude<RoleKey, "readOnly">, Outcome>, role: RoleKey, kind: "read" | "mutation"): Outcome {
  if (role !== "readOnly") return expected[role];
  return expected.readOnly ?? (kind === "read" ? expected.support : "FORBIDDEN");
}

const WHO: Record<RoleKey, string> = {
  support: "support staff",
  readOnly: "read-only support staff",
  admin: "the domain's administrator",
  otherAdmin: "another domain's administrator",
  user: "an ordinary user of the domain",
  anonymous: "an anonymous caller",
};

const ACTOR_ROLE: Record<Exclude<RoleKey, "anonymous">, string> = {
  support: "SUPPORT_ADMIN",
  readOnly: "SUPPORT_READONLY",
  admin: "DOMAIN_ADMIN",
  otherAdmin: "DOMAIN_ADMIN",
  user: "USER",
};

const NEW_PASSWORD = "a brand new password 42";

// ---------------------------------------------------------------------------
// Fixtures

interface Caller {
  id: string;
  name: string;
}

/** makeWorld plus a second ordinary account of domain A, the support admin's identity and names for new objects. */
async function setUp(app: TestApp) {
  const world = await makeWorld(app);
  const colleague = await makeAccount(app, world.domain, { quotaMb: 0, displayName: "Colleague" });
  // An API token of domain A, made by its administrator (for revokeApiToken and apiTokens).
  const adminApiToken = (await apiTokenOf(app, world.admin, ["READ"])).row;
  // An alias and an alias domain of domain A, for the alias rows.
  const teamPart = uniqueName("team");
  const alias = await app.deps.db.alias.create({
    data: { domainId: world.domain.id, localPart: teamPart, address: `${teamPart}@${world.domain.name}`, destinations: ["partner@outside.example"] },
  });
  const aliasDomain = await app.deps.db.aliasDomain.create({ data: { name: `${uniqueName("ad")}.example`, domainId: world.domain.id } });
  // A support test domain with a mailbox (docs/test-domain.md): support's own, none of the other roles' business.
  const testBox = await makeAccount(app, (await makeDomain(app, { isTestDomain: true })).domain, { quotaMb: 10 });
  // An app password and a second factor of the colleague, for the support-team rows.
  const appPassword = await app.deps.db.appPassword.create({
    data: { accountId: colleague.id, publicId: uniqueName("").slice(0, 10), name: "Phone", passwordHash: "$2b$04$notarealhash", createdByName: colleague.address },
  });
  await app.deps.db.totpFactor.create({ data: { principalId: colleague.id, principalKind: "account", secretSealed: "v1.x.y.z", confirmedAt: new Date() } });
  const supportId = (jwt.decode(world.tokens.support) as { sub: string }).sub;
  const support = await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: supportId } });
  const readOnly = await supportAdmin(app, uniqueName("readonly"));
  await app.deps.db.supportAdmin.update({ where: { id: readOnly.id }, data: { level: "READ_ONLY" } });
  // A domain of its own per row: the per-domain limit of test messages counts every row's.
  const testTarget = `${uniqueName("to")}.example`;
  const testMessage = await app.deps.db.testMessage.create({
    data: {
      messageId: `test-${randomUUID()}@matrix.example`,
      fromAddress: testBox.address,
      domainId: testBox.domainId,
      toAddress: `someone@${testTarget}`,
      targetDomain: testTarget,
      targetIsLocal: false,
      subject: "a test",
      sentById: support.id,
      sentByName: support.username,
      queueId: "4A1B2C3D4E",
      submissionReply: "250 2.0.0 Ok: queued as 4A1B2C3D4E",
      accepted: true,
    },
  });
  const callers: Record<Exclude<RoleKey, "anonymous">, Caller> = {
    support: { id: support.id, name: support.username },
    readOnly: { id: readOnly.id, name: readOnly.username },
    admin: { id: world.admin.id, name: world.admin.address },
    otherAdmin: { id: world.otherAdmin.id, name: world.otherAdmin.address },
    user: { id: world.user.id, name: world.user.address },
  };
  return {
    ...world,
    tokens: { ...world.tokens, readOnly: await tokenFor(app, readOnly) },
    colleague,
    adminApiToken,
    appPassword,
    alias,
    aliasDomain,
    testBox,
    testMessageId: testMessage.id,
    callers,
    fresh: { domainName: `${uniqueName("new")}.example`, localPart: uniqueName("new") },
  };
}
type Fixture = Awaited<ReturnType<typeof setUp>>;

function tokenOf(f: Fixture, role: RoleKey): string | undefined {
  return f.tokens[role];
}

/** Every row a refused request could have touched: both domains, their accounts and administrators, the callers, and the audit trail about any of them. */
async function snapshot(app: TestApp, f: Fixture) {
  const db = app.deps.db;
  const domainIds = [f.domain.id, f.otherDomain.id];
  const accountIds = [f.admin.id, f.user.id, f.colleague.id, f.otherAdmin.id];
  const callerIds = Object.values(f.callers).map((caller) => caller.id);
  const addresses = [f.admin, f.user, f.colleague, f.otherAdmin].map((account) => account.address);
  // One query per table, named as the snapshot names it: a new table is one line here.
  const queries = {
    domains: db.domain.findMany({ where: { OR: [{ id: { in: domainIds } }, { name: f.fresh.domainName }] }, orderBy: { id: "asc" } }),
    accounts: db.account.findMany({
      where: { OR: [{ domainId: { in: domainIds } }, { id: { in: accountIds } }, { localPart: f.fresh.localPart }] },
      orderBy: { id: "asc" },
    }),
    admins: db.domainAdmin.findMany({ where: { domainId: { in: domainIds } }, orderBy: { domainId: "asc" } }),
    support: db.supportAdmin.findUniqueOrThrow({ where: { id: f.callers.support.id } }),
    audit: db.auditEntry.findMany({
      where: {
        OR: [
          { domainId: { in: domainIds } },
          { objectId: { in: [...domainIds, ...accountIds, ...callerIds] } },
          { actorId: { in: callerIds } },
          { domainName: f.fresh.domainName },
        ],
      },
      orderBy: { id: "asc" },
    }),
    apiTokens: db.apiToken.findMany({ where: { OR: [{ domainId: { in: domainIds } }, { createdById: { in: callerIds } }] }, orderBy: { id: "asc" } }),
    usage: db.mailboxUsage.findMany({ where: { username: { in: addresses } }, orderBy: { username: "asc" } }),
    aliases: db.alias.findMany({ where: { domainId: { in: domainIds } }, orderBy: { id: "asc" } }),
    aliasDomains: db.aliasDomain.findMany({ where: { domainId: { in: domainIds } }, orderBy: { name: "asc" } }),
    autoReplies: db.autoReply.findMany({ where: { accountId: { in: accountIds } }, orderBy: { accountId: "asc" } }),
    dkimKeys: db.dkimKey.findMany({ where: { domainId: { in: domainIds } }, orderBy: { id: "asc" } }),
    testMessages: db.testMessage.findMany({ where: { OR: [{ sentById: { in: callerIds } }, { fromAddress: f.testBox.address }] }, orderBy: { id: "asc" } }),
    testBoxAudit: db.auditEntry.findMany({ where: { objectId: f.testBox.id }, orderBy: { id: "asc" } }),
    appPasswords: db.appPassword.findMany({ where: { accountId: { in: accountIds } }, orderBy: { id: "asc" } }),
    totpFactors: db.totpFactor.findMany({ where: { principalId: { in: [...accountIds, ...callerIds] } }, orderBy: { principalId: "asc" } }),
    sessions: db.loginSession.findMany({ where: { principalId: { in: [...accountIds, ...callerIds] } }, orderBy: { id: "asc" } }),
  };
  const rows = await Promise.all(Object.values(queries));
  return Object.fromEntries(Object.keys(queries).map((name, index) => [name, rows[index]]));
}

/** The one audit row the request wrote for `action` on `objectId`, by the caller of `role`. */
async function expectAudited(app: TestApp, f: Fixture, role: RoleKey, response: GraphQLResponse, action: string, objectId: string) {
  if (role === "anonymous") throw new Error("an anonymous caller cannot be audited as an actor");
  const caller = f.callers[role];
  const rows = await app.deps.db.auditEntry.findMany({ where: { action, objectId, actorId: caller.id } });
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({
    actorRole: ACTOR_ROLE[role],
    actorName: caller.name,
    requestId: response.headers.get("x-request-id"),
  });
  return rows[0]!;
}

/** A missing object of the same kind as each value of a target, for the "indistinguishable from missing" check. */
function missingLike(target: Record<string, string>, keys: string[]): Record<string, string> {
  const missing = { ...target };
  for (const key of keys) {
    const value = target[key]!;
    missing[key] = value.includes("@") ? `${uniqueName("ghost")}@${uniqueName("nowhere")}.example` : value.includes(".") ? `${uniqueName("nowhere")}.example` : randomUUID();
  }
  return missing;
}

/** The parts of an error a client sees, with the object's own reference replaced so that two objects compare. */
function visibleError(response: GraphQLResponse, target: Record<string, string>, keys: string[]) {
  const error = response.errors?.[0];
  let message = error?.message ?? "";
  for (const key of keys) message = message.split(target[key]!).join(`<${key}>`);
  const { requestId: _requestId, ...extensions } = error?.extensions ?? { code: "" };
  return { status: response.status, message, extensions, path: error?.path, data: response.data };
}

// ---------------------------------------------------------------------------
// Mutations

interface MutationSpec {
  /** Completes "<who> can ..." / "<who> cannot ...". */
  does: string;
  /** The root field of the mutation. */
  field: string;
  /** The values the request names (ids, names), from the fixture. */
  target(f: Fixture): Record<string, string>;
  /** The target values that name the object a caller might not see (swapped for missing ones in the NOT_FOUND check). */
  objectKeys: string[];
  send(app: TestApp, target: Record<string, string>, token: string | undefined): Promise<GraphQLResponse>;
  /** After an allowed call: the change is in the database, and audited. */
  happened(app: TestApp, f: Fixture, role: RoleKey, response: GraphQLResponse): Promise<void>;
  expected: RoleOutcomes;
}

const accountTargets = {
  colleague: { of: "another ordinary account of the domain", pick: (f: Fixture): Account => f.colleague },
  user: { of: "the ordinary user's own account", pick: (f: Fixture): Account => f.user },
};
type AccountTarget = keyof typeof accountTargets;

/** Account mutations differ only for the ordinary user: its own account is visible (FORBIDDEN), a colleague's is not (NOT_FOUND). */
function userOutcome(target: AccountTarget): Refusal {
  return target === "user" ? "FORBIDDEN" : "NOT_FOUND";
}

function accountMutations(which: AccountTarget): MutationSpec[] {
  const { of, pick } = accountTargets[which];
  return [
    {
      does: `change the display name and quota of ${of} (updateAccount)`,
      field: "updateAccount",
      target: (f) => ({ accountId: pick(f).id }),
      objectKeys: ["accountId"],
      send: (app, t, token) =>
        app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { displayName: "Renamed", quotaMb: 77 }) { account { id displayName quotaMb } } }`, { id: t.accountId }, token),
      async happened(app, f, role, response) {
        const account = pick(f);
        expect(response.data.updateAccount.account).toEqual({ id: account.id, displayName: "Renamed", quotaMb: 77 });
        const stored = await app.deps.db.account.findUniqueOrThrow({ where: { id: account.id } });
        expect(stored).toMatchObject({ displayName: "Renamed", quotaMb: 77, usedMb: account.usedMb });
        const entry = await expectAudited(app, f, role, response, "account.update", account.id);
        expect(entry.changes).toEqual([
          { field: "displayName", before: account.displayName, after: "Renamed" },
          { field: "quotaMb", before: account.quotaMb, after: 77 },
        ]);
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: userOutcome(which), anonymous: "UNAUTHENTICATED" },
    },
    {
      does: `set the used storage (usedMb) of ${of} (updateAccount)`,
      field: "updateAccount",
      target: (f) => ({ accountId: pick(f).id }),
      objectKeys: ["accountId"],
      send: (app, t, token) => app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { usedMb: 42 }) { account { id usedMb } } }`, { id: t.accountId }, token),
      async happened(app, f, role, response) {
        const account = pick(f);
        expect(response.data.updateAccount.account).toEqual({ id: account.id, usedMb: 42 });
        expect((await app.deps.db.account.findUniqueOrThrow({ where: { id: account.id } })).usedMb).toBe(42);
        // Deprecated: stored as a usage report, like the mail store's own.
        expect(await app.deps.db.mailboxUsage.findUniqueOrThrow({ where: { username: account.address } })).toMatchObject({ bytes: BigInt(42 * 1024 * 1024) });
        const entry = await expectAudited(app, f, role, response, "account.update", account.id);
        expect(entry.changes).toEqual([{ field: "usedMb", before: 0, after: 42 }]);
      },
      expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "NOT_FOUND", user: userOutcome(which), anonymous: "UNAUTHENTICATED" },
    },
    {
      does: `set the password of ${of} (setAccountPassword)`,
      field: "setAccountPassword",
      target: (f) => ({ accountId: pick(f).id }),
      objectKeys: ["accountId"],
      send: (app, t, token) =>
        app.gql(
          `mutation($id: ID!, $password: String!) { setAccountPassword(id: $id, password: $password) { account { id } } }`,
          { id: t.accountId, password: NEW_PASSWORD },
          token,
        ),
      async happened(app, f, role, response) {
        const account = pick(f);
        expect(response.data.setAccountPassword.account).toEqual({ id: account.id });
        const stored = await app.deps.db.account.findUniqueOrThrow({ where: { id: account.id } });
        expect(await app.deps.passwords.verify(NEW_PASSWORD, stored.passwordHash)).toBe(true);
        expect(stored.tokenVersion).toBe(account.tokenVersion + 1);
        await expectAudited(app, f, role, response, "account.set_password", account.id);
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: userOutcome(which), anonymous: "UNAUTHENTICATED" },
    },
    {
      does: `delete ${of} (deleteAccount)`,
      field: "deleteAccount",
      target: (f) => ({ accountId: pick(f).id }),
      objectKeys: ["accountId"],
      send: (app, t, token) => app.gql(`mutation($id: ID!) { deleteAccount(id: $id) { deletedAccountId address } }`, { id: t.accountId }, token),
      async happened(app, f, role, response) {
        const account = pick(f);
        expect(response.data.deleteAccount).toEqual({ deletedAccountId: account.id, address: account.address });
        expect(await app.deps.db.account.findUnique({ where: { id: account.id } })).toBeNull();
        await expectAudited(app, f, role, response, "account.delete", account.id);
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: userOutcome(which), anonymous: "UNAUTHENTICATED" },
    },
  ];
}

const IMPORT_REPORT = "id phase createdCount failedCount errors { row field code message }";

/** A one-row import file: an account for the domain. */
function importFile(t: Record<string, string>): string {
  return `address,password,displayName\n${t.localPart}@${t.domainName},${PASSWORD},Imported\n`;
}

/**
 * After an import by an allowed caller: its row is created and audited where
 * the caller may create accounts; another domain's administrator gets the row
 * refused in the report, exactly as for a domain that does not exist, and
 * nothing changes.
 */
async function importHappened(
  app: TestApp,
  f: Fixture,
  role: RoleKey,
  report: { phase: string; createdCount: number; failedCount: number; errors: unknown[] },
  response: GraphQLResponse,
) {
  const address = `${f.fresh.localPart}@${f.domain.name}`;
  if (role === "otherAdmin") {
    expect(report).toMatchObject({ phase: "DONE", createdCount: 0, failedCount: 1 });
    expect(report.errors).toEqual([{ row: 1, field: "address", code: "NOT_FOUND", message: `No domain ${f.domain.name} exists, or you may not see it.` }]);
    expect(await app.deps.db.account.findUnique({ where: { address } })).toBeNull();
    return;
  }
  expect(report).toMatchObject({ phase: "DONE", createdCount: 1, failedCount: 0, errors: [] });
  const stored = await app.deps.db.account.findUniqueOrThrow({ where: { address } });
  expect(stored).toMatchObject({ domainId: f.domain.id, displayName: "Imported" });
  await expectAudited(app, f, role, response, "account.create", stored.id);
}

async function finishedImport(app: TestApp, id: string, token: string | undefined) {
  for (;;) {
    const read = await app.gql(`query($id: ID!) { accountImport(id: $id) { ${IMPORT_REPORT} } }`, { id }, token);
    expect(read.errors).toBeUndefined();
    if (read.data.accountImport.phase === "DONE" || read.data.accountImport.phase === "FAILED") return read.data.accountImport;
  }
}

function importMutations(): MutationSpec[] {
  const importTarget = (f: Fixture) => ({ domainName: f.domain.name, localPart: f.fresh.localPart });
  const expected: RoleOutcomes = { support: "allowed", admin: "allowed", otherAdmin: "allowed", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" };
  // Where the caller may not create accounts, the call succeeds and the row is refused in its report.
  const rowRule = "a row of a domain it may not see is refused as NOT_FOUND";
  return [
    {
      does: `import a file with an account for the domain (importAccounts; ${rowRule})`,
      field: "importAccounts",
      target: importTarget,
      objectKeys: [],
      send: (app, t, token) =>
        app.gql(`mutation($content: String!) { importAccounts(input: { content: $content, mode: PER_ROW }) { ${IMPORT_REPORT} } }`, { content: importFile(t) }, token),
      happened: (app, f, role, response) => importHappened(app, f, role, response.data.importAccounts, response),
      expected,
    },
    {
      does: `start an import of a file with an account for the domain and follow it (startAccountImport, accountImport; ${rowRule})`,
      field: "startAccountImport",
      target: importTarget,
      objectKeys: [],
      send: (app, t, token) =>
        app.gql(`mutation($content: String!) { startAccountImport(input: { content: $content, mode: PER_ROW }) { ${IMPORT_REPORT} } }`, { content: importFile(t) }, token),
      async happened(app, f, role, response) {
        await importHappened(app, f, role, await finishedImport(app, response.data.startAccountImport.id, tokenOf(f, role)), response);
      },
      expected,
    },
    {
      does: `send the rest of its import's file (appendAccountImportContent; ${rowRule})`,
      field: "appendAccountImportContent",
      target: importTarget,
      objectKeys: [],
      async send(app, t, token) {
        const [header, row] = importFile(t).split(/(?<=\n)/);
        const started = await app.gql(
          `mutation($content: String!) { startAccountImport(input: { content: $content, mode: PER_ROW, more: true }) { id } }`,
          { content: header },
          token,
        );
        return app.gql(
          `mutation($id: ID!, $content: String!) { appendAccountImportContent(id: $id, content: $content) { ${IMPORT_REPORT} } }`,
          { id: started.data?.startAccountImport.id ?? randomUUID(), content: row },
          token,
        );
      },
      async happened(app, f, role, response) {
        await importHappened(app, f, role, await finishedImport(app, response.data.appendAccountImportContent.id, tokenOf(f, role)), response);
      },
      expected,
    },
  ];
}

const mutations: MutationSpec[] = [
  {
    does: "create a domain (createDomain)",
    field: "createDomain",
    target: (f) => ({ name: f.fresh.domainName }),
    objectKeys: [],
    send: (app, t, token) =>
      app.gql(
        `mutation($name: String!, $password: String) { createDomain(input: { name: $name, adminPassword: $password }) { domain { id name } admin { id address role } } }`,
        { name: t.name, password: PASSWORD },
        token,
      ),
    async happened(app, f, role, response) {
      const { domain, admin } = response.data.createDomain;
      expect(domain.name).toBe(f.fresh.domainName);
      expect(admin).toMatchObject({ address: `admin@${f.fresh.domainName}`, role: "DOMAIN_ADMIN" });
      const stored = await app.deps.db.domain.findUnique({ where: { name: f.fresh.domainName }, include: { admin: true } });
      expect(stored?.id).toBe(domain.id);
      expect(stored?.admin?.accountId).toBe(admin.id);
      await expectAudited(app, f, role, response, "domain.create", domain.id);
      await expectAudited(app, f, role, response, "account.create", admin.id);
    },
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "FORBIDDEN", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "change the domain's quota and limits (updateDomain)",
    field: "updateDomain",
    target: (f) => ({ domainId: f.domain.id }),
    objectKeys: ["domainId"],
    send: (app, t, token) =>
      app.gql(
        `mutation($id: ID!) { updateDomain(id: $id, input: { quotaMb: 500000, maxAccounts: 50, isTestDomain: true }) { domain { id quotaMb maxAccounts isTestDomain } } }`,
        { id: t.domainId },
        token,
      ),
    async happened(app, f, role, response) {
      expect(response.data.updateDomain.domain).toEqual({ id: f.domain.id, quotaMb: 500000, maxAccounts: 50, isTestDomain: true });
      const stored = await app.deps.db.domain.findUniqueOrThrow({ where: { id: f.domain.id } });
      expect(stored).toMatchObject({ quotaMb: 500000, maxAccounts: 50, isTestDomain: true });
      const entry = await expectAudited(app, f, role, response, "domain.update", f.domain.id);
      expect(entry.changes).toEqual([
        { field: "isTestDomain", before: false, after: true },
        { field: "quotaMb", before: null, after: 500000 },
        { field: "maxAccounts", before: null, after: 50 },
      ]);
    },
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "delete the domain with everything in it (deleteDomain, force)",
    field: "deleteDomain",
    target: (f) => ({ domainId: f.domain.id }),
    objectKeys: ["domainId"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { deleteDomain(id: $id, force: true) { deletedDomainId name deletedAccountCount } }`, { id: t.domainId }, token),
    async happened(app, f, role, response) {
      expect(response.data.deleteDomain).toEqual({ deletedDomainId: f.domain.id, name: f.domain.name, deletedAccountCount: 3 });
      expect(await app.deps.db.domain.findUnique({ where: { id: f.domain.id } })).toBeNull();
      expect(await app.deps.db.account.count({ where: { domainId: f.domain.id } })).toBe(0);
      expect(await app.deps.db.domainAdmin.findUnique({ where: { domainId: f.domain.id } })).toBeNull();
      await expectAudited(app, f, role, response, "domain.delete", f.domain.id);
    },
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "make another account the domain's administrator (reassignDomainAdmin)",
    field: "reassignDomainAdmin",
    target: (f) => ({ domainId: f.domain.id, accountId: f.colleague.id }),
    objectKeys: ["domainId"],
    send: (app, t, token) =>
      app.gql(
        `mutation($domainId: ID!, $accountId: ID!) { reassignDomainAdmin(domainId: $domainId, accountId: $accountId) { domain { id } admin { id role } previousAdmin { id role } } }`,
        { domainId: t.domainId, accountId: t.accountId },
        token,
      ),
    async happened(app, f, role, response) {
      expect(response.data.reassignDomainAdmin).toEqual({
        domain: { id: f.domain.id },
        admin: { id: f.colleague.id, role: "DOMAIN_ADMIN" },
        previousAdmin: { id: f.admin.id, role: "USER" },
      });
      expect((await app.deps.db.domainAdmin.findUniqueOrThrow({ where: { domainId: f.domain.id } })).accountId).toBe(f.colleague.id);
      // The former administrator's tokens stop working.
      expect((await app.deps.db.account.findUniqueOrThrow({ where: { id: f.admin.id } })).tokenVersion).toBe(f.admin.tokenVersion + 1);
      expect(errorCode(await app.gql(`{ me { id } }`, {}, f.tokens.admin))).toBe("UNAUTHENTICATED");
      const entry = await expectAudited(app, f, role, response, "domain.reassign_admin", f.domain.id);
      expect(entry.changes).toEqual([{ field: "admin", before: f.admin.address, after: f.colleague.address }]);
    },
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "create an account in the domain (createAccount)",
    field: "createAccount",
    target: (f) => ({ domainId: f.domain.id, localPart: f.fresh.localPart }),
    objectKeys: ["domainId"],
    send: (app, t, token) =>
      app.gql(
        `mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id address role domain { id } } } }`,
        { input: { domainId: t.domainId, localPart: t.localPart, password: PASSWORD, displayName: "New mailbox", quotaMb: 10 } },
        token,
      ),
    async happened(app, f, role, response) {
      const address = `${f.fresh.localPart}@${f.domain.name}`;
      const { account } = response.data.createAccount;
      expect(account).toMatchObject({ address, role: "USER", domain: { id: f.domain.id } });
      const stored = await app.deps.db.account.findUniqueOrThrow({ where: { address } });
      expect(stored).toMatchObject({ id: account.id, domainId: f.domain.id, displayName: "New mailbox", quotaMb: 10 });
      await expectAudited(app, f, role, response, "account.create", account.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  ...accountMutations("colleague"),
  ...accountMutations("user"),
  {
    does: "create an alias in the domain (createAlias)",
    field: "createAlias",
    target: (f) => ({ domainId: f.domain.id, localPart: f.fresh.localPart }),
    objectKeys: ["domainId"],
    send: (app, t, token) =>
      app.gql(
        `mutation($input: CreateAliasInput!) { createAlias(input: $input) { alias { id address destinations } } }`,
        { input: { domainId: t.domainId, localPart: t.localPart, destinations: ["sales@outside.example"] } },
        token,
      ),
    async happened(app, f, role, response) {
      const { alias } = response.data.createAlias;
      expect(alias).toMatchObject({ address: `${f.fresh.localPart}@${f.domain.name}`, destinations: ["sales@outside.example"] });
      expect(await app.deps.db.alias.findUnique({ where: { id: alias.id } })).toMatchObject({ domainId: f.domain.id });
      await expectAudited(app, f, role, response, "alias.create", alias.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "change an alias of the domain (updateAlias)",
    field: "updateAlias",
    target: (f) => ({ id: f.alias.id }),
    objectKeys: ["id"],
    send: (app, t, token) =>
      app.gql(`mutation($id: ID!) { updateAlias(id: $id, input: { destinations: ["new@outside.example"] }) { alias { id destinations } } }`, { id: t.id }, token),
    async happened(app, f, role, response) {
      expect(response.data.updateAlias.alias).toEqual({ id: f.alias.id, destinations: ["new@outside.example"] });
      expect((await app.deps.db.alias.findUniqueOrThrow({ where: { id: f.alias.id } })).destinations).toEqual(["new@outside.example"]);
      await expectAudited(app, f, role, response, "alias.update", f.alias.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "delete an alias of the domain (deleteAlias)",
    field: "deleteAlias",
    target: (f) => ({ id: f.alias.id }),
    objectKeys: ["id"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { deleteAlias(id: $id) { deletedAliasId address } }`, { id: t.id }, token),
    async happened(app, f, role, response) {
      expect(response.data.deleteAlias).toEqual({ deletedAliasId: f.alias.id, address: f.alias.address });
      expect(await app.deps.db.alias.findUnique({ where: { id: f.alias.id } })).toBeNull();
      await expectAudited(app, f, role, response, "alias.delete", f.alias.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  ...(["colleague", "user"] as const).map((which): MutationSpec => ({
    does: `forward the mail of ${accountTargets[which].of} (setForwarding)`,
    field: "setForwarding",
    target: (f) => ({ id: accountTargets[which].pick(f).id }),
    objectKeys: ["id"],
    send: (app, t, token) =>
      app.gql(
        `mutation($id: ID!) { setForwarding(accountId: $id, destinations: ["away@outside.example"], keepCopy: false) { account { id forwarding { destinations keepCopy } } } }`,
        { id: t.id },
        token,
      ),
    async happened(app, f, role, response) {
      const account = accountTargets[which].pick(f);
      expect(response.data.setForwarding.account).toEqual({ id: account.id, forwarding: { destinations: ["away@outside.example"], keepCopy: false } });
      expect(await app.deps.db.account.findUniqueOrThrow({ where: { id: account.id } })).toMatchObject({ forwardTo: ["away@outside.example"], forwardKeepCopy: false });
      await expectAudited(app, f, role, response, "account.set_forwarding", account.id);
    },
    // A user forwards its own mail; a colleague's account it cannot even see.
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: which === "user" ? "allowed" : "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  })),
  ...(["colleague", "user"] as const).map((which): MutationSpec => ({
    does: `set the out-of-office reply of ${accountTargets[which].of} (setAutoReply)`,
    field: "setAutoReply",
    target: (f) => ({ id: accountTargets[which].pick(f).id }),
    objectKeys: ["id"],
    send: (app, t, token) =>
      app.gql(
        `mutation($id: ID!) { setAutoReply(accountId: $id, input: { subject: "Away", body: "Back on Monday." }) { account { id autoReply { subject } } } }`,
        { id: t.id },
        token,
      ),
    async happened(app, f, role, response) {
      const account = accountTargets[which].pick(f);
      expect(response.data.setAutoReply.account).toEqual({ id: account.id, autoReply: { subject: "Away" } });
      expect(await app.deps.db.autoReply.findUnique({ where: { accountId: account.id } })).toMatchObject({ subject: "Away", body: "Back on Monday." });
      await expectAudited(app, f, role, response, "account.set_auto_reply", account.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: which === "user" ? "allowed" : "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  })),
  {
    does: "set the domain's catch-all (setCatchAll)",
    field: "setCatchAll",
    target: (f) => ({ id: f.domain.id }),
    objectKeys: ["id"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { setCatchAll(domainId: $id, destination: "catch@outside.example") { domain { id catchAll } } }`, { id: t.id }, token),
    async happened(app, f, role, response) {
      expect(response.data.setCatchAll.domain).toEqual({ id: f.domain.id, catchAll: "catch@outside.example" });
      expect((await app.deps.db.domain.findUniqueOrThrow({ where: { id: f.domain.id } })).catchAll).toBe("catch@outside.example");
      await expectAudited(app, f, role, response, "domain.set_catch_all", f.domain.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "add an alias domain to the domain (addAliasDomain)",
    field: "addAliasDomain",
    target: (f) => ({ id: f.domain.id, name: f.fresh.domainName }),
    objectKeys: ["id"],
    send: (app, t, token) => app.gql(`mutation($id: ID!, $name: String!) { addAliasDomain(domainId: $id, name: $name) { domain { id } } }`, { id: t.id, name: t.name }, token),
    async happened(app, f, role, response) {
      expect(response.data.addAliasDomain.domain).toEqual({ id: f.domain.id });
      expect(await app.deps.db.aliasDomain.findUnique({ where: { name: f.fresh.domainName } })).toMatchObject({ domainId: f.domain.id });
      await expectAudited(app, f, role, response, "domain.add_alias_domain", f.domain.id);
    },
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "remove an alias domain of the domain (removeAliasDomain)",
    field: "removeAliasDomain",
    target: (f) => ({ name: f.aliasDomain.name }),
    objectKeys: ["name"],
    send: (app, t, token) => app.gql(`mutation($name: String!) { removeAliasDomain(name: $name) { domain { id } } }`, { name: t.name }, token),
    async happened(app, f, role, response) {
      expect(response.data.removeAliasDomain.domain).toEqual({ id: f.domain.id });
      expect(await app.deps.db.aliasDomain.findUnique({ where: { name: f.aliasDomain.name } })).toBeNull();
      await expectAudited(app, f, role, response, "domain.remove_alias_domain", f.domain.id);
    },
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "add an Ed25519 DKIM key to the domain (ensureDkimKeys)",
    field: "ensureDkimKeys",
    target: (f) => ({ id: f.domain.id }),
    objectKeys: ["id"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { ensureDkimKeys(domainId: $id, ed25519: true) { keys { algorithm state } } }`, { id: t.id }, token),
    async happened(app, f, role, response) {
      expect(response.data.ensureDkimKeys.keys).toEqual(expect.arrayContaining([{ algorithm: "ED25519_SHA256", state: "PUBLISHED_PENDING" }]));
      expect(await app.deps.db.dkimKey.count({ where: { domainId: f.domain.id, algorithm: "ED25519_SHA256", state: "PUBLISHED_PENDING" } })).toBe(1);
      await expectAudited(app, f, role, response, "dkim.keys_create", f.domain.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "start a DKIM key rotation of the domain (startDkimRotation)",
    field: "startDkimRotation",
    target: (f) => ({ id: f.domain.id }),
    objectKeys: ["id"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { startDkimRotation(domainId: $id) { keys { state } } }`, { id: t.id }, token),
    async happened(app, f, role, response) {
      expect(response.data.startDkimRotation.keys.map((key: { state: string }) => key.state).sort()).toEqual(["ACTIVE", "PUBLISHED_PENDING"]);
      expect(await app.deps.db.dkimKey.count({ where: { domainId: f.domain.id, state: "PUBLISHED_PENDING" } })).toBe(1);
      await expectAudited(app, f, role, response, "dkim.rotation_start", f.domain.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "save its own language (setPreferredLanguage)",
    field: "setPreferredLanguage",
    target: () => ({}),
    objectKeys: [],
    send: (app, _t, token) => app.gql(`mutation { setPreferredLanguage(language: ZH_TW) { preferredLanguage } }`, {}, token),
    async happened(app, f, role, response) {
      expect(response.data.setPreferredLanguage).toEqual({ preferredLanguage: "ZH_TW" });
      if (role === "anonymous") throw new Error("an anonymous caller has no language to save");
      const id = f.callers[role].id;
      const row =
        role === "support" || role === "readOnly"
          ? await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id } })
          : await app.deps.db.account.findUniqueOrThrow({ where: { id } });
      expect(row.language).toBe("zh-TW");
      await expectAudited(app, f, role, response, "auth.set_language", id);
    },
    expected: { support: "allowed", readOnly: "allowed", admin: "allowed", otherAdmin: "allowed", user: "allowed", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "report the usage of a mailbox of the domain (reportMailboxUsage)",
    field: "reportMailboxUsage",
    target: (f) => ({ address: f.colleague.address }),
    objectKeys: [],
    send: (app, t, token) =>
      app.gql(
        `mutation($address: String!) { reportMailboxUsage(input: [{ address: $address, bytes: 44040192, messages: 3 }]) { accepted rejected { index } } }`,
        { address: t.address },
        token,
      ),
    async happened(app, f, role, response) {
      if (role === "anonymous") throw new Error("unreachable");
      expect(response.data.reportMailboxUsage).toEqual({ accepted: 1, rejected: [] });
      expect(await app.deps.db.account.findUniqueOrThrow({ where: { id: f.colleague.id } })).toMatchObject({ usedMb: 42, messageCount: 3 });
      const rows = await app.deps.db.auditEntry.findMany({ where: { action: "mailbox_usage.report", actorId: f.callers[role].id } });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actorRole: ACTOR_ROLE[role],
        domainId: f.domain.id,
        requestId: response.headers.get("x-request-id"),
        changes: [
          { field: "accepted", before: null, after: 1 },
          { field: "rejected", before: null, after: 0 },
        ],
      });
    },
    // Usage is the mail store's number: no customer, not even for its own domain.
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "FORBIDDEN", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "create an API token (createApiToken), for its own domain as a domain administrator",
    field: "createApiToken",
    target: () => ({}),
    objectKeys: [],
    send: (app, _t, token) => app.gql(`mutation { createApiToken(input: { name: "script", scopes: [READ, WRITE] }) { token apiToken { id scopes domain { id } } } }`, {}, token),
    async happened(app, f, role, response) {
      if (role === "anonymous") throw new Error("unreachable");
      const { token, apiToken } = response.data.createApiToken;
      const ownDomain = role === "support" ? null : role === "otherAdmin" ? f.otherDomain.id : f.domain.id;
      expect(apiToken).toMatchObject({ scopes: ["READ", "WRITE"], domain: ownDomain ? { id: ownDomain } : null });
      const stored = await app.deps.db.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } });
      expect(stored).toMatchObject({ createdById: f.callers[role].id, domainId: ownDomain, secretHash: createHash("sha256").update(token).digest("hex") });
      await expectAudited(app, f, role, response, "api_token.create", apiToken.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "allowed", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "revoke an API token of the domain (revokeApiToken)",
    field: "revokeApiToken",
    target: (f) => ({ tokenId: f.adminApiToken.id }),
    objectKeys: ["tokenId"],
    send: (app, t, token) => app.gql(`mutation($id: ID) { revokeApiToken(id: $id) { apiToken { id status } } }`, { id: t.tokenId }, token),
    async happened(app, f, role, response) {
      if (role === "anonymous") throw new Error("unreachable");
      expect(response.data.revokeApiToken.apiToken).toEqual({ id: f.adminApiToken.id, status: "REVOKED" });
      const stored = await app.deps.db.apiToken.findUniqueOrThrow({ where: { id: f.adminApiToken.id } });
      expect(stored.revokedAt).not.toBeNull();
      expect(stored.revokedByName).toBe(f.callers[role].name);
      await expectAudited(app, f, role, response, "api_token.revoke", f.adminApiToken.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  },
  ...importMutations(),
  ...appPasswordMutations("colleague"),
  ...appPasswordMutations("user"),
  {
    does: "revoke an app password of another account of the domain (revokeAppPassword)",
    field: "revokeAppPassword",
    target: (f) => ({ id: f.appPassword.id }),
    objectKeys: ["id"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { revokeAppPassword(id: $id) { appPassword { id status } } }`, { id: t.id }, token),
    async happened(app, f, role, response) {
      expect(response.data.revokeAppPassword.appPassword).toEqual({ id: f.appPassword.id, status: "REVOKED" });
      expect((await app.deps.db.appPassword.findUniqueOrThrow({ where: { id: f.appPassword.id } })).revokedAt).not.toBeNull();
      await expectAudited(app, f, role, response, "app_password.revoke", f.appPassword.id);
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "reset the two-factor login of another account of the domain (resetTotp)",
    field: "resetTotp",
    target: (f) => ({ id: f.colleague.id }),
    objectKeys: ["id"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { resetTotp(principalId: $id) { principalId totpEnabled } }`, { id: t.id }, token),
    async happened(app, f, role, response) {
      expect(response.data.resetTotp).toEqual({ principalId: f.colleague.id, totpEnabled: false });
      expect(await app.deps.db.totpFactor.findUnique({ where: { principalId: f.colleague.id } })).toBeNull();
      const entry = await expectAudited(app, f, role, response, "auth.totp_reset", f.colleague.id);
      expect(entry.changes).toEqual([{ field: "totpEnabled", before: true, after: false }]);
    },
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "NOT_FOUND", user: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "end all sessions of another account of the domain (endAllSessions)",
    field: "endAllSessions",
    target: (f) => ({ id: f.colleague.id }),
    objectKeys: ["id"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { endAllSessions(principalId: $id) { principalId } }`, { id: t.id }, token),
    async happened(app, f, role, response) {
      expect(response.data.endAllSessions).toEqual({ principalId: f.colleague.id });
      expect((await app.deps.db.account.findUniqueOrThrow({ where: { id: f.colleague.id } })).tokenVersion).toBe(f.colleague.tokenVersion + 1);
      await expectAudited(app, f, role, response, "session.end_all", f.colleague.id);
    },
    expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "NOT_FOUND", user: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "change its own password (changePassword)",
    field: "changePassword",
    target: () => ({}),
    objectKeys: [],
    send: (app, _t, token) =>
      app.gql(
        `mutation($current: String!, $next: String!) { changePassword(currentPassword: $current, newPassword: $next) { token principal { id role } } }`,
        { current: PASSWORD, next: NEW_PASSWORD },
        token,
      ),
    async happened(app, f, role, response) {
      if (role === "anonymous") throw new Error("unreachable");
      const caller = f.callers[role];
      expect(response.data.changePassword.principal).toEqual({ id: caller.id, role: ACTOR_ROLE[role] });
      const stored = isSupportRole(role)
        ? await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: caller.id } })
        : await app.deps.db.account.findUniqueOrThrow({ where: { id: caller.id } });
      expect(await app.deps.passwords.verify(NEW_PASSWORD, stored.passwordHash)).toBe(true);
      expect(stored.tokenVersion).toBe(1);
      expect(errorCode(await app.gql(`{ me { id } }`, {}, tokenOf(f, role)))).toBe("UNAUTHENTICATED");
      expect((await app.gql(`{ me { id } }`, {}, response.data.changePassword.token)).data.me.id).toBe(caller.id);
      await expectAudited(app, f, role, response, "auth.change_password", caller.id);
    },
    expected: { support: "allowed", readOnly: "allowed", admin: "allowed", otherAdmin: "allowed", user: "allowed", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "send a test message from a support test mailbox (sendTestMessage)",
    field: "sendTestMessage",
    target: (f) => ({ from: f.testBox.address, domain: f.fresh.domainName }),
    objectKeys: [],
    send: (app, t, token) =>
      app.gql(`mutation($from: String!, $to: String!) { sendTestMessage(input: { from: $from, to: $to }) { id state } }`, { from: t.from, to: `someone@${t.domain}` }, token),
    async happened(app, f, role, response) {
      expect(response.data.sendTestMessage.state).toBe("ACCEPTED");
      const stored = await app.deps.db.testMessage.findUniqueOrThrow({ where: { id: response.data.sendTestMessage.id } });
      expect(stored).toMatchObject({ fromAddress: f.testBox.address, toAddress: `someone@${f.fresh.domainName}`, accepted: true });
      await expectAudited(app, f, role, response, "test_message.send", stored.id);
    },
    // Test domains are support's own; read-only support staff read the results and send nothing.
    expected: { support: "allowed", readOnly: "FORBIDDEN", admin: "FORBIDDEN", otherAdmin: "FORBIDDEN", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  },
  {
    does: "empty a support test mailbox (emptyTestMailbox)",
    field: "emptyTestMailbox",
    target: (f) => ({ accountId: f.testBox.id }),
    objectKeys: ["accountId"],
    send: (app, t, token) => app.gql(`mutation($id: ID!) { emptyTestMailbox(accountId: $id) { deletedCount account { id } } }`, { id: t.accountId }, token),
    async happened(app, f, role, response) {
      expect(response.data.emptyTestMailbox).toEqual({ deletedCount: 0, account: { id: f.testBox.id } });
      await expectAudited(app, f, role, response, "test_mailbox.empty", f.testBox.id);
    },
    expected: { support: "allowed", readOnly: "FORBIDDEN", admin: "NOT_FOUND", otherAdmin: "NOT_FOUND", user: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
  },
];

function appPasswordMutations(which: AccountTarget): MutationSpec[] {
  const { of, pick } = accountTargets[which];
  return [
    {
      does: `create an app password for ${of} (createAppPassword)`,
      field: "createAppPassword",
      target: (f) => ({ accountId: pick(f).id }),
      objectKeys: ["accountId"],
      send: (app, t, token) =>
        app.gql(`mutation($id: ID!) { createAppPassword(input: { accountId: $id, name: "Thunderbird" }) { password appPassword { id name status } } }`, { id: t.accountId }, token),
      async happened(app, f, role, response) {
        const { password, appPassword } = response.data.createAppPassword;
        expect(appPassword).toMatchObject({ name: "Thunderbird", status: "ACTIVE" });
        const stored = await app.deps.db.appPassword.findUniqueOrThrow({ where: { id: appPassword.id } });
        expect(stored.accountId).toBe(pick(f).id);
        expect(await app.deps.passwords.verify(password, stored.passwordHash)).toBe(true);
        await expectAudited(app, f, role, response, "app_password.create", appPassword.id);
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: which === "user" ? "allowed" : "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
    },
  ];
}

function sentence(role: RoleKey, outcome: Outcome, does: string): string {
  return outcome === "allowed" ? `${WHO[role]} can ${does}` : `${WHO[role]} cannot ${does}: ${outcome}`;
}

const mutationRows = mutations.flatMap((spec) =>
  ROLES.map((role) => ({ title: sentence(role, outcomeOf(spec.expected, role, "mutation"), spec.does), spec, role, outcome: outcomeOf(spec.expected, role, "mutation") })),
);

/** A refusal: exactly one error with the expected code, no data, and for NOT_FOUND the same answer a missing object gets. */
async function expectRefused(
  app: TestApp,
  response: GraphQLResponse,
  outcome: Refusal,
  field: string,
  retry: (target: Record<string, string>) => Promise<GraphQLResponse>,
  target: Record<string, string>,
  objectKeys: string[],
) {
  expect(response.errors?.map((error) => ({ code: error.extensions.code, path: error.path }))).toEqual([{ code: outcome, path: [field] }]);
  expect(response.status).toBe(200);
  if (outcome === "NOT_FOUND") {
    expect(objectKeys.length).toBeGreaterThan(0);
    const missing = missingLike(target, objectKeys);
    const answer = await retry(missing);
    expect(visibleError(answer, missing, objectKeys)).toEqual(visibleError(response, target, objectKeys));
  }
}

// ---------------------------------------------------------------------------
// API tokens of every scope set, reaching data through payloads and nested
// fields: allowed exactly when the token has every scope the reach needs
// (the root field's, and READ or LOGS for each object of the service's data
// reached below the root answer; src/auth/scopes.ts).

type Scope = "READ" | "WRITE" | "LOGS";
const SCOPE_SETS: Scope[][] = [["READ"], ["WRITE"], ["LOGS"], ["READ", "WRITE"], ["READ", "LOGS"], ["WRITE", "LOGS"], ["READ", "WRITE", "LOGS"]];

interface Reach {
  title: string;
  needs: Scope[];
  query: string;
  variables(f: Awaited<ReturnType<typeof setUp>>): Record<string, unknown>;
}

const REACHES: Reach[] = [
  {
    title: "the changed account in updateAccount's payload",
    needs: ["WRITE"],
    query: `mutation($id: ID!) { updateAccount(id: $id, input: { displayName: "Changed" }) { account { address displayName } } }`,
    variables: (f) => ({ id: f.user.id }),
  },
  {
    title: "the changed account's domain and its accounts, through updateAccount's payload",
    needs: ["WRITE", "READ"],
    query: `mutation($id: ID!) { updateAccount(id: $id, input: { displayName: "Changed" }) { account { domain { name accounts { nodes { address } } } } } }`,
    variables: (f) => ({ id: f.user.id }),
  },
  {
    title: "the administrator behind a reassignment's payload",
    needs: ["WRITE", "READ"],
    query: `mutation($d: ID!, $a: ID!) { reassignDomainAdmin(domainId: $d, accountId: $a) { domain { admin { address } } } }`,
    variables: (f) => ({ d: f.domain.id, a: f.admin.id }),
  },
  {
    title: "an account's delivery log",
    needs: ["READ", "LOGS"],
    query: `query($id: ID) { account(id: $id) { mailLog { totalCount } } }`,
    variables: (f) => ({ id: f.user.id }),
  },
  {
    title: "a user's delivery log",
    needs: ["LOGS"],
    query: `query($address: String!) { mailLog(address: $address) { totalCount } }`,
    variables: (f) => ({ address: f.user.address }),
  },
];

const tokenRows = REACHES.flatMap((reach) =>
  SCOPE_SETS.map((scopes) => ({
    title: `a support token with ${scopes.join("+")}: ${reach.title} -> ${reach.needs.every((scope) => scopes.includes(scope)) ? "allowed" : "FORBIDDEN"}`,
    reach,
    scopes,
    allowed: reach.needs.every((scope) => scopes.includes(scope)),
  })),
);

describe("authorization matrix", () => {
  let app: TestApp;
  let sink: SMTPServer;
  beforeAll(async () => {
    // Where sendTestMessage hands test messages: a sink that takes them as Postfix does ("queued as").
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS", "AUTH"],
      logger: false,
      onData(stream, _session, callback) {
        stream.resume();
        stream.on("end", () => callback(null, `Ok: queued as ${randomUUID().replace(/-/g, "").slice(0, 11).toUpperCase()}`));
      },
    });
    await new Promise<void>((resolve) => sink.listen(0, "127.0.0.40", resolve));
    app = await startTestApp({
      TEST_MESSAGE_SMTP: `127.0.0.40:${(sink.server.address() as { port: number }).port}`,
      MAIL_STORE_DIR: mkdtempSync(join(tmpdir(), "mailadmin-matrix-store-")),
    });
  });
  afterAll(async () => {
    await app.close();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  });

  describe("mutations", () => {
    it.each(mutationRows)("$title", async ({ spec, role, outcome }) => {
      const f = await setUp(app);
      const target = spec.target(f);
      const before = await snapshot(app, f);
      const response = await spec.send(app, target, tokenOf(f, role));

      if (outcome === "allowed") {
        expect(response.errors).toBeUndefined();
        expect(response.data[spec.field]).not.toBeNull();
        await spec.happened(app, f, role, response);
        return;
      }
      expect(response.data ?? null).toBeNull();
      await expectRefused(app, response, outcome, spec.field, (t) => spec.send(app, t, tokenOf(f, role)), target, spec.objectKeys);
      expect(await snapshot(app, f)).toEqual(before);
    });
  });

  // -------------------------------------------------------------------------
  // Reads

  interface ReadSpec {
    reads: string;
    /** The root field the outcome is reported on. */
    field: string;
    /** Where each refusal is reported (the root field unless a nested field refuses, or the query has several root fields). */
    errorPaths?: (role: RoleKey) => (string | number)[][];
    target(f: Fixture): Record<string, string>;
    objectKeys: string[];
    send(app: TestApp, target: Record<string, string>, token: string | undefined): Promise<GraphQLResponse>;
    /** What an allowed caller gets. */
    sees(app: TestApp, f: Fixture, role: RoleKey, response: GraphQLResponse): Promise<void>;
    expected: RoleOutcomes;
  }

  const ME = `{ me { __typename id role loginName } }`;
  const ACCOUNT_FIELDS = `id address role domain { id }`;

  function accountView(account: Account, role = "USER") {
    return { id: account.id, address: account.address, role, domain: { id: account.domainId } };
  }

  function accountReads(which: AccountTarget): ReadSpec[] {
    const { of, pick } = accountTargets[which];
    const expected: RoleOutcomes = {
      support: "allowed",
      admin: "allowed",
      otherAdmin: "NOT_FOUND",
      user: which === "user" ? "allowed" : "NOT_FOUND",
      anonymous: "UNAUTHENTICATED",
    };
    return [
      {
        reads: `${of} by id (account(id))`,
        field: "account",
        target: (f) => ({ id: pick(f).id }),
        objectKeys: ["id"],
        send: (app, t, token) => app.gql(`query($id: ID) { account(id: $id) { ${ACCOUNT_FIELDS} } }`, { id: t.id }, token),
        async sees(_app, f, _role, response) {
          expect(response.data.account).toEqual(accountView(pick(f)));
        },
        expected,
      },
      {
        reads: `${of} by address (account(address))`,
        field: "account",
        target: (f) => ({ address: pick(f).address }),
        objectKeys: ["address"],
        send: (app, t, token) => app.gql(`query($address: String) { account(address: $address) { ${ACCOUNT_FIELDS} } }`, { address: t.address }, token),
        async sees(_app, f, _role, response) {
          expect(response.data.account).toEqual(accountView(pick(f)));
        },
        expected,
      },
    ];
  }

  const reads: ReadSpec[] = [
    {
      reads: "an alias of the domain by id (alias(id))",
      field: "alias",
      target: (f) => ({ id: f.alias.id }),
      objectKeys: ["id"],
      send: (app, t, token) => app.gql(`query($id: ID) { alias(id: $id) { id address destinations domain { id } } }`, { id: t.id }, token),
      async sees(_app, f, _role, response) {
        expect(response.data.alias).toEqual({ id: f.alias.id, address: f.alias.address, destinations: f.alias.destinations, domain: { id: f.domain.id } });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "who it is (me)",
      field: "me",
      target: () => ({}),
      objectKeys: [],
      send: (app, _t, token) => app.gql(ME, {}, token),
      async sees(_app, f, role, response) {
        if (role === "anonymous") throw new Error("unreachable");
        const caller = f.callers[role];
        expect(response.data.me).toEqual({
          __typename: isSupportRole(role) ? "SupportAdmin" : "Account",
          id: caller.id,
          role: ACTOR_ROLE[role],
          loginName: caller.name,
        });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "allowed", user: "allowed", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "the domain by id (domain(id))",
      field: "domain",
      target: (f) => ({ id: f.domain.id }),
      objectKeys: ["id"],
      send: (app, t, token) => app.gql(`query($id: ID) { domain(id: $id) { id name admin { id } } }`, { id: t.id }, token),
      async sees(_app, f, _role, response) {
        expect(response.data.domain).toEqual({ id: f.domain.id, name: f.domain.name, admin: { id: f.admin.id } });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "allowed", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "the domain by name (domain(name))",
      field: "domain",
      target: (f) => ({ name: f.domain.name }),
      objectKeys: ["name"],
      send: (app, t, token) => app.gql(`query($name: String) { domain(name: $name) { id name admin { id } } }`, { name: t.name }, token),
      async sees(_app, f, _role, response) {
        expect(response.data.domain).toEqual({ id: f.domain.id, name: f.domain.name, admin: { id: f.admin.id } });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "allowed", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "the list of domains, seeing exactly the ones it may (domains)",
      field: "all",
      errorPaths: () => [["all"], ["withTests"], ["a"], ["b"]],
      target: (f) => ({ a: f.domain.name, b: f.otherDomain.name }),
      objectKeys: [],
      send: (app, t, token) =>
        app.gql(
          `query($a: String, $b: String) {
            all: domains(first: 1) { totalCount }
            withTests: domains(first: 1, includeTestDomains: true) { totalCount }
            a: domains(search: $a) { totalCount nodes { id } }
            b: domains(search: $b) { totalCount nodes { id } }
          }`,
          { a: t.a, b: t.b },
          token,
        ),
      async sees(app, f, role, response) {
        const seesA = isSupportRole(role) || role === "admin" || role === "user";
        const seesB = isSupportRole(role) || role === "otherAdmin";
        // Support's test domains are counted only when asked for (docs/test-domain.md).
        const total = isSupportRole(role) ? await app.deps.db.domain.count({ where: { isTestDomain: false } }) : 1;
        const withTests = isSupportRole(role) ? await app.deps.db.domain.count() : 1;
        expect(withTests).toBeGreaterThan(isSupportRole(role) ? total : 0);
        expect(response.data).toEqual({
          all: { totalCount: total },
          withTests: { totalCount: withTests },
          a: seesA ? { totalCount: 1, nodes: [{ id: f.domain.id }] } : { totalCount: 0, nodes: [] },
          b: seesB ? { totalCount: 1, nodes: [{ id: f.otherDomain.id }] } : { totalCount: 0, nodes: [] },
        });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "allowed", user: "allowed", anonymous: "UNAUTHENTICATED" },
    },
    ...accountReads("colleague"),
    ...accountReads("user"),
    {
      reads: "the domain's accounts (Domain.accounts)",
      field: "domain",
      errorPaths: (role) => [role === "user" ? ["domain", "accounts"] : ["domain"]],
      target: (f) => ({ id: f.domain.id }),
      objectKeys: ["id"],
      send: (app, t, token) => app.gql(`query($id: ID) { domain(id: $id) { id accounts(first: 100) { totalCount nodes { id } } } }`, { id: t.id }, token),
      async sees(_app, f, _role, response) {
        const ids = [f.admin, f.user, f.colleague].sort((x, y) => (x.address < y.address ? -1 : 1)).map((account) => ({ id: account.id }));
        expect(response.data.domain).toEqual({ id: f.domain.id, accounts: { totalCount: 3, nodes: ids } });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "the domain's audit trail (auditLog(domainId))",
      field: "auditLog",
      target: (f) => ({ domainId: f.domain.id }),
      objectKeys: ["domainId"],
      send: (app, t, token) =>
        app.gql(`query($domainId: ID) { auditLog(domainId: $domainId, first: 100) { totalCount nodes { domainId action objectId } } }`, { domainId: t.domainId }, token),
      async sees(app, f, _role, response) {
        const { totalCount, nodes } = response.data.auditLog;
        expect(totalCount).toBe(await app.deps.db.auditEntry.count({ where: { domainId: f.domain.id } }));
        expect(nodes.every((node: { domainId: string }) => node.domainId === f.domain.id)).toBe(true);
        expect(nodes).toEqual(
          expect.arrayContaining([
            { domainId: f.domain.id, action: "domain.create", objectId: f.domain.id },
            { domainId: f.domain.id, action: "account.create", objectId: f.colleague.id },
          ]),
        );
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "the audit trail without naming a domain, seeing only what it may (auditLog)",
      field: "auditLog",
      target: () => ({}),
      objectKeys: [],
      send: (app, _t, token) => app.gql(`{ auditLog(first: 100) { totalCount nodes { domainId } } }`, {}, token),
      async sees(app, f, role, response) {
        const { totalCount, nodes } = response.data.auditLog;
        if (isSupportRole(role)) {
          expect(totalCount).toBe(await app.deps.db.auditEntry.count());
          const domains = new Set(nodes.map((node: { domainId: string | null }) => node.domainId));
          expect(domains.has(f.domain.id) && domains.has(f.otherDomain.id)).toBe(true);
          return;
        }
        const own = role === "admin" ? f.domain.id : f.otherDomain.id;
        expect(totalCount).toBe(await app.deps.db.auditEntry.count({ where: { domainId: own } }));
        expect(totalCount).toBeGreaterThan(0);
        expect(nodes.every((node: { domainId: string }) => node.domainId === own)).toBe(true);
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "allowed", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
    },
  ];

  reads.push(
    {
      reads: "the domain's mailboxes above quota (mailboxesAboveQuota(domainId))",
      field: "mailboxesAboveQuota",
      target: (f) => ({ domainId: f.domain.id }),
      objectKeys: ["domainId"],
      send: (app, t, token) =>
        app.gql(`query($domainId: ID) { mailboxesAboveQuota(domainId: $domainId, percent: 1) { totalCount nodes { id } } }`, { domainId: t.domainId }, token),
      async sees(_app, _f, _role, response) {
        // The fixture's accounts are logins without a mailbox (quota 0), never listed; test/usage lists real ones.
        expect(response.data.mailboxesAboveQuota).toEqual({ totalCount: 0, nodes: [] });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "the domain's mailboxes above quota as a field of the domain (Domain.mailboxesAboveQuota)",
      field: "domain",
      errorPaths: (role) => [role === "user" ? ["domain", "mailboxesAboveQuota"] : ["domain"]],
      target: (f) => ({ id: f.domain.id }),
      objectKeys: ["id"],
      send: (app, t, token) => app.gql(`query($id: ID) { domain(id: $id) { id mailboxesAboveQuota { totalCount } } }`, { id: t.id }, token),
      async sees(_app, f, _role, response) {
        expect(response.data.domain).toEqual({ id: f.domain.id, mailboxesAboveQuota: { totalCount: 0 } });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
    },
  );

  reads.push(
    {
      reads: "a test message (testMessage)",
      field: "testMessage",
      target: (f) => ({ id: f.testMessageId }),
      objectKeys: ["id"],
      send: (app, t, token) => app.gql(`query($id: ID!) { testMessage(id: $id) { id state from } }`, { id: t.id }, token),
      async sees(_app, f, _role, response) {
        expect(response.data.testMessage).toEqual({ id: f.testMessageId, state: "ACCEPTED", from: f.testBox.address });
      },
      expected: { support: "allowed", readOnly: "allowed", admin: "NOT_FOUND", otherAdmin: "NOT_FOUND", user: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "what a support test mailbox received (Account.receivedTestMessages)",
      field: "account",
      target: (f) => ({ id: f.testBox.id }),
      objectKeys: ["id"],
      send: (app, t, token) => app.gql(`query($id: ID) { account(id: $id) { id receivedTestMessages { totalCount } } }`, { id: t.id }, token),
      async sees(_app, f, _role, response) {
        expect(response.data.account).toEqual({ id: f.testBox.id, receivedTestMessages: { totalCount: 0 } });
      },
      expected: { support: "allowed", readOnly: "allowed", admin: "NOT_FOUND", otherAdmin: "NOT_FOUND", user: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "the app passwords of another account of the domain (Account.appPasswords)",
      field: "account",
      target: (f) => ({ id: f.colleague.id }),
      objectKeys: ["id"],
      send: (app, t, token) => app.gql(`query($id: ID) { account(id: $id) { id appPasswords { id name status } } }`, { id: t.id }, token),
      async sees(_app, f, _role, response) {
        expect(response.data.account).toEqual({ id: f.colleague.id, appPasswords: [{ id: f.appPassword.id, name: "Phone", status: "ACTIVE" }] });
      },
      expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "NOT_FOUND", anonymous: "UNAUTHENTICATED" },
    },
    {
      reads: "the support staff (supportAdmins)",
      field: "supportAdmins",
      target: () => ({}),
      objectKeys: [],
      send: (app, _t, token) => app.gql(`{ supportAdmins { id level } }`, {}, token),
      async sees(_app, f, _role, response) {
        expect(response.data.supportAdmins).toEqual(
          expect.arrayContaining([
            { id: f.callers.support.id, level: "FULL" },
            { id: f.callers.readOnly.id, level: "READ_ONLY" },
          ]),
        );
      },
      expected: { support: "allowed", admin: "FORBIDDEN", otherAdmin: "FORBIDDEN", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
    },
  );

  reads.push({
    reads: "the domain's API tokens (apiTokens(domainId))",
    field: "apiTokens",
    target: (f) => ({ domainId: f.domain.id }),
    objectKeys: ["domainId"],
    send: (app, t, token) => app.gql(`query($domainId: ID) { apiTokens(domainId: $domainId) { totalCount nodes { id domain { id } } } }`, { domainId: t.domainId }, token),
    async sees(_app, f, _role, response) {
      expect(response.data.apiTokens).toEqual({ totalCount: 1, nodes: [{ id: f.adminApiToken.id, domain: { id: f.domain.id } }] });
    },
    expected: { support: "allowed", admin: "allowed", otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" },
  });

  const readRows = reads.flatMap((spec) =>
    ROLES.map((role) => ({ title: sentence(role, outcomeOf(spec.expected, role, "read"), `read ${spec.reads}`), spec, role, outcome: outcomeOf(spec.expected, role, "read") })),
  );

  describe("API tokens through payloads and nested fields", () => {
    let f: Awaited<ReturnType<typeof setUp>>;
    beforeAll(async () => {
      f = await setUp(app);
    });
    it.each(tokenRows)("$title", async ({ reach, scopes, allowed }) => {
      const support = await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: f.callers.support.id } });
      const { token } = await apiTokenOf(app, support, scopes);
      const response = await app.gql(reach.query, reach.variables(f), token);
      if (allowed) {
        expect(response.errors).toBeUndefined();
        expect(response.data).not.toBeNull();
      } else {
        expect(errorCode(response)).toBe("FORBIDDEN");
        // Refused before execution (no data), or at the root field (its value null): nothing of the object is shown.
        expect(Object.values(response.data ?? {}).every((value) => value === null)).toBe(true);
      }
    });
  });

  describe("reads", () => {
    it.each(readRows)("$title", async ({ spec, role, outcome }) => {
      const f = await setUp(app);
      const target = spec.target(f);
      const before = await snapshot(app, f);
      const response = await spec.send(app, target, tokenOf(f, role));

      if (outcome === "allowed") {
        expect(response.errors).toBeUndefined();
        await spec.sees(app, f, role, response);
      } else {
        const paths = spec.errorPaths?.(role) ?? [[spec.field]];
        const errors = response.errors?.map((error) => ({ code: error.extensions.code, path: error.path })) ?? [];
        if (paths.length === 1) {
          expect(errors).toEqual([{ code: outcome, path: paths[0] }]);
        } else {
          // Several non-null root fields: graphql-js stops at the first that fails, so not every one is reported.
          expect(errors.length).toBeGreaterThan(0);
          for (const error of errors) expect(paths.map((path) => ({ code: outcome, path }))).toContainEqual(error);
        }
        expect(response.status).toBe(200);
        // A refused nullable field is null; a refused non-null one (me, domains, auditLog) nulls the whole answer.
        expect(response.data?.[spec.field] ?? null).toBeNull();
        if (outcome === "NOT_FOUND") {
          expect(spec.objectKeys.length).toBeGreaterThan(0);
          const missing = missingLike(target, spec.objectKeys);
          const answer = await spec.send(app, missing, tokenOf(f, role));
          expect(visibleError(answer, missing, spec.objectKeys)).toEqual(visibleError(response, target, spec.objectKeys));
        }
      }
      // Reads change nothing.
      expect(await snapshot(app, f)).toEqual(before);
    });
  });
});
