import { errorCode, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, tokenFor } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";

const REASSIGN = `mutation($domainId: ID!, $accountId: ID!) {
  reassignDomainAdmin(domainId: $domainId, accountId: $accountId) {
    domain { admin { id } } admin { id role } previousAdmin { id role }
  }
}`;

describe("reassignDomainAdmin", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => ({ app, support } = started));

  it("makes another account of the domain its administrator and the previous one an ordinary account", async () => {
    const { domain, admin } = await makeDomain(app);
    const next = await makeAccount(app, domain);
    const response = await app.gql(REASSIGN, { domainId: domain.id, accountId: next.id }, support);
    expect(response.data.reassignDomainAdmin).toEqual({
      domain: { admin: { id: next.id } },
      admin: { id: next.id, role: "DOMAIN_ADMIN" },
      previousAdmin: { id: admin.id, role: "USER" },
    });
    const roles = await app.gql(`query($id: ID!) { domain(id: $id) { accounts(role: DOMAIN_ADMIN) { totalCount nodes { id } } } }`, { id: domain.id }, support);
    expect(roles.data.domain.accounts).toEqual({ totalCount: 1, nodes: [{ id: next.id }] });
  });

  it("revokes the previous administrator's tokens and lets the new one manage the domain", async () => {
    const { domain, admin } = await makeDomain(app);
    const next = await makeAccount(app, domain);
    const oldAdminToken = await tokenFor(app, admin);
    const newAdminToken = await tokenFor(app, next);
    await app.gql(REASSIGN, { domainId: domain.id, accountId: next.id }, support);
    expect(errorCode(await app.gql(`{ me { role } }`, {}, oldAdminToken))).toBe("UNAUTHENTICATED");
    const create = await app.gql(
      `mutation($d: ID!) { createAccount(input: { domainId: $d, localPart: "hired", password: "a good long password" }) { account { address } } }`,
      { d: domain.id },
      newAdminToken,
    );
    expect(create.data.createAccount.account.address).toBe(`hired@${domain.name}`);
  });

  it("refuses an account of another domain, and changes nothing", async () => {
    const { domain, admin } = await makeDomain(app);
    const other = await makeDomain(app);
    const stranger = await makeAccount(app, other.domain);
    const response = await app.gql(REASSIGN, { domainId: domain.id, accountId: stranger.id }, support);
    expect(response.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "accountId" });
    expect((await app.deps.db.domainAdmin.findUniqueOrThrow({ where: { domainId: domain.id } })).accountId).toBe(admin.id);
  });

  it("leaves exactly one administrator when reassignments race", async () => {
    const { domain } = await makeDomain(app);
    const candidates = await Promise.all([0, 1, 2, 3].map(() => makeAccount(app, domain)));
    const responses = await Promise.all(candidates.map((candidate) => app.gql(REASSIGN, { domainId: domain.id, accountId: candidate.id }, support)));
    expect(responses.every((response) => response.errors === undefined)).toBe(true);
    const admins = await app.deps.db.domainAdmin.findMany({ where: { domainId: domain.id } });
    expect(admins).toHaveLength(1);
    expect(candidates.map((candidate) => candidate.id)).toContain(admins[0]!.accountId);
    const listed = await app.gql(`query($id: ID!) { domain(id: $id) { accounts(role: DOMAIN_ADMIN) { totalCount } } }`, { id: domain.id }, support);
    expect(listed.data.domain.accounts.totalCount).toBe(1);
  });

  it("makes the database itself refuse a second administrator or one from another domain", async () => {
    const { domain } = await makeDomain(app);
    const other = await makeDomain(app);
    const member = await makeAccount(app, domain);
    await expect(app.deps.db.domainAdmin.create({ data: { domainId: domain.id, accountId: member.id } })).rejects.toThrow();
    await expect(app.deps.db.domainAdmin.update({ where: { domainId: other.domain.id }, data: { accountId: member.id } })).rejects.toThrow();
  });

  it("refuses to delete the administrator's account until another is made administrator", async () => {
    const { domain, admin } = await makeDomain(app);
    const remove = `mutation($id: ID!) { deleteAccount(id: $id) { address } }`;
    const refused = await app.gql(remove, { id: admin.id }, support);
    expect(refused.errors![0]!.extensions.code).toBe("CONFLICT");
    const next = await makeAccount(app, domain);
    await app.gql(REASSIGN, { domainId: domain.id, accountId: next.id }, support);
    expect((await app.gql(remove, { id: admin.id }, support)).data.deleteAccount.address).toBe(admin.address);
  });
});
