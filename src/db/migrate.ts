// Applies prisma/migrations with `prisma migrate deploy` (the CLI runs offline
// through its wasm schema engine and the patched pg adapter).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { join } from "node:path";

const execFileAsync = promisify(execFile);

/** Root of the repository (this file is src/db/migrate.ts or dist/src/db/migrate.js). */
export const projectRoot = join(__dirname, __dirname.includes(`${join("dist", "src")}`) ? "../../.." : "../..");

export async function runMigrations(databaseUrl: string): Promise<string> {
  const cli = require.resolve("prisma/build/index.js", { paths: [projectRoot] });
  try {
    const { stdout } = await execFileAsync(process.execPath, [cli, "migrate", "deploy"], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      timeout: 120_000,
    });
    return stdout;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    // The CLI's output names the migration and the SQL error; the URL it was
    // given is not repeated here because it may carry a password.
    throw new Error(`database migration failed: ${(failure.stderr || failure.stdout || failure.message).trim()}`);
  }
}
