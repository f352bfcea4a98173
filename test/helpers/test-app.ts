// A real server (Fastify + Apollo) on 127.0.0.1 with a random port, over the
// run's database, and a small GraphQL client. Tests talk to it through HTTP.
import type { FastifyInstance } from "fastify";
import { Writable } from "node:stream";
import { loadConfig, type Config } from "../../src/config";
import { createLogger } from "../../src/logger";
import { createPrismaClient } from "../../src/db/prisma";
import { createPasswordHasher } from "../../src/auth/passwords";
import { createTokenService } from "../../src/auth/tokens";
import { LoginThrottle } from "../../src/auth/auth.service";
import { createServer } from "../../src/server";
import { ensureMailLogPartitions } from "../../src/maillog/partitions";
import type { AppDeps } from "../../src/app-deps";

export interface GraphQLResponse<T = any> {
  status: number;
  data?: T;
  errors?: { message: string; path?: string[]; extensions: { code: string; field?: string; [key: string]: unknown } }[];
  headers: Headers;
}

export interface TestApp {
  url: string;
  deps: AppDeps;
  config: Config;
  /** Everything the server logged, for tests that check what logs contain. */
  logLines: string[];
  /** Every SQL statement the server sent, in order. */
  statements: string[];
  /** The statements sent since `before` (an earlier statements.length) for the requests' own work: the rate limits' counting (in the database) left out. */
  workStatementsSince(before: number): string[];
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export async function startTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: "test",
    DATABASE_URL: process.env.DATABASE_URL,
    JWT_SECRET: "test-secret-that-is-long-enough-for-hs256-0123456789",
    BCRYPT_COST: "4",
    LOG_LEVEL: "info",
    // Every test client is 127.0.0.1: a per-client lockout would leak from one
    // test file into the next. Tests of that lockout set their own limit.
    LOGIN_CLIENT_MAX_FAILURES: "100000",
    // The same for request rates: tests send far more than a person would.
    // Tests of the rate limits set their own.
    RATE_LIMIT_PER_CLIENT_PER_MINUTE: "100000000",
    RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: "100000000",
    RATE_LIMIT_LOGIN_PER_MINUTE: "100000000",
    // Tests never ask the machine's own resolver: unless a test points
    // DNS_SERVERS at its local nameservers, lookups go to a closed loopback port.
    DNS_SERVERS: "127.0.0.1:9",
    // A fixed key for the DKIM private keys, and 1024-bit RSA keys: a 2048-bit
    // key costs half a second of CPU here, and the suite makes hundreds of
    // domains. The DKIM tests that sign and verify mail use 2048 bits.
    DKIM_KEY_ENCRYPTION_KEY: "dGVzdC1ka2ltLWtleS1lbmNyeXB0aW9uLWtleS0zMmI=",
    DKIM_RSA_KEY_BITS: "1024",
    ...overrides,
  });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger(config.LOG_LEVEL, sink);
  const embedded = process.env.TEST_DATABASE_KIND === "pglite";
  const statements: string[] = [];
  const db = createPrismaClient(config.DATABASE_URL!, embedded ? { max: 1, sharedSession: true } : 4, (sql) => statements.push(sql));
  const now = () => new Date();
  const deps: AppDeps = {
    db,
    config,
    passwords: createPasswordHasher(config.BCRYPT_COST),
    tokens: createTokenService(config.JWT_SECRET, config.JWT_EXPIRES_IN_SECONDS, now),
    now,
    logger,
    throttle: new LoginThrottle(db, config, now),
  };
  // Rate windows, probe counts and cached DNS checks are shared by every server on the
  // database (as in production), and every test client is 127.0.0.1: each test
  // app starts from none, so that one test file's requests do not count in the next.
  for (const table of ["rate_limit_window", "probe_hit", "dns_check_cache"]) await db.$executeRawUnsafe(`DELETE FROM "${table}"`);
  // As startApp does: the delivery log's partitions of this week and the coming ones.
  await ensureMailLogPartitions(db, now());
  const server: FastifyInstance = await createServer(deps);
  await server.listen({ host: "127.0.0.1", port: 0 });
  const address = server.server.address();
  if (!address || typeof address === "string") throw new Error("server has no TCP address");
  const url = `http://127.0.0.1:${address.port}`;

  return {
    url,
    deps,
    config,
    logLines,
    statements,
    workStatementsSince: (before) => statements.slice(before).filter((sql) => !isRateLimitCounting(sql)),
    async gql(query, variables, token, headers = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: any; errors?: any };
      return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
    },
    async close() {
      await server.close();
      await deps.passwords.close();
      await db.$disconnect();
    },
  };
}

/** The first error's code, or undefined when the request succeeded. */
export function errorCode(response: GraphQLResponse): string | undefined {
  return response.errors?.[0]?.extensions.code;
}

/** A statement of the rate limits' counting, which every request sends first (its windows are in the database, shared by the servers). */
export function isRateLimitCounting(sql: string): boolean {
  return sql.includes('"rate_limit_window"');
}
