// Browser-facing protection: security headers and the Content-Security-Policy
// on every answer, CORS only for the configured origins, and CSRF protection
// (Apollo's csrfPrevention): requests a page on another site could send
// without a preflight are refused and change nothing.
import { loadConfig } from "../../src/config";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { uniqueName } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'none'",
];

const ADMIN_PORTAL = "https://admin.example.com";
const DEV_PORTAL = "http://localhost:5173";
const EVIL = "https://evil.example";

function jsonPost(app: TestApp, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${app.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** A comma-separated header's items. */
function listHeader(response: Response, name: string): string[] | undefined {
  return response.headers.get(name)?.split(/,\s*/);
}

function preflight(app: TestApp, origin: string) {
  return fetch(`${app.url}/graphql`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
  });
}

describe("security headers", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it.each([
    ["the API", () => jsonPost(app, { query: "{ __typename }" })],
    ["a refused request", () => jsonPost(app, { query: "{ nothing }" })],
    ["a health probe", () => fetch(`${app.url}/healthz`)],
    ["an unknown path", () => fetch(`${app.url}/nowhere`)],
  ])("are on every answer: %s", async (_what, request) => {
    const response = await request();
    expect(response.headers.get("content-security-policy")!.split(/;\s*/)).toEqual(CSP);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cross-origin-opener-policy")).toBe("same-origin");
    expect(response.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    expect(response.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
  });
});

describe("CORS", () => {
  it("answers no origin with CORS headers when CORS_ORIGINS is unset", async () => {
    const app = await startTestApp();
    try {
      const response = await jsonPost(app, { query: "{ __typename }" }, { origin: ADMIN_PORTAL });
      expect(response.status).toBe(200);
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
      const options = await preflight(app, ADMIN_PORTAL);
      expect(options.headers.get("access-control-allow-origin")).toBeNull();
      expect(options.headers.get("access-control-allow-methods")).toBeNull();
    } finally {
      await app.close();
    }
  });

  describe("with CORS_ORIGINS", () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ CORS_ORIGINS: ` ${ADMIN_PORTAL}/ , ${DEV_PORTAL}` });
    });
    afterAll(() => app.close());

    it.each([ADMIN_PORTAL, DEV_PORTAL])("lets %s call the API and read the request id", async (origin) => {
      const response = await jsonPost(app, { query: "{ __typename }" }, { origin });
      expect(response.status).toBe(200);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
      expect(response.headers.get("vary")).toMatch(/\bOrigin\b/i);
      expect(listHeader(response, "access-control-expose-headers")).toEqual(["x-request-id", "retry-after"]);
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();

      const options = await preflight(app, origin);
      expect(options.status).toBe(204);
      expect(options.headers.get("access-control-allow-origin")).toBe(origin);
      expect(listHeader(options, "access-control-allow-methods")).toEqual(["GET", "POST"]);
      expect(listHeader(options, "access-control-allow-headers")).toEqual(expect.arrayContaining(["content-type", "authorization", "apollo-require-preflight"]));
      expect(options.headers.get("access-control-max-age")).toBe("600");
    });

    it("gives any other origin no CORS header, so a browser keeps its page from reading the answer", async () => {
      for (const origin of [EVIL, "https://admin.example.com.evil.example", "http://admin.example.com", "null"]) {
        const response = await jsonPost(app, { query: "{ __typename }" }, { origin });
        expect(response.headers.get("access-control-allow-origin")).toBeNull();
        const options = await preflight(app, origin);
        expect(options.headers.get("access-control-allow-origin")).toBeNull();
        expect(options.headers.get("access-control-allow-headers")).toBeNull();
      }
    });
  });

  it("refuses a CORS_ORIGINS entry that is not an origin, naming the setting", () => {
    const base = { NODE_ENV: "test", JWT_SECRET: "x".repeat(40) };
    for (const bad of ["https://admin.example.com/portal", "admin.example.com", "ftp://files.example.com", "*"]) {
      expect(() => loadConfig({ ...base, CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS: .* is not an origin/);
    }
    expect(loadConfig({ ...base, CORS_ORIGINS: "HTTPS://Admin.Example.com:443" }).CORS_ORIGINS).toEqual([ADMIN_PORTAL]);
    expect(loadConfig(base).CORS_ORIGINS).toEqual([]);
  });
});

describe("CSRF protection", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => ({ app, support } = started));

  const createDomain = (name: string) => `mutation { createDomain(input: { name: "${name}" }) { domain { id } } }`;
  const domainExists = async (name: string) => (await app.deps.db.domain.count({ where: { name } })) > 0;

  it("refuses a text/plain POST, which a page on another site may send without a preflight, and changes nothing", async () => {
    const name = `${uniqueName("csrf")}.example`;
    const response = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "text/plain", authorization: `Bearer ${support}` },
      body: JSON.stringify({ query: createDomain(name) }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe("BAD_REQUEST");
    expect(body.errors[0]!.message).toMatch(/^This operation has been blocked as a potential Cross-Site Request Forgery \(CSRF\)/);
    expect(await domainExists(name)).toBe(false);
  });

  it.each([
    ["application/x-www-form-urlencoded", (query: string) => new URLSearchParams({ query }).toString()],
    ["multipart/form-data; boundary=x", (query: string) => `--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n${query}\r\n--x--\r\n`],
  ])("refuses a form POST (%s) and changes nothing", async (contentType, encode) => {
    const name = `${uniqueName("form")}.example`;
    const response = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": contentType, authorization: `Bearer ${support}` },
      body: encode(createDomain(name)),
    });
    expect(response.status).toBe(415);
    expect(await domainExists(name)).toBe(false);
  });

  it("refuses a GET query without a header that forces a preflight, and answers it with one", async () => {
    const url = `${app.url}/graphql?query=${encodeURIComponent("{ me { role } }")}`;
    const simple = await fetch(url, { headers: { accept: "application/json", authorization: `Bearer ${support}` } });
    expect(simple.status).toBe(400);
    const body = (await simple.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe("BAD_REQUEST");
    expect(body.errors[0]!.message).toMatch(/Cross-Site Request Forgery/);

    const withPreflightHeader = await fetch(url, { headers: { accept: "application/json", authorization: `Bearer ${support}`, "apollo-require-preflight": "true" } });
    expect(withPreflightHeader.status).toBe(200);
    expect(await withPreflightHeader.json()).toEqual({ data: { me: { role: "SUPPORT_ADMIN" } } });
  });

  it("accepts the ordinary JSON POST", async () => {
    const name = `${uniqueName("json")}.example`;
    const response = await jsonPost(app, { query: createDomain(name) }, { authorization: `Bearer ${support}` });
    expect(response.status).toBe(200);
    expect(await domainExists(name)).toBe(true);
  });
});
