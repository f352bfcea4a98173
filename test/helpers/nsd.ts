// Runs NSD, the authoritative DNS server from Debian (package nsd), in the
// foreground on one loopback address, with zone files written to a temporary
// directory. Used by the DNS tests and the DNS benchmark; .ci/run installs it.
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUdpTransport } from "../../src/dns/dns.transport";

export interface ZoneFile {
  /** Zone name without trailing dot. */
  name: string;
  text: string;
}

export interface RunningNsd {
  address: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

function nsdBinary(): string {
  for (const candidate of [process.env.NSD_BIN, "/usr/sbin/nsd", "/usr/local/sbin/nsd"]) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  throw new Error(
    "NSD is not installed: the DNS tests need a real authoritative server. Install the test servers with: npm run test:deps (as root; it runs apt-get install nsd ...).",
  );
}

function configuration(dir: string, address: string, port: number, zones: ZoneFile[]): string {
  const zoneBlocks = zones.map((zone, index) => `zone:\n  name: "${zone.name}."\n  zonefile: "zone${index}.zone"\n`).join("");
  // database "" keeps NSD from compiling nsd.db; rrl-ratelimit 0 turns off
  // response rate limiting, which would otherwise drop the benchmark's
  // (and a busy test's) answers to 127.0.0.1 above 200 queries a second.
  return `server:
  ip-address: ${address}@${port}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "${dir}"
  database: ""
  zonelistfile: "${dir}/zone.list"
  pidfile: "${dir}/nsd.pid"
  xfrdfile: "${dir}/xfrd.state"
  xfrdir: "${dir}"
  logfile: "${dir}/nsd.log"
  server-count: 1
  verbosity: 1
  hide-version: yes
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
${zoneBlocks}`;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once("exit", (code) => resolve(code));
  });
}

/** Starts NSD and resolves once it answers queries; rejects with its log if it does not start. */
export async function startNsd(options: { address: string; port?: number; zones: ZoneFile[] }): Promise<RunningNsd> {
  const port = options.port ?? 53;
  const dir = mkdtempSync(join(tmpdir(), "mailadmin-nsd-"));
  options.zones.forEach((zone, index) => writeFileSync(join(dir, `zone${index}.zone`), zone.text));
  writeFileSync(join(dir, "nsd.conf"), configuration(dir, options.address, port, options.zones));
  let output = "";
  const child = spawn(nsdBinary(), ["-d", "-c", join(dir, "nsd.conf")], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const done = exited(child);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await done;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  // Ready when it answers anything (REFUSED for a name it does not serve counts).
  const transport = createUdpTransport();
  const started = Date.now();
  let stopped = false;
  void done.then(() => (stopped = true));
  while (Date.now() - started < 10_000) {
    if (stopped) break;
    try {
      await transport.query({ host: options.address, port }, { name: options.zones[0]?.name ?? ".", type: "SOA", recursionDesired: false }, 200);
      return { address: options.address, port, dir, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const log = existsSync(join(dir, "nsd.log")) ? readFileSync(join(dir, "nsd.log"), "utf8") : "";
  await stop();
  throw new Error(`NSD on ${options.address}:${port} did not start:\n${output}${log}`);
}

/** A UDP "nameserver" that receives queries and never answers: a dead or firewalled server. */
export async function startSilentServer(address: string, port = 53): Promise<{ stop(): Promise<void> }> {
  const socket: Socket = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(port, address, () => resolve());
  });
  return { stop: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
