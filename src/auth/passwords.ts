// bcrypt runs in worker threads at a low CPU priority (nice 10), so a login
// hardly takes CPU from other requests: when the CPUs are busy the kernel
// gives a hashing thread about a tenth of what a normal thread gets. (Nice 19
// measured the same for other requests, but would give a hash 1.5% of a busy
// CPU, twenty seconds a login while the server is saturated; at nice 10 it
// is about three.) All CPUs may hash, which on libuv's pool at normal
// priority took the CPU from every other request (docs/performance/README.md:
// bench:login).
// On Linux a thread's nice value is its own, so setPriority in the worker
// lowers that thread only; elsewhere it may lower the whole process, so the
// workers only do it on Linux.
import bcrypt from "bcrypt";
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** The worker's code, evaluated (no file to find from the build, tsx or jest); bcrypt resolved from here. */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
if (process.platform === "linux") {
  try { require("node:os").setPriority(10); } catch {}
}
const bcrypt = require(${JSON.stringify(require.resolve("bcrypt"))});
parentPort.on("message", ({ operation, password, costOrHash }) => {
  try {
    const value = operation === "hash" ? bcrypt.hashSync(password, costOrHash) : bcrypt.compareSync(password, costOrHash);
    parentPort.postMessage({ value });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
});`;

const CLOSED = "The password hasher is closed.";

interface Job {
  operation: "hash" | "compare";
  password: string;
  costOrHash: number | string;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

/** A fixed set of low-priority hashing threads, started when first needed; one job per thread at a time. */
class HashingThreads {
  private readonly idle: Worker[] = [];
  private readonly busy = new Map<Worker, Job>();
  private readonly queue: Job[] = [];
  private started = 0;
  private closed = false;

  constructor(private readonly size: number) {}

  run(job: Omit<Job, "resolve" | "reject">): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new Error(CLOSED));
    return new Promise((resolve, reject) => {
      this.queue.push({ ...job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.idle, ...this.busy.keys()];
    this.idle.length = 0;
    for (const job of [...this.queue, ...this.busy.values()]) job.reject(new Error(CLOSED));
    this.queue.length = 0;
    this.busy.clear();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.idle.pop() ?? (this.started < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const job = this.queue.shift()!;
      this.busy.set(worker, job);
      worker.ref();
      worker.postMessage({ operation: job.operation, password: job.password, costOrHash: job.costOrHash });
    }
  }

  private spawn(): Worker {
    this.started++;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on("message", (message: { value?: string | boolean; error?: string }) => {
      const job = this.busy.get(worker);
      this.busy.delete(worker);
      worker.unref();
      if (this.closed) return;
      this.idle.push(worker);
      if (job) {
        if (message.error !== undefined) job.reject(new Error(message.error));
        else job.resolve(message.value!);
      }
      this.dispatch();
    });
    // A thread that dies takes its job with it; a new one is started for the queue.
    const lost = (error: Error) => {
      const job = this.busy.get(worker);
      if (!this.busy.delete(worker)) {
        const at = this.idle.indexOf(worker);
        if (at < 0) return;
        this.idle.splice(at, 1);
      }
      this.started--;
      job?.reject(error);
      if (!this.closed) this.dispatch();
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`A password hashing thread stopped (exit code ${code}).`)));
    return worker;
  }
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** Spends the same time as a real check, for identifiers that match nobody. */
  verifyAgainstNobody(password: string): Promise<false>;
  /** Stops the hashing threads; later calls fail. */
  close(): Promise<void>;
}

export function createPasswordHasher(cost: number, threads: number = availableParallelism()): PasswordHasher {
  const nobodyHash = bcrypt.hashSync(randomBytes(16).toString("hex"), cost);
  const pool = new HashingThreads(Math.max(1, threads));
  const compare = async (password: string, hash: string) => (await pool.run({ operation: "compare", password, costOrHash: hash })) as boolean;
  return {
    hash: async (password) => (await pool.run({ operation: "hash", password, costOrHash: cost })) as string,
    verify: compare,
    async verifyAgainstNobody(password) {
      await compare(password, nobodyHash);
      return false;
    },
    close: () => pool.close(),
  };
}

/** A password for a generated login: 24 characters from an unambiguous alphabet. */
export function generatePassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
  const bytes = randomBytes(24);
  return Array.from(bytes, (byte) => alphabet[byte % alphabet.length]).join("");
}
