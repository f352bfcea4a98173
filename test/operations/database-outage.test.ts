// The database goes away under traffic: requests fail fast with
// SERVICE_UNAVAILABLE, /readyz answers 503, and when the database is back the
// same server process answers again, with every write it acknowledged stored.
// The test runs a PostgreSQL cluster of its own (test/helpers/pg-cluster.ts),
// whichever database the rest of the suite uses.
import { Client } from "pg";
import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { runMigrations } from "../../src/db/migrate";
import { startApp, type RunningApp } from "../../src/app";
import { startPgCluster, type PgCluster } from "../helpers/pg-cluster";

const ADMIN_PASSWORD = "outage test support password";
/** A correctness bound (the request did not hang), not a speed target: the timeouts below are 1 to 3 s. */
const FAIL_FAST_BOUND_MS = 5_000;

interface Outcome {
  kind: "write" | "read";
  /** The error code, or undefined for a success. */
  code?: string;
  /** The account an acknowledged write created. */
  address?: string;
  startedAt: number;
  endedAt: number;
}

describe("database outage", () => {
  let cluster: PgCluster;
  let databaseUrl: string;
  let running: RunningApp;
  let url: string;
  let token: string;
  let domainId: string;

  async function gql(query: string, variables: Record<string, unknown> = {}): Promise<{ data?: any; errors?: { extensions: { code: string } }[] }> {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: any; errors?: { extensions: { code: string } }[] };
  }

  async function readyStatus(): Promise<{ status: number; elapsedMs: number }> {
    const started = Date.now();
    const response = await fetch(`${url}/readyz`);
    await response.body?.cancel();
    return { status: response.status, elapsedMs: Date.now() - started };
  }

  beforeAll(async () => {
    cluster = await startPgCluster();
    databaseUrl = await cluster.createDatabase("mailadmin_outage_test");
    await runMigrations(databaseUrl);
    const config = loadConfig({
      NODE_ENV: "test",
      DATABASE_URL: databaseUrl,
      MIGRATE_ON_START: "false",
      JWT_SECRET: "outage-test-secret-that-is-long-enough-0123456789",
      BCRYPT_COST: "4",
      BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_COLLECT_INTERVAL_SECONDS: "0",
      RATE_LIMIT_ENABLED: "false",
      DB_POOL_MAX: "4",
      DB_CONNECT_TIMEOUT_MS: "1000",
      DB_STATEMENT_TIMEOUT_MS: "2000",
    });
    running = await startApp(config, createLogger("silent"));
    await running.server.listen({ host: "127.0.0.1", port: 0 });
    const address = running.server.server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    token = (await gql(`mutation($p: String!) { login(identifier: "support", password: $p) { token } }`, { p: ADMIN_PASSWORD })).data.login.token;
    const domain = await gql(`mutation { createDomain(input: { name: "outage.example" }) { domain { id name } } }`);
    domainId = domain.data.createDomain.domain.id;
  }, 180_000);

  afterAll(async () => {
    await running?.close();
    await cluster?.destroy();
  }, 60_000);

  /**
   * Workers that create an account, then read it back (or, when the write
   * failed, read who they are), until stopped; every answer is recorded.
   */
  let trafficRuns = 0;
  function startTraffic(workers: number) {
    const run = ++trafficRuns;
    const outcomes: Outcome[] = [];
    let stopped = false;
    let sequence = 0;
    const timed = async (kind: Outcome["kind"], send: () => Promise<{ code?: string; address?: string }>) => {
      const startedAt = Date.now();
      const result = await send();
      const outcome: Outcome = { kind, ...result, startedAt, endedAt: Date.now() };
      outcomes.push(outcome);
      return outcome;
    };
    const worker = async (id: number) => {
      while (!stopped) {
        const localPart = `r${run}w${id}n${sequence++}`;
        const write = await timed("write", async () => {
          const answer = await gql(
            `mutation($d: ID!, $l: String!) { createAccount(input: { domainId: $d, localPart: $l, password: "a long enough password" }) { account { address } } }`,
            {
              d: domainId,
              l: localPart,
            },
          );
          return answer.errors ? { code: answer.errors[0]!.extensions.code } : { address: answer.data.createAccount.account.address as string };
        });
        await timed("read", async () => {
          if (!write.address) {
            const answer = await gql(`{ me { role } }`);
            return answer.errors ? { code: answer.errors[0]!.extensions.code } : {};
          }
          // An acknowledged write is there to read, whatever happened since.
          const answer = await gql(`query($a: String!) { account(address: $a) { address } }`, { a: write.address });
          if (answer.errors) return { code: answer.errors[0]!.extensions.code };
          return answer.data.account.address === write.address ? {} : { code: "WRONG_ACCOUNT" };
        });
      }
    };
    const done = Promise.all(Array.from({ length: workers }, (_, id) => worker(id)));
    return {
      outcomes,
      /** Resolves once `count` requests sent from `since` on have been answered. */
      async answeredSince(since: number, count: number, what: (outcome: Outcome) => boolean = () => true) {
        for (let waited = 0; outcomes.filter((o) => o.startedAt >= since && what(o)).length < count; waited += 20) {
          if (waited > 60_000) throw new Error(`traffic: fewer than ${count} answers in a minute`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      async stop() {
        stopped = true;
        await done;
      },
    };
  }

  const acknowledged = (outcome: Outcome) => outcome.address !== undefined;

  /**
   * Checks the answers around an outage: the database was taken away from
   * `breaking` on and was away the whole time from `from` to `to`.
   */
  function expectOutageHandled(outcomes: Outcome[], breaking: number, from: number, to: number) {
    const during = outcomes.filter((o) => o.startedAt >= from && o.endedAt <= to);
    expect(during.length).toBeGreaterThanOrEqual(10);
    // Nothing succeeded, and nothing hung.
    expect(during.filter((o) => o.code !== "SERVICE_UNAVAILABLE")).toEqual([]);
    expect(during.filter((o) => o.endedAt - o.startedAt >= FAIL_FAST_BOUND_MS)).toEqual([]);
    // Before, around and after it, every failure is SERVICE_UNAVAILABLE (no masked internal error, no lost write).
    expect(outcomes.filter((o) => o.code !== undefined && o.code !== "SERVICE_UNAVAILABLE")).toEqual([]);
    expect(outcomes.filter((o) => o.endedAt < breaking && o.code !== undefined)).toEqual([]);
  }

  /** Addresses of the accounts stored, read with a connection of the test's own, and those whose creation is audited. */
  async function storedAccounts(): Promise<{ accounts: Set<string>; audited: Set<string> }> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const accounts = await client.query<{ address: string }>(`SELECT "address" FROM "account" WHERE "domainId" = $1`, [domainId]);
      const audited = await client.query<{ address: string }>(
        `SELECT a."address" FROM "audit_entry" e JOIN "account" a ON a."id" = e."objectId" WHERE e."action" = 'account.create' AND a."domainId" = $1`,
        [domainId],
      );
      return { accounts: new Set(accounts.rows.map((row) => row.address)), audited: new Set(audited.rows.map((row) => row.address)) };
    } finally {
      await client.end();
    }
  }

  async function expectEveryAcknowledgedWriteStored(outcomes: Outcome[]) {
    const addresses = outcomes.filter(acknowledged).map((outcome) => outcome.address!);
    const { accounts, audited } = await storedAccounts();
    expect(addresses.filter((address) => !accounts.has(address))).toEqual([]);
    expect(addresses.filter((address) => !audited.has(address))).toEqual([]);
  }

  /**
   * Traffic before, during and after an outage: `breakDatabase` starts it,
   * `answersDuringOutage` answers come while it lasts, `restore` ends it.
   * Every request fails fast or succeeds, /readyz follows, and nothing
   * acknowledged is lost.
   */
  async function outageUnderTraffic(breakDatabase: () => unknown, answersDuringOutage: number, restore: () => unknown) {
    const traffic = startTraffic(3);
    let breaking = 0;
    let from = 0;
    let to = 0;
    try {
      await traffic.answeredSince(0, 10, acknowledged);
      breaking = Date.now();
      await breakDatabase();
      from = Date.now();
      await traffic.answeredSince(from, answersDuringOutage);
      const notReady = await readyStatus();
      expect(notReady.status).toBe(503);
      expect(notReady.elapsedMs).toBeLessThan(FAIL_FAST_BOUND_MS);
      to = Date.now();
      await restore();
      await traffic.answeredSince(Date.now(), 10, acknowledged);
    } finally {
      await traffic.stop();
    }
    expectOutageHandled(traffic.outcomes, breaking, from, to);
    expect((await readyStatus()).status).toBe(200);
    await expectEveryAcknowledgedWriteStored(traffic.outcomes);
  }

  it("fails fast with SERVICE_UNAVAILABLE while PostgreSQL is stopped, and recovers when it starts again", async () => {
    await outageUnderTraffic(
      () => cluster.stop("immediate"),
      30,
      () => cluster.start(),
    );
  }, 180_000);

  it("fails fast with SERVICE_UNAVAILABLE while PostgreSQL hangs (connections open, no answers), and recovers when it answers again", async () => {
    await outageUnderTraffic(
      () => cluster.pause(),
      12,
      () => cluster.resume(),
    );
  }, 180_000);
});
