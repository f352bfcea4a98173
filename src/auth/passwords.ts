// bcrypt through the native module: its async functions hash on libuv's
// thread pool, so a login never blocks the event loop. At most (cores - 1)
// hashes run at once: 20 logins on libuv's 4 threads would otherwise take the
// CPU from every other request (bench:login measured p50 20 ms -> 5.9 s).
import bcrypt from "bcrypt";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";

const HASHES_AT_ONCE = Math.max(1, availableParallelism() - 1);
let running = 0;
const waiting: (() => void)[] = [];

/** Runs one bcrypt operation when a slot is free (one queue for the whole process). */
async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running >= HASHES_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    return await work();
  } finally {
    // Hand the slot straight to the next in line, or free it.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the same time as a real check, for identifiers that match nobody. */
  verifyAgainstNobody(password: string): Promise<false>;
}

export function createPasswordHasher(cost: number): PasswordHasher {
  const nobodyHash = bcrypt.hashSync(randomBytes(16).toString("hex"), cost);
  return {
    hash: (password) => inTurn(() => bcrypt.hash(password, cost)),
    verify: (password, hash) => inTurn(() => bcrypt.compare(password, hash)),
    async verifyAgainstNobody(password) {
      await inTurn(() => bcrypt.compare(password, nobodyHash));
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
