// Bulk import of accounts through the GraphQL API: a 10,000-row file with bad
// rows of every kind, in dry-run, ALL_OR_NOTHING and PER_ROW modes; progress
// of a running import; the audit trail; who may import what; JSON lines.
import { errorCode, startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { buildImportFile, HASHED_PASSWORD, MIGRATED_HASH, type ImportFile, type ImportWorld } from "./import-file";
import type { AccountImport } from "../../src/generated/graphql";

const REPORT = `id phase rowsTotal phaseDone phaseTotal validCount createdCount failedCount failure errors { row line field code message address }`;
const IMPORT = `mutation($input: ImportAccountsInput!) { importAccounts(input: $input) { ${REPORT} } }`;
const START = `mutation($input: StartAccountImportInput!) { startAccountImport(input: $input) { ${REPORT} } }`;
const APPEND = `mutation($id: ID!, $content: String!, $more: Boolean) { appendAccountImportContent(id: $id, content: $content, more: $more) { ${REPORT} } }`;
const PROGRESS = `query($id: ID!) { accountImport(id: $id) { ${REPORT} } }`;

/** The fields REPORT asks for, typed from schema.graphql (generated). */
type Report = Pick<AccountImport, "id" | "phase" | "rowsTotal" | "phaseDone" | "phaseTotal" | "validCount" | "createdCount" | "failedCount" | "failure" | "errors">;

const ROWS = 10_000;

/** The errors of a report, grouped by row, in the shape of ImportFile.expected. */
function errorsByRow(report: Report) {
  const byRow = new Map<number, { field: string | null; code: string }[]>();
  for (const error of report.errors) byRow.set(error.row, [...(byRow.get(error.row) ?? []), { field: error.field ?? null, code: error.code }]);
  return byRow;
}

function ok<T>(response: GraphQLResponse<T>): T {
  expect(response.errors).toBeUndefined();
  return response.data!;
}

describe("bulk import of accounts", () => {
  let app: TestApp;
  let world: ImportWorld;
  let supportToken: string;
  let supportName: string;

  beforeAll(async () => {
    app = await startTestApp();
    const support = await supportAdmin(app);
    supportName = support.username;
    supportToken = await tokenFor(app, support);
    const main = (await makeDomain(app)).domain;
    const quota = (await makeDomain(app, { quotaMb: 1000, defaultMailboxQuotaMb: 100 })).domain;
    const limited = (await makeDomain(app, { maxAccounts: 4 })).domain;
    const existing = await makeAccount(app, main);
    world = { main, quota, limited, existingAddress: existing.address };
  });
  afterAll(() => app.close());

  /** Sends the file in parts of about 300 kB, then follows the import until it ends, keeping what each progress read saw. */
  async function importInParts(file: string, input: Record<string, unknown>, token = supportToken) {
    const parts = file.match(/[\s\S]{1,300000}/g)!;
    expect(parts.length).toBeGreaterThan(1);
    let started = ok(await app.gql<{ startAccountImport: Report }>(START, { input: { ...input, content: parts[0], more: true } }, token)).startAccountImport;
    expect(started.phase).toBe("UPLOADING");
    let last: GraphQLResponse<{ appendAccountImportContent: Report }> | undefined;
    for (let index = 1; index < parts.length; index++) {
      last = await app.gql(APPEND, { id: started.id, content: parts[index], more: index < parts.length - 1 }, token);
      started = ok(last).appendAccountImportContent;
    }
    const seen: Report[] = [started];
    while (!["DONE", "FAILED"].includes(seen.at(-1)!.phase)) {
      // Paced like a person or the CLI would poll, not a busy loop.
      await new Promise((resolve) => setTimeout(resolve, 100));
      seen.push(ok(await app.gql<{ accountImport: Report }>(PROGRESS, { id: started.id }, token)).accountImport);
    }
    return { report: seen.at(-1)!, seen, lastRequestId: last!.headers.get("x-request-id")! };
  }

  async function accountsOf(domainId: string) {
    return app.deps.db.account.count({ where: { domainId } });
  }

  async function expectLogsIn(address: string, password: string) {
    const login = await app.gql(`mutation($id: String!, $pw: String!) { login(identifier: $id, password: $pw) { principal { loginName } } }`, { id: address, pw: password });
    expect(login.data?.login.principal.loginName).toBe(address);
  }

  describe("a 10,000-row file with bad rows of every kind", () => {
    let file: ImportFile;
    beforeAll(() => {
      file = buildImportFile(world, ROWS, { withBadRows: true });
    });

    it("dry run: reports every problem of exactly the bad rows, with row, line, field, code and message, and writes nothing", async () => {
      const accountsBefore = await app.deps.db.account.count();
      const auditBefore = await app.deps.db.auditEntry.count();
      const { report } = await importInParts(file.csv, { dryRun: true, mode: "PER_ROW" });

      expect(report).toMatchObject({ phase: "DONE", rowsTotal: ROWS, createdCount: 0, failedCount: file.expected.size, validCount: ROWS - file.expected.size, failure: null });
      expect(errorsByRow(report)).toEqual(file.expected);
      for (const error of report.errors) {
        // The header is line 1 and every row here is one line.
        expect(error.line).toBe(error.row + 1);
        expect(error.message.length).toBeGreaterThan(10);
      }
      const byRow = new Map(report.errors.map((error) => [error.row, error]));
      expect(byRow.get(1200)!.message).toContain("row 9");
      expect(byRow.get(2500)).toMatchObject({ address: world.existingAddress, message: `An account ${world.existingAddress} already exists.` });
      expect(byRow.get(250)!.message).toMatch(/^No domain nowhere\w+\.example exists, or you may not see it\.$/);
      expect(byRow.get(5010)!.message).toContain("above its quota of 1000 MiB");
      expect(byRow.get(6003)!.message).toContain("maximum of 4 accounts");
      expect(await app.deps.db.account.count()).toBe(accountsBefore);
      expect(await app.deps.db.auditEntry.count()).toBe(auditBefore);
    }, 120_000);

    it("ALL_OR_NOTHING: one bad row and nothing is written", async () => {
      const accountsBefore = await app.deps.db.account.count();
      const auditBefore = await app.deps.db.auditEntry.count();
      const report = ok(await app.gql<{ importAccounts: Report }>(IMPORT, { input: { content: file.csv, mode: "ALL_OR_NOTHING" } }, supportToken)).importAccounts;

      expect(report).toMatchObject({ phase: "DONE", rowsTotal: ROWS, createdCount: 0, failedCount: file.expected.size });
      expect(errorsByRow(report)).toEqual(file.expected);
      expect(await app.deps.db.account.count()).toBe(accountsBefore);
      expect(await app.deps.db.auditEntry.count()).toBe(auditBefore);
    }, 120_000);

    it("PER_ROW: creates exactly the good rows, each audited, and reports the bad ones", async () => {
      const mainBefore = await accountsOf(world.main.id);
      const { report, seen, lastRequestId } = await importInParts(file.csv, { mode: "PER_ROW" });

      expect(report).toMatchObject({ phase: "DONE", rowsTotal: ROWS, createdCount: file.good.length, failedCount: file.expected.size, failure: null });
      expect(errorsByRow(report)).toEqual(file.expected);
      const created = await app.deps.db.account.findMany({ where: { address: { in: file.good.map((row) => row.address) } } });
      expect(created).toHaveLength(file.good.length);
      expect(await accountsOf(world.main.id)).toBe(mainBefore + file.good.filter((row) => row.address.endsWith(`@${world.main.name}`)).length);
      expect(await accountsOf(world.quota.id)).toBe(1 + 10);
      expect(await accountsOf(world.limited.id)).toBe(4);
      // Nothing but the good rows.
      const fromFile = await app.deps.db.account.findMany({ where: { localPart: { startsWith: `${file.prefix}-` } }, select: { address: true } });
      expect(fromFile.map((account) => account.address).sort()).toEqual(file.good.map((row) => row.address).sort());

      const stored = new Map(created.map((account) => [account.address, account]));
      for (const row of file.good.filter((_, index) => index % 997 === 0)) {
        expect(stored.get(row.address)).toMatchObject({ displayName: row.displayName, status: row.status });
      }
      const quotaRow = stored.get(file.good.find((row) => row.address.includes("-quota0@"))!.address)!;
      expect(quotaRow.quotaMb).toBe(100);
      expect(stored.get(file.good.find((row) => row.row === 2)!.address)!.quotaMb).toBe(200);
      expect(stored.get(file.good.find((row) => row.row === 1)!.address)!.quotaMb).toBe(world.main.defaultMailboxQuotaMb);

      // Every account created has its account.create entry, written by the request that completed the upload.
      const audit = await app.deps.db.auditEntry.findMany({ where: { action: "account.create", objectId: { in: created.map((account) => account.id) } } });
      expect(audit).toHaveLength(created.length);
      expect(new Set(audit.map((entry) => entry.objectId)).size).toBe(created.length);
      const first = audit.find((entry) => entry.objectId === stored.get(file.good[0]!.address)!.id)!;
      expect(first).toMatchObject({ actorRole: "SUPPORT_ADMIN", actorName: supportName, domainId: world.main.id, domainName: world.main.name, requestId: lastRequestId });
      expect(first.changes).toEqual(
        expect.arrayContaining([
          { field: "address", before: null, after: file.good[0]!.address },
          { field: "password", before: null, after: "(changed)" },
        ]),
      );
      expect(JSON.stringify(audit.map((entry) => entry.changes))).not.toContain("password of row");

      // Progress: phases only move forward, and reads in the middle of one show how far it is.
      const order = ["UPLOADING", "VALIDATING", "HASHING", "WRITING", "DONE"];
      const phases = seen.map((read) => order.indexOf(read.phase));
      expect(phases).toEqual([...phases].sort((a, b) => a - b));
      const hashing = seen.filter((read) => read.phase === "HASHING");
      expect(hashing.length).toBeGreaterThan(0);
      expect(hashing.every((read) => read.phaseTotal === file.good.filter((row) => !row.viaHash).length && read.phaseDone <= read.phaseTotal)).toBe(true);
      expect(seen.some((read) => ["VALIDATING", "HASHING", "WRITING"].includes(read.phase) && read.phaseDone > 0 && read.phaseDone < read.phaseTotal)).toBe(true);
      expect(seen.every((read) => read.rowsTotal === ROWS || read.phase === "UPLOADING")).toBe(true);

      // Both kinds of password work: hashed here, and migrated as a hash.
      await expectLogsIn(file.good.find((row) => !row.viaHash && row.status === "ACTIVE")!.address, file.good.find((row) => !row.viaHash && row.status === "ACTIVE")!.password);
      await expectLogsIn(file.good.find((row) => row.viaHash && row.status === "ACTIVE")!.address, HASHED_PASSWORD);
    }, 300_000);
  });

  it("ALL_OR_NOTHING: a file of 10,000 good rows is written whole, each account audited", async () => {
    const own = await makeDomain(app);
    const file = buildImportFile({ ...world, main: own.domain }, ROWS, { withBadRows: false });
    const report = ok(await app.gql<{ importAccounts: Report }>(IMPORT, { input: { content: file.csv, mode: "ALL_OR_NOTHING" } }, supportToken)).importAccounts;

    expect(report).toMatchObject({ phase: "DONE", rowsTotal: ROWS, createdCount: ROWS, validCount: ROWS, failedCount: 0, errors: [], failure: null });
    expect(await accountsOf(own.domain.id)).toBe(1 + ROWS);
    // The administrator's entry from createDomain, and one per imported account.
    expect(await app.deps.db.auditEntry.count({ where: { action: "account.create", domainId: own.domain.id } })).toBe(1 + ROWS);
  }, 300_000);

  it("reads JSON lines, typed values included, and reports lines that are not objects", async () => {
    const prefix = uniqueName("jl");
    const lines = [
      JSON.stringify({ address: `${prefix}-a@${world.main.name}`, password: "a good long password", quotaMb: 300, displayName: "Ann Lee", status: "suspended" }),
      "",
      JSON.stringify({ address: `${prefix}-b@${world.main.name}`, passwordHash: MIGRATED_HASH.replace("$2b$", "$2y$"), displayName: "陳小明" }),
      "{ this is not json",
      JSON.stringify({ address: `${prefix}-c@${world.main.name}`, password: "a good long password", mailbox: "x" }),
      JSON.stringify(["an", "array"]),
      JSON.stringify({ address: `${prefix}-d@${world.main.name}`, password: "a good long password", quotaMb: "12" }),
    ];
    const report = ok(await app.gql<{ importAccounts: Report }>(IMPORT, { input: { format: "JSONL", content: lines.join("\r\n"), mode: "PER_ROW" } }, supportToken)).importAccounts;

    expect(report).toMatchObject({ phase: "DONE", rowsTotal: 6, createdCount: 3, failedCount: 3 });
    expect(report.errors.map(({ row, line, field, code }) => ({ row, line, field, code }))).toEqual([
      { row: 3, line: 4, field: null, code: "BAD_USER_INPUT" },
      { row: 4, line: 5, field: null, code: "BAD_USER_INPUT" },
      { row: 5, line: 6, field: null, code: "BAD_USER_INPUT" },
    ]);
    expect(report.errors[1]!.message).toContain('Unknown field "mailbox"');
    const created = await app.deps.db.account.findMany({ where: { address: { startsWith: prefix } }, orderBy: { address: "asc" } });
    expect(created.map(({ localPart, quotaMb, displayName, status }) => ({ localPart, quotaMb, displayName, status }))).toEqual([
      { localPart: `${prefix}-a`, quotaMb: 300, displayName: "Ann Lee", status: "SUSPENDED" },
      { localPart: `${prefix}-b`, quotaMb: world.main.defaultMailboxQuotaMb, displayName: "陳小明", status: "ACTIVE" },
      { localPart: `${prefix}-d`, quotaMb: 12, displayName: "", status: "ACTIVE" },
    ]);
    // A PHP $2y$ hash is stored as the same algorithm's $2b$, and logs in.
    expect(created[1]!.passwordHash.startsWith("$2b$")).toBe(true);
    await expectLogsIn(created[1]!.address, HASHED_PASSWORD);
  });

  it("refuses a file it cannot read as a whole, naming the problem and the line", async () => {
    const cases: [string, RegExp][] = [
      ["address,pasword\nx@example.com,a good long password\n", /Unknown column "pasword" in the header \(line 1\)/],
      ["address,quotaMb\nx@example.com,5\n", /needs a password or a passwordHash column/],
      [`address,password\n"x@example.com,a good long password\n`, /The CSV cannot be read/],
      ["", /empty/],
    ];
    for (const [content, message] of cases) {
      const response = await app.gql(IMPORT, { input: { content, dryRun: true } }, supportToken);
      expect(response.errors?.map((error) => ({ code: error.extensions.code, field: error.extensions.field }))).toEqual([{ code: "BAD_USER_INPUT", field: "content" }]);
      expect(response.errors![0]!.message).toMatch(message);
    }
  });

  it("understands spreadsheet headers, a byte-order mark and quoted cells", async () => {
    const prefix = uniqueName("xl");
    const csv = `\uFEFFAddress,Password,Quota MB,Display Name\r\n${prefix}@${world.main.name},"a, ""quoted"" password",5,"Chen, Mary"\r\n`;
    const report = ok(await app.gql<{ importAccounts: Report }>(IMPORT, { input: { content: csv } }, supportToken)).importAccounts;
    expect(report).toMatchObject({ createdCount: 1, failedCount: 0 });
    const account = await app.deps.db.account.findUniqueOrThrow({ where: { address: `${prefix}@${world.main.name}` } });
    expect(account).toMatchObject({ quotaMb: 5, displayName: "Chen, Mary" });
    await expectLogsIn(account.address, 'a, "quoted" password');
  });

  describe("who may import", () => {
    it("a domain administrator imports into its own domain only: another domain's rows answer like a missing domain", async () => {
      const w = await makeWorld(app);
      const prefix = uniqueName("adm");
      const missing = `${uniqueName("nowhere")}.example`;
      const csv = [
        "address,password",
        `${prefix}-own@${w.domain.name},a good long password`,
        `${prefix}-other@${w.otherDomain.name},a good long password`,
        `${prefix}-missing@${missing},a good long password`,
      ].join("\n");
      const report = ok(await app.gql<{ importAccounts: Report }>(IMPORT, { input: { content: csv, mode: "PER_ROW" } }, w.tokens.admin)).importAccounts;

      expect(report).toMatchObject({ createdCount: 1, failedCount: 2 });
      const [other, unknown] = report.errors;
      expect(other).toMatchObject({ row: 2, field: "address", code: "NOT_FOUND", message: `No domain ${w.otherDomain.name} exists, or you may not see it.` });
      expect(unknown).toMatchObject({ row: 3, field: "address", code: "NOT_FOUND", message: `No domain ${missing} exists, or you may not see it.` });
      expect(await app.deps.db.account.count({ where: { domainId: w.otherDomain.id } })).toBe(1);
      const created = await app.deps.db.account.findUniqueOrThrow({ where: { address: `${prefix}-own@${w.domain.name}` } });
      const entry = await app.deps.db.auditEntry.findFirstOrThrow({ where: { action: "account.create", objectId: created.id } });
      expect(entry).toMatchObject({ actorRole: "DOMAIN_ADMIN", actorName: w.admin.address });
    });

    it("an ordinary user may not import, and an anonymous caller must log in", async () => {
      const w = await makeWorld(app);
      const csv = `address,password\n${uniqueName("u")}@${w.domain.name},a good long password\n`;
      for (const [token, code] of [
        [w.tokens.user, "FORBIDDEN"],
        [undefined, "UNAUTHENTICATED"],
      ] as const) {
        expect(errorCode(await app.gql(IMPORT, { input: { content: csv } }, token))).toBe(code);
        expect(errorCode(await app.gql(START, { input: { content: csv, more: true } }, token))).toBe(code);
        expect(errorCode(await app.gql(PROGRESS, { id: "00000000-0000-0000-0000-000000000000" }, token))).toBe(code === "FORBIDDEN" ? "NOT_FOUND" : code);
      }
      expect(await app.deps.db.account.count({ where: { domainId: w.domain.id } })).toBe(2);
    });

    it("an import is its starter's: anyone else reads and extends it as if it did not exist", async () => {
      const w = await makeWorld(app);
      const started = ok(await app.gql<{ startAccountImport: Report }>(START, { input: { content: "address,password\n", more: true } }, w.tokens.admin)).startAccountImport;
      const ghost = "01900000-0000-7000-8000-000000000000";
      for (const token of [supportToken, w.tokens.otherAdmin]) {
        const read = await app.gql(PROGRESS, { id: started.id }, token);
        expect(read.errors?.[0]?.extensions.code).toBe("NOT_FOUND");
        expect(read.errors![0]!.message.replace(started.id, "<id>")).toBe((await app.gql(PROGRESS, { id: ghost }, token)).errors![0]!.message.replace(ghost, "<id>"));
        expect(errorCode(await app.gql(APPEND, { id: started.id, content: "x@y.example,a good long password\n" }, token))).toBe("NOT_FOUND");
      }
      const finished = ok(
        await app.gql<{ appendAccountImportContent: Report }>(APPEND, { id: started.id, content: `${uniqueName("own")}@${w.domain.name},a good long password\n` }, w.tokens.admin),
      ).appendAccountImportContent;
      expect(finished.rowsTotal).toBe(1);
      // The content is complete: more is refused.
      expect(errorCode(await app.gql(APPEND, { id: started.id, content: "more" }, w.tokens.admin))).toBe("CONFLICT");
    });
  });
});
