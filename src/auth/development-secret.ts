// Outside production, JWT_SECRET may be left unset. A secret made anew at
// every start would log everyone out at every restart of a developer's
// server, so the generated one is kept in the data directory (readable by
// its owner only) and read back on later starts. Production refuses to start
// without JWT_SECRET (config.ts): this file is never used there.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const DEVELOPMENT_SECRET_FILE = "jwt-secret";

/** The development JWT secret kept in `dataDir`, made with `generated` when the file does not exist yet. */
export function developmentJwtSecret(dataDir: string, generated: string): { secret: string; path: string; created: boolean } {
  const path = join(dataDir, DEVELOPMENT_SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    // "wx": only the first start writes it, even if two start at once.
    writeFileSync(path, `${generated}\n`, { flag: "wx", mode: 0o600 });
    return { secret: generated, path, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  // Kept private even if it was copied in with looser permissions.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const secret = readFileSync(path, "utf8").trim();
  if (secret.length < 32) throw new Error(`${path} holds no usable JWT secret (at least 32 characters): delete it to have a new one made, or set JWT_SECRET.`);
  return { secret, path, created: false };
}
