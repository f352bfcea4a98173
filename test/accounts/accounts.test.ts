import { errorCode, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, tokenFor, uniqueName } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";

const CREATE_ACCOUNT = `mutation($input: CreateAccountInput!) {
  createAccount(input: $input) { account { id address localPart displayName role status quotaMb usedMb domain { name } } warnings { code } }
}`;
const UPDATE_ACCOUNT = `mutation($id: ID!, $input: UpdateAccountInput!) {
  updateAccount(id: $id, input: $input) { account { displayName status quotaMb usedMb } warnings { code field message } }
}`;

describe("accounts and quotas", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => ({ app, support } = started));

  it("creates an account with the domain's default quota, its address in lower case", async () => {
    const { domain } = await makeDomain(app, { defaultMailboxQuotaMb: 250 });
    const response = await app.gql(CREATE_ACCOUNT, { input: { domainId: domain.id, localPart: "Mary.Chen", displayName: "陳美麗", password: "a good long password" } }, support);
    expect(response.data.createAccount.account).toMatchObject({
      address: `mary.chen@${domain.name}`,
      localPart: "mary.chen",
      displayName: "陳美麗",
      role: "USER",
      status: "ACTIVE",
      quotaMb: 250,
      usedMb: 0,
      domain: { name: domain.name },
    });
  });

  it("refuses a duplicate address in the same domain and accepts the same local part elsewhere", async () => {
    const first = await makeDomain(app);
    const second = await makeDomain(app);
    const input = { localPart: "sales", password: "a good long password" };
    await app.gql(CREATE_ACCOUNT, { input: { ...input, domainId: first.domain.id } }, support);
    const duplicate = await app.gql(CREATE_ACCOUNT, { input: { ...input, localPart: "SALES", domainId: first.domain.id } }, support);
    expect(duplicate.errors![0]!.extensions).toMatchObject({ code: "CONFLICT", field: "localPart" });
    const elsewhere = await app.gql(CREATE_ACCOUNT, { input: { ...input, domainId: second.domain.id } }, support);
    expect(elsewhere.data.createAccount.account.address).toBe(`sales@${second.domain.name}`);
  });

  it("refuses a negative mailbox quota and one above the domain quota", async () => {
    const { domain } = await makeDomain(app, { quotaMb: 1000, defaultMailboxQuotaMb: 100 });
    const negative = await app.gql(CREATE_ACCOUNT, { input: { domainId: domain.id, localPart: "neg", password: "a good long password", quotaMb: -5 } }, support);
    expect(negative.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "quotaMb" });
    const above = await app.gql(CREATE_ACCOUNT, { input: { domainId: domain.id, localPart: "big", password: "a good long password", quotaMb: 1001 } }, support);
    expect(above.errors![0]!.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", field: "quotaMb" });
    expect(await app.deps.db.account.count({ where: { domainId: domain.id } })).toBe(1);
  });

  it("keeps the sum of mailbox quotas within the domain quota, on create and on update", async () => {
    const { domain } = await makeDomain(app, { quotaMb: 1000, defaultMailboxQuotaMb: 100 });
    const a = await makeAccount(app, domain, { quotaMb: 600 });
    const over = await app.gql(CREATE_ACCOUNT, { input: { domainId: domain.id, localPart: "b", password: "a good long password", quotaMb: 401 } }, support);
    expect(over.errors![0]!.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", field: "quotaMb" });
    expect(over.errors![0]!.message).toMatch(/400 MiB are still free/);
    const b = await makeAccount(app, domain, { quotaMb: 400 });
    const raise = await app.gql(UPDATE_ACCOUNT, { id: b.id, input: { quotaMb: 401 } }, support);
    expect(raise.errors![0]!.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", field: "quotaMb" });
    const swap = await app.gql(UPDATE_ACCOUNT, { id: a.id, input: { quotaMb: 500 } }, support);
    expect(swap.data.updateAccount.account.quotaMb).toBe(500);
    expect((await app.gql(UPDATE_ACCOUNT, { id: b.id, input: { quotaMb: 500 } }, support)).data.updateAccount.account.quotaMb).toBe(500);
  });

  // Issue 17: "7168 MiB are still free" was said when 6144 MiB were unallocated: the figure counted the mailbox's own quota.
  it("says how much of the domain quota is unallocated, and how far this mailbox may grow, when a raise is refused", async () => {
    const { domain } = await makeDomain(app, { quotaMb: 10240, defaultMailboxQuotaMb: 100 });
    const allocatedBefore = (await app.deps.db.account.aggregate({ where: { domainId: domain.id }, _sum: { quotaMb: true } }))._sum.quotaMb ?? 0;
    const mary = await makeAccount(app, domain, { quotaMb: 1024 });
    await makeAccount(app, domain, { quotaMb: 3072 - allocatedBefore });
    const raise = await app.gql(UPDATE_ACCOUNT, { id: mary.id, input: { quotaMb: 8000 } }, support);
    expect(raise.errors![0]!.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", field: "quotaMb" });
    expect(raise.errors![0]!.message).toBe(
      `A mailbox quota of 8000 MiB would give the domain ${domain.name} 11072 MiB of mailbox quotas, above its quota of 10240 MiB ` +
        `(6144 MiB are still free; this mailbox, now at 1024 MiB, can have at most 7168 MiB).`,
    );
    // What it says is true: 7168 is accepted, and then nothing is free.
    expect((await app.gql(UPDATE_ACCOUNT, { id: mary.id, input: { quotaMb: 7168 } }, support)).data.updateAccount.account.quotaMb).toBe(7168);
    const full = await app.gql(CREATE_ACCOUNT, { input: { domainId: domain.id, localPart: "one-more", password: "a good long password", quotaMb: 1 } }, support);
    expect(full.errors![0]!.message).toMatch(/\(0 MiB are still free\)\.$/);
  });

  it("never lets concurrent creations overshoot the domain quota or maxAccounts", async () => {
    const { domain } = await makeDomain(app, { quotaMb: 1000, maxAccounts: 4, defaultMailboxQuotaMb: 300 });
    const responses = await Promise.all(
      [0, 1, 2, 3, 4].map((index) => app.gql(CREATE_ACCOUNT, { input: { domainId: domain.id, localPart: `racer${index}`, password: "a good long password" } }, support)),
    );
    const accepted = responses.filter((response) => !response.errors);
    expect(accepted).toHaveLength(3);
    expect(responses.filter((response) => response.errors).map(errorCode)).toEqual(["QUOTA_EXCEEDED", "QUOTA_EXCEEDED"]);
    const totals = await app.deps.db.account.aggregate({ where: { domainId: domain.id }, _sum: { quotaMb: true }, _count: true });
    expect(totals._sum.quotaMb).toBe(900);
    expect(totals._count).toBe(4);
  });

  it("enforces maxAccounts, the administrator counted", async () => {
    const { domain } = await makeDomain(app, { maxAccounts: 2 });
    await makeAccount(app, domain);
    const third = await app.gql(CREATE_ACCOUNT, { input: { domainId: domain.id, localPart: "third", password: "a good long password" } }, support);
    expect(third.errors![0]!.extensions).toMatchObject({ code: "QUOTA_EXCEEDED", field: "domainId" });
    expect(third.errors![0]!.message).toMatch(/maximum of 2 accounts/);
  });

  it("accepts a quota below current usage and says so in a warning", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain, { quotaMb: 500 });
    await app.gql(UPDATE_ACCOUNT, { id: user.id, input: { usedMb: 450 } }, support);
    const response = await app.gql(UPDATE_ACCOUNT, { id: user.id, input: { quotaMb: 400 } }, support);
    expect(response.data.updateAccount.account).toMatchObject({ quotaMb: 400, usedMb: 450 });
    expect(response.data.updateAccount.warnings).toEqual([
      expect.objectContaining({ code: "QUOTA_BELOW_USAGE", field: "quotaMb", message: expect.stringMatching(/exceeds quota/) }),
    ]);
  });

  it("changes display name and status, and a suspended account cannot use its token", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    const userToken = await tokenFor(app, user);
    const response = await app.gql(UPDATE_ACCOUNT, { id: user.id, input: { displayName: "Renamed", status: "SUSPENDED" } }, support);
    expect(response.data.updateAccount.account).toMatchObject({ displayName: "Renamed", status: "SUSPENDED" });
    expect((await app.gql(`{ me { role } }`, {}, userToken)).errors![0]!.message).toMatch(/suspended/);
  });

  it("does not let an administrator suspend itself", async () => {
    const { admin } = await makeDomain(app);
    const response = await app.gql(UPDATE_ACCOUNT, { id: admin.id, input: { status: "SUSPENDED" } }, await tokenFor(app, admin));
    expect(errorCode(response)).toBe("FORBIDDEN");
  });

  it("resets a password: the old password and tokens stop working, the new one logs in", async () => {
    const { domain, admin } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    const userToken = await tokenFor(app, user);
    const reset = await app.gql(
      `mutation($id: ID!) { setAccountPassword(id: $id, password: "the reset password") { account { address } } }`,
      { id: user.id },
      await tokenFor(app, admin),
    );
    expect(reset.data.setAccountPassword.account.address).toBe(user.address);
    expect(errorCode(await app.gql(`{ me { role } }`, {}, userToken))).toBe("UNAUTHENTICATED");
    const login = await app.gql(`mutation($i: String!) { login(identifier: $i, password: "the reset password") { principal { loginName } } }`, { i: user.address });
    expect(login.data.login.principal.loginName).toBe(user.address);
  });

  it("deletes an account", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    const response = await app.gql(`mutation($id: ID!) { deleteAccount(id: $id) { deletedAccountId address } }`, { id: user.id }, support);
    expect(response.data.deleteAccount).toEqual({ deletedAccountId: user.id, address: user.address });
    expect(errorCode(await app.gql(`query($a: String!) { account(address: $a) { id } }`, { a: user.address }, support))).toBe("NOT_FOUND");
  });

  it("lists a domain's accounts with search, role filter and pagination", async () => {
    const { domain, admin } = await makeDomain(app);
    const prefix = uniqueName("p");
    for (const suffix of ["a", "b", "c"]) await makeAccount(app, domain, { localPart: `${prefix}${suffix}` });
    const query = `query($id: ID!, $s: String, $after: String) { domain(id: $id) { accounts(search: $s, first: 2, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { localPart role } } } }`;
    const first = await app.gql(query, { id: domain.id, s: prefix }, support);
    expect(first.data.domain.accounts.totalCount).toBe(3);
    expect(first.data.domain.accounts.nodes.map((node: any) => node.localPart)).toEqual([`${prefix}a`, `${prefix}b`]);
    const second = await app.gql(query, { id: domain.id, s: prefix, after: first.data.domain.accounts.pageInfo.endCursor }, support);
    expect(second.data.domain.accounts).toMatchObject({ pageInfo: { hasNextPage: false }, nodes: [{ localPart: `${prefix}c`, role: "USER" }] });
    const admins = await app.gql(`query($id: ID!) { domain(id: $id) { accounts(role: DOMAIN_ADMIN) { nodes { id } } } }`, { id: domain.id }, support);
    expect(admins.data.domain.accounts.nodes).toEqual([{ id: admin.id }]);
  });

  it("finds an account by address in any letter case, and by id", async () => {
    const { domain } = await makeDomain(app);
    const user = await makeAccount(app, domain);
    const byAddress = await app.gql(`query($a: String!) { account(address: $a) { id } }`, { a: user.address.toUpperCase() }, support);
    expect(byAddress.data.account.id).toBe(user.id);
    const byId = await app.gql(`query($id: ID!) { account(id: $id) { address } }`, { id: user.id }, support);
    expect(byId.data.account.address).toBe(user.address);
  });
});
