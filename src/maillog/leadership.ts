// Which server collects the delivery logs: the one holding a PostgreSQL
// session-level advisory lock, on a connection of its own kept open for as
// long as it collects. Every server tries for the lock before each collection
// pass; only the holder collects and prunes. When the holder stops, its
// connection closes and PostgreSQL releases the lock with its session (a
// killed process included: the server ends the session when the socket
// closes), so another server takes it at its next pass, within one
// LOG_COLLECT_INTERVAL_SECONDS. The offsets are in the database and each
// batch checks the offset it starts from (collector.ts), so a take-over
// neither skips nor repeats a line.
//
// The embedded database is one session for every connection: the lock is
// always granted there (it is re-entrant within a session), and there is one
// server anyway. Behind PgBouncer in transaction mode a session lock would be
// meaningless: DATABASE_DIRECT_URL (docs/deployment.md) gives this connection
// a direct way to PostgreSQL.
import { Client } from "pg";
import type { Logger } from "pino";

/** The lock's key: "mailcoll" in ASCII, so that it is recognisable in pg_locks (classid 1835100524, objid 1668246636). */
export const COLLECTOR_LOCK_KEY = "7881696737120709740";

export class CollectorLeadership {
  private client: Client | undefined;
  private leading = false;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Pick<Logger, "info" | "warn">,
    private readonly onChange: (leading: boolean) => void = () => {},
  ) {}

  /** Whether this server holds the lock now, taking it when it is free. */
  async lead(): Promise<boolean> {
    if (this.closed) return false;
    try {
      if (this.client && this.leading) {
        // The session is alive, so the lock is still ours.
        await this.client.query("SELECT 1");
        return true;
      }
      const client = await this.connection();
      const result = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS locked", [COLLECTOR_LOCK_KEY]);
      this.setLeading(result.rows[0]?.locked === true);
      return this.leading;
    } catch (error) {
      this.logger.warn({ err: error }, "log collector: the lock's connection failed; not collecting until it is back");
      this.drop();
      return false;
    }
  }

  get isLeading(): boolean {
    return this.leading;
  }

  /** Ends the connection, which releases the lock (server shutdown, after the pass under way). */
  async release(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    this.setLeading(false);
    await client?.end().catch(() => undefined);
  }

  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client({ connectionString: this.databaseUrl, connectionTimeoutMillis: 10_000, application_name: "mailadmin log collector" });
    // A broken connection has lost the lock with its session.
    client.on("error", (error) => {
      this.logger.warn({ err: error }, "log collector: the lock's connection broke");
      if (this.client === client) this.drop();
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    this.setLeading(false);
    client?.end().catch(() => undefined);
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.logger.info({ leading }, leading ? "log collector: this server now collects the delivery logs" : "log collector: this server no longer collects the delivery logs");
    this.onChange(leading);
  }
}
