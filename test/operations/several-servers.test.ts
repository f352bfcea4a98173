// Three real server processes (src/main.ts) against one PostgreSQL, as behind
// a load balancer: a login rate limit reached across servers; an import
// started on one read from another; the log collector running on exactly one,
// taken over when its server is killed, with no delivery record stored twice;
// and a draining server's /readyz. PostgreSQL only: the embedded database
// belongs to one process.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess, type ServerProcess } from "../helpers/server-process";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeDomain, PASSWORD, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";

const onPostgres = process.env.TEST_DATABASE_KIND === "postgresql";
const LEADS = '"msg":"log collector: this server now collects the delivery logs"';

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function gql(url: string, query: string, variables: Record<string, unknown>, token?: string) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

(onPostgres ? describe : describe.skip)("three servers on one PostgreSQL", () => {
  let app: TestApp;
  let directory: string;
  const servers: ServerProcess[] = [];
  const urls: string[] = [];
  const source = uniqueName("lb");
  let token: string;
  let supportName: string;

  beforeAll(async () => {
    app = await startTestApp();
    const support = await supportAdmin(app);
    supportName = support.username;
    token = await tokenFor(app, support);
    directory = mkdtempSync(join(tmpdir(), "mailadmin-three-"));
    writeFileSync(join(directory, "maillog"), `${Array.from({ length: 3000 }, () => logLine({ subject: source })).join("\n")}\n`);
    for (let index = 0; index < 3; index++) {
      const server = startServerProcess({
        DATABASE_URL: process.env.DATABASE_URL!,
        JWT_SECRET: app.config.JWT_SECRET,
        DB_POOL_MAX: "3",
        BOOTSTRAP_ADMIN_USERNAME: uniqueName("bootstrap"),
        BOOTSTRAP_ADMIN_PASSWORD: "a bootstrap password",
        RATE_LIMIT_LOGIN_PER_MINUTE: "6",
        LOG_SOURCES: JSON.stringify([{ name: source, path: join(directory, "maillog") }]),
        LOG_COLLECT_INTERVAL_SECONDS: "1",
        SHUTDOWN_DRAIN_SECONDS: "2",
      });
      servers.push(server);
    }
    for (const server of servers) urls.push(await server.listening);
  }, 120_000);
  afterAll(async () => {
    for (const server of servers) if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill("SIGKILL");
    await Promise.all(servers.map((server) => server.exited));
    rmSync(directory, { recursive: true, force: true });
    await app.close();
  });

  it("counts logins across the servers: the seventh, on whichever server, is refused", async () => {
    const LOGIN = `mutation($u: String!, $p: String!) { login(identifier: $u, password: $p) { token } }`;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 6; attempt++) statuses.push((await gql(urls[attempt % 3]!, LOGIN, { u: supportName, p: PASSWORD })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    for (const url of urls) {
      const refused = await gql(url, LOGIN, { u: supportName, p: PASSWORD });
      expect(refused.status).toBe(429);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", limit: "login", max: 6 });
    }
  });

  it("reads an import started on one server from another, to its end", async () => {
    const domain = (await makeDomain(app)).domain.name;
    const addresses = Array.from({ length: 30 }, (_, index) => `${uniqueName("lb")}${index}@${domain}`);
    const START = `mutation($input: StartAccountImportInput!) { startAccountImport(input: $input) { id phase rowsTotal } }`;
    const READ = `query($id: ID!) { accountImport(id: $id) { id phase rowsTotal createdCount failedCount failure } }`;
    const content = `address,password\n${addresses.map((address, index) => `${address},Secret-Passw0rd-${index}`).join("\n")}\n`;
    const started = await gql(urls[0]!, START, { input: { content, mode: "PER_ROW" } }, token);
    expect(started.body.errors).toBeUndefined();
    const id = started.body.data.startAccountImport.id as string;
    const report = await until("the import to end (read from the second server)", async () => {
      const read = await gql(urls[1]!, READ, { id }, token);
      expect(read.body.errors).toBeUndefined();
      const view = read.body.data.accountImport;
      return ["DONE", "FAILED"].includes(view.phase) ? view : undefined;
    });
    expect(report).toMatchObject({ id, phase: "DONE", rowsTotal: 30, createdCount: 30, failedCount: 0, failure: null });
    expect(await app.deps.db.account.count({ where: { address: { in: addresses } } })).toBe(30);
  });

  it("collects on exactly one server; when it is killed another takes over, and no record is stored twice", async () => {
    const stored = () => app.deps.db.mailLogRecord.count({ where: { sourceName: source } });
    await until("the first 3000 lines stored", async () => (await stored()) === 3000);
    const leaders = servers.map((server, index) => (server.output().includes(LEADS) ? index : -1)).filter((index) => index >= 0);
    expect(leaders).toHaveLength(1);
    const leader = leaders[0]!;
    // Mid-way through a file: more lines arrive, and the collecting server dies without a word.
    appendFileSync(join(directory, "maillog"), `${Array.from({ length: 2000 }, () => logLine({ subject: source })).join("\n")}\n`);
    servers[leader]!.child.kill("SIGKILL");
    await servers[leader]!.exited;
    const successor = await until("another server to take over", async () => {
      const found = servers.findIndex((server, index) => index !== leader && server.output().includes(LEADS));
      return found >= 0 ? found + 1 : undefined;
    });
    await until("all 5000 lines stored", async () => (await stored()) === 5000);
    // Exactly one took over; the third never collected.
    expect(servers.filter((server, index) => index !== leader && server.output().includes(LEADS))).toHaveLength(1);
    expect(successor - 1).not.toBe(leader);
    // Every line once: no record twice (the fingerprint is unique), none skipped, the offset at the end of the file.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await stored()).toBe(5000);
    const offsets = await app.deps.db.logFileOffset.findMany({ where: { sourceName: source } });
    expect(offsets).toHaveLength(1);
    expect(offsets[0]!.lineNumber).toBe(5000);
  }, 90_000);

  it("a server told to stop drains first: /readyz answers 503 draining while requests are still served, then it exits 0", async () => {
    const alive = servers.map((server, index) => ({ server, url: urls[index]! })).filter(({ server }) => server.child.exitCode === null && server.child.signalCode === null);
    const { server, url } = alive[0]!;
    server.child.kill("SIGTERM");
    const draining = await until("/readyz to say draining", async () => {
      const response = await fetch(`${url}/readyz`);
      return response.status === 503 ? ((await response.json()) as { status: string }) : undefined;
    });
    expect(draining).toEqual({ status: "draining" });
    const served = await gql(url, "{ me { role } }", {}, token);
    expect(served.status).toBe(200);
    expect(served.body.data.me.role).toBe("SUPPORT_ADMIN");
    expect(await server.exited).toBe(0);
  });
});
