// Bulk import of accounts over REST (POST /api/v1/account-imports with the
// file as the body, GET /api/v1/account-imports/{id}): the same service as
// GraphQL's import, so these tests cover what REST adds (media types and
// charsets, 202 with a Location, wait=true, token scopes, body size, problem
// details) and that the service's rules reach through it. Every answer is
// checked against the server's OpenAPI document (RestClient).
import { randomUUID } from "node:crypto";
import iconv from "iconv-lite";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";
import { RestClient, validateOpenApiDocument, type RestResponse } from "../helpers/rest-client";

const IMPORTS = "/api/v1/account-imports";
const HEADER = "address,password,passwordHash,quotaMb,displayName,status";
const GOOD_PASSWORD = "a good long password";
const MIGRATED_PASSWORD = "migrated password 123";

interface RowError {
  row: number;
  line: number;
  field: string | null;
  code: string;
  message: string;
  address: string | null;
}

interface ImportReport {
  id: string;
  format: string;
  mode: string;
  dryRun: boolean;
  phase: string;
  rowsTotal: number;
  validCount: number;
  createdCount: number;
  failedCount: number;
  errors: RowError[];
  failure: string | null;
}

function expectProblem(response: RestResponse, status: number, code: string, field?: string) {
  expect(response.status).toBe(status);
  expect(response.contentType).toBe("application/problem+json");
  expect(response.body).toMatchObject({ status, code });
  if (field) expect(response.body.field).toBe(field);
}

/** The errors of a report as row → [field code], the way the file below says they must be. */
function errorsByRow(report: ImportReport) {
  const byRow: Record<number, string[]> = {};
  for (const error of report.errors) (byRow[error.row] ??= []).push(`${error.field} ${error.code}`);
  return byRow;
}

