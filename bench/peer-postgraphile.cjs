// The PostGraphile peer of `npm run bench:peers` (bench/peers.ts): PostGraphile v5
// with the aggregates plugin on mailadmin's tables, served by grafserv's Node
// adaptor, no authentication. Not part of mailadmin: bench/peers.ts installs
// PostGraphile into a folder of its own (--peer-dir), copies this file there
// and forks it from there, so that `require` finds that folder's packages.
//
// Plain CommonJS on purpose: the polyfill below must run before PostGraphile
// loads, and mailadmin's TypeScript build knows nothing of these packages.
//
// Environment: DATABASE_URL, PORT (0 for any free port), HOST (127.0.0.1),
// POOL_MAX (the pg pool's size, as mailadmin's DB_POOL_MAX).
"use strict";

// PostGraphile 5 wants Node 22 (Promise.withResolvers); mailadmin runs on
// Node 20. This process only, never mailadmin's.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((yes, no) => {
      resolve = yes;
      reject = no;
    });
    return { promise, resolve, reject };
  };
}

const { createServer } = require("node:http");
const { Pool } = require("pg");
const { postgraphile } = require("postgraphile");
const { PostGraphileAmberPreset } = require("postgraphile/presets/amber");
const { makePgService } = require("postgraphile/adaptors/pg");
const { grafserv } = require("postgraphile/grafserv/node");
const { PgAggregatesPreset } = require("@graphile/pg-aggregates");

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX || 10) });
  const preset = {
    extends: [PostGraphileAmberPreset, PgAggregatesPreset],
    pgServices: [makePgService({ pool, schemas: ["public"] })],
    grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
    grafast: { explain: false },
  };
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  await serv.addTo(server, false);
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(Number(process.env.PORT || 0), process.env.HOST || "127.0.0.1", resolve);
  });
  // Builds the schema before the first request is measured.
  await pgl.getSchema();
  const stop = () => {
    server.close();
    server.closeAllConnections();
    Promise.resolve(pgl.release())
      .then(() => pool.end())
      .finally(() => process.exit(0));
  };
  process.on("message", (message) => {
    if (message && message.type === "stop") stop();
  });
  process.on("disconnect", stop);
  process.send?.({ type: "listening", port: server.address().port });
}

main().catch((error) => {
  process.stderr.write(`postgraphile peer: failed to start: ${(error && error.stack) || error}\n`);
  process.exit(1);
});
