import { readdirSync, readFileSync } from "node:fs";
import { createPasswordHasher, type PasswordHasher } from "../../src/auth/passwords";

/** Nice values of this process's threads, by thread id (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): Map<number, number> {
  const values = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const fields = readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ");
      values.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended while we looked.
    }
  }
  return values;
}

describe("password hashing threads", () => {
  let hasher: PasswordHasher;
  beforeAll(() => {
    hasher = createPasswordHasher(4, 2);
  });
  afterAll(() => hasher.close());

  it("hashes and verifies, several at once, with the right answers", async () => {
    const hashes = await Promise.all(["first password", "second password", "third password"].map((password) => hasher.hash(password)));
    for (const hash of hashes) expect(hash).toMatch(/^\$2b\$04\$.{53}$/);
    const checks = await Promise.all([
      hasher.verify("first password", hashes[0]!),
      hasher.verify("second password", hashes[0]!),
      hasher.verify("third password", hashes[2]!),
      hasher.verify("first password", "not a bcrypt hash"),
      hasher.verifyAgainstNobody("first password"),
    ]);
    expect(checks).toEqual([true, false, true, false, false]);
  });

  it("hashes on threads at a low CPU priority (nice 10), leaving the process's own at 0", async () => {
    await hasher.hash("warm the threads up");
    const nice = threadNiceValues();
    expect(nice.get(process.pid)).toBe(0);
    expect([...nice.values()].filter((value) => value === 10).length).toBeGreaterThanOrEqual(1);
  });

  it("refuses work once closed", async () => {
    const closing = createPasswordHasher(4, 1);
    const hash = await closing.hash("before closing");
    const pendingRefused = expect(closing.verify("before closing", hash)).rejects.toThrow("The password hasher is closed.");
    await closing.close();
    await pendingRefused;
    await expect(closing.hash("after closing")).rejects.toThrow("The password hasher is closed.");
  });
});
