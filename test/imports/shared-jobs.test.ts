// Imports are kept in the database: an import whose parts go to two servers
// on one database, read from the other server while and after it runs; and
// an import whose server died (no heartbeat) ended with a clear state by the
// next server that reads it.
import { startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";

const REPORT = `id phase rowsTotal phaseDone phaseTotal validCount createdCount failedCount failure`;
const START = `mutation($input: StartAccountImportInput!) { startAccountImport(input: $input) { ${REPORT} } }`;
const APPEND = `mutation($id: ID!, $content: String!, $more: Boolean) { appendAccountImportContent(id: $id, content: $content, more: $more) { ${REPORT} } }`;
const PROGRESS = `query($id: ID!) { accountImport(id: $id) { ${REPORT} } }`;

function ok<T>(response: GraphQLResponse<T>): T {
  expect(response.errors).toBeUndefined();
  return response.data!;
}

describe("import jobs shared by the servers on one database", () => {
  let first: TestApp;
  let second: TestApp;
  let token: string;
  let domain: string;

  beforeAll(async () => {
    first = await startTestApp();
    second = await startTestApp();
    token = await tokenFor(first, await supportAdmin(first));
    domain = (await makeDomain(first)).domain.name;
  });
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  it("parts sent to two servers make one import, run by the one that got the last part and read from the other", async () => {
    const rows = Array.from({ length: 40 }, (_, index) => `${uniqueName("imp")}${index}@${domain},Secret-Passw0rd-${index},Person ${index}`);
    const header = "address,password,displayName";
    const started = ok(await first.gql(START, { input: { content: `${header}\n${rows.slice(0, 20).join("\n")}\n`, more: true, mode: "PER_ROW" } }, token)).startAccountImport;
    expect(started.phase).toBe("UPLOADING");
    const uploading = ok(await second.gql(PROGRESS, { id: started.id }, token)).accountImport;
    expect(uploading).toMatchObject({ id: started.id, phase: "UPLOADING" });
    const running = ok(await second.gql(APPEND, { id: started.id, content: `${rows.slice(20).join("\n")}\n`, more: false }, token)).appendAccountImportContent;
    expect(running.rowsTotal).toBe(40);
    let report = running;
    for (let reads = 0; !["DONE", "FAILED"].includes(report.phase) && reads < 200; reads++) {
      report = ok(await first.gql(PROGRESS, { id: started.id }, token)).accountImport;
      if (!["DONE", "FAILED"].includes(report.phase)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(report).toMatchObject({ phase: "DONE", rowsTotal: 40, createdCount: 40, failedCount: 0, failure: null });
    expect(await first.deps.db.account.count({ where: { address: { in: rows.map((row) => row.split(",")[0]!) } } })).toBe(40);
  });

  it("an import whose server stopped beating is ended FAILED, saying what was created, by the server that reads it", async () => {
    const started = ok(await first.gql(START, { input: { content: "address,password\n", more: true, mode: "PER_ROW" } }, token)).startAccountImport;
    // As a server that was writing, had committed 1000 accounts, and was killed 20 seconds ago leaves it.
    await first.deps.db.$executeRaw`
      UPDATE "account_import" SET "phase" = 'WRITING', "runner" = 'gone:1:x', "createdCount" = 1000, "rowsTotal" = 3000,
        "heartbeatAt" = (now() AT TIME ZONE 'UTC') - interval '20 seconds' WHERE "id" = ${started.id}`;
    const ended = ok(await second.gql(PROGRESS, { id: started.id }, token)).accountImport;
    expect(ended).toMatchObject({ phase: "FAILED", createdCount: 1000, rowsTotal: 3000 });
    expect(ended.failure).toBe(
      "The server running this import stopped before it finished; the 1000 accounts of the rows before it were created (auditLog lists them). Run it again: the rows created already are then refused as existing.",
    );
  });

  it("a running import with a fresh heartbeat is left running", async () => {
    const started = ok(await first.gql(START, { input: { content: "address,password\n", more: true } }, token)).startAccountImport;
    await first.deps.db.$executeRaw`
      UPDATE "account_import" SET "phase" = 'HASHING', "runner" = 'elsewhere:1:x', "heartbeatAt" = (now() AT TIME ZONE 'UTC') WHERE "id" = ${started.id}`;
    expect(ok(await second.gql(PROGRESS, { id: started.id }, token)).accountImport).toMatchObject({ phase: "HASHING", failure: null });
    await first.deps.db.accountImport.delete({ where: { id: started.id } });
  });
});
