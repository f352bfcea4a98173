// Helpers of the batch loaders (src/*/*.loaders.ts).

/** The rows in the order of the keys asked for, null where a key has no row. */
export function byKey<T, K>(keys: readonly K[], rows: T[], keyOf: (row: T) => K): (T | null)[] {
  const index = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => index.get(key) ?? null);
}
