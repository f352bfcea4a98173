// The floor of `npm run bench:peers` (bench/peers.ts): the least a server can
// do to answer the page of 50 domains that bench/http.ts's DOMAINS_PAGE asks
// mailadmin for. Fastify 5 and pg, one prepared statement, the answer in the
// same JSON shape with the same values (bench/peers.ts checks it against
// mailadmin's), and nothing else: no authentication, no authorization, no
// GraphQL, no logging, no metrics. Any POST /graphql gets the page, whatever
// its body (Fastify still parses it as JSON).
//
// A process of its own, forked by bench/peers.ts: DATABASE_URL, PORT (0 for
// any free port), HOST, POOL_MAX (the pool's size, as mailadmin's DB_POOL_MAX).
import Fastify from "fastify";
import { Pool } from "pg";

const PAGE_SIZE = 50;

// Which domains, their administrators and their totals, in one statement, as
// mailadmin's listDomains reads them (src/domains/domains.service.ts).
const PAGE_SQL = `
  WITH page AS (SELECT "id", "name", "status", "quotaMb", "maxAccounts" FROM "domain" ORDER BY "name" LIMIT $1)
  SELECT page.*, (SELECT count(*) FROM "domain") AS "totalCount",
         a."id" AS "adminId", a."address" AS "adminAddress", a."displayName" AS "adminDisplayName",
         u."accountCount", u."allocatedQuotaMb", u."usedMb"
    FROM page
    LEFT JOIN "domain_admin" da ON da."domainId" = page."id"
    LEFT JOIN "account" a ON a."id" = da."accountId"
    LEFT JOIN (SELECT "domainId", count(*) AS "accountCount", sum("quotaMb"::bigint) AS "allocatedQuotaMb", sum("usedMb"::bigint) AS "usedMb"
                 FROM "account" WHERE "domainId" IN (SELECT "id" FROM page) GROUP BY "domainId") u ON u."domainId" = page."id"
   ORDER BY page."name"`;

interface PageRow {
  id: string;
  name: string;
  status: string;
  quotaMb: number | null;
  maxAccounts: number | null;
  totalCount: string;
  adminId: string | null;
  adminAddress: string | null;
  adminDisplayName: string | null;
  accountCount: string | null;
  allocatedQuotaMb: string | null;
  usedMb: string | null;
}

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 10) });
  const app = Fastify({ logger: false });
  app.post("/graphql", async () => {
    const { rows } = await pool.query<PageRow>({ name: "floor_domains_page", text: PAGE_SQL, values: [PAGE_SIZE + 1] });
    const page = rows.slice(0, PAGE_SIZE);
    const nodes = page.map((row) => ({
      id: row.id,
      name: row.name,
      status: row.status,
      quotaMb: row.quotaMb,
      maxAccounts: row.maxAccounts,
      accountCount: Number(row.accountCount ?? 0),
      allocatedQuotaMb: Number(row.allocatedQuotaMb ?? 0),
      usedMb: Number(row.usedMb ?? 0),
      admin: row.adminId === null ? null : { id: row.adminId, address: row.adminAddress, displayName: row.adminDisplayName },
    }));
    const last = page.at(-1);
    return {
      data: {
        domains: {
          totalCount: Number(rows[0]?.totalCount ?? 0),
          pageInfo: { hasNextPage: rows.length > PAGE_SIZE, endCursor: last ? Buffer.from(last.name, "utf8").toString("base64url") : null },
          nodes,
        },
      },
    };
  });
  await app.listen({ host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 0) });
  const address = app.server.address();
  if (!address || typeof address === "string") throw new Error("the floor has no TCP address");
  const stop = () => {
    void app
      .close()
      .then(() => pool.end())
      .finally(() => process.exit(0));
  };
  process.on("message", (message: { type?: string }) => {
    if (message.type === "stop") stop();
  });
  process.on("disconnect", stop);
  process.send?.({ type: "listening", port: address.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`floor: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
