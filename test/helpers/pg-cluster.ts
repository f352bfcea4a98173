// A PostgreSQL cluster of the test's own, on a free loopback port, that the
// test may stop, pause and start again (database-outage tests). Needs the
// Debian PostgreSQL binaries (/usr/lib/postgresql/<version>/bin) and root:
// initdb and the server run as the "postgres" user through su.
import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";

const execFileAsync = promisify(execFile);

export interface PgCluster {
  port: number;
  dir: string;
  /** postgresql:// URL of a database of the cluster. */
  url(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** pg_ctl stop: "immediate" kills the server processes as a crash would (committed work survives through the WAL). */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  /** Freezes every server process (SIGSTOP): connections stay open and nothing answers, like a hung host. */
  pause(): void;
  resume(): void;
  /** Stops the server (if running) and removes its files. */
  destroy(): Promise<void>;
}

export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => existsSync(join(root, name, "bin", "initdb")))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest ? join(root, newest, "bin") : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

async function asPostgres(command: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync("su", ["postgres", "-s", "/bin/sh", "-c", command], { timeout: 120_000 });
    return stdout;
  } catch (error) {
    const failure = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${command}\nfailed: ${(failure.stderr || failure.stdout || failure.message).trim()}`);
  }
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install -y postgresql");
  const dir = mkdtempSync(join(tmpdir(), "mailadmin-pg-"));
  // mkdtemp makes the directory 0700 and root's; the server runs as postgres.
  const { uid, gid } = await execFileAsync("id", ["-u", "postgres"]).then(async ({ stdout }) => ({
    uid: Number(stdout.trim()),
    gid: Number((await execFileAsync("id", ["-g", "postgres"])).stdout.trim()),
  }));
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  const data = join(dir, "data");
  const port = await freePort();
  await asPostgres(`${bin}/initdb -D ${quote(data)} -A trust -U postgres --no-sync --no-instructions >/dev/null`);
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=on -c synchronous_commit=on`;
  const start = () => asPostgres(`${bin}/pg_ctl -D ${quote(data)} -l ${quote(join(dir, "server.log"))} -o ${quote(options)} -w -t 60 start >/dev/null`).then(() => undefined);
  const running = () => existsSync(join(data, "postmaster.pid"));
  const serverPids = (): number[] => {
    const postmaster = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
    const children = readdirSync("/proc")
      .filter((name) => /^\d+$/.test(name))
      .filter((name) => {
        try {
          // Field 4 of /proc/<pid>/stat is the parent pid (the name in field 2 has no spaces for postgres).
          return Number(readFileSync(`/proc/${name}/stat`, "utf8").split(" ")[3]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  };
  let paused = false;
  const cluster: PgCluster = {
    port,
    dir,
    url: (database) => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async createDatabase(name) {
      const client = new Client({ connectionString: cluster.url("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      } finally {
        await client.end();
      }
      return cluster.url(name);
    },
    async stop(mode = "fast") {
      await asPostgres(`${bin}/pg_ctl -D ${quote(data)} -m ${mode} -w -t 60 stop >/dev/null`);
    },
    start,
    pause() {
      for (const pid of serverPids()) process.kill(pid, "SIGSTOP");
      paused = true;
    },
    resume() {
      for (const pid of serverPids()) process.kill(pid, "SIGCONT");
      paused = false;
    },
    async destroy() {
      try {
        if (paused) cluster.resume();
        if (running()) await cluster.stop("immediate");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return cluster;
}
