import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess } from "../helpers/server-process";

async function login(url: string, identifier: string, password: string) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token principal { role loginName } } }`,
      variables: { i: identifier, p: password },
    }),
  });
  return (await response.json()) as { data?: { login: { token: string; principal: { role: string; loginName: string } } }; errors?: unknown[] };
}

async function whoAmI(url: string, token: string) {
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: `{ me { __typename } }` }),
  });
  return (await response.json()) as { data?: { me: { __typename: string } }; errors?: unknown[] };
}

describe("server start", () => {
  it("refuses to start in production without JWT_SECRET, saying why", async () => {
    const server = startServerProcess({ NODE_ENV: "production", DATA_DIR: "/nonexistent-never-created" });
    expect(await server.exited).toBe(78);
    expect(server.output()).toMatch(/JWT_SECRET is required when NODE_ENV=production/);
  });

  it("refuses an invalid setting, naming it", async () => {
    const server = startServerProcess({ PORT: "not-a-port" });
    expect(await server.exited).toBe(78);
    expect(server.output()).toMatch(/PORT/);
  });

  it("creates and migrates the embedded database on first start, bootstraps the support admin once, and keeps data across restarts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mailadmin-start-"));
    try {
      const first = startServerProcess({ DATA_DIR: dataDir, BOOTSTRAP_ADMIN_USERNAME: "helpdesk" });
      const url = await first.listening;
      expect(first.output()).toMatch(/"applied":\["\d{14}_core".*"database migrations applied"/);
      const printed = /username "helpdesk", password "([A-Za-z0-9]{24})"/.exec(first.output());
      expect(printed).not.toBeNull();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      const firstLogin = await login(url, "helpdesk", printed![1]!);
      expect(firstLogin.data?.login.principal).toEqual({ role: "SUPPORT_ADMIN", loginName: "helpdesk" });
      // No JWT_SECRET outside production: the generated one is kept in the data directory, for its owner only.
      expect(statSync(join(dataDir, "jwt-secret")).mode & 0o777).toBe(0o600);
      // The generated password goes to the terminal once, never through the JSON log.
      const logLines = first
        .output()
        .split("\n")
        .filter((line) => line.startsWith("{"));
      expect(logLines.some((line) => line.includes(printed![1]!))).toBe(false);
      // A second process must not open the same embedded database.
      const intruder = startServerProcess({ DATA_DIR: dataDir, PORT: "0" });
      expect(await intruder.exited).toBe(1);
      expect(intruder.output()).toMatch(/is in use by process \d+/);
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);

      const second = startServerProcess({ DATA_DIR: dataDir, BOOTSTRAP_ADMIN_USERNAME: "someone-else", BOOTSTRAP_ADMIN_PASSWORD: "ignored on later starts" });
      const secondUrl = await second.listening;
      expect(second.output()).not.toMatch(/First support admin created/);
      expect(second.output()).toMatch(/"applied":\[\],"msg":"database schema is up to date"/);
      expect((await login(secondUrl, "helpdesk", printed![1]!)).data?.login.principal.loginName).toBe("helpdesk");
      // A login of the first process still works after the restart.
      expect((await whoAmI(secondUrl, firstLogin.data!.login.token)).data?.me.__typename).toBe("SupportAdmin");
      expect((await login(secondUrl, "someone-else", "ignored on later starts")).errors).toHaveLength(1);
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it("creates the first support admin from BOOTSTRAP_ADMIN_PASSWORD without printing it", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "mailadmin-start-"));
    try {
      const server = startServerProcess({ DATA_DIR: dataDir, BOOTSTRAP_ADMIN_PASSWORD: "configured admin password" });
      const url = await server.listening;
      expect(server.output()).not.toContain("configured admin password");
      expect((await login(url, "support", "configured admin password")).data?.login.principal.role).toBe("SUPPORT_ADMIN");
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
