// The REST API through HTTP: domains, accounts, quotas, the administrator,
// delivery logs and the DNS check over the same services as GraphQL, with
// idempotent PUTs, errors as RFC 9457 problem details, and every answer
// checked against the server's OpenAPI 3.1 document (RestClient).
import iconv from "iconv-lite";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeWorld, PASSWORD, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";
import { logLine, logStamp } from "../helpers/log-lines";
import { RestClient, validateOpenApiDocument, type RestResponse } from "../helpers/rest-client";

const PROBLEM_KEYS = ["code", "detail", "instance", "requestId", "status", "title", "type"];

function expectProblem(response: RestResponse, status: number, code: string, field?: string) {
  expect(response.status).toBe(status);
  expect(response.contentType).toBe("application/problem+json");
  expect(response.body).toMatchObject({ status, code, type: `tag:mailadmin,2026:problem:${code.toLowerCase().replace(/_/g, "-")}` });
  expect(response.body.requestId).toBe(response.headers.get("x-request-id"));
  if (field) expect(response.body.field).toBe(field);
  expect(
    Object.keys(response.body)
      .filter((key) => !["field", "retryAfterSeconds"].includes(key))
      .sort(),
  ).toEqual(PROBLEM_KEYS);
  expect(JSON.stringify(response.body)).not.toMatch(/ at .*\.(ts|js):\d+/);
}

