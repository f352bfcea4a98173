// Relay-style connections for the cursor-paginated lists: a query fetches
// one row more than the page to learn whether another page follows. Lists
// are paged forwards only (first/after): a page asked for with `after`
// continues an earlier one, so it has a previous page (the Relay spec lets
// forward pagination answer hasPreviousPage so, without counting what
// precedes the cursor).
import { encodeCursor } from "./validation";

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  nodes: T[];
  totalCount: number;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/**
 * `rows` as fetched with `take: first + 1`; `keyOf` gives the sort key the
 * cursor holds; `after` is the cursor the page was asked for after, if any.
 */
export function toConnection<T>(rows: T[], first: number, totalCount: number, keyOf: (row: T) => string, after?: string | null): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    nodes: page,
    totalCount,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== undefined && after !== null && after !== "",
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
