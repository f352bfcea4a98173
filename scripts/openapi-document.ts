// Writes the OpenAPI document the server serves at GET /api/v1/openapi.json
// to a file (default: stdout), for Redocly CLI (npm run lint:contracts).
// The server is built in-process and asked through Fastify's inject: nothing
// listens, and its database client is never used (openapi.json reads none).
import { writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/logger";
import { createPrismaClient } from "../src/db/prisma";
import { createPasswordHasher } from "../src/auth/passwords";
import { createTokenService } from "../src/auth/tokens";
import { LoginThrottle } from "../src/auth/auth.service";
import { createServer } from "../src/server";

async function main(): Promise<void> {
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "warn", BCRYPT_COST: "4" });
  const logger = createLogger(config.LOG_LEVEL, new Writable({ write: (_chunk, _encoding, done) => done() }));
  // A client that is never asked anything: nothing connects.
  const db = createPrismaClient("postgresql://unused@127.0.0.1:1/unused", 1);
  const now = () => new Date();
  const passwords = createPasswordHasher(config.BCRYPT_COST, 1);
  const server = await createServer({
    db,
    config,
    passwords,
    tokens: createTokenService(config.JWT_SECRET, config.JWT_EXPIRES_IN_SECONDS, now),
    now,
    logger,
    throttle: new LoginThrottle(db, config, now),
  });
  try {
    const response = await server.inject({ method: "GET", url: "/api/v1/openapi.json" });
    if (response.statusCode !== 200) throw new Error(`GET /api/v1/openapi.json answered ${response.statusCode}: ${response.body}`);
    const document = `${JSON.stringify(response.json(), null, 2)}\n`;
    const target = process.argv[2];
    if (target) writeFileSync(target, document);
    else process.stdout.write(document);
  } finally {
    await server.close();
    await passwords.close?.();
    await db.$disconnect();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`openapi-document: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