describe("REST API", () => {
  let app: TestApp;
  let rest: RestClient;
  let support: string;

  beforeAll(async () => {
    app = await startTestApp({ DNS_QUERY_TIMEOUT_MS: "200", DNS_QUERY_ATTEMPTS: "1", DNS_CHECK_TIMEOUT_MS: "2000" });
    rest = await RestClient.connect(app);
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(() => app.close());

  const domainPath = (name: string) => `/api/v1/domains/${encodeURIComponent(name)}`;

  async function auditCount(where: { action: string; objectId?: string; domainName?: string }) {
    return app.deps.db.auditEntry.count({ where });
  }

  describe("the OpenAPI document", () => {
    it("is a valid OpenAPI 3.1 document that lists every route with its token scope", async () => {
      const verdict = await validateOpenApiDocument(rest.document);
      expect(verdict).toMatchObject({ valid: true });
      expect(rest.document.openapi).toBe("3.1.0");
      const operations = Object.entries(rest.document.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ path, method, ...(operation as unknown as { operationId: string; "x-token-scope": string }) })),
      );
      expect(operations.map((operation) => `${operation.method.toUpperCase()} ${operation.path} ${operation["x-token-scope"]}`).sort()).toEqual(
        [
          "GET /api/v1/domains READ",
          "GET /api/v1/domains/{name} READ",
          "PUT /api/v1/domains/{name} WRITE",
          "DELETE /api/v1/domains/{name} WRITE",
          "PUT /api/v1/domains/{name}/quota WRITE",
          "PUT /api/v1/domains/{name}/admin WRITE",
          "PUT /api/v1/domains/{name}/aliases/{localPart} WRITE",
          "GET /api/v1/domains/{name}/accounts READ",
          "GET /api/v1/domains/{name}/accounts/{localPart} READ",
          "GET /api/v1/domains/{name}/aliases READ",
          "GET /api/v1/domains/{name}/aliases/{localPart} READ",
          "PUT /api/v1/domains/{name}/accounts/{localPart} WRITE",
          "DELETE /api/v1/domains/{name}/accounts/{localPart} WRITE",
          "DELETE /api/v1/domains/{name}/aliases/{localPart} WRITE",
          "PUT /api/v1/domains/{name}/accounts/{localPart}/quota WRITE",
          "GET /api/v1/accounts/{address}/mail-log LOGS",
          "POST /api/v1/mail-log/{source} LOGS",
          "POST /api/v1/domains/{name}/dns-check WRITE",
          "POST /api/v1/account-imports WRITE",
          "GET /api/v1/account-imports/{id} READ",
          "PUT /api/v1/mailbox-usage USAGE",
          "GET /api/v1/mailboxes-above-quota READ",
        ].sort(),
      );
      expect(new Set(operations.map((operation) => operation.operationId)).size).toBe(operations.length);
    });
  });

  describe("domains", () => {
    it("creates a domain with PUT (201), and the same PUT again changes nothing and writes no audit record", async () => {
      const name = `${uniqueName("p")}.example`;
      const body = { quotaMb: 10_240, maxAccounts: 50, defaultMailboxQuotaMb: 500, admin: { localPart: "boss", password: PASSWORD } };
      const created = await rest.request("PUT", domainPath(name), { token: support, json: body });
      expect(created.status).toBe(201);
      expect(created.headers.get("location")).toBe(`/api/v1/domains/${name}`);
      expect(created.body).toMatchObject({
        created: true,
        generatedAdminPassword: null,
        warnings: [],
        domain: { name, quotaMb: 10_240, maxAccounts: 50, defaultMailboxQuotaMb: 500, accountCount: 1, admin: { address: `boss@${name}` } },
      });
      const stored = await app.deps.db.domain.findUniqueOrThrow({ where: { name } });
      expect(await auditCount({ action: "domain.create", objectId: stored.id })).toBe(1);

      const again = await rest.request("PUT", domainPath(name), { token: support, json: body });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ created: false, generatedAdminPassword: null, domain: { id: stored.id, quotaMb: 10_240 } });
      expect(await app.deps.db.domain.findUniqueOrThrow({ where: { name } })).toEqual(stored);
      expect(await auditCount({ action: "domain.update", objectId: stored.id })).toBe(0);
      expect(await app.deps.db.account.count({ where: { domainId: stored.id } })).toBe(1);

      const changed = await rest.request("PUT", domainPath(name), { token: support, json: { quotaMb: null, status: "SUSPENDED" } });
      expect(changed.status).toBe(200);
      expect(changed.body.domain).toMatchObject({ quotaMb: null, maxAccounts: 50, status: "SUSPENDED" });
      expect(await auditCount({ action: "domain.update", objectId: stored.id })).toBe(1);
    });

    it("returns a generated administrator password once, when the PUT creates the domain without one", async () => {
      const name = `${uniqueName("g")}.example`;
      const created = await rest.request("PUT", domainPath(name), { token: support, json: {} });
      expect(created.status).toBe(201);
      expect(created.body.generatedAdminPassword).toEqual(expect.any(String));
      const admin = await app.deps.db.account.findUniqueOrThrow({ where: { address: `admin@${name}` } });
      expect(await app.deps.passwords.verify(created.body.generatedAdminPassword, admin.passwordHash)).toBe(true);
      expect((await rest.request("PUT", domainPath(name), { token: support, json: {} })).body.generatedAdminPassword).toBeNull();
    });

    it("lists and reads domains as the caller may see them", async () => {
      const world = await makeWorld(app);
      const list = await rest.request("GET", "/api/v1/domains", { token: support, query: { search: world.domain.name, first: 5 } });
      expect(list.status).toBe(200);
      expect(list.body).toMatchObject({ totalCount: 1, nextCursor: null, items: [{ id: world.domain.id, name: world.domain.name, admin: { id: world.admin.id } }] });

      const own = await rest.request("GET", "/api/v1/domains", { token: world.tokens.admin });
      expect(own.body.items.map((domain: { id: string }) => domain.id)).toEqual([world.domain.id]);
      expect((await rest.request("GET", domainPath(world.domain.name), { token: world.tokens.user })).body.domain.accountCount).toBe(2);
      expectProblem(await rest.request("GET", domainPath(world.otherDomain.name), { token: world.tokens.admin }), 404, "NOT_FOUND");
      expectProblem(await rest.request("GET", domainPath(`${uniqueName("none")}.example`), { token: support }), 404, "NOT_FOUND");

      // Cursor pages: nextCursor goes in `after`.
      const page = await rest.request("GET", "/api/v1/domains", { token: support, query: { first: 1 } });
      expect(page.body.nextCursor).toEqual(expect.any(String));
      const next = await rest.request("GET", "/api/v1/domains", { token: support, query: { first: 1, after: page.body.nextCursor } });
      expect(next.body.items[0].name > page.body.items[0].name).toBe(true);
    });

    it("deletes a domain: refused with its mailboxes unless force=true", async () => {
      const world = await makeWorld(app);
      expectProblem(await rest.request("DELETE", domainPath(world.domain.name), { token: support }), 409, "CONFLICT", "force");
      expectProblem(await rest.request("DELETE", domainPath(world.domain.name), { token: world.tokens.admin, query: { force: true } }), 403, "FORBIDDEN");
      const deleted = await rest.request("DELETE", domainPath(world.domain.name), { token: support, query: { force: true } });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ deletedDomainId: world.domain.id, name: world.domain.name, deletedAccountCount: 2 });
      expect(await app.deps.db.domain.findUnique({ where: { id: world.domain.id } })).toBeNull();
      expectProblem(await rest.request("DELETE", domainPath(world.domain.name), { token: support }), 404, "NOT_FOUND");
    });

    it("refuses a domain administrator's PUT of another domain or a new one, FORBIDDEN either way", async () => {
      const world = await makeWorld(app);
      expectProblem(await rest.request("PUT", domainPath(world.otherDomain.name), { token: world.tokens.admin, json: {} }), 403, "FORBIDDEN");
      const fresh = `${uniqueName("n")}.example`;
      expectProblem(await rest.request("PUT", domainPath(fresh), { token: world.tokens.admin, json: {} }), 403, "FORBIDDEN");
      expect(await app.deps.db.domain.findUnique({ where: { name: fresh } })).toBeNull();
    });
  });

  describe("accounts and quotas", () => {
    it("creates an account with PUT, is idempotent (the same password changes nothing), and changes what a later PUT gives", async () => {
      const world = await makeWorld(app, { quotaMb: 1000 });
      const path = `${domainPath(world.domain.name)}/accounts/Mary`;
      const body = { displayName: "Mary Chen", password: PASSWORD, quotaMb: 200 };
      const created = await rest.request("PUT", path, { token: world.tokens.admin, json: body });
      expect(created.status).toBe(201);
      expect(created.headers.get("location")).toBe(`${domainPath(world.domain.name)}/accounts/mary`);
      expect(created.body).toMatchObject({ created: true, warnings: [], account: { address: `mary@${world.domain.name}`, role: "USER", quotaMb: 200, domain: world.domain.name } });
      const id = created.body.account.id;
      const stored = await app.deps.db.account.findUniqueOrThrow({ where: { id } });

      const again = await rest.request("PUT", path, { token: world.tokens.admin, json: body });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ created: false, account: { id, quotaMb: 200 } });
      expect(await app.deps.db.account.findUniqueOrThrow({ where: { id } })).toEqual(stored);
      expect(await auditCount({ action: "account.create", objectId: id })).toBe(1);
      expect(await auditCount({ action: "account.update", objectId: id })).toBe(0);
      expect(await auditCount({ action: "account.set_password", objectId: id })).toBe(0);

      const changed = await rest.request("PUT", path, { token: world.tokens.admin, json: { password: "a different long password", status: "SUSPENDED" } });
      expect(changed.body.account).toMatchObject({ id, status: "SUSPENDED", quotaMb: 200, displayName: "Mary Chen" });
      const after = await app.deps.db.account.findUniqueOrThrow({ where: { id } });
      expect(await app.deps.passwords.verify("a different long password", after.passwordHash)).toBe(true);
      expect(await auditCount({ action: "account.set_password", objectId: id })).toBe(1);
      expect(await auditCount({ action: "account.update", objectId: id })).toBe(1);
    });

    it("asks for a password to create, and refuses input the schema or the rules do not allow, naming the field", async () => {
      const world = await makeWorld(app, { quotaMb: 1000 });
      const accounts = `${domainPath(world.domain.name)}/accounts`;
      expectProblem(await rest.request("PUT", `${accounts}/newbie`, { token: support, json: { displayName: "No password" } }), 400, "BAD_USER_INPUT", "password");
      expectProblem(await rest.request("PUT", `${accounts}/newbie`, { token: support, json: { password: "short" } }), 400, "BAD_USER_INPUT", "password");
      expectProblem(await rest.request("PUT", `${accounts}/newbie`, { token: support, json: { password: PASSWORD, quota: 5 } }), 400, "BAD_USER_INPUT", "quota");
      expectProblem(await rest.request("PUT", `${accounts}/newbie`, { token: support, json: { password: PASSWORD, quotaMb: "5" } }), 400, "BAD_USER_INPUT", "quotaMb");
      expectProblem(await rest.request("PUT", `${accounts}/bad%20name`, { token: support, json: { password: PASSWORD } }), 400, "BAD_USER_INPUT", "localPart");
      expectProblem(await rest.request("PUT", `${accounts}/newbie`, { token: support, json: { password: PASSWORD, quotaMb: 5000 } }), 409, "QUOTA_EXCEEDED", "quotaMb");
      expectProblem(await rest.request("PUT", `${accounts}/newbie`, { token: support, raw: "{not json", contentType: "application/json" }), 400, "BAD_USER_INPUT");
      expectProblem(await rest.request("GET", "/api/v1/domains", { token: support, query: { first: 1000 } }), 400, "BAD_USER_INPUT", "first");
      expect(await app.deps.db.account.findUnique({ where: { address: `newbie@${world.domain.name}` } })).toBeNull();
    });

    it("lists, reads and deletes accounts, and keeps the administrator", async () => {
      const world = await makeWorld(app);
      const accounts = `${domainPath(world.domain.name)}/accounts`;
      const list = await rest.request("GET", accounts, { token: world.tokens.admin, query: { role: "USER" } });
      expect(list.body).toMatchObject({ totalCount: 1, items: [{ id: world.user.id, role: "USER" }] });
      expectProblem(await rest.request("GET", accounts, { token: world.tokens.user }), 403, "FORBIDDEN");
      expectProblem(await rest.request("GET", accounts, { token: world.tokens.otherAdmin }), 404, "NOT_FOUND");

      const user = await rest.request("GET", `${accounts}/${world.user.localPart}`, { token: world.tokens.user });
      // One shape per resource: GET answers {"account": ...} as PUT does.
      expect(user.body).toEqual({ account: expect.objectContaining({ id: world.user.id, address: world.user.address, role: "USER" }) });
      const colleague = await makeAccount(app, world.domain);
      expectProblem(await rest.request("GET", `${accounts}/${colleague.localPart}`, { token: world.tokens.user }), 404, "NOT_FOUND");

      expectProblem(await rest.request("DELETE", `${accounts}/${world.admin.localPart}`, { token: support }), 409, "CONFLICT");
      expectProblem(await rest.request("DELETE", `${accounts}/${world.user.localPart}`, { token: world.tokens.user }), 403, "FORBIDDEN");
      const deleted = await rest.request("DELETE", `${accounts}/${world.user.localPart}`, { token: world.tokens.admin });
      expect(deleted.body).toEqual({ deletedAccountId: world.user.id, address: world.user.address, warnings: [] });
      expect(await auditCount({ action: "account.delete", objectId: world.user.id })).toBe(1);
    });

    it("sets mailbox and domain quotas, with the quota rules and warnings", async () => {
      const world = await makeWorld(app, { quotaMb: 1000 });
      await app.deps.db.account.update({ where: { id: world.user.id }, data: { usedMb: 300 } });
      const quota = `${domainPath(world.domain.name)}/accounts/${world.user.localPart}/quota`;
      const lowered = await rest.request("PUT", quota, { token: world.tokens.admin, json: { quotaMb: 100 } });
      expect(lowered.status).toBe(200);
      expect(lowered.body).toMatchObject({ account: { quotaMb: 100, usedMb: 300 }, warnings: [{ code: "QUOTA_BELOW_USAGE", field: "quotaMb" }] });
      expectProblem(await rest.request("PUT", quota, { token: world.tokens.admin, json: { quotaMb: 2000 } }), 409, "QUOTA_EXCEEDED", "quotaMb");

      const domainQuota = `${domainPath(world.domain.name)}/quota`;
      expectProblem(await rest.request("PUT", domainQuota, { token: world.tokens.admin, json: { quotaMb: 5000 } }), 403, "FORBIDDEN");
      expectProblem(await rest.request("PUT", domainQuota, { token: support, json: { maxAccounts: 5 } }), 400, "BAD_USER_INPUT", "quotaMb");
      const raised = await rest.request("PUT", domainQuota, { token: support, json: { quotaMb: 5000, maxAccounts: 10 } });
      expect(raised.body).toMatchObject({ domain: { quotaMb: 5000, maxAccounts: 10, allocatedQuotaMb: 100 }, warnings: [] });
      expectProblem(await rest.request("PUT", domainQuota, { token: support, json: { quotaMb: 50 } }), 409, "QUOTA_EXCEEDED", "quotaMb");
    });
  });

  describe("the administrator", () => {
    it("reassigns it with PUT, idempotently, and refuses an account the domain does not have", async () => {
      const world = await makeWorld(app);
      const path = `${domainPath(world.domain.name)}/admin`;
      expectProblem(await rest.request("PUT", path, { token: world.tokens.admin, json: { localPart: world.user.localPart } }), 403, "FORBIDDEN");
      const moved = await rest.request("PUT", path, { token: support, json: { localPart: world.user.localPart } });
      expect(moved.body).toEqual({
        domain: world.domain.name,
        admin: { id: world.user.id, address: world.user.address },
        previousAdmin: { id: world.admin.id, address: world.admin.address },
      });
      const again = await rest.request("PUT", path, { token: support, json: { localPart: world.user.localPart } });
      expect(again.body.previousAdmin).toBeNull();
      expect(await auditCount({ action: "domain.reassign_admin", objectId: world.domain.id })).toBe(1);
      expectProblem(await rest.request("PUT", path, { token: support, json: { localPart: "nobody" } }), 400, "BAD_USER_INPUT", "localPart");
      // The former administrator's login token stopped working.
      expectProblem(await rest.request("GET", domainPath(world.domain.name), { token: world.tokens.admin }), 401, "UNAUTHENTICATED");
    });
  });

  describe("authentication and tokens", () => {
    it("answers 401 problems, with WWW-Authenticate, without a token or with a bad one", async () => {
      const none = await rest.request("GET", "/api/v1/domains");
      expectProblem(none, 401, "UNAUTHENTICATED");
      expect(none.headers.get("www-authenticate")).toBe('Bearer realm="mailadmin"');
      const bad = await rest.request("GET", "/api/v1/domains", { token: "mat_nonsense" });
      expectProblem(bad, 401, "UNAUTHENTICATED");
      expect(bad.headers.get("www-authenticate")).toContain('error="invalid_token"');
      expect(bad.body.detail).toMatch(/API token sent is not known/);
    });

    it("holds API tokens to their scopes and their creator's domain", async () => {
      const world = await makeWorld(app);
      const admin = await app.deps.db.account.findUniqueOrThrow({ where: { id: world.admin.id } });
      const read = await apiTokenOf(app, admin, ["READ"]);
      const write = await apiTokenOf(app, admin, ["READ", "WRITE"]);
      const accounts = `${domainPath(world.domain.name)}/accounts`;
      expect((await rest.request("GET", accounts, { token: read.token })).status).toBe(200);
      const refused = await rest.request("PUT", `${accounts}/scoped`, { token: read.token, json: { password: PASSWORD } });
      expectProblem(refused, 403, "FORBIDDEN");
      expect(refused.body.detail).toMatch(/needs the WRITE scope/);
      expect((await rest.request("PUT", `${accounts}/scoped`, { token: write.token, json: { password: PASSWORD } })).status).toBe(201);
      expectProblem(await rest.request("GET", `${domainPath(world.otherDomain.name)}/accounts`, { token: write.token }), 404, "NOT_FOUND");
      const audit = await app.deps.db.auditEntry.findFirstOrThrow({ where: { action: "account.create", domainId: world.domain.id, viaApiToken: `mat_${write.row.publicId}` } });
      expect(audit).toMatchObject({ actorRole: "DOMAIN_ADMIN", actorId: admin.id });

      await app.deps.db.apiToken.update({ where: { id: write.row.id }, data: { revokedAt: new Date() } });
      const revoked = await rest.request("GET", accounts, { token: write.token });
      expectProblem(revoked, 401, "UNAUTHENTICATED");
      expect(revoked.body.detail).toMatch(/revoked/);
    });

    it("answers unknown routes with a 404 problem", async () => {
      expectProblem(await rest.request("GET", "/api/v1/nothing-here", { token: support }), 404, "NOT_FOUND");
    });
  });

  describe("delivery logs", () => {
    it("takes log lines from a support service token (JSON and text/plain, Big5 bytes too) and refuses a READ-only token", async () => {
      const world = await makeWorld(app);
      const supportRow = await supportAdmin(app);
      const service = await apiTokenOf(app, supportRow, ["LOGS"]);
      const source = uniqueName("ship");
      const tag = uniqueName("s");
      const lines = [logLine({ direction: "LR", sender: world.user.address, recipient: "bob@remote.example", subject: `${tag} json` }), "not a log line"];
      const pushed = await rest.request("POST", `/api/v1/mail-log/${source}`, { token: service.token, json: { lines } });
      expect(pushed.status).toBe(200);
      expect(pushed.body).toEqual({ accepted: 1, duplicates: 0, rejected: [{ lineNumber: 2, reason: expect.any(String), line: "not a log line" }], otherLines: 0, tooOld: 0 });

      // A log file's bytes as they are: a Big5 subject, CRLF endings, the JSON line again (a duplicate).
      const big5Line = Buffer.concat([
        Buffer.from(
          `${logStamp(new Date())} 4242-${Math.floor(Date.now() / 1000)
            .toString(16)
            .toUpperCase()}.0000ABCD Mail.RL boss@remote.example ${world.user.address} - (`,
        ),
        iconv.encode("報告", "big5"),
        Buffer.from(` ${tag}/1234)OK\r\n`),
      ]);
      const text = Buffer.concat([big5Line, Buffer.from(`${lines[0]}\r\n`)]);
      const plain = await rest.request("POST", `/api/v1/mail-log/${source}`, { token: service.token, raw: text, contentType: "text/plain", query: { timeZone: "Asia/Taipei" } });
      expect(plain.body).toEqual({ accepted: 1, duplicates: 1, rejected: [], otherLines: 0, tooOld: 0 });

      const readOnly = await apiTokenOf(app, supportRow, ["READ"]);
      const refused = await rest.request("POST", `/api/v1/mail-log/${source}`, { token: readOnly.token, json: { lines } });
      expectProblem(refused, 403, "FORBIDDEN");
      expect(refused.body.detail).toMatch(/needs the LOGS scope/);
      expectProblem(await rest.request("POST", `/api/v1/mail-log/${source}`, { token: world.tokens.admin, json: { lines } }), 403, "FORBIDDEN");
      expectProblem(await rest.request("POST", `/api/v1/mail-log/bad source!`, { token: service.token, json: { lines } }), 400, "BAD_USER_INPUT", "source");

      const log = await rest.request("GET", `/api/v1/accounts/${world.user.address}/mail-log`, { token: world.tokens.admin, query: { range: "LAST_6_MONTHS", subject: tag } });
      expect(log.status).toBe(200);
      expect(log.body.totalCount).toBe(2);
      expect(log.body.items.map((record: { subject: string; direction: string }) => [record.subject, record.direction]).sort()).toEqual(
        [
          [`${tag} json`, "OUTBOUND"],
          [`報告 ${tag}`, "INBOUND"],
        ].sort(),
      );
      const filtered = await rest.request("GET", `/api/v1/accounts/${world.user.address}/mail-log`, {
        token: support,
        query: { range: "LAST_6_MONTHS", direction: "INBOUND", subject: tag, first: 1 },
      });
      expect(filtered.body).toMatchObject({ totalCount: 1, nextCursor: null, items: [{ sender: "boss@remote.example", localAddress: world.user.address, source }] });
      expectProblem(await rest.request("GET", `/api/v1/accounts/${world.user.address}/mail-log`, { token: world.tokens.otherAdmin }), 404, "NOT_FOUND");
      expectProblem(
        await rest.request("GET", `/api/v1/accounts/${world.user.address}/mail-log`, { token: support, query: { range: "YESTERDAY" } }),
        400,
        "BAD_USER_INPUT",
        "range",
      );
    });
  });

  describe("DNS check", () => {
    it("checks a domain's DNS and answers the findings; DNS not answering is a finding, not an error", async () => {
      const world = await makeWorld(app);
      const checked = await rest.request("POST", `${domainPath(world.domain.name)}/dns-check`, { token: world.tokens.admin, query: { refresh: true } });
      expect(checked.status).toBe(200);
      expect(checked.body).toMatchObject({ domainName: world.domain.name, setup: "MX", contractSetup: "MX", cached: false });
      expect(checked.body.findings.length).toBeGreaterThan(0);
      expect(checked.body.status).not.toBe("PASS");
      expect(await auditCount({ action: "domain.dns_check", objectId: world.domain.id })).toBe(1);
      expectProblem(await rest.request("POST", `${domainPath(world.domain.name)}/dns-check`, { token: world.tokens.user }), 403, "FORBIDDEN");
      expectProblem(await rest.request("POST", `${domainPath(world.domain.name)}/dns-check`, { token: support, query: { setup: "NONE" } }), 400, "BAD_USER_INPUT", "setup");
    });
  });
});
