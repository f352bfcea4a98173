import { loadConfig } from "../../src/config";
import { createLogger } from "../../src/logger";
import { createPrismaClient } from "../../src/db/prisma";
import { createPasswordHasher } from "../../src/auth/passwords";
import { createTokenService } from "../../src/auth/tokens";
import { LoginThrottle } from "../../src/auth/auth.service";
import { createServer } from "../../src/server";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeDomain, supportAdmin, tokenFor } from "../helpers/factories";

describe("health, readiness and error masking", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it("answers /healthz and /readyz while the database answers", async () => {
    expect(await (await fetch(`${app.url}/healthz`)).json()).toEqual({ status: "ok" });
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it("answers /readyz 503 and GraphQL SERVICE_UNAVAILABLE when the database does not answer", async () => {
    // A database URL where nothing listens (port 9 on loopback: discard, closed here).
    const config = loadConfig({ NODE_ENV: "test", JWT_SECRET: "x".repeat(40), DATABASE_URL: "postgresql://postgres@127.0.0.1:9/none" });
    const db = createPrismaClient(config.DATABASE_URL!, 1);
    const now = () => new Date();
    const passwords = createPasswordHasher(4);
    const server = await createServer({
      db,
      config,
      passwords,
      tokens: createTokenService(config.JWT_SECRET, 3600, now),
      now,
      logger: createLogger("silent"),
      throttle: new LoginThrottle(db, config, now),
    });
    await server.listen({ host: "127.0.0.1", port: 0 });
    const address = server.server.address();
    const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const post = async (body: unknown, headers: Record<string, string> = {}) => {
      const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
      return (await response.json()) as { errors: { extensions: { code: string } }[] };
    };
    try {
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(503);
      const token = createTokenService(config.JWT_SECRET, 3600, now).issue({ sub: "someone", kind: "support", ver: 0 }).token;
      const me = await post({ query: "{ me { role } }" }, { authorization: `Bearer ${token}` });
      expect(me.errors[0]!.extensions.code).toBe("SERVICE_UNAVAILABLE");
      const login = await post({ query: `mutation { login(identifier: "support", password: "whatever password") { token } }` });
      expect(login.errors[0]!.extensions.code).toBe("SERVICE_UNAVAILABLE");
    } finally {
      await server.close();
      await passwords.close();
      await db.$disconnect();
    }
  });

  it("masks unexpected errors for the client and logs their cause with the request id", async () => {
    const { domain } = await makeDomain(app);
    // Break an invariant behind the API's back: a domain without an administrator.
    await app.deps.db.domainAdmin.delete({ where: { domainId: domain.id } });
    const response = await app.gql(`query($id: ID!) { domain(id: $id) { admin { address } } }`, { id: domain.id }, await tokenFor(app, await supportAdmin(app)));
    const error = response.errors![0]!;
    expect(error.extensions.code).toBe("INTERNAL_SERVER_ERROR");
    expect(error.message).not.toMatch(/administrator|domain/);
    expect(error.extensions.requestId).toBe(response.headers.get("x-request-id"));
    const logged = app.logLines.find((line) => line.includes(String(error.extensions.requestId)) && line.includes("has no administrator"));
    expect(logged).toBeDefined();
  });

  it("rejects wrongly typed variables as BAD_USER_INPUT and unknown fields as validation failures", async () => {
    const token = await tokenFor(app, await supportAdmin(app));
    const wrongType = await app.gql(`mutation($q: Int) { createDomain(input: { name: "x.example", quotaMb: $q }) { domain { id } } }`, { q: "lots" }, token);
    expect(wrongType.errors![0]!.extensions.code).toBe("BAD_USER_INPUT");
    const tooBig = await app.gql(`mutation($q: Int) { createDomain(input: { name: "x.example", quotaMb: $q }) { domain { id } } }`, { q: 2 ** 31 }, token);
    expect(tooBig.errors![0]!.extensions.code).toBe("BAD_USER_INPUT");
    const unknownField = await app.gql(`{ domains { nodes { secret } } }`, {}, token);
    expect(unknownField.errors![0]!.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});
