// SIGTERM to the real server process (src/main.ts): it stops accepting, lets
// the request and the log collection under way finish, closes the database
// and exits 0; past SHUTDOWN_TIMEOUT_SECONDS it gives up and exits non-zero.
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess, type ServerProcess } from "../helpers/server-process";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";

/** Resolves with true when a TCP connection to the port is refused, false when it is accepted. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED") resolve(true);
      // A connection that reached the listening socket's backlog as it closed
      // is reset by the kernel, not served: not refused yet, ask again.
      else if (error.code === "ECONNRESET") resolve(false);
      else reject(error);
    });
  });
}

async function untilRefused(port: number): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    if (await refused(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`127.0.0.1:${port} still accepts connections`);
}

/** A DNS "server" that receives queries and never answers: a DNS check against it waits for its timeouts. */
async function silentDnsServer(): Promise<{ port: number; queried: Promise<void>; close(): void }> {
  const socket: UdpSocket = createSocket("udp4");
  const queried = new Promise<void>((resolve) => socket.once("message", () => resolve()));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { port: socket.address().port, queried, close: () => socket.close() };
}

const portOf = (url: string) => Number(new URL(url).port);

describe("graceful shutdown on SIGTERM", () => {
  let app: TestApp;
  let token: string;
  const running: ServerProcess[] = [];

  beforeAll(async () => {
    app = await startTestApp();
    token = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(async () => {
    for (const server of running) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGKILL");
    await app.close();
  });

  /** The real server on the run's database, with the test app's JWT secret (so its tokens work there). */
  function startServer(env: Record<string, string>): ServerProcess {
    const server = startServerProcess({
      DATABASE_URL: process.env.DATABASE_URL!,
      JWT_SECRET: app.config.JWT_SECRET,
      DB_POOL_MAX: "2",
      // Only used when the run's database has no support admin yet.
      BOOTSTRAP_ADMIN_USERNAME: uniqueName("bootstrap"),
      BOOTSTRAP_ADMIN_PASSWORD: "a bootstrap password",
      RATE_LIMIT_ENABLED: "false",
      ...env,
    });
    running.push(server);
    return server;
  }

  /**
   * Checks a domain of its own: the DNS check cache is shared by every server on
   * the database, so a domain another test already checked would be answered
   * from it without a query reaching the silent server.
   */
  async function checkDns(url: string): Promise<{ status: number; body: { data?: { checkDomainDns: { status: string } }; errors?: unknown[] } }> {
    const domainName = (await makeDomain(app)).domain.name;
    return fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `mutation($d: String!) { checkDomainDns(domain: $d) { status } }`, variables: { d: domainName } }),
    }).then(async (response) => ({ status: response.status, body: (await response.json()) as never }));
  }

  it("stops accepting, finishes the request under way, and exits 0 with the port closed", async () => {
    const dns = await silentDnsServer();
    try {
      const server = startServer({ DNS_SERVERS: `127.0.0.1:${dns.port}`, DNS_QUERY_TIMEOUT_MS: "4000", DNS_QUERY_ATTEMPTS: "1", DNS_CHECK_TIMEOUT_MS: "4000" });
      const url = await server.listening;
      let answered = false;
      const slow = checkDns(url).finally(() => (answered = true));
      // The check is under way once its first query reaches the silent server.
      await dns.queried;
      server.child.kill("SIGTERM");
      await untilRefused(portOf(url));
      expect(answered).toBe(false);

      const response = await slow;
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data!.checkDomainDns.status).toBe("ERROR");
      expect(await server.exited).toBe(0);
      expect(server.output()).toMatch(/"msg":"shutting down[^"]*"[\s\S]*"msg":"shut down cleanly"/);
      expect(await refused(portOf(url))).toBe(true);
    } finally {
      dns.close();
    }
  }, 120_000);

  it("gives up after SHUTDOWN_TIMEOUT_SECONDS, saying so, and exits non-zero", async () => {
    const dns = await silentDnsServer();
    try {
      const server = startServer({
        DNS_SERVERS: `127.0.0.1:${dns.port}`,
        DNS_QUERY_TIMEOUT_MS: "30000",
        DNS_QUERY_ATTEMPTS: "1",
        DNS_CHECK_TIMEOUT_MS: "30000",
        SHUTDOWN_TIMEOUT_SECONDS: "1",
      });
      const url = await server.listening;
      const slow = checkDns(url).catch((error: unknown) => error);
      await dns.queried;
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(1);
      expect(server.output()).toMatch(/"timeoutSeconds":1,"msg":"shutdown did not finish within SHUTDOWN_TIMEOUT_SECONDS/);
      // The request under way was cut off with the process.
      expect(String(await slow)).toMatch(/fetch failed/);
    } finally {
      dns.close();
    }
  }, 120_000);

  it("finishes the log collection pass under way before exiting", async () => {
    const directory = mkdtempSync(join(tmpdir(), "mailadmin-shutdown-"));
    const source = uniqueName("m2k");
    const lineCount = 20_000;
    try {
      const recipient = `${uniqueName("u")}@${uniqueName("d")}.example`;
      writeFileSync(join(directory, "maillog"), `${Array.from({ length: lineCount }, () => logLine({ recipient })).join("\n")}\n`);
      const server = startServer({ LOG_SOURCES: JSON.stringify([{ name: source, path: join(directory, "maillog") }]), LOG_COLLECT_INTERVAL_SECONDS: "1" });
      const url = await server.listening;
      // The pass starts a second after the server; /metrics tells when it is under way.
      for (let attempt = 0; ; attempt++) {
        if (attempt > 3000) throw new Error("the collection pass never started");
        if (/^mailadmin_log_collection_running 1$/m.test(await (await fetch(`${url}/metrics`)).text())) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      const output = server.output();
      const collected = output.split("\n").find((line) => line.includes('"msg":"delivery logs collected"'));
      expect(collected).toBeDefined();
      expect(JSON.parse(collected!).collection).toEqual([expect.objectContaining({ source, linesRead: lineCount, accepted: lineCount, errors: [] })]);
      expect(output.indexOf('"msg":"shutting down')).toBeLessThan(output.indexOf('"msg":"delivery logs collected"'));
      expect(await app.deps.db.mailLogRecord.count({ where: { sourceName: source } })).toBe(lineCount);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 120_000);
});
