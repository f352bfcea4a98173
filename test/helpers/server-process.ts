// Runs src/main.ts as a real server process (through tsx), to test what only
// a whole start shows: configuration checks, first-start bootstrap, signals.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

export interface ServerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the base URL once the server listens. */
  listening: Promise<string>;
  exited: Promise<number | null>;
}

const root = join(__dirname, "../..");

export function startServerProcess(env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", BCRYPT_COST: "4", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    void exited.then((code) => reject(new Error(`server exited with ${code} before listening:\n${output}`)));
  });
  listening.catch(() => undefined);
  return { child, output: () => output, listening, exited };
}
