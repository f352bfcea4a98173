// The embedded database: PGlite (Postgres compiled to WebAssembly) kept in
// files under a data directory and served in-process over the Postgres wire
// protocol, so that the same driver (pg + @prisma/adapter-pg) and the same
// `prisma migrate deploy` serve it and a real PostgreSQL.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
/**
 * Claims a data directory for this process. PGlite's files must never be
 * opened by two processes (the server and `npm run logs:collect`, say): the
 * second would corrupt them. A lock file holds the owner's pid; a stale one
 * (its process gone) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = join(dataDir, "mailadmin.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockPath, "utf8"));
      if (owner && owner !== process.pid && processIsAlive(owner)) {
        throw new Error(`the embedded database in ${dataDir} is in use by process ${owner} (stop it first, or use PostgreSQL to share a database)`);
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`could not lock ${lockPath}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function startEmbeddedDatabase(dataDir: string, port = 0): Promise<EmbeddedDatabase> {
  let unlock = () => {};
  if (!dataDir.startsWith("memory://")) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir);
  } catch (error) {
    unlock();
    throw error;
  }
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port, maxConnections: 8 });
  await server.start();
  const address = server.getServerConn();
  return {
    url: `postgresql://postgres@${address}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
      unlock();
    },
  };
}
