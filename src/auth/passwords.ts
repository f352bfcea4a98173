// bcrypt through the native module: its async functions hash on libuv's
// thread pool, so a login never blocks the event loop.
import bcrypt from "bcrypt";
import { randomBytes } from "node:crypto";

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the same time as a real check, for identifiers that match nobody. */
  verifyAgainstNobody(password: string): Promise<false>;
}

export function createPasswordHasher(cost: number): PasswordHasher {
  const nobodyHash = bcrypt.hashSync(randomBytes(16).toString("hex"), cost);
  return {
    hash: (password) => bcrypt.hash(password, cost),
    verify: (password, hash) => bcrypt.compare(password, hash),
    async verifyAgainstNobody(password) {
      await bcrypt.compare(password, nobodyHash);
      return false;
    },
  };
}

/** A password for a generated login: 24 characters from an unambiguous alphabet. */
export function generatePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
  const bytes = randomBytes(24);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join("");
}
