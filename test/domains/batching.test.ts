import { type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, uniqueName } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";

const PAGE = `query($s: String, $n: Int) {
  domains(search: $s, first: $n) {
    nodes { name admin { address } accountCount accounts(first: 10) { totalCount nodes { address quotaMb role } } }
  }
}`;

describe("lists load their relations in batches", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => ({ app, support } = started));

  async function statementsFor(variables: Record<string, unknown>) {
    const before = app.statements.length;
    const response = await app.gql(PAGE, variables, support);
    expect(response.errors).toBeUndefined();
    return { response, count: app.workStatementsSince(before).length };
  }

  it("sends the same number of statements for a page of 3 domains and of 12, with their administrators and accounts", async () => {
    const prefix = uniqueName("batch");
    for (let index = 0; index < 12; index++) {
      const { domain } = await makeDomain(app, { name: `${prefix}-${String(index).padStart(2, "0")}.example` });
      for (let account = 0; account < 3; account++) await makeAccount(app, domain, { localPart: `user${account}`, quotaMb: 10 + account });
    }
    const small = await statementsFor({ s: prefix, n: 3 });
    const large = await statementsFor({ s: prefix, n: 12 });
    expect(small.response.data.domains.nodes).toHaveLength(3);
    expect(large.response.data.domains.nodes).toHaveLength(12);
    expect(large.count).toBe(small.count);
    // The caller, the page (with its count, administrators and totals in one
    // statement), the account pages and their counts, the accounts' roles.
    expect(large.count).toBe(5);
    const first = large.response.data.domains.nodes[0];
    expect(first).toEqual({
      name: `${prefix}-00.example`,
      admin: { address: `admin@${prefix}-00.example` },
      accountCount: 4,
      accounts: {
        totalCount: 4,
        nodes: [
          { address: `admin@${prefix}-00.example`, quotaMb: 0, role: "DOMAIN_ADMIN" },
          { address: `user0@${prefix}-00.example`, quotaMb: 10, role: "USER" },
          { address: `user1@${prefix}-00.example`, quotaMb: 11, role: "USER" },
          { address: `user2@${prefix}-00.example`, quotaMb: 12, role: "USER" },
        ],
      },
    });
  });

  it("reads the administrators and totals a page asks for through fragments and edges as it does plain fields", async () => {
    const prefix = uniqueName("fragments");
    for (let index = 0; index < 3; index++) {
      const { domain } = await makeDomain(app, { name: `${prefix}-${index}.example`, quotaMb: 1000 });
      for (let account = 0; account <= index; account++) await makeAccount(app, domain, { localPart: `user${account}`, quotaMb: 10 });
    }
    const expected = [0, 1, 2].map((index) => ({
      name: `${prefix}-${index}.example`,
      admin: { address: `admin@${prefix}-${index}.example`, role: "DOMAIN_ADMIN" },
      accountCount: index + 2,
      allocatedQuotaMb: 10 * (index + 1),
    }));
    const plain = `query($s: String) { domains(search: $s) { totalCount nodes { name admin { address role } accountCount allocatedQuotaMb } } }`;
    const fragments = `query($s: String) { domains(search: $s) { totalCount edges { node { ...Row } } } }
      fragment Row on Domain { name ... on Domain { admin { ...Admin } } ...Totals }
      fragment Totals on Domain { accountCount allocatedQuotaMb }
      fragment Admin on Account { address role }`;
    const before = app.statements.length;
    const plainResponse = await app.gql(plain, { s: prefix }, support);
    const plainStatements = app.workStatementsSince(before).length;
    const between = app.statements.length;
    const fragmentResponse = await app.gql(fragments, { s: prefix }, support);
    expect(plainResponse.errors).toBeUndefined();
    expect(fragmentResponse.errors).toBeUndefined();
    expect(plainResponse.data.domains).toEqual({ totalCount: 3, nodes: expected });
    expect(fragmentResponse.data.domains).toEqual({ totalCount: 3, edges: expected.map((node) => ({ node })) });
    // The caller and the page: administrators, their roles and totals come with it.
    expect(plainStatements).toBe(2);
    expect(app.workStatementsSince(between)).toHaveLength(2);
  });

  it("counts the whole list on a page past its end", async () => {
    const prefix = uniqueName("past-end");
    for (let index = 0; index < 2; index++) await makeDomain(app, { name: `${prefix}-${index}.example` });
    const page = async (after?: string) =>
      (
        await app.gql(
          `query($s: String, $a: String) { domains(search: $s, first: 2, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { name } } }`,
          { s: prefix, a: after },
          support,
        )
      ).data.domains;
    const full = await page();
    expect(full).toMatchObject({ totalCount: 2, pageInfo: { hasNextPage: false }, nodes: [{ name: `${prefix}-0.example` }, { name: `${prefix}-1.example` }] });
    expect(await page(full.pageInfo.endCursor)).toEqual({ totalCount: 2, pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] });
  });

  it("sends as many statements for a page of 100 domains (the issue's selection) as for a page of 3", async () => {
    // domains(first: 100) { admin { address } accounts(first: 10) { address quotaMb } }, in this schema's connection shape.
    const query = `query($s: String, $n: Int) { domains(search: $s, first: $n) { nodes { admin { address } accounts(first: 10) { nodes { address quotaMb } } } } }`;
    const prefix = uniqueName("hundred");
    for (let index = 0; index < 40; index++) {
      const { domain } = await makeDomain(app, { name: `${prefix}-${String(index).padStart(2, "0")}.example` });
      if (index % 4 === 0) await makeAccount(app, domain, { localPart: "user", quotaMb: index });
    }
    const count = async (n: number) => {
      const before = app.statements.length;
      const response = await app.gql(query, { s: prefix, n }, support);
      expect(response.errors).toBeUndefined();
      return { nodes: response.data.domains.nodes, statements: app.statements.length - before };
    };
    const small = await count(3);
    const full = await count(100);
    expect(small.nodes).toHaveLength(3);
    expect(full.nodes).toHaveLength(40);
    expect(full.statements).toBe(small.statements);
    expect(full.nodes[4]).toEqual({
      admin: { address: `admin@${prefix}-04.example` },
      accounts: {
        nodes: [
          { address: `admin@${prefix}-04.example`, quotaMb: 0 },
          { address: `user@${prefix}-04.example`, quotaMb: 4 },
        ],
      },
    });
  });

  it("pages and filters a batched account list exactly like a single one", async () => {
    const { domain } = await makeDomain(app);
    for (const name of ["a_b", "axb", "c%d"]) await makeAccount(app, domain, { localPart: name.replace("%", "") });
    const query = `query($id: ID!, $s: String) { domain(id: $id) { accounts(search: $s, first: 2) { totalCount pageInfo { hasNextPage } nodes { localPart } } } }`;
    const batched = await app.gql(query, { id: domain.id, s: "a_" }, support);
    // "_" is a character here, not a LIKE wildcard.
    expect(batched.data.domain.accounts).toEqual({ totalCount: 1, pageInfo: { hasNextPage: false }, nodes: [{ localPart: "a_b" }] });
    const all = await app.gql(query, { id: domain.id, s: null }, support);
    expect(all.data.domain.accounts).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
  });
});
