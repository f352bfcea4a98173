// Regression tests for the hostile review's token findings (issue 13): a
// leaked API token must not become a login that outlives its revocation (F1),
// its scopes hold for every object an answer reaches (F3), a domain
// administrator's tokens refused for the loss of its powers stay refused
// (F4), and a login token without an expiry is refused.
import jwt from "jsonwebtoken";
import { errorCode, startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { makeAccount, makeWorld, supportAdmin, uniqueName } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";
import { RestClient } from "../helpers/rest-client";

const SET_PASSWORD = `mutation($id: ID!, $password: String!) { setAccountPassword(id: $id, password: $password) { account { id } } }`;
const LOGIN = `mutation($identifier: String!, $password: String!) { login(identifier: $identifier, password: $password) { token } }`;
const REASSIGN = `mutation($d: ID!, $a: ID!) { reassignDomainAdmin(domainId: $d, accountId: $a) { admin { id } } }`;
const ME = `{ me { __typename } }`;
const NEW_PASSWORD = "attacker chosen password 1";

function refusal(response: GraphQLResponse) {
  return { code: errorCode(response), field: response.errors?.[0]?.extensions.field, message: response.errors?.[0]?.message ?? "" };
}

describe("API tokens and credentials (issue 13)", () => {
  let app: TestApp;
  let rest: RestClient;
  beforeAll(async () => {
    app = await startTestApp();
    rest = await RestClient.connect(app);
  });
  afterAll(() => app.close());

  describe("F1: a token never sets, changes or learns an administrator's credentials", () => {
    it("refuses a domain administrator's WRITE token setting its creator's password over GraphQL; the login still works", async () => {
      const world = await makeWorld(app);
      const { token } = await apiTokenOf(app, world.admin, ["READ", "WRITE"]);
      const refused = await app.gql(SET_PASSWORD, { id: world.admin.id, password: NEW_PASSWORD }, token);
      expect(refusal(refused)).toMatchObject({ code: "FORBIDDEN", field: "password", message: expect.stringContaining("API token") });
      expect(errorCode(await app.gql(LOGIN, { identifier: world.admin.address, password: NEW_PASSWORD }))).toBe("UNAUTHENTICATED");
      // The real administrator's session was not ended.
      expect((await app.gql(ME, {}, world.tokens.admin)).errors).toBeUndefined();
    });

    it("refuses the same over REST (PUT with a password) before changing anything else", async () => {
      const world = await makeWorld(app);
      const { token } = await apiTokenOf(app, world.admin, ["READ", "WRITE"]);
      const domain = await app.deps.db.domain.findUniqueOrThrow({ where: { id: world.domain.id } });
      const response = await rest.request("PUT", `/api/v1/domains/${domain.name}/accounts/${world.admin.localPart}`, {
        token,
        json: { password: NEW_PASSWORD, displayName: "changed by the attacker" },
      });
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ code: "FORBIDDEN", field: "password" });
      const stored = await app.deps.db.account.findUniqueOrThrow({ where: { id: world.admin.id } });
      expect(stored.displayName).toBe(world.admin.displayName);
      expect(stored.tokenVersion).toBe(world.admin.tokenVersion);
    });

    it("refuses a support WRITE token setting a domain administrator's password, and allows it for an ordinary mailbox", async () => {
      const world = await makeWorld(app);
      const support = await supportAdmin(app);
      const { token } = await apiTokenOf(app, support, ["READ", "WRITE"]);
      expect(refusal(await app.gql(SET_PASSWORD, { id: world.admin.id, password: NEW_PASSWORD }, token))).toMatchObject({ code: "FORBIDDEN", field: "password" });
      const mailbox = await makeAccount(app, world.domain, { quotaMb: 10 });
      expect((await app.gql(SET_PASSWORD, { id: mailbox.id, password: NEW_PASSWORD }, token)).errors).toBeUndefined();
    });

    it("refuses making an account the administrator through a token (its password may be the token holder's), but not through a login", async () => {
      const world = await makeWorld(app);
      const support = await supportAdmin(app);
      const { token } = await apiTokenOf(app, support, ["READ", "WRITE"]);
      const mailbox = await makeAccount(app, world.domain, { quotaMb: 10 });
      expect((await app.gql(SET_PASSWORD, { id: mailbox.id, password: NEW_PASSWORD }, token)).errors).toBeUndefined();
      expect(refusal(await app.gql(REASSIGN, { d: world.domain.id, a: mailbox.id }, token))).toMatchObject({ code: "FORBIDDEN", field: "accountId" });
      // The same token's own domain administrator, asked again, is no change and no refusal.
      expect((await app.gql(REASSIGN, { d: world.domain.id, a: world.admin.id }, token)).errors).toBeUndefined();
      expect((await app.gql(REASSIGN, { d: world.domain.id, a: mailbox.id }, world.tokens.support)).errors).toBeUndefined();
    });

    it("creates a domain through a token without telling it the administrator's password, and refuses one it chose", async () => {
      const support = await supportAdmin(app);
      const { token } = await apiTokenOf(app, support, ["READ", "WRITE"]);
      const create = `mutation($input: CreateDomainInput!) { createDomain(input: $input) { domain { name } generatedAdminPassword warnings { code field } } }`;
      const chosen = await app.gql(create, { input: { name: `${uniqueName("t")}.example`, adminPassword: NEW_PASSWORD } }, token);
      expect(refusal(chosen)).toMatchObject({ code: "FORBIDDEN", field: "adminPassword" });
      const generated = await app.gql(create, { input: { name: `${uniqueName("t")}.example` } }, token);
      expect(generated.errors).toBeUndefined();
      expect(generated.data.createDomain.generatedAdminPassword).toBeNull();
      expect(generated.data.createDomain.warnings).toEqual([{ code: "ADMIN_PASSWORD_NOT_SHOWN", field: "adminPassword" }]);
      // Through a login, the generated password is shown once, as before.
      const byLogin = await app.gql(create, { input: { name: `${uniqueName("t")}.example` } }, (await makeWorld(app)).tokens.support);
      expect(byLogin.data.createDomain.generatedAdminPassword).toEqual(expect.any(String));
    });
  });

  describe("F3: scopes hold for every object an answer reaches", () => {
    it("refuses a WRITE-only token reading domains' administrators and accounts through checkDomainsDns", async () => {
      const world = await makeWorld(app);
      const support = await supportAdmin(app);
      const { token } = await apiTokenOf(app, support, ["WRITE"]);
      const domain = await app.deps.db.domain.findUniqueOrThrow({ where: { id: world.domain.id } });
      const deep = `mutation($names: [String!]) { checkDomainsDns(names: $names) { domain { admin { address } accounts(first: 3) { nodes { address } } } } }`;
      const response = await app.gql(deep, { names: [domain.name] }, token);
      expect(response.status).toBe(403);
      expect(refusal(response)).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("READ scope") });
      expect(response.data ?? null).toBeNull();
    });

    it("refuses a LOGS-only token reading a domain's accounts through diagnoseDelivery", async () => {
      const world = await makeWorld(app);
      const support = await supportAdmin(app);
      const { token } = await apiTokenOf(app, support, ["LOGS"]);
      const deep = `query($address: String) { diagnoseDelivery(address: $address) { account { domain { accounts { nodes { address } } } } } }`;
      const response = await app.gql(deep, { address: world.user.address }, token);
      expect(refusal(response)).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining("READ scope") });
    });

    it("lets a WRITE-only token see the object it changed, not what lies behind it; a READ and WRITE token sees both", async () => {
      const world = await makeWorld(app);
      const support = await supportAdmin(app);
      const writeOnly = (await apiTokenOf(app, support, ["WRITE"])).token;
      const readWrite = (await apiTokenOf(app, support, ["READ", "WRITE"])).token;
      const shallow = `mutation($id: ID!) { updateAccount(id: $id, input: { displayName: "Renamed" }) { account { address displayName } } }`;
      const deep = `mutation($id: ID!) { updateAccount(id: $id, input: { displayName: "Renamed" }) { account { domain { accounts { nodes { address } } } } } }`;
      const viaFragment = `mutation($id: ID!) { updateAccount(id: $id, input: { displayName: "Renamed" }) { account { ...A } } } fragment A on Account { domain { name } }`;
      expect((await app.gql(shallow, { id: world.user.id }, writeOnly)).data.updateAccount.account.displayName).toBe("Renamed");
      expect(refusal(await app.gql(deep, { id: world.user.id }, writeOnly)).code).toBe("FORBIDDEN");
      expect(refusal(await app.gql(viaFragment, { id: world.user.id }, writeOnly)).code).toBe("FORBIDDEN");
      expect((await app.gql(deep, { id: world.user.id }, readWrite)).errors).toBeUndefined();
    });

    it("refuses a READ-only token reading delivery records through an account", async () => {
      const world = await makeWorld(app);
      const support = await supportAdmin(app);
      const { token } = await apiTokenOf(app, support, ["READ"]);
      const query = `query($id: ID) { account(id: $id) { mailLog { nodes { id } } } }`;
      expect(refusal(await app.gql(query, { id: world.user.id }, token)).code).toBe("FORBIDDEN");
    });
  });

  describe("F4: a replaced administrator's tokens stay refused", () => {
    it("keeps them CREATOR_REPLACED and refused after the administrator is reassigned away and back", async () => {
      const world = await makeWorld(app);
      const { token, row } = await apiTokenOf(app, world.admin, ["READ", "WRITE"]);
      expect((await app.gql(ME, {}, token)).errors).toBeUndefined();
      expect((await app.gql(REASSIGN, { d: world.domain.id, a: world.user.id }, world.tokens.support)).errors).toBeUndefined();
      expect(errorCode(await app.gql(ME, {}, token))).toBe("UNAUTHENTICATED");
      expect((await app.gql(REASSIGN, { d: world.domain.id, a: world.admin.id }, world.tokens.support)).errors).toBeUndefined();

      expect(errorCode(await app.gql(ME, {}, token))).toBe("UNAUTHENTICATED");
      const update = `mutation($id: ID!) { updateAccount(id: $id, input: { displayName: "back from the dead" }) { account { id } } }`;
      expect(errorCode(await app.gql(update, { id: world.user.id }, token))).toBe("UNAUTHENTICATED");
      const listed = await app.gql(`query($d: ID) { apiTokens(domainId: $d, includeRevoked: true) { nodes { id status } } }`, { d: world.domain.id }, world.tokens.support);
      expect(listed.data.apiTokens.nodes).toContainEqual({ id: row.id, status: "CREATOR_REPLACED" });
    });
  });

  describe("login tokens", () => {
    it("refuses a token signed with the secret but without an expiry", async () => {
      const world = await makeWorld(app);
      const claims = jwt.decode(world.tokens.admin) as Record<string, unknown>;
      const { exp: _exp, ...withoutExpiry } = claims;
      const forged = jwt.sign(withoutExpiry, app.config.JWT_SECRET, { algorithm: "HS256" });
      expect((jwt.decode(forged) as Record<string, unknown>).exp).toBeUndefined();
      expect(errorCode(await app.gql(ME, {}, forged))).toBe("UNAUTHENTICATED");
      expect((await app.gql(ME, {}, world.tokens.admin)).errors).toBeUndefined();
    });
  });
});