describe("bulk import of accounts over REST", () => {
  let app: TestApp;
  let rest: RestClient;
  let supportName: string;
  let supportToken: string;
  let migratedHash: string;

  beforeAll(async () => {
    // A small general body limit and a small import limit, so that both bounds can be shown cheaply.
    app = await startTestApp({ REQUEST_BODY_LIMIT_BYTES: String(64 * 1024), IMPORT_MAX_MB: "1" });
    rest = await RestClient.connect(app);
    const support = await supportAdmin(app);
    supportName = support.username;
    supportToken = await tokenFor(app, support);
    migratedHash = await app.deps.passwords.hash(MIGRATED_PASSWORD);
  });
  afterAll(() => app.close());

  /**
   * Eight rows for `domain`: rows 1 and 5 are good, the others bad in a known way.
   * `existing` is an account that exists already.
   */
  function mixedFile(prefix: string, domain: string, existing: string) {
    const rows = [
      `${prefix}-1@${domain},${GOOD_PASSWORD},,,Ann Lee,`,
      `not-an-address,${GOOD_PASSWORD},,,,`,
      `${prefix}-3@${domain},short,,,,`,
      `${existing},${GOOD_PASSWORD},,,,`,
      `${prefix}-5@${domain},,${migratedHash},0,"Chen, Mary",SUSPENDED`,
      `${prefix}-6@${uniqueName("nowhere")}.example,${GOOD_PASSWORD},,,,`,
      `${prefix}-1@${domain},${GOOD_PASSWORD},,,,`,
      `${prefix}-8@${domain},${GOOD_PASSWORD},,lots,,`,
    ];
    return {
      csv: `${HEADER}\n${rows.join("\n")}\n`,
      good: [`${prefix}-1@${domain}`, `${prefix}-5@${domain}`],
      errors: {
        2: ["address BAD_USER_INPUT"],
        3: ["password BAD_USER_INPUT"],
        4: ["address CONFLICT"],
        6: ["address NOT_FOUND"],
        7: ["address CONFLICT"],
        8: ["quotaMb BAD_USER_INPUT"],
      },
    };
  }

  function postFile(token: string | undefined, body: string | Buffer, query: Record<string, string | boolean> = {}, contentType = "text/csv") {
    // An import (200, 202) or a problem: the tests look at the status first.
    return rest.request("POST", IMPORTS, { token, raw: body, contentType, query });
  }

  /** Reads the import at `location` until it ends, paced like a script polling it. */
  async function follow(token: string, location: string): Promise<ImportReport> {
    for (;;) {
      const read = await rest.request<ImportReport>("GET", location, { token });
      expect(read.status).toBe(200);
      if (read.body.phase === "DONE" || read.body.phase === "FAILED") return read.body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  function accountsStartingWith(prefix: string) {
    return app.deps.db.account.findMany({ where: { localPart: { startsWith: `${prefix}-` } }, orderBy: { address: "asc" } });
  }

  it("is in the OpenAPI document, which stays valid: POST needs WRITE and answers 202 with a Location, GET needs READ", async () => {
    expect(await validateOpenApiDocument(rest.document)).toMatchObject({ valid: true });
    const paths = rest.document.paths as Record<string, Record<string, Record<string, any>>>;
    expect(paths[IMPORTS]!.post).toMatchObject({ operationId: "startAccountImport", "x-token-scope": "WRITE", tags: ["account imports"] });
    expect(Object.keys(paths[IMPORTS]!.post!.requestBody.content).sort()).toEqual(["application/jsonl", "application/x-ndjson", "text/csv", "text/plain"]);
    // The header object holds its schema directly (Redocly's struct rule refused a schema nested in another).
    expect(paths[IMPORTS]!.post!.responses["202"].headers.Location).toEqual({ schema: { type: "string" }, description: "The import: /api/v1/account-imports/{id}." });
    expect((rest.document as unknown as { servers: unknown }).servers).toEqual([{ url: "/", description: "The server this document was fetched from." }]);
    expect(paths[`${IMPORTS}/{id}`]!.get).toMatchObject({ operationId: "getAccountImport", "x-token-scope": "READ" });
  });

  it("dry run: answers 202 with the import and its Location, whose report names every bad row with row, line, field and code; nothing is written", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("dry");
    const file = mixedFile(prefix, world.domain.name, world.user.address);
    const accountsBefore = await app.deps.db.account.count();
    const auditBefore = await app.deps.db.auditEntry.count();

    const started = await postFile(supportToken, file.csv, { dryRun: true, mode: "per-row" });
    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe(`${IMPORTS}/${started.body.id}`);
    expect(started.body).toMatchObject({ format: "CSV", mode: "PER_ROW", dryRun: true, rowsTotal: 8, createdCount: 0 });
    expect(["VALIDATING", "DONE"]).toContain(started.body.phase);

    const report = await follow(supportToken, started.headers.get("location")!);
    expect(report).toMatchObject({ id: started.body.id, phase: "DONE", rowsTotal: 8, validCount: 2, createdCount: 0, failedCount: 6, failure: null });
    expect(errorsByRow(report)).toEqual(file.errors);
    for (const error of report.errors) expect(error.line).toBe(error.row + 1);
    expect(report.errors.find((error) => error.row === 4)).toMatchObject({ address: world.user.address, message: `An account ${world.user.address} already exists.` });
    expect(report.errors.find((error) => error.row === 7)!.message).toContain("row 1");
    expect(await app.deps.db.account.count()).toBe(accountsBefore);
    expect(await app.deps.db.auditEntry.count()).toBe(auditBefore);
  });

  it("per row: creates exactly the good rows, each audited as the caller by the request that sent the file, and reports the others", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("row");
    const file = mixedFile(prefix, world.domain.name, world.user.address);

    const started = await postFile(supportToken, file.csv, { mode: "per-row" });
    expect(started.status).toBe(202);
    const report = await follow(supportToken, started.headers.get("location")!);
    expect(report).toMatchObject({ phase: "DONE", dryRun: false, createdCount: 2, failedCount: 6 });
    expect(errorsByRow(report)).toEqual(file.errors);

    const created = await accountsStartingWith(prefix);
    expect(created.map((account) => account.address)).toEqual(file.good);
    expect(created[0]).toMatchObject({ displayName: "Ann Lee", status: "ACTIVE", quotaMb: world.domain.defaultMailboxQuotaMb });
    expect(created[1]).toMatchObject({ displayName: "Chen, Mary", status: "SUSPENDED", quotaMb: 0 });
    expect(await app.deps.passwords.verify(GOOD_PASSWORD, created[0]!.passwordHash)).toBe(true);
    expect(created[1]!.passwordHash).toBe(migratedHash);

    const audit = await app.deps.db.auditEntry.findMany({ where: { action: "account.create", objectId: { in: created.map((account) => account.id) } } });
    expect(audit).toHaveLength(2);
    for (const entry of audit) {
      expect(entry).toMatchObject({ actorRole: "SUPPORT_ADMIN", actorName: supportName, domainId: world.domain.id, requestId: started.headers.get("x-request-id") });
    }
  });

  it("all or nothing with wait=true: answers 200 with the finished report; one bad row and nothing is created, a clean file is created whole", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("aon");
    const file = mixedFile(prefix, world.domain.name, world.user.address);

    const refused = await postFile(supportToken, file.csv, { mode: "all-or-nothing", wait: true });
    expect(refused.status).toBe(200);
    expect(refused.headers.get("location")).toBeNull();
    expect(refused.body).toMatchObject({ phase: "DONE", mode: "ALL_OR_NOTHING", validCount: 2, createdCount: 0, failedCount: 6 });
    expect(errorsByRow(refused.body)).toEqual(file.errors);
    expect(await accountsStartingWith(prefix)).toEqual([]);

    const clean = `${HEADER}\n${prefix}-a@${world.domain.name},${GOOD_PASSWORD},,,,\n${prefix}-b@${world.domain.name},,${migratedHash},,,\n`;
    const done = await postFile(supportToken, clean, { wait: true });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ phase: "DONE", mode: "ALL_OR_NOTHING", createdCount: 2, failedCount: 0, errors: [] });
    expect((await accountsStartingWith(prefix)).map((account) => account.address)).toEqual([`${prefix}-a@${world.domain.name}`, `${prefix}-b@${world.domain.name}`]);
  });

  it("a domain administrator imports into its own domain only; an ordinary account may not import; nobody reads another's import", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("adm");
    const csv = `${HEADER}\n${prefix}-own@${world.domain.name},${GOOD_PASSWORD},,0,,\n${prefix}-theirs@${world.otherDomain.name},${GOOD_PASSWORD},,0,,\n`;

    const started = await postFile(world.tokens.admin, csv, { mode: "per-row" });
    expect(started.status).toBe(202);
    const location = started.headers.get("location")!;
    const report = await follow(world.tokens.admin, location);
    expect(report).toMatchObject({ createdCount: 1, failedCount: 1 });
    expect(report.errors).toEqual([expect.objectContaining({ row: 2, field: "address", code: "NOT_FOUND", address: `${prefix}-theirs@${world.otherDomain.name}` })]);
    expect((await accountsStartingWith(prefix)).map((account) => account.address)).toEqual([`${prefix}-own@${world.domain.name}`]);

    expectProblem(await rest.request("GET", location, { token: world.tokens.otherAdmin }), 404, "NOT_FOUND");
    expectProblem(await rest.request("GET", location, { token: supportToken }), 404, "NOT_FOUND");
    expectProblem(await postFile(world.tokens.user, `${HEADER}\n${prefix}-u@${world.domain.name},${GOOD_PASSWORD},,0,,\n`), 403, "FORBIDDEN");
    expect(await accountsStartingWith(prefix)).toHaveLength(1);
  });

  it("API tokens: a READ-only token may not start an import but reads its creator's; a WRITE token starts one", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("tok");
    const csv = `${HEADER}\n${prefix}-a@${world.domain.name},${GOOD_PASSWORD},,0,,\n`;
    const readOnly = (await apiTokenOf(app, world.admin, ["READ"])).token;
    const write = (await apiTokenOf(app, world.admin, ["WRITE"])).token;

    const refused = await postFile(readOnly, csv);
    expectProblem(refused, 403, "FORBIDDEN");
    expect(refused.body.detail).toContain("needs the WRITE scope");
    expect(await accountsStartingWith(prefix)).toEqual([]);

    const started = await postFile(write, csv);
    expect(started.status).toBe(202);
    const report = await follow(readOnly, started.headers.get("location")!);
    expect(report).toMatchObject({ phase: "DONE", createdCount: 1 });
    const [account] = await accountsStartingWith(prefix);
    const entry = await app.deps.db.auditEntry.findFirstOrThrow({ where: { action: "account.create", objectId: account!.id } });
    expect(entry.actorName).toContain(world.admin.address);
  });

  it("reads JSON lines sent as application/x-ndjson, and a Big5 CSV whose charset the Content-Type names", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("enc");
    const lines = [
      JSON.stringify({ address: `${prefix}-j1@${world.domain.name}`, password: GOOD_PASSWORD, quotaMb: 0, displayName: "陳小明" }),
      "{ not json",
      JSON.stringify({ address: `${prefix}-j2@${world.domain.name}`, passwordHash: migratedHash, quotaMb: 0 }),
    ].join("\n");
    // text/plain carries either format; format says which.
    const checked = await postFile(supportToken, lines, { format: "jsonl", dryRun: true, wait: true }, "text/plain");
    expect(checked.body).toMatchObject({ format: "JSONL", dryRun: true, validCount: 2, failedCount: 1 });
    const jsonLines = await postFile(supportToken, lines, { mode: "per-row", wait: true }, "application/x-ndjson");
    expect(jsonLines.status).toBe(200);
    expect(jsonLines.body).toMatchObject({ format: "JSONL", createdCount: 2, failedCount: 1, errors: [{ row: 2, line: 2, field: null, code: "BAD_USER_INPUT" }] });

    const big5 = iconv.encode(`${HEADER}\n${prefix}-b5@${world.domain.name},${GOOD_PASSWORD},,0,王大同,\n`, "big5");
    // Without its charset the bytes are not UTF-8: refused, rather than stored as replacement characters.
    expectProblem(await postFile(supportToken, big5, { wait: true }), 400, "BAD_USER_INPUT", "content");
    const decoded = await postFile(supportToken, big5, { wait: true }, "text/csv; charset=big5");
    expect(decoded.body).toMatchObject({ phase: "DONE", createdCount: 1 });
    expect(await app.deps.db.account.findUniqueOrThrow({ where: { address: `${prefix}-b5@${world.domain.name}` } })).toMatchObject({ displayName: "王大同" });
    expect((await app.deps.db.account.findUniqueOrThrow({ where: { address: `${prefix}-j1@${world.domain.name}` } })).displayName).toBe("陳小明");
  });

  it("shares its imports with GraphQL: one started there is read here, and the other way round", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("gql");
    const csv = (name: string) => `${HEADER}\n${prefix}-${name}@${world.domain.name},${GOOD_PASSWORD},,0,,\n`;
    const viaGraphql = await app.gql<{ startAccountImport: { id: string } }>(
      `mutation($input: StartAccountImportInput!) { startAccountImport(input: $input) { id } }`,
      { input: { content: csv("g"), mode: "PER_ROW" } },
      world.tokens.admin,
    );
    expect(viaGraphql.errors).toBeUndefined();
    expect(await follow(world.tokens.admin, `${IMPORTS}/${viaGraphql.data!.startAccountImport.id}`)).toMatchObject({ phase: "DONE", createdCount: 1 });

    const viaRest = await postFile(world.tokens.admin, csv("r"), { wait: true });
    const read = await app.gql<{ accountImport: { phase: string; createdCount: number } }>(
      `query($id: ID!) { accountImport(id: $id) { phase createdCount } }`,
      { id: viaRest.body.id },
      world.tokens.admin,
    );
    expect(read.data).toEqual({ accountImport: { phase: "DONE", createdCount: 1 } });
    expect(await accountsStartingWith(prefix)).toHaveLength(2);
  });

  it("answers what cannot be imported with problem details, and starts nothing", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("bad");
    const csv = `${HEADER}\n${prefix}-a@${world.domain.name},${GOOD_PASSWORD},,0,,\n`;

    expectProblem(await rest.request("POST", IMPORTS, { token: supportToken }), 400, "BAD_USER_INPUT", "content");
    const json = await rest.request("POST", IMPORTS, { token: supportToken, json: { content: csv } });
    expectProblem(json, 415, "BAD_USER_INPUT");
    expect(json.body.detail).toContain("text/csv");
    const unreadable = await postFile(supportToken, `adress,password\n${prefix}-a@${world.domain.name},${GOOD_PASSWORD}\n`);
    expectProblem(unreadable, 400, "BAD_USER_INPUT", "content");
    expect(unreadable.body.detail).toContain('Unknown column "adress"');
    expectProblem(await postFile(supportToken, csv, { format: "jsonl" }), 400, "BAD_USER_INPUT", "format");
    expectProblem(await postFile(supportToken, csv, { mode: "sometimes" }), 400, "BAD_USER_INPUT", "mode");
    expectProblem(await postFile(supportToken, csv, {}, "text/csv; charset=klingon"), 400, "BAD_USER_INPUT", "charset");
    expectProblem(await postFile(undefined, csv), 401, "UNAUTHENTICATED");
    expectProblem(await rest.request("GET", `${IMPORTS}/${randomUUID()}`, { token: supportToken }), 404, "NOT_FOUND");
    expect(await accountsStartingWith(prefix)).toEqual([]);
  });

  it("takes a file above REQUEST_BODY_LIMIT_BYTES up to IMPORT_MAX_MB, and refuses a larger one with 413", async () => {
    const world = await makeWorld(app);
    const prefix = uniqueName("big");
    const rows = Array.from({ length: 1500 }, (_, index) => `${prefix}-${index}@${world.domain.name},,${migratedHash},0,,`);
    const csv = `${HEADER}\n${rows.join("\n")}\n`;
    expect(Buffer.byteLength(csv)).toBeGreaterThan(64 * 1024);

    const checked = await postFile(supportToken, csv, { dryRun: true, wait: true });
    expect(checked.status).toBe(200);
    expect(checked.body).toMatchObject({ phase: "DONE", rowsTotal: 1500, validCount: 1500, failedCount: 0 });

    const tooLarge = await postFile(supportToken, `${HEADER}\n${"x".repeat(1024 * 1024)}\n`);
    expectProblem(tooLarge, 413, "BAD_USER_INPUT");
    expect(tooLarge.body.detail).toContain("IMPORT_MAX_MB");
  });
});
