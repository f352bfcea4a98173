// `npm run import` as a child process against the test server: it uploads the
// file in parts, follows the progress, prints the report and fails with exit
// code 1 when rows were refused.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, supportAdmin, tokenFor } from "../helpers/factories";
import { buildImportFile } from "./import-file";

const root = join(__dirname, "../..");

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "src/cli/import.ts", ...args],
      { cwd: root, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }),
    );
  });
}

describe("npm run import", () => {
  let app: TestApp;
  let directory: string;
  beforeAll(async () => {
    app = await startTestApp();
    directory = mkdtempSync(join(tmpdir(), "mailadmin-import-"));
  });
  afterAll(async () => {
    rmSync(directory, { recursive: true, force: true });
    await app.close();
  });

  it("imports a file of several parts per row, prints progress and the refused rows, and exits 1", async () => {
    const main = (await makeDomain(app)).domain;
    const quota = (await makeDomain(app, { quotaMb: 1000, defaultMailboxQuotaMb: 100 })).domain;
    const limited = (await makeDomain(app, { maxAccounts: 4 })).domain;
    const existing = await makeAccount(app, main);
    const file = buildImportFile({ main, quota, limited, existingAddress: existing.address }, 8000, { withBadRows: true, passwordEvery: 20 });
    const path = join(directory, "accounts.csv");
    writeFileSync(path, file.csv);
    const token = await tokenFor(app, await supportAdmin(app));

    const run = await runCli([path, "--mode", "per-row"], { MAILADMIN_URL: app.url, MAILADMIN_TOKEN: token });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/uploaded part 2 of \d+/);
    expect(run.stderr).toMatch(/(validating|hashing|writing) \d+\/\d+/);
    expect(run.stdout).toContain(`8000 rows: ${file.good.length} accounts created, ${file.expected.size} rows refused`);
    expect(run.stdout).toContain("row 7 (line 8) address BAD_USER_INPUT:");
    expect(run.stdout).toContain(`row 2500 (line 2501) address CONFLICT: An account ${existing.address} already exists.`);
    const created = await app.deps.db.account.count({ where: { localPart: { startsWith: `${file.prefix}-` } } });
    expect(created).toBe(file.good.length);
  }, 300_000);

  it("says how to call it when the command line is wrong", async () => {
    const run = await runCli(["--mode", "sometimes", "x.csv"], { MAILADMIN_URL: app.url, MAILADMIN_TOKEN: "x" });
    expect(run.code).toBe(64);
    expect(run.stderr).toContain("--mode is per-row or all-or-nothing");
  });
});
