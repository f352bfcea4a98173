// An account import answered in English and in Traditional Chinese: the row
// errors (from the shared input rules and from the import's own checks) are
// written in the request's language through GraphQL and REST, with the same
// row, line, field and code; a job keeps them as messages, so the same import
// reads in either language later; the REST API's own refusals follow the
// request's language too; `npm run import` writes in the shell's language.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { RestClient } from "../helpers/rest-client";
import { cliLanguage } from "../../src/cli/language";

const HEADER = "address,password,quotaMb,status";
const PASSWORD = "a good long password";
const REPORT = "id phase rowsTotal validCount createdCount failedCount failure errors { row line field code message address }";
const IMPORT = `mutation($input: ImportAccountsInput!) { importAccounts(input: $input) { ${REPORT} } }`;
const READ = `query($id: ID!) { accountImport(id: $id) { ${REPORT} } }`;
/** Three English words in a row: an untranslated sentence. */
const ENGLISH_RUN = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;

interface RowError {
  row: number;
  line: number;
  field: string | null;
  code: string;
  message: string;
  address: string | null;
}

/** Ten data rows: row 1 good, every other one refused in its own way (field and code as listed). */
function mixedFile(domain: string, existing: string) {
  const prefix = uniqueName("lang");
  const rows = [
    `${prefix}-1@${domain},${PASSWORD},,`,
    `not-an-address,${PASSWORD},,`,
    `${prefix}-3@${domain},short,,`,
    `${existing},${PASSWORD},,`,
    `${prefix}-5@${uniqueName("nowhere")}.example,${PASSWORD},,`,
    `${prefix}-1@${domain},${PASSWORD},,`,
    `${prefix}-7@${domain},${PASSWORD},lots,`,
    `${prefix}-8@${domain},${PASSWORD},,MAYBE`,
    `${prefix}-9@${domain},,,`,
    `${prefix}-10@${domain},${PASSWORD},,,extra`,
  ];
  return {
    csv: `${HEADER}\n${rows.join("\n")}\n`,
    expected: [
      "2 address BAD_USER_INPUT",
      "3 password BAD_USER_INPUT",
      "4 address CONFLICT",
      "5 address NOT_FOUND",
      "6 address CONFLICT",
      "7 quotaMb BAD_USER_INPUT",
      "8 status BAD_USER_INPUT",
      "9 password BAD_USER_INPUT",
      "10 null BAD_USER_INPUT",
    ],
  };
}

const shape = (errors: RowError[]) => errors.map((error) => `${error.row} ${error.field} ${error.code}`);

/** Chinese: Han characters, and no run of English words once the row's own values (addresses, the value given) are taken out. */
function expectChinese(errors: RowError[]) {
  for (const error of errors) {
    const withoutValues = error.message.replace(/[\w.+-]+@[\w.-]+|not-an-address|"lots"|"MAYBE"/g, "");
    expect({ message: error.message, han: /\p{Script=Han}/u.test(error.message), english: ENGLISH_RUN.test(withoutValues) }).toEqual({
      message: error.message,
      han: true,
      english: false,
    });
  }
}

