import { errorCode, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, uniqueName } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";

const CREATE_DOMAIN = `mutation($input: CreateDomainInput!) {
  createDomain(input: $input) {
    domain { id name unicodeName status isTestDomain quotaMb maxAccounts defaultMailboxQuotaMb accountCount
             admin { id address role quotaMb } }
    admin { address }
    generatedAdminPassword
  }
}`;

describe("domains", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => ({ app, support } = started));

  it("creates a domain with its administrator, whose mailbox quota is 0 unless given", async () => {
    const name = `${uniqueName("new")}.example`;
    const response = await app.gql(CREATE_DOMAIN, { input: { name, quotaMb: 5000, maxAccounts: 10, adminPassword: "a good long password" } }, support);
    const domain = response.data.createDomain.domain;
    expect(domain).toMatchObject({ name, unicodeName: name, status: "ACTIVE", isTestDomain: false, quotaMb: 5000, maxAccounts: 10, accountCount: 1 });
    expect(domain.admin).toMatchObject({ address: `admin@${name}`, role: "DOMAIN_ADMIN", quotaMb: 0 });
    expect(response.data.createDomain.generatedAdminPassword).toBeNull();

    const withQuota = await app.gql(CREATE_DOMAIN, { input: { name: `${uniqueName("q")}.example`, adminQuotaMb: 200, adminLocalPart: "Postmaster" } }, support);
    expect(withQuota.data.createDomain.domain.admin).toMatchObject({ quotaMb: 200, address: expect.stringMatching(/^postmaster@/) });
  });

  it("generates an administrator password when none is given, and it logs in", async () => {
    const response = await app.gql(CREATE_DOMAIN, { input: { name: `${uniqueName("gen")}.example` } }, support);
    const { generatedAdminPassword, admin } = response.data.createDomain;
    expect(generatedAdminPassword).toMatch(/^[A-Za-z0-9]{24}$/);
    const login = await app.gql(`mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { principal { role } } }`, {
      i: admin.address,
      p: generatedAdminPassword,
    });
    expect(login.data.login.principal.role).toBe("DOMAIN_ADMIN");
  });

  it("stores an internationalised name as punycode and returns its Unicode form", async () => {
    const label = `bücher${uniqueName("").slice(0, 6)}`;
    const response = await app.gql(CREATE_DOMAIN, { input: { name: `${label.toUpperCase()}.Example.` } }, support);
    const domain = response.data.createDomain.domain;
    expect(domain.name).toMatch(/^xn--[a-z0-9-]+\.example$/);
    expect(domain.unicodeName).toBe(`${label}.example`);
    const byUnicode = await app.gql(`query($n: String!) { domain(name: $n) { id } }`, { n: `${label}.example` }, support);
    expect(byUnicode.data.domain.id).toBe(domain.id);
    const search = await app.gql(`query($s: String!) { domains(search: $s) { totalCount nodes { id } } }`, { s: label }, support);
    expect(search.data.domains.nodes).toEqual([{ id: domain.id }]);
  });

  it("refuses a second domain with the same name, whatever its letter case", async () => {
    const name = `${uniqueName("dup")}.example`;
    await app.gql(CREATE_DOMAIN, { input: { name } }, support);
    const again = await app.gql(CREATE_DOMAIN, { input: { name: name.toUpperCase() } }, support);
    expect(again.errors![0]!.extensions).toMatchObject({ code: "CONFLICT", field: "name" });
    expect(await app.deps.db.domain.count({ where: { name } })).toBe(1);
  });

  it("refuses malformed names and quotas, naming the field, and creates nothing", async () => {
    const before = await app.deps.db.domain.count();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: "no-dot" }, "BAD_USER_INPUT", "name"],
      [{ name: "under_score.example" }, "BAD_USER_INPUT", "name"],
      [{ name: "192.168.1.1" }, "BAD_USER_INPUT", "name"],
      // Not the canonical punycode of what it decodes to (xn--b0l is): found by fast-check.
      [{ name: "a.xn---b0l" }, "BAD_USER_INPUT", "name"],
      [{ name: `${"a".repeat(64)}.example` }, "BAD_USER_INPUT", "name"],
      [{ name: `${uniqueName()}.example`, quotaMb: -1 }, "BAD_USER_INPUT", "quotaMb"],
      [{ name: `${uniqueName()}.example`, maxAccounts: 0 }, "BAD_USER_INPUT", "maxAccounts"],
      [{ name: `${uniqueName()}.example`, quotaMb: 100, adminQuotaMb: 101 }, "QUOTA_EXCEEDED", "adminQuotaMb"],
      [{ name: `${uniqueName()}.example`, quotaMb: 100, defaultMailboxQuotaMb: 200 }, "QUOTA_EXCEEDED", "defaultMailboxQuotaMb"],
      [{ name: `${uniqueName()}.example`, adminPassword: "short" }, "BAD_USER_INPUT", "adminPassword"],
      [{ name: `${uniqueName()}.example`, adminLocalPart: "a..b" }, "BAD_USER_INPUT", "adminLocalPart"],
    ];
    for (const [input, code, field] of cases) {
      const response = await app.gql(CREATE_DOMAIN, { input }, support);
      expect({ input, extensions: response.errors?.[0]?.extensions }).toEqual({ input, extensions: expect.objectContaining({ code, field }) });
    }
    expect(await app.deps.db.domain.count()).toBe(before);
  });

  it("pages through domains with a cursor and a total count", async () => {
    const prefix = uniqueName("page");
    for (let index = 0; index < 5; index++) await makeDomain(app, { name: `${prefix}-${index}.example` });
    const query = `query($s: String, $after: String) { domains(search: $s, first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { name } } } }`;
    const names: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page++) {
      const response: any = await app.gql(query, { s: prefix, after }, support);
      expect(response.data.domains.totalCount).toBe(5);
      names.push(...response.data.domains.edges.map((edge: any) => edge.node.name));
      expect(response.data.domains.pageInfo.hasNextPage).toBe(page < 2);
      after = response.data.domains.pageInfo.endCursor;
    }
    expect(names).toEqual([0, 1, 2, 3, 4].map((index) => `${prefix}-${index}.example`));
    const badCursor = await app.gql(query, { s: prefix, after: "not a cursor!" }, support);
    expect(badCursor.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });

  it("filters domains by status", async () => {
    const prefix = uniqueName("st");
    await makeDomain(app, { name: `${prefix}-a.example` });
    await makeDomain(app, { name: `${prefix}-b.example`, status: "SUSPENDED" });
    const response = await app.gql(`query($s: String) { domains(search: $s, status: SUSPENDED) { totalCount nodes { name status } } }`, { s: prefix }, support);
    expect(response.data.domains).toEqual({ totalCount: 1, nodes: [{ name: `${prefix}-b.example`, status: "SUSPENDED" }] });
  });

  it("updates status, limits and quotas, and clears a limit with null", async () => {
    const { domain } = await makeDomain(app, { quotaMb: 1000, maxAccounts: 5 });
    const update = `mutation($id: ID!, $input: UpdateDomainInput!) { updateDomain(id: $id, input: $input) {
      domain { status isTestDomain quotaMb maxAccounts defaultMailboxQuotaMb } warnings { code field } } }`;
    const response = await app.gql(
      update,
      { id: domain.id, input: { status: "SUSPENDED", isTestDomain: true, quotaMb: 2000, maxAccounts: null, defaultMailboxQuotaMb: 300 } },
      support,
    );
    expect(response.data.updateDomain).toEqual({
      domain: { status: "SUSPENDED", isTestDomain: true, quotaMb: 2000, maxAccounts: null, defaultMailboxQuotaMb: 300 },
      warnings: [],
    });
  });

  it("refuses a domain quota below its mailboxes' quotas and maxAccounts below its account count, and warns below usage", async () => {
    const { domain } = await makeDomain(app, { quotaMb: 1000, defaultMailboxQuotaMb: 100 });
    const user = await makeAccount(app, domain, { quotaMb: 600 });
    const update = `mutation($id: ID!, $input: UpdateDomainInput!) { updateDomain(id: $id, input: $input) {
      domain { quotaMb maxAccounts } warnings { code field message } } }`;
    const tooSmall = await app.gql(update, { id: domain.id, input: { quotaMb: 500 } }, support);
    expect(tooSmall.errors![0]!.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", field: "quotaMb" });
    const tooFew = await app.gql(update, { id: domain.id, input: { maxAccounts: 1 } }, support);
    expect(tooFew.errors![0]!.extensions).toMatchObject({ code: "CONFLICT", field: "maxAccounts" });
    await app.deps.db.account.update({ where: { id: user.id }, data: { usedMb: 900 } });
    const belowUsage = await app.gql(update, { id: domain.id, input: { quotaMb: 800 } }, support);
    expect(belowUsage.data.updateDomain.domain.quotaMb).toBe(800);
    expect(belowUsage.data.updateDomain.warnings).toEqual([expect.objectContaining({ code: "QUOTA_BELOW_USAGE", field: "quotaMb" })]);
    const belowDefault = await app.gql(update, { id: domain.id, input: { quotaMb: 650, defaultMailboxQuotaMb: 700 } }, support);
    expect(belowDefault.errors![0]!.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", field: "defaultMailboxQuotaMb" });
  });

  it("deletes a domain that has only its administrator", async () => {
    const { domain, admin } = await makeDomain(app);
    const response = await app.gql(`mutation($id: ID!) { deleteDomain(id: $id) { deletedDomainId name deletedAccountCount } }`, { id: domain.id }, support);
    expect(response.data.deleteDomain).toEqual({ deletedDomainId: domain.id, name: domain.name, deletedAccountCount: 1 });
    expect(await app.deps.db.account.findUnique({ where: { id: admin.id } })).toBeNull();
  });

  it("refuses to delete a domain with mailboxes unless forced, then removes everything of it", async () => {
    const { domain } = await makeDomain(app);
    await makeAccount(app, domain);
    await makeAccount(app, domain);
    const remove = `mutation($id: ID!, $force: Boolean) { deleteDomain(id: $id, force: $force) { deletedAccountCount } }`;
    const refused = await app.gql(remove, { id: domain.id }, support);
    expect(refused.errors![0]!.extensions).toMatchObject({ code: "CONFLICT", field: "force" });
    expect(refused.errors![0]!.message).toMatch(/2 account\(s\) besides its administrator/);
    expect(await app.deps.db.account.count({ where: { domainId: domain.id } })).toBe(3);
    const forced = await app.gql(remove, { id: domain.id, force: true }, support);
    expect(forced.data.deleteDomain.deletedAccountCount).toBe(3);
    expect(await app.deps.db.account.count({ where: { domainId: domain.id } })).toBe(0);
    expect(await app.deps.db.domainAdmin.count({ where: { domainId: domain.id } })).toBe(0);
    expect(await app.deps.db.domain.count({ where: { id: domain.id } })).toBe(0);
  });

  it("answers NOT_FOUND for a domain that does not exist, and asks for exactly one of id and name", async () => {
    expect(errorCode(await app.gql(`{ domain(name: "nothing-here-at-all.example") { id } }`, {}, support))).toBe("NOT_FOUND");
    expect(errorCode(await app.gql(`{ domain(id: "00000000-0000-0000-0000-000000000000") { id } }`, {}, support))).toBe("NOT_FOUND");
    expect(errorCode(await app.gql(`{ domain { id } }`, {}, support))).toBe("BAD_USER_INPUT");
  });
});
