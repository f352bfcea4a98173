// API tokens through the GraphQL API: created by support staff or a domain
// administrator, shown once and stored hashed, held to their scopes and to
// their creator's powers, expiring, revocable, listed with their last use,
// and audited without their secret.
import { createHash } from "node:crypto";
import { errorCode, startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";
import { logLine } from "../helpers/log-lines";

const TOKEN_FIELDS = "id prefix name scopes status domain { id } createdByRole createdBy createdAt expiresAt lastUsedAt lastUsedIp revokedAt revokedBy";
const CREATE = `mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { ${TOKEN_FIELDS} } } }`;
const LIST = `query($domainId: ID, $includeRevoked: Boolean, $first: Int, $after: String) {
  apiTokens(domainId: $domainId, includeRevoked: $includeRevoked, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { ${TOKEN_FIELDS} }
  }
}`;
const REVOKE = `mutation($id: ID, $prefix: String) { revokeApiToken(id: $id, prefix: $prefix) { apiToken { id status revokedAt revokedBy } } }`;
const ME = `{ me { __typename id loginName } }`;
const INGEST = `mutation($source: String!, $lines: [String!]!) { ingestMailLog(source: $source, lines: $lines) { accepted duplicates rejected { reason } } }`;
const CREATE_DOMAIN = `mutation($name: String!) { createDomain(input: { name: $name }) { domain { id name } } }`;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

function message(response: GraphQLResponse): string {
  return response.errors?.[0]?.message ?? "";
}

describe("API tokens", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  async function supportLogin() {
    const admin = await supportAdmin(app);
    return { admin, jwt: await tokenFor(app, admin) };
  }

  it("support staff create a token that is shown once and stored only as the SHA-256 of the whole token, audited without its secret", async () => {
    const { admin, jwt } = await supportLogin();
    const name = uniqueName("provisioning ");
    const created = await app.gql(CREATE, { input: { name, scopes: ["WRITE", "READ", "READ"] } }, jwt);
    expect(created.errors).toBeUndefined();
    const { token, apiToken } = created.data.createApiToken;
    expect(token).toMatch(/^mat_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
    const secret = token.slice("mat_".length + 13);
    expect(apiToken).toMatchObject({
      prefix: token.slice(0, 16),
      name,
      scopes: ["READ", "WRITE"],
      status: "ACTIVE",
      domain: null,
      createdByRole: "SUPPORT_ADMIN",
      createdBy: admin.username,
      expiresAt: null,
      lastUsedAt: null,
      revokedAt: null,
    });

    const row = await app.deps.db.apiToken.findUniqueOrThrow({ where: { id: apiToken.id } });
    expect(row.secretHash).toBe(sha256(token));
    expect(JSON.stringify(row)).not.toContain(secret);

    // Never shown again: the listing has no secret, and nothing the server kept or logged holds it.
    const listed = await app.gql(LIST, {}, jwt);
    expect(listed.data.apiTokens.nodes).toContainEqual(expect.objectContaining({ id: apiToken.id, prefix: apiToken.prefix }));
    expect(JSON.stringify(listed)).not.toContain(secret);
    const audit = await app.deps.db.auditEntry.findMany({ where: { objectId: apiToken.id } });
    expect(audit).toEqual([
      expect.objectContaining({
        action: "api_token.create",
        objectType: "api_token",
        actorRole: "SUPPORT_ADMIN",
        actorId: admin.id,
        requestId: created.headers.get("x-request-id"),
        changes: [
          { field: "prefix", before: null, after: apiToken.prefix },
          { field: "name", before: null, after: name },
          { field: "scopes", before: null, after: ["READ", "WRITE"] },
          { field: "expiresAt", before: null, after: null },
        ],
      }),
    ]);
    expect(JSON.stringify(audit, (_key, value) => (typeof value === "bigint" ? value.toString() : value))).not.toContain(secret);
    await app.gql(ME, {}, token);
    expect(app.logLines.join("")).not.toContain(secret);
  });

  it("authenticates as its creator and records its last use, at most once a minute", async () => {
    const { admin } = await supportLogin();
    const { token, row } = await apiTokenOf(app, admin, ["READ"]);
    const me = await app.gql(ME, {}, token);
    expect(me.data.me).toEqual({ __typename: "SupportAdmin", id: admin.id, loginName: admin.username });
    const first = await app.deps.db.apiToken.findUniqueOrThrow({ where: { id: row.id } });
    expect(first.lastUsedAt).not.toBeNull();
    expect(first.lastUsedIp).toBe("127.0.0.1");

    await app.gql(ME, {}, token);
    expect((await app.deps.db.apiToken.findUniqueOrThrow({ where: { id: row.id } })).lastUsedAt).toEqual(first.lastUsedAt);

    const twoMinutesAgo = new Date(Date.now() - 120_000);
    await app.deps.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: twoMinutesAgo } });
    await app.gql(ME, {}, token);
    const later = await app.deps.db.apiToken.findUniqueOrThrow({ where: { id: row.id } });
    expect(later.lastUsedAt!.getTime()).toBeGreaterThan(twoMinutesAgo.getTime());
  });

  it("holds a token to its scopes: READ for queries, WRITE for mutations, LOGS for the delivery logs", async () => {
    const { admin } = await supportLogin();
    const { user } = await makeWorld(app);
    const read = (await apiTokenOf(app, admin, ["READ"])).token;
    const write = (await apiTokenOf(app, admin, ["WRITE"])).token;
    const logs = (await apiTokenOf(app, admin, ["LOGS"])).token;
    const mailLog = `query($a: String!) { mailLog(address: $a, range: LAST_6_MONTHS) { totalCount } }`;

    expect((await app.gql(`{ domains(first: 1) { totalCount } }`, {}, read)).errors).toBeUndefined();
    const refusedWrite = await app.gql(CREATE_DOMAIN, { name: `${uniqueName("s")}.example` }, read);
    expect(errorCode(refusedWrite)).toBe("FORBIDDEN");
    expect(message(refusedWrite)).toMatch(/needs the WRITE scope/);
    expect(errorCode(await app.gql(mailLog, { a: user.address }, read))).toBe("FORBIDDEN");
    // The delivery log nested in an account needs LOGS too.
    const nested = await app.gql(`query($a: String) { account(address: $a) { address mailLog { totalCount } } }`, { a: user.address }, read);
    expect(nested.errors?.map((error) => ({ code: error.extensions.code, path: error.path }))).toEqual([{ code: "FORBIDDEN", path: ["account", "mailLog"] }]);

    const name = `${uniqueName("s")}.example`;
    expect((await app.gql(CREATE_DOMAIN, { name }, write)).data.createDomain.domain.name).toBe(name);
    expect(errorCode(await app.gql(`{ domains(first: 1) { totalCount } }`, {}, write))).toBe("FORBIDDEN");

    expect((await app.gql(mailLog, { a: user.address }, logs)).data.mailLog.totalCount).toBe(0);
    expect(errorCode(await app.gql(`{ domains(first: 1) { totalCount } }`, {}, logs))).toBe("FORBIDDEN");
  });

  it("takes a support staff service token with LOGS for ingestMailLog, and refuses a READ-only token and a domain administrator's LOGS token", async () => {
    const { admin } = await supportLogin();
    const world = await makeWorld(app);
    const service = await apiTokenOf(app, admin, ["LOGS"]);
    const source = uniqueName("ship");
    const pushed = await app.gql(INGEST, { source, lines: [logLine({ sender: world.user.address, recipient: "x@remote.example" })] }, service.token);
    expect(pushed.data.ingestMailLog).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    const audit = await app.deps.db.auditEntry.findFirstOrThrow({ where: { action: "maillog.ingest", objectId: source } });
    expect(audit).toMatchObject({ actorRole: "SUPPORT_ADMIN", actorId: admin.id, viaApiToken: `mat_${service.row.publicId}` });

    const readOnly = await apiTokenOf(app, admin, ["READ"]);
    const refused = await app.gql(INGEST, { source, lines: [logLine()] }, readOnly.token);
    expect(errorCode(refused)).toBe("FORBIDDEN");
    expect(message(refused)).toMatch(/needs the LOGS scope/);

    const adminLogs = await apiTokenOf(app, world.admin, ["READ", "WRITE", "LOGS"]);
    const notSupport = await app.gql(INGEST, { source, lines: [logLine()] }, adminLogs.token);
    expect(errorCode(notSupport)).toBe("FORBIDDEN");
    expect(message(notSupport)).toMatch(/service token/);
    expect(await app.deps.db.auditEntry.count({ where: { action: "maillog.ingest", objectId: source } })).toBe(1);
  });

  it("cannot create or revoke tokens, nor change its creator's password, with a token", async () => {
    const { admin } = await supportLogin();
    const { token, row } = await apiTokenOf(app, admin, ["READ", "WRITE", "LOGS"]);
    const create = await app.gql(CREATE, { input: { name: "more", scopes: ["READ"] } }, token);
    expect(errorCode(create)).toBe("FORBIDDEN");
    expect(message(create)).toMatch(/API token/);
    expect(errorCode(await app.gql(REVOKE, { id: row.id }, token))).toBe("FORBIDDEN");
    const change = await app.gql(`mutation { changePassword(currentPassword: "correct horse battery", newPassword: "another long password") { token } }`, {}, token);
    expect(errorCode(change)).toBe("FORBIDDEN");
    expect(await app.deps.db.apiToken.count({ where: { createdById: admin.id } })).toBe(1);
    expect((await app.deps.db.apiToken.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).toBeNull();
  });

  it("gives a domain administrator's token that administrator's powers on its own domain only, audited as made through the token", async () => {
    const world = await makeWorld(app);
    const created = await app.gql(CREATE, { input: { name: "customer's provisioning", scopes: ["READ", "WRITE", "LOGS"] } }, world.tokens.admin);
    expect(created.data.createApiToken.apiToken).toMatchObject({ domain: { id: world.domain.id }, createdByRole: "DOMAIN_ADMIN", createdBy: world.admin.address });
    const { token, apiToken } = created.data.createApiToken;

    expect((await app.gql(`{ domains { totalCount nodes { id } } }`, {}, token)).data.domains).toEqual({ totalCount: 1, nodes: [{ id: world.domain.id }] });
    expect(errorCode(await app.gql(`query($id: ID) { domain(id: $id) { id } }`, { id: world.otherDomain.id }, token))).toBe("NOT_FOUND");
    expect(errorCode(await app.gql(CREATE_DOMAIN, { name: `${uniqueName("s")}.example` }, token))).toBe("FORBIDDEN");

    const createAccount = `mutation($d: ID!, $l: String!) { createAccount(input: { domainId: $d, localPart: $l, password: "correct horse battery" }) { account { id address } } }`;
    const localPart = uniqueName("m");
    const account = await app.gql(createAccount, { d: world.domain.id, l: localPart }, token);
    expect(account.data.createAccount.account.address).toBe(`${localPart}@${world.domain.name}`);
    expect(errorCode(await app.gql(createAccount, { d: world.otherDomain.id, l: localPart }, token))).toBe("NOT_FOUND");

    const trail = await app.gql(
      `query($id: ID) { auditLog(objectId: $id) { nodes { action actorRole actorName viaApiToken } } }`,
      { id: account.data.createAccount.account.id },
      world.tokens.admin,
    );
    expect(trail.data.auditLog.nodes).toEqual([{ action: "account.create", actorRole: "DOMAIN_ADMIN", actorName: world.admin.address, viaApiToken: apiToken.prefix }]);
  });

  it("stops a domain administrator's token when its creator is no longer the administrator", async () => {
    const world = await makeWorld(app);
    const { token, row } = await apiTokenOf(app, world.admin, ["READ"]);
    expect((await app.gql(ME, {}, token)).data.me.id).toBe(world.admin.id);
    const reassign = `mutation($d: ID!, $a: ID!) { reassignDomainAdmin(domainId: $d, accountId: $a) { admin { id } } }`;
    expect((await app.gql(reassign, { d: world.domain.id, a: world.user.id }, world.tokens.support)).errors).toBeUndefined();

    const refused = await app.gql(ME, {}, token);
    expect(errorCode(refused)).toBe("UNAUTHENTICATED");
    expect(message(refused)).toMatch(/no longer the domain's administrator/);
    const listed = await app.gql(LIST, { domainId: world.domain.id }, world.tokens.support);
    expect(listed.data.apiTokens.nodes).toEqual([expect.objectContaining({ id: row.id, status: "CREATOR_REPLACED" })]);
  });

  it("refuses an expiry in the past, and refuses a token once it has expired", async () => {
    const { admin, jwt } = await supportLogin();
    const past = await app.gql(CREATE, { input: { name: "late", scopes: ["READ"], expiresAt: new Date(Date.now() - 1000).toISOString() } }, jwt);
    expect(past.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "expiresAt" });

    const expiresAt = new Date(Date.now() + 86_400_000);
    const created = await app.gql(CREATE, { input: { name: "a day", scopes: ["READ"], expiresAt: expiresAt.toISOString() } }, jwt);
    const { token, apiToken } = created.data.createApiToken;
    expect(apiToken.expiresAt).toBe(expiresAt.toISOString());
    expect((await app.gql(ME, {}, token)).data.me.id).toBe(admin.id);

    await app.deps.db.apiToken.update({ where: { id: apiToken.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const refused = await app.gql(ME, {}, token);
    expect(errorCode(refused)).toBe("UNAUTHENTICATED");
    expect(message(refused)).toMatch(/expired/);
    expect((await app.gql(LIST, {}, jwt)).data.apiTokens.nodes).toContainEqual(expect.objectContaining({ id: apiToken.id, status: "EXPIRED" }));
  });

  it("revokes a token at once, by prefix or id, once: revoking again changes nothing and is not audited again", async () => {
    const { admin, jwt } = await supportLogin();
    const { token, row } = await apiTokenOf(app, admin, ["READ"]);
    const prefix = `mat_${row.publicId}`;
    const revoked = await app.gql(REVOKE, { prefix }, jwt);
    expect(revoked.data.revokeApiToken.apiToken).toMatchObject({ id: row.id, status: "REVOKED", revokedBy: admin.username });
    const refused = await app.gql(ME, {}, token);
    expect(errorCode(refused)).toBe("UNAUTHENTICATED");
    expect(message(refused)).toMatch(/revoked/);

    const again = await app.gql(REVOKE, { id: row.id }, jwt);
    expect(again.data.revokeApiToken.apiToken.revokedAt).toBe(revoked.data.revokeApiToken.apiToken.revokedAt);
    expect(await app.deps.db.auditEntry.count({ where: { action: "api_token.revoke", objectId: row.id } })).toBe(1);

    expect((await app.gql(LIST, {}, jwt)).data.apiTokens.nodes.map((node: { id: string }) => node.id)).not.toContain(row.id);
    expect((await app.gql(LIST, { includeRevoked: true }, jwt)).data.apiTokens.nodes.map((node: { id: string }) => node.id)).toContain(row.id);
    expect(errorCode(await app.gql(REVOKE, { id: row.id, prefix }, jwt))).toBe("BAD_USER_INPUT");
  });

  it("lets a domain administrator list and revoke its own domain's tokens only; an ordinary user none", async () => {
    const world = await makeWorld(app);
    const { admin: support } = await supportLogin();
    const own = await apiTokenOf(app, world.admin, ["READ"]);
    const supportToken = await apiTokenOf(app, support, ["READ"]);
    const otherAdmin = await app.deps.db.account.findUniqueOrThrow({ where: { id: world.otherAdmin.id } });
    const others = await apiTokenOf(app, otherAdmin, ["READ"]);

    const listed = await app.gql(LIST, {}, world.tokens.admin);
    expect(listed.data.apiTokens.nodes.map((node: { id: string }) => node.id)).toEqual([own.row.id]);
    expect(errorCode(await app.gql(LIST, { domainId: world.otherDomain.id }, world.tokens.admin))).toBe("NOT_FOUND");
    expect(errorCode(await app.gql(LIST, {}, world.tokens.user))).toBe("FORBIDDEN");
    expect(errorCode(await app.gql(CREATE, { input: { name: "mine", scopes: ["READ"] } }, world.tokens.user))).toBe("FORBIDDEN");

    expect(errorCode(await app.gql(REVOKE, { id: supportToken.row.id }, world.tokens.admin))).toBe("NOT_FOUND");
    expect(errorCode(await app.gql(REVOKE, { id: others.row.id }, world.tokens.admin))).toBe("NOT_FOUND");
    expect(errorCode(await app.gql(REVOKE, { id: own.row.id }, world.tokens.user))).toBe("NOT_FOUND");
    expect((await app.gql(REVOKE, { id: own.row.id }, world.tokens.admin)).data.revokeApiToken.apiToken.status).toBe("REVOKED");
    expect((await app.deps.db.apiToken.findUniqueOrThrow({ where: { id: others.row.id } })).revokedAt).toBeNull();

    // Support staff see every domain's tokens, a page at a time.
    const first = await app.gql(LIST, { domainId: world.otherDomain.id, first: 1 }, world.tokens.support);
    expect(first.data.apiTokens).toMatchObject({ totalCount: 1, nodes: [{ id: others.row.id, domain: { id: world.otherDomain.id } }] });
    const page = await app.gql(LIST, { first: 1 }, world.tokens.support);
    const next = await app.gql(LIST, { first: 1, after: page.data.apiTokens.pageInfo.endCursor }, world.tokens.support);
    expect(next.data.apiTokens.nodes[0].id < page.data.apiTokens.nodes[0].id).toBe(true);
  });

  it("refuses an unknown or altered token, saying so", async () => {
    const { admin } = await supportLogin();
    const { token } = await apiTokenOf(app, admin, ["READ"]);
    const altered = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    for (const wrong of [altered, "mat_nonsense", `mat_${"0".repeat(12)}_${"A".repeat(43)}`]) {
      const refused = await app.gql(ME, {}, wrong);
      expect(errorCode(refused)).toBe("UNAUTHENTICATED");
      expect(message(refused)).toMatch(/API token sent is not known/);
    }
  });
});