describe("an account import in English and Traditional Chinese", () => {
  let app: TestApp;
  let rest: RestClient;
  let support: string;
  beforeAll(async () => {
    app = await startTestApp();
    rest = await RestClient.connect(app);
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(() => app.close());

  it("GraphQL: the refused rows' errors are in zh-TW for Accept-Language zh-TW, with the same rows, fields and codes as in English", async () => {
    const world = await makeWorld(app);
    const file = mixedFile(world.domain.name, world.user.address);
    const input = { format: "CSV", mode: "PER_ROW", dryRun: true, content: file.csv };

    const english = (await app.gql(IMPORT, { input }, support)).data!.importAccounts;
    const chinese = (await app.gql(IMPORT, { input }, support, { "accept-language": "zh-TW" })).data!.importAccounts;

    expect(shape(english.errors)).toEqual(file.expected);
    expect(shape(chinese.errors)).toEqual(file.expected);
    expect(chinese.errors.map((error: RowError) => [error.row, error.line, error.address])).toEqual(
      english.errors.map((error: RowError) => [error.row, error.line, error.address]),
    );
    expect({ ...chinese, id: "", errors: [] }).toEqual({ ...english, id: "", errors: [] });
    expectChinese(chinese.errors);
    const byRow = (errors: RowError[], row: number) => errors.find((error) => error.row === row)!.message;
    // English exactly as before the catalogues; Chinese in Taiwan's words.
    expect(byRow(english.errors, 6)).toMatch(/^\S+ appears twice in the file: row 1 has it already\.$/);
    expect(byRow(english.errors, 4)).toBe(`An account ${world.user.address} already exists.`);
    expect(byRow(english.errors, 7)).toMatch(/^quotaMb must be a whole number of MiB, from 0 to \d+ \(got "lots"\)\.$/);
    expect(byRow(english.errors, 10)).toBe("The row has 5 values but the header names 4 columns.");
    expect(byRow(chinese.errors, 4)).toBe(`帳號 ${world.user.address} 已經存在。`);
    expect(byRow(chinese.errors, 6)).toMatch(/在檔案中出現了兩次：第 1 列已經有這個地址。$/);
    expect(byRow(chinese.errors, 10)).toBe("這一列有 5 個值，但標題列有 4 個欄位。");
    expect(byRow(chinese.errors, 2)).toBe("「not-an-address」不是電子郵件地址，正確格式如 user@example.com。");
  });

  it("keeps a job's row errors as messages: the same import reads back in English and in zh-TW; an English text kept as such stays as it is", async () => {
    const world = await makeWorld(app);
    const file = mixedFile(world.domain.name, world.user.address);
    const started = await app.gql(
      `mutation($input: StartAccountImportInput!) { startAccountImport(input: $input) { id } }`,
      {
        input: { format: "CSV", mode: "PER_ROW", dryRun: true, content: file.csv },
      },
      support,
    );
    const id = started.data!.startAccountImport.id as string;
    let english = (await app.gql(READ, { id }, support)).data!.accountImport;
    while (english.phase !== "DONE") {
      await new Promise((resolve) => setTimeout(resolve, 50));
      english = (await app.gql(READ, { id }, support)).data!.accountImport;
    }
    const chinese = (await app.gql(READ, { id }, support, { "accept-language": "zh-TW" })).data!.accountImport;
    expect(shape(english.errors)).toEqual(file.expected);
    expect(shape(chinese.errors)).toEqual(file.expected);
    expectChinese(chinese.errors);
    expect(english.errors.every((error: RowError) => !/\p{Script=Han}/u.test(error.message))).toBe(true);
    // Read again in English after the Chinese answer: the job itself never changed language.
    expect((await app.gql(READ, { id }, support, { "accept-language": "en" })).data!.accountImport).toEqual(english);

    // A row error kept as an English sentence (as jobs held them before messages) is answered as it is in every language.
    const old = { row: 11, line: 12, field: "address", code: "CONFLICT", message: "An old English sentence.", address: null };
    await app.deps.db.$executeRaw`UPDATE "account_import" SET "errors" = "errors" || ${JSON.stringify([old])}::jsonb WHERE "id" = ${id}`;
    const mixed = (await app.gql(READ, { id }, support, { "accept-language": "zh-TW" })).data!.accountImport;
    expect(mixed.errors.at(-1)).toEqual({ row: 11, line: 12, field: "address", code: "CONFLICT", message: "An old English sentence.", address: null });
  });

  it("REST: the report's row errors and the API's own refusals follow Accept-Language; codes and fields do not change", async () => {
    const world = await makeWorld(app);
    const file = mixedFile(world.domain.name, world.user.address);
    const post = (language: string) =>
      rest.request("POST", "/api/v1/account-imports", {
        token: support,
        raw: file.csv,
        contentType: "text/csv",
        query: { dryRun: true, mode: "per-row", wait: true },
        headers: { "accept-language": language },
      });
    const english = await post("en");
    const chinese = await post("zh-TW");
    expect([english.status, chinese.status]).toEqual([200, 200]);
    expect(shape(chinese.body.errors)).toEqual(file.expected);
    expect(shape(english.body.errors)).toEqual(file.expected);
    expectChinese(chinese.body.errors);
    // The import read back in the other language.
    const again = await rest.request("GET", `/api/v1/account-imports/${chinese.body.id}`, { token: support, headers: { "accept-language": "en" } });
    expect(again.body.errors).toEqual(english.body.errors);

    const problems = [
      // Format against media type (an import refusal), an enum, a query field that does not exist, an unknown route, bad JSON.
      await rest.request("POST", "/api/v1/account-imports", {
        token: support,
        raw: file.csv,
        contentType: "text/csv",
        query: { format: "jsonl" },
        headers: { "accept-language": "zh-TW" },
      }),
      await rest.request("POST", "/api/v1/account-imports", {
        token: support,
        raw: file.csv,
        contentType: "text/csv",
        query: { mode: "sometimes" },
        headers: { "accept-language": "zh-TW" },
      }),
      await rest.request("POST", "/api/v1/account-imports", {
        token: support,
        raw: file.csv,
        contentType: "text/csv",
        query: { later: 1 },
        headers: { "accept-language": "zh-TW" },
      }),
      await rest.request("GET", "/api/v1/no-such-thing", { token: support, headers: { "accept-language": "zh-TW" } }),
      await rest.request("PUT", `/api/v1/domains/${uniqueName("lang")}.example`, {
        token: support,
        raw: "{not json",
        contentType: "application/json",
        headers: { "accept-language": "zh-TW" },
      }),
    ];
    expect(problems.map((problem) => [problem.status, problem.body.code, problem.body.field])).toEqual([
      [400, "BAD_USER_INPUT", "format"],
      [400, "BAD_USER_INPUT", "mode"],
      [400, "BAD_USER_INPUT", "later"],
      [404, "NOT_FOUND", undefined],
      [400, "BAD_USER_INPUT", undefined],
    ]);
    for (const problem of problems) {
      expect({ detail: problem.body.detail, han: /\p{Script=Han}/u.test(problem.body.detail), title: /\p{Script=Han}/u.test(problem.body.title) }).toEqual({
        detail: problem.body.detail,
        han: true,
        title: true,
      });
      expect({ detail: problem.body.detail, english: ENGLISH_RUN.test(problem.body.detail) }).toEqual({ detail: problem.body.detail, english: false });
    }
    expect(problems[1]!.body.detail).toBe("查詢參數 mode 必須是下列之一：ALL_OR_NOTHING, PER_ROW, all-or-nothing, per-row。");
    // The same refusals in English are as they always were.
    const englishEnum = await rest.request("POST", "/api/v1/account-imports", { token: support, raw: file.csv, contentType: "text/csv", query: { mode: "sometimes" } });
    expect(englishEnum.body).toMatchObject({ title: "Bad input", detail: "query parameter mode must be one of ALL_OR_NOTHING, PER_ROW, all-or-nothing, per-row." });
    const englishRoute = await rest.request("GET", "/api/v1/no-such-thing", { token: support });
    expect(englishRoute.body).toMatchObject({
      title: "Not found",
      detail: "No route GET /api/v1/no-such-thing exists in this API; the routes are listed in /api/v1/openapi.json.",
    });
  });
});

describe("npm run import in the shell's language", () => {
  let app: TestApp;
  let directory: string;
  beforeAll(async () => {
    app = await startTestApp();
    directory = mkdtempSync(join(tmpdir(), "mailadmin-import-lang-"));
  });
  afterAll(async () => {
    rmSync(directory, { recursive: true, force: true });
    await app.close();
  });

  function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "src/cli/import.ts", ...args],
        { cwd: join(__dirname, "../.."), env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env } },
        (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
      );
    });
  }

  it("prints Chinese with LANG=zh_TW.UTF-8 (the server's row errors too), English with MAILADMIN_LANGUAGE=en; exit codes unchanged", async () => {
    const world = await makeWorld(app);
    const file = mixedFile(world.domain.name, world.user.address);
    const path = join(directory, "accounts.csv");
    writeFileSync(path, file.csv);
    const token = await tokenFor(app, await supportAdmin(app));

    const chinese = await runCli([path, "--dry-run", "--mode", "per-row"], { MAILADMIN_URL: app.url, MAILADMIN_TOKEN: token, LANG: "zh_TW.UTF-8" });
    expect(chinese.code).toBe(1);
    expect(chinese.stdout).toContain("試算（不寫入）：共 10 列，1 列會建立，9 列被拒絕");
    expect(chinese.stdout).toContain(`第 4 列（第 5 行）address CONFLICT：帳號 ${world.user.address} 已經存在。`);
    expect(chinese.stdout).toContain("第 10 列（第 11 行）BAD_USER_INPUT：這一列有 5 個值，但標題列有 4 個欄位。");
    for (const line of chinese.stdout.trim().split("\n")) {
      expect({ line, han: /\p{Script=Han}/u.test(line), english: ENGLISH_RUN.test(line.replace(/[\w.+-]+@[\w.-]+|not-an-address|"lots"|"MAYBE"/g, "")) }).toEqual({
        line,
        han: true,
        english: false,
      });
    }

    const english = await runCli([path, "--dry-run", "--mode", "per-row"], { MAILADMIN_URL: app.url, MAILADMIN_TOKEN: token, LANG: "zh_TW.UTF-8", MAILADMIN_LANGUAGE: "en" });
    expect(english.code).toBe(1);
    expect(english.stdout).toContain("dry run: 10 rows, 1 would be created, 9 refused");
    expect(english.stdout).toContain(`row 4 (line 5) address CONFLICT: An account ${world.user.address} already exists.`);

    const usage = await runCli([], { LC_ALL: "zh_TW.UTF-8", MAILADMIN_TOKEN: token });
    expect(usage.code).toBe(64);
    expect(usage.stderr).toContain("匯入：請只指定一個檔案");
    expect(usage.stderr).toContain("用法：npm run import -- FILE");
  }, 60_000);

  it("takes its language from MAILADMIN_LANGUAGE, else LC_ALL, LC_MESSAGES, LANG, else DEFAULT_LANGUAGE", () => {
    const warnings: string[] = [];
    const of = (env: Record<string, string>) => cliLanguage(env, (line) => warnings.push(line));
    expect(of({ LANG: "zh_TW.UTF-8" })).toBe("zh-TW");
    expect(of({ LANG: "zh_HK.UTF-8" })).toBe("zh-TW");
    expect(of({ LANG: "en_US.UTF-8" })).toBe("en");
    expect(of({ LC_ALL: "en_US.UTF-8", LANG: "zh_TW.UTF-8" })).toBe("en");
    expect(of({ LC_MESSAGES: "zh_TW", LANG: "en_GB.UTF-8" })).toBe("zh-TW");
    expect(of({ MAILADMIN_LANGUAGE: "zh-TW", LANG: "en_US.UTF-8" })).toBe("zh-TW");
    expect(of({ MAILADMIN_LANGUAGE: "en", LANG: "zh_TW.UTF-8" })).toBe("en");
    // No catalogue for the locale (C, Simplified Chinese): DEFAULT_LANGUAGE, else English.
    expect(of({ LANG: "C.UTF-8" })).toBe("en");
    expect(of({ LANG: "zh_CN.UTF-8", DEFAULT_LANGUAGE: "zh-TW" })).toBe("zh-TW");
    expect(of({ LANG: "zh_CN.UTF-8" })).toBe("en");
    expect(of({})).toBe("en");
    expect(warnings).toEqual([]);
    expect(of({ MAILADMIN_LANGUAGE: "klingon", LANG: "zh_TW.UTF-8" })).toBe("zh-TW");
    expect(warnings).toEqual(["MAILADMIN_LANGUAGE is en or zh-TW, not klingon: using the locale or DEFAULT_LANGUAGE instead."]);
  });
});
