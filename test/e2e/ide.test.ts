// The IDE in a real browser: Debian's Chromium, headless, driven by
// playwright-core. It opens the IDE on the test server with every request to
// another host refused (a support desk without internet access), logs in
// with the login helper as support staff, runs the "Find a domain" example
// for a real domain and reads the answer from the page. It does so twice:
// in English, and with the browser's language set to Traditional Chinese
// (zh-TW: Accept-Language and navigator.language), where the labels and the
// task list must be Chinese and the query must still run. The screenshots are
// kept as artifacts/ide.png and artifacts/ide-zh-TW.png (docs/images/ has a
// copy of the latter for docs/ide.md).
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { execFileSync } from "node:child_process";
import { makeDomain, PASSWORD, supportAdmin, tokenFor } from "../helpers/factories";
import { supportExamplesIn } from "../../src/ide/examples";

const CHROMIUM = "/usr/bin/chromium";
const artifacts = join(__dirname, "../../artifacts");
/** The variables or headers editor, whichever is shown below the query. */
const VISIBLE_TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";

/** The text of the CodeMirror editor inside the element matching the selector (CodeMirror only draws the visible lines). */
function editorText(page: Page, selector: string): Promise<string> {
  return page
    .locator(`${selector} .CodeMirror`)
    .first()
    .evaluate((element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
}

function setEditorText(page: Page, selector: string, text: string): Promise<void> {
  return page
    .locator(`${selector} .CodeMirror`)
    .first()
    .evaluate((element, value) => (element as unknown as { CodeMirror: { setValue(text: string): void } }).CodeMirror.setValue(value), text);
}

/** What the page says in each language the test runs in (written here, not read from the catalogues, so that a wrong catalogue fails). */
interface PageLanguage {
  name: string;
  /** The browser's language; undefined: Chromium's own (English). */
  locale: string | undefined;
  lang: string;
  identifier: string;
  password: string;
  logIn: string;
  loggedIn: (loginName: string) => string;
  tasksTitle: string;
  findDomain: string;
  screenshot: string;
  secondStep: string;
  code: string;
  confirm: string;
  /** The server's refusal of a wrong code, when it is written in this language (the auth service's texts are not translated yet). */
  wrongCode: string | undefined;
}

const ENGLISH: PageLanguage = {
  name: "English",
  locale: undefined,
  lang: "en",
  identifier: "Username or address",
  password: "Password",
  logIn: "Log in",
  loggedIn: (loginName) => `Logged in as ${loginName} (SUPPORT_ADMIN)`,
  tasksTitle: "Support tasks",
  findDomain: "Find a domain",
  screenshot: "ide.png",
  secondStep: "Password accepted: second step.",
  code: "Code from your authenticator app (or a recovery code)",
  confirm: "Confirm",
  wrongCode: "Wrong or already used code",
};

const TRADITIONAL_CHINESE: PageLanguage = {
  name: "Traditional Chinese (zh-TW)",
  locale: "zh-TW",
  lang: "zh-TW",
  identifier: "帳號或信箱位址",
  password: "密碼",
  logIn: "登入",
  loggedIn: (loginName) => `已登入：${loginName}（SUPPORT_ADMIN）`,
  tasksTitle: "客服工作",
  findDomain: "查詢網域",
  screenshot: "ide-zh-TW.png",
  secondStep: "密碼正確：請進行第二步驟。",
  code: "驗證器 App 顯示的驗證碼（或一組復原碼）",
  confirm: "確認",
  wrongCode: undefined,
};

const HAN = /\p{Script=Han}/u;
const ENGLISH_RUN = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;

describe("the GraphQL IDE in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the test servers with npm run test:deps (as root; Debian's chromium package).`);
    app = await startTestApp();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it.each([ENGLISH, TRADITIONAL_CHINESE])("works offline in $name: logs in with the helper, runs a support task and shows the real domain", async (language) => {
    if (language.locale === "zh-TW" && !execFileSync("fc-list", [":lang=zh-tw"], { encoding: "utf8" }).trim()) {
      throw new Error("No font with Traditional Chinese glyphs: the screenshot would show boxes. Install them with npm run test:deps (as root; Debian's fonts-noto-cjk).");
    }
    const support = await supportAdmin(app);
    const { domain } = await makeDomain(app, { quotaMb: 10240, maxAccounts: 50 });

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light", locale: language.locale });
    const offHost: string[] = [];
    const served: string[] = [];
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.hostname !== "127.0.0.1") {
        offHost.push(url.href);
        return route.abort("internetdisconnected");
      }
      served.push(url.pathname);
      return route.continue();
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));

    await page.goto(`${app.url}/graphql`);
    await page.getByLabel(language.identifier).fill(support.username);
    await page.getByLabel(language.password).fill(PASSWORD);
    await page.getByRole("button", { name: language.logIn, exact: true }).click();
    await page.getByText(language.loggedIn(support.username)).waitFor();
    expect(await page.locator("html").getAttribute("lang")).toBe(language.lang);

    // The helper put the token into the request headers of the tab.
    await page.getByText("Headers", { exact: true }).click();
    const headers = JSON.parse(await editorText(page, VISIBLE_TOOL_EDITOR)) as { Authorization: string };
    expect(headers.Authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);

    // The support tasks panel is open, in the page's language: every task's title and description.
    const panel = page.locator(".mailadmin-examples");
    await expect(panel.locator(".graphiql-doc-explorer-title").textContent()).resolves.toBe(language.tasksTitle);
    const tasks = supportExamplesIn(language.lang === "zh-TW" ? "zh-TW" : "en");
    expect(await panel.locator("li button").allTextContents()).toEqual(tasks.map((task) => task.title));
    expect(await panel.locator("li p").allTextContents()).toEqual(tasks.map((task) => task.description));
    if (language === TRADITIONAL_CHINESE) {
      const written = [await page.locator(".mailadmin-login").innerText(), await panel.innerText()];
      for (const text of [...written, ...tasks.map((task) => `${task.title}\n${task.description}`)]) {
        expect({ text, han: HAN.test(text), english: ENGLISH_RUN.test(text) }).toEqual({ text, han: true, english: false });
      }
    }

    // "Find a domain" opens in a new tab, its GraphQL text the same in every language.
    await page.getByRole("button", { name: language.findDomain, exact: true }).click();
    await page.locator(".graphiql-query-editor", { hasText: "query FindDomain" }).waitFor();
    await page.getByText("Variables", { exact: true }).click();
    await setEditorText(page, VISIBLE_TOOL_EDITOR, JSON.stringify({ search: domain.name }, null, 2));
    await page.getByRole("button", { name: /Execute query/ }).click();
    await page.locator(".result-window", { hasText: domain.name }).waitFor();

    const result = JSON.parse(await editorText(page, ".result-window")) as { data: { domains: { totalCount: number; nodes: Record<string, unknown>[] } } };
    expect(result.data.domains.totalCount).toBe(1);
    expect(result.data.domains.nodes[0]).toMatchObject({ id: domain.id, name: domain.name, quotaMb: 10240, maxAccounts: 50, accountCount: 1 });

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, language.screenshot) });

    expect(offHost).toEqual([]);
    expect(problems).toEqual([]);
    expect(served).toEqual(expect.arrayContaining(["/graphql", "/graphql-ide/graphiql.min.js", "/graphql-ide/ide.js", "/graphql-ide/texts.json"]));
    await context.close();
  });

  it.each([ENGLISH, TRADITIONAL_CHINESE])(
    "takes the second step of a login with two-factor login on in $name: the code of the authenticator app (oathtool's)",
    async (language) => {
      const support = await supportAdmin(app);
      const token = await tokenFor(app, support);
      const started = await app.gql(`mutation { startTotpEnrollment { secret } }`, {}, token);
      const { secret } = started.data.startTotpEnrollment;
      const code = (at: number) => execFileSync("oathtool", ["--totp", "-b", "-N", `@${Math.floor(at / 1000)}`, secret], { encoding: "utf8" }).trim();
      expect(
        (await app.gql(`mutation($code: String!) { confirmTotpEnrollment(code: $code) { recoveryCodes } }`, { code: code(Date.now() - 30_000) }, token)).errors,
      ).toBeUndefined();

      const context = await browser.newContext({ locale: language.locale });
      await context.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort("internetdisconnected")));
      const page = await context.newPage();
      await page.goto(`${app.url}/graphql`);
      await page.getByLabel(language.identifier).fill(support.username);
      await page.getByLabel(language.password).fill(PASSWORD);
      await page.getByRole("button", { name: language.logIn, exact: true }).click();
      await page.getByText(language.secondStep).waitFor();
      await page.getByLabel(language.code).fill("000000");
      await page.getByRole("button", { name: language.confirm, exact: true }).click();
      const refusal = page.getByRole("alert");
      await (language.wrongCode ? refusal.filter({ hasText: language.wrongCode }) : refusal).waitFor();
      // A wrong code keeps the second step: the code is asked again.
      await page.getByLabel(language.code).fill(code(Date.now() + 30_000));
      await page.getByRole("button", { name: language.confirm, exact: true }).click();
      await page.getByText(language.loggedIn(support.username)).waitFor();
      await context.close();
    },
  );
});
