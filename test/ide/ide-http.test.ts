// The IDE's routes over HTTP: the page and its files for a browser, Apollo
// for everyone else, nothing when GRAPHQL_IDE is off, and examples that are
// valid operations of schema.graphql.
import { buildSchema, parse, validate } from "graphql";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { supportExamples } from "../../src/ide/examples";
import { IDE_CONTENT_SECURITY_POLICY, type IdeTexts } from "../../src/ide/ide";

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

describe("the GraphQL IDE in the browser's language", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  const han = /\p{Script=Han}/u;
  const englishRun = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;
  const texts = async (acceptLanguage: string, query = "") =>
    (await (await fetch(`${app.url}/graphql-ide/texts.json${query}`, { headers: { "accept-language": acceptLanguage } })).json()) as IdeTexts;

  it("writes the page in Traditional Chinese for Accept-Language: zh-TW, and in English for en", async () => {
    const zh = await fetch(`${app.url}/graphql`, { headers: { accept: BROWSER_ACCEPT, "accept-language": "zh-TW,zh;q=0.9,en;q=0.8" } });
    expect(zh.status).toBe(200);
    expect(zh.headers.get("content-language")).toBe("zh-TW");
    expect(zh.headers.get("vary")).toMatch(/Accept-Language/);
    const html = await zh.text();
    expect(html).toContain('<html lang="zh-TW">');
    expect(html).toContain("正在載入 GraphQL IDE…");
    expect(html).not.toContain("{{");
    const en = await (await fetch(`${app.url}/graphql`, { headers: { accept: BROWSER_ACCEPT, "accept-language": "en-US,en;q=0.9" } })).text();
    expect(en).toContain('<html lang="en">');
    expect(en).toContain("Loading the GraphQL IDE…");
  });

  it("serves the login helper's labels and the task list in zh-TW: Chinese texts, the same operations and variables", async () => {
    const zh = await texts("zh-TW");
    const en = await texts("en");
    expect({ language: zh.language, chosenBy: zh.chosenBy }).toEqual({ language: "zh-TW", chosenBy: "accept-language" });
    expect(Object.keys(zh.texts).sort()).toEqual(Object.keys(en.texts).sort());
    expect(zh.texts).toMatchObject({
      "login.identifier": "帳號或信箱位址",
      "login.submit": "登入",
      "tasks.title": "客服工作",
      "login.logged_in": "已登入：{name}（{role}），有效至 {until}",
    });
    for (const [id, text] of Object.entries(zh.texts)) {
      expect({ id, han: han.test(text), english: englishRun.test(text) }).toEqual({ id, han: true, english: false });
    }
    // The GraphQL text and the variables never change with the language; only titles and descriptions do.
    expect(zh.examples.map(({ key, query, variables }) => ({ key, query, variables }))).toEqual(supportExamples.map(({ key, query, variables }) => ({ key, query, variables })));
    expect(en.examples).toEqual(supportExamples);
    for (const example of zh.examples) {
      expect({ key: example.key, han: han.test(example.title) && han.test(example.description), english: englishRun.test(`${example.title} ${example.description}`) }).toEqual({
        key: example.key,
        han: true,
        english: false,
      });
    }
    expect(zh.examples.map((example) => example.title)).toEqual(expect.arrayContaining(["查詢網域", "寄送測試信", "客戶的伺服器寄了什麼給我們？"]));
    const examples = (await (await fetch(`${app.url}/graphql-ide/examples.json`, { headers: { "accept-language": "zh-TW" } })).json()) as IdeTexts["examples"];
    expect(examples).toEqual(zh.examples);
  });

  it("takes the saved preference the page sends after a login only when Accept-Language names no catalogue language", async () => {
    expect(await texts("fr-FR,fr;q=0.9", "?preference=zh-TW")).toMatchObject({ language: "zh-TW", chosenBy: "preference" });
    expect(await texts("en-US,en;q=0.9", "?preference=zh-TW")).toMatchObject({ language: "en", chosenBy: "accept-language" });
    expect(await texts("fr-FR", "?preference=klingon")).toMatchObject({ language: "en", chosenBy: "default" });
    expect(await texts("fr-FR")).toMatchObject({ language: "en", chosenBy: "default" });
  });
});

describe("the GraphQL IDE with DEFAULT_LANGUAGE=zh-TW", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ DEFAULT_LANGUAGE: "zh-TW" });
  });
  afterAll(() => app.close());

  it("writes the page and its texts in zh-TW for a browser asking for no language mailadmin has", async () => {
    const html = await (await fetch(`${app.url}/graphql`, { headers: { accept: BROWSER_ACCEPT, "accept-language": "fr-FR" } })).text();
    expect(html).toContain('<html lang="zh-TW">');
    const answer = (await (await fetch(`${app.url}/graphql-ide/texts.json`, { headers: { "accept-language": "fr-FR" } })).json()) as IdeTexts;
    expect({ language: answer.language, chosenBy: answer.chosenBy, title: answer.texts["tasks.title"] }).toEqual({ language: "zh-TW", chosenBy: "default", title: "客服工作" });
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
