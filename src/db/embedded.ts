// The embedded database: PGlite (Postgres compiled to WebAssembly) kept in
// files under a data directory and served in-process over the Postgres wire
// protocol, so that the same driver (pg + @prisma/adapter-pg) and the same
// `prisma migrate deploy` serve it and a real PostgreSQL.
import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedDatabase {
  /** postgresql:// URL of the socket server, for pg, Prisma and the Prisma CLI. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts PGlite on `dataDir` (created when missing; `memory://` for a
 * throw-away database) and a socket server on 127.0.0.1:`port` (0: any free port).
 *
 * PGlite is a single Postgres session. The socket server queues the clients'
 * messages and keeps an open transaction's owner first, but the application
 * still uses a pool of one connection so that nothing interleaves; the extra
 * connections allowed here are for the migration CLI and tooling.
 */
export async function startEmbeddedDatabase(dataDir: string, port = 0): Promise<EmbeddedDatabase> {
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port, maxConnections: 8 });
  await server.start();
  const address = server.getServerConn();
  return {
    url: `postgresql://postgres@${address}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
