// The IDE's routes over HTTP: the page and its files for a browser, Apollo
// for everyone else, nothing when GRAPHQL_IDE is off, and examples that are
// valid operations of schema.graphql.
import { buildSchema, parse, validate } from "graphql";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { supportExamples } from "../../src/ide/examples";
import { IDE_CONTENT_SECURITY_POLICY } from "../../src/ide/ide";

const BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

describe("the GraphQL IDE over HTTP", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it("answers a browser's GET /graphql with the IDE page under the content security policy", async () => {
    const response = await fetch(`${app.url}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toBe(IDE_CONTENT_SECURITY_POLICY);
    const html = await response.text();
    expect(html).toContain('<script src="graphql-ide/graphiql.min.js"></script>');
    // No inline script and nothing from another host: the policy would block both.
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it("serves every file the page loads, from npm packages and src/ide/public", async () => {
    const html = await (await fetch(`${app.url}/graphql`, { headers: { accept: BROWSER_ACCEPT } })).text();
    const files = [...html.matchAll(/(?:src|href)="(graphql-ide\/[^"]+)"/g)].map((match) => match[1]!);
    expect(files).toEqual([
      "graphql-ide/graphiql.min.css",
      "graphql-ide/ide.css",
      "graphql-ide/react.production.min.js",
      "graphql-ide/react-dom.production.min.js",
      "graphql-ide/graphiql.min.js",
      "graphql-ide/ide.js",
    ]);
    for (const file of files) {
      const response = await fetch(`${app.url}/${file}`);
      expect({ file, status: response.status }).toEqual({ file, status: 200 });
      expect(response.headers.get("content-type")).toMatch(file.endsWith(".css") ? /^text\/css/ : /javascript/);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
    expect(await (await fetch(`${app.url}/graphql-ide/graphiql.min.js`)).text()).toContain("window.GraphiQL");
  });

  it("serves only the listed files", async () => {
    for (const path of ["/graphql-ide/index.html", "/graphql-ide/..%2Fide.ts", "/graphql-ide/package.json", "/graphql-ide/"]) {
      expect({ path, status: (await fetch(`${app.url}${path}`)).status }).toEqual({ path, status: 404 });
    }
  });

  it("keeps GraphQL over GET and POST for everything that does not ask for a web page", async () => {
    const get = await fetch(`${app.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, {
      headers: { accept: "application/json", "apollo-require-preflight": "true" },
    });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ data: { __typename: "Query" } });
    const post = await app.gql("{ __typename }");
    expect(post.data).toEqual({ __typename: "Query" });
  });

  it("offers example operations that are valid against schema.graphql", async () => {
    const schema = buildSchema(readFileSync(join(__dirname, "../../schema.graphql"), "utf8"));
    const served = await (await fetch(`${app.url}/graphql-ide/examples.json`)).json();
    expect(served).toEqual(supportExamples);
    expect(supportExamples.map((example) => example.title)).toEqual(
      expect.arrayContaining([
        "Find a domain",
        "Reset a password",
        "Reassign the administrator",
        "Today's log of a user",
        "Check a domain's DNS",
        "Diagnose delivery",
        "Send a test message",
        "What did the customer's server send us?",
      ]),
    );
    for (const example of supportExamples) {
      expect({ title: example.title, errors: validate(schema, parse(example.query)).map((error) => error.message) }).toEqual({ title: example.title, errors: [] });
    }
  });
});

describe("with GRAPHQL_IDE=false", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ GRAPHQL_IDE: "false" });
  });
  afterAll(() => app.close());

  it("serves no page and no files; a browser's GET /graphql gets Apollo's answer", async () => {
    const page = await fetch(`${app.url}/graphql`, { headers: { accept: BROWSER_ACCEPT } });
    expect(page.status).toBe(400);
    expect(page.headers.get("content-type")).not.toMatch(/text\/html/);
    expect(await page.text()).not.toContain("graphiql");
    expect((await fetch(`${app.url}/graphql-ide/graphiql.min.js`)).status).toBe(404);
  });
});

describe("GRAPHQL_IDE by default", () => {
  it("is on in development and off in production", async () => {
    const { graphqlIdeEnabled } = await import("../../src/ide/ide");
    expect(graphqlIdeEnabled({ NODE_ENV: "development", GRAPHQL_IDE: undefined })).toBe(true);
    expect(graphqlIdeEnabled({ NODE_ENV: "production", GRAPHQL_IDE: undefined })).toBe(false);
    expect(graphqlIdeEnabled({ NODE_ENV: "production", GRAPHQL_IDE: true })).toBe(true);
  });
});
