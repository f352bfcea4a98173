// Alias rows in the bulk import: a row with destinations (and no password)
// creates an alias with createAlias's rules, after the file's mailbox rows.
import { startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import type { AccountImport } from "../../src/generated/graphql";
import type { Domain } from "../../src/generated/prisma/client";

const REPORT = `phase rowsTotal validCount createdCount failedCount failure errors { row line field code message address }`;
const IMPORT = `mutation($input: ImportAccountsInput!) { importAccounts(input: $input) { ${REPORT} } }`;
type Report = Pick<AccountImport, "phase" | "rowsTotal" | "validCount" | "createdCount" | "failedCount" | "failure" | "errors">;

function reportOf(response: GraphQLResponse<{ importAccounts: Report }>): Report {
  expect(response.errors).toBeUndefined();
  return response.data!.importAccounts;
}

describe("bulk import: alias rows", () => {
  let app: TestApp;
  let supportToken: string;
  let supportId: string;
  beforeAll(async () => {
    app = await startTestApp();
    const support = await supportAdmin(app);
    supportId = support.id;
    supportToken = await tokenFor(app, support);
  });
  afterAll(() => app.close());

  async function importFile(content: string, input: Record<string, unknown> = {}, token = supportToken): Promise<Report> {
    return reportOf(await app.gql<{ importAccounts: Report }>(IMPORT, { input: { content, ...input } }, token));
  }

  async function aliasesOf(domain: Domain) {
    const rows = await app.deps.db.alias.findMany({ where: { domainId: domain.id }, orderBy: { address: "asc" } });
    return rows.map((row) => [row.address, row.destinations]);
  }

  it("ALL_OR_NOTHING: mailboxes and aliases of one file, an alias pointing at a mailbox on a later row, each audited", async () => {
    const { domain } = await makeDomain(app);
    const amy = `amy-${uniqueName()}@${domain.name}`;
    const sales = `sales@${domain.name}`;
    const team = `team@${domain.name}`;
    const csv = ["address,password,destinations", `${sales},,"${amy}, partner@outside.example"`, `${team},,${sales}`, `${amy},a good long password,`].join("\n");

    const report = await importFile(csv, { mode: "ALL_OR_NOTHING" });

    expect(report).toMatchObject({ phase: "DONE", rowsTotal: 3, createdCount: 3, failedCount: 0, errors: [] });
    expect(await app.deps.db.account.count({ where: { address: amy } })).toBe(1);
    expect(await aliasesOf(domain)).toEqual([
      [sales, [amy, "partner@outside.example"]],
      [team, [sales]],
    ]);
    const audits = await app.deps.db.auditEntry.findMany({ where: { domainId: domain.id, action: "alias.create", actorId: supportId } });
    expect(audits).toHaveLength(2);
  });

  it("ALL_OR_NOTHING: an alias row refused when written (a destination that does not exist) undoes the mailboxes too", async () => {
    const { domain } = await makeDomain(app);
    const ghost = `ghost@${domain.name}`;
    const csv = ["address,password,destinations", `bob@${domain.name},a good long password,`, `info@${domain.name},,${ghost}`].join("\n");

    const report = await importFile(csv, { mode: "ALL_OR_NOTHING" });

    expect(report.createdCount).toBe(0);
    expect(report.errors).toEqual([
      expect.objectContaining({ row: 2, line: 3, field: "destinations", code: "BAD_USER_INPUT", address: `info@${domain.name}`, message: expect.stringContaining(ghost) }),
    ]);
    expect(await app.deps.db.account.count({ where: { domainId: domain.id, localPart: "bob" } })).toBe(0);
    expect(await aliasesOf(domain)).toEqual([]);
  });

  it("PER_ROW: good rows stay; a destination not receiving mail, a taken address and the domain's alias limit are refused with their column", async () => {
    const domain = await app.deps.db.domain.update({ where: { id: (await makeDomain(app)).domain.id }, data: { maxAliases: 3 } });
    const mailbox = await makeAccount(app, domain);
    const made = await app.gql(
      `mutation($id: ID!, $to: [String!]!) { createAlias(input: { domainId: $id, localPart: "old", destinations: $to }) { alias { id } } }`,
      { id: domain.id, to: [mailbox.address] },
      supportToken,
    );
    expect(made.errors).toBeUndefined();
    const d = domain.name;
    const lines = [
      // b is written after this row: alias rows go in file order, so a's destination does not receive mail yet.
      { address: `a@${d}`, destinations: [`b@${d}`] },
      { address: `b@${d}`, destinations: [mailbox.address] },
      { address: `self@${d}`, destinations: [`self@${d}`] },
      { address: mailbox.address, destinations: [`b@${d}`] },
      { address: `old@${d}`, destinations: [mailbox.address] },
      { address: `third@${d}`, destinations: [`b@${d}`, "partner@outside.example"] },
      { address: `fourth@${d}`, destinations: [mailbox.address] },
    ];

    const report = await importFile(lines.map((line) => JSON.stringify(line)).join("\n"), { format: "JSONL", mode: "PER_ROW" });

    const byRow = new Map(report.errors.map((error) => [error.row, error]));
    expect([...byRow.keys()].sort()).toEqual([1, 3, 4, 5, 7]);
    expect(byRow.get(1)).toMatchObject({ field: "destinations", code: "BAD_USER_INPUT", message: expect.stringContaining(`b@${d}`) });
    expect(byRow.get(3)).toMatchObject({ field: "destinations", code: "BAD_USER_INPUT", message: expect.stringContaining(`self@${d}`) });
    expect(byRow.get(4)).toMatchObject({ field: "address", code: "CONFLICT", message: `An account ${mailbox.address} already exists.` });
    expect(byRow.get(5)).toMatchObject({ field: "address", code: "CONFLICT", message: `An alias old@${d} already exists.` });
    expect(byRow.get(7)).toMatchObject({ field: "address", code: "QUOTA_EXCEEDED", message: expect.stringContaining("maximum of 3 aliases") });
    expect(report.createdCount).toBe(2);
    expect(await aliasesOf(domain)).toEqual([
      [`b@${d}`, [mailbox.address]],
      [`old@${d}`, [mailbox.address]],
      [`third@${d}`, [`b@${d}`, "partner@outside.example"]],
    ]);
  });

  it("an alias row takes no mailbox values, and needs at least one well-formed destination", async () => {
    const { domain } = await makeDomain(app);
    const csv = [
      "address,password,quotaMb,destinations",
      `x@${domain.name},a good long password,,y@outside.example`,
      `q@${domain.name},,100,y@outside.example`,
      `z@${domain.name},,,not-an-address`,
    ].join("\n");

    const report = await importFile(csv, { dryRun: true, mode: "PER_ROW" });

    expect(report.errors.map((error) => [error.row, error.field, error.code])).toEqual([
      [1, "password", "BAD_USER_INPUT"],
      [2, "quotaMb", "BAD_USER_INPUT"],
      [3, "destinations", "BAD_USER_INPUT"],
    ]);
    expect(report.errors[0]!.message).toBe("A row with destinations is an alias: it takes no password (leave it empty, or leave destinations empty for a mailbox).");
  });

  it("a domain administrator imports aliases into its own domain only; another domain's rows answer NOT_FOUND", async () => {
    const w = await makeWorld(app);
    // A mailbox that receives mail (the world's user has quota 0).
    const desk = await makeAccount(app, w.domain);
    const csv = ["address,destinations", `help@${w.domain.name},${desk.address}`, `help@${w.otherDomain.name},${desk.address}`].join("\n");

    const report = await importFile(csv, { mode: "PER_ROW" }, w.tokens.admin);

    expect(report.createdCount).toBe(1);
    expect(report.errors).toEqual([expect.objectContaining({ row: 2, field: "address", code: "NOT_FOUND" })]);
    expect(await aliasesOf(w.domain)).toEqual([[`help@${w.domain.name}`, [desk.address]]]);
    expect(await aliasesOf(w.otherDomain)).toEqual([]);
  });
});
