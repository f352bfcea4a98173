// The IDE in a real browser: Debian's Chromium, headless, driven by
// playwright-core. It opens the IDE on the test server with every request to
// another host refused (a support desk without internet access), logs in
// with the login helper as support staff, runs the "Find a domain" example
// for a real domain and reads the answer from the page. The screenshot is
// kept as artifacts/ide.png.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { execFileSync } from "node:child_process";
import { makeDomain, PASSWORD, supportAdmin, tokenFor } from "../helpers/factories";

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

  it("works offline: logs in with the helper, runs a support task and shows the real domain", async () => {
    const support = await supportAdmin(app);
    const { domain } = await makeDomain(app, { quotaMb: 10240, maxAccounts: 50 });

    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: "light" });
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
    await page.getByLabel("Username or address").fill(support.username);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText(`Logged in as ${support.username} (SUPPORT_ADMIN)`).waitFor();

    // The helper put the token into the request headers of the tab.
    await page.getByText("Headers", { exact: true }).click();
    const headers = JSON.parse(await editorText(page, VISIBLE_TOOL_EDITOR)) as { Authorization: string };
    expect(headers.Authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);

    // The support tasks panel is open: "Find a domain" opens in a new tab.
    await page.getByRole("button", { name: "Find a domain" }).click();
    await page.locator(".graphiql-query-editor", { hasText: "query FindDomain" }).waitFor();
    await page.getByText("Variables", { exact: true }).click();
    await setEditorText(page, VISIBLE_TOOL_EDITOR, JSON.stringify({ search: domain.name }, null, 2));
    await page.getByRole("button", { name: /Execute query/ }).click();
    await page.locator(".result-window", { hasText: domain.name }).waitFor();

    const result = JSON.parse(await editorText(page, ".result-window")) as { data: { domains: { totalCount: number; nodes: Record<string, unknown>[] } } };
    expect(result.data.domains.totalCount).toBe(1);
    expect(result.data.domains.nodes[0]).toMatchObject({ id: domain.id, name: domain.name, quotaMb: 10240, maxAccounts: 50, accountCount: 1 });

    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "ide.png") });

    expect(offHost).toEqual([]);
    expect(problems).toEqual([]);
    expect(served).toEqual(expect.arrayContaining(["/graphql", "/graphql-ide/graphiql.min.js", "/graphql-ide/ide.js", "/graphql-ide/examples.json"]));
    await context.close();
  });

  it("takes the second step of a login with two-factor login on: the code of the authenticator app (oathtool's)", async () => {
    const support = await supportAdmin(app);
    const token = await tokenFor(app, support);
    const started = await app.gql(`mutation { startTotpEnrollment { secret } }`, {}, token);
    const { secret } = started.data.startTotpEnrollment;
    const code = (at: number) => execFileSync("oathtool", ["--totp", "-b", "-N", `@${Math.floor(at / 1000)}`, secret], { encoding: "utf8" }).trim();
    expect((await app.gql(`mutation($code: String!) { confirmTotpEnrollment(code: $code) { recoveryCodes } }`, { code: code(Date.now() - 30_000) }, token)).errors).toBeUndefined();

    const context = await browser.newContext();
    await context.route("**/*", (route) => (new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort("internetdisconnected")));
    const page = await context.newPage();
    await page.goto(`${app.url}/graphql`);
    await page.getByLabel("Username or address").fill(support.username);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByText("Password accepted: second step.").waitFor();
    await page.getByLabel("Code from your authenticator app (or a recovery code)").fill("000000");
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByRole("alert").filter({ hasText: "Wrong or already used code" }).waitFor();
    await page.getByLabel("Code from your authenticator app (or a recovery code)").fill(code(Date.now() + 30_000));
    await page.getByRole("button", { name: "Confirm" }).click();
    await page.getByText(`Logged in as ${support.username} (SUPPORT_ADMIN)`).waitFor();
    await context.close();
  });
});
