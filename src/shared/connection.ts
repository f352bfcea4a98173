// Relay-style connections for the cursor-paginated lists: a query fetches
// one row more than the page to learn whether another page follows.
import { encodeCursor } from "./validation";

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** `rows` as fetched with `take: first + 1`; `keyOf` gives the sort key the cursor holds. */
export function toConnection<T>(rows: T[], first: number, totalCount: number, keyOf: (row: T) => string): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return { edges, nodes: page, totalCount, pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null } };
}
