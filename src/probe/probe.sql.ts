// The probes' sliding windows, counted in the database so that every server
// against it (and the embedded database, the same SQL) counts a user's and a
// target's probes once. A take locks its two keys (advisory locks held to the
// end of its transaction, taken in key order), counts their hits of the
// window, and records the new hit only when both allow it.
import type { PrismaClient } from "../generated/prisma/client";

export interface KeyLimit {
  key: string;
  limit: number;
}

/**
 * Counts one hit on every key, or none; returns the index of the first key
 * over its limit and the seconds until its oldest hit leaves the window, or
 * null when the hit was counted.
 */
export async function takeProbeHit(db: PrismaClient, keys: KeyLimit[], windowMs: number, now: Date): Promise<{ refused: number; waitSeconds: number } | null> {
  const cutoff = new Date(now.getTime() - windowMs);
  const names = keys.map((entry) => entry.key);
  return db.$transaction(async (tx) => {
    for (const key of [...names].sort()) await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${`mailadmin.probe ${key}`}))::text AS "locked"`;
    await tx.$executeRaw`DELETE FROM "probe_hit" WHERE "at" <= ${cutoff}`;
    const counts = await tx.$queryRaw<{ key: string; hits: number; oldest: Date }[]>`
      SELECT "key", count(*)::int AS "hits", min("at") AS "oldest" FROM "probe_hit" WHERE "key" = ANY(${names}) AND "at" > ${cutoff} GROUP BY "key"`;
    for (const [index, entry] of keys.entries()) {
      const count = counts.find((row) => row.key === entry.key);
      if (count && count.hits >= entry.limit) {
        return { refused: index, waitSeconds: Math.max(1, Math.ceil((count.oldest.getTime() + windowMs - now.getTime()) / 1000)) };
      }
    }
    await tx.$executeRaw`INSERT INTO "probe_hit" ("key", "at") SELECT unnest(${names}::text[]), ${now}`;
    return null;
  });
}
