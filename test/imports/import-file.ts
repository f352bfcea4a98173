// A large import file for the tests: mostly good rows, with bad rows of every
// kind at known places, and what the import must say about each of them.
import bcrypt from "bcrypt";
import type { Domain } from "../../src/generated/prisma/client";
import { uniqueName } from "../helpers/factories";

export interface ExpectedError {
  field: string | null;
  code: string;
}

export interface ImportFile {
  csv: string;
  /** Every row (from 1) with errors, and those errors in order. */
  expected: Map<number, ExpectedError[]>;
  /** The address of every good row, and the password it logs in with. */
  good: { row: number; address: string; password: string; quotaMb: number | null; displayName: string; status: string; viaHash: boolean }[];
  rows: number;
  /** Every address of the file starts with it. */
  prefix: string;
}

export interface ImportWorld {
  /** Where the good rows go (no limits). */
  main: Domain;
  /** quotaMb 1000, default mailbox quota 100: the 11th row of 100 MiB no longer fits. */
  quota: Domain;
  /** maxAccounts 4: its administrator and three more. */
  limited: Domain;
  /** An account that exists already. */
  existingAddress: string;
}

export const HASHED_PASSWORD = "migrated password 123";
/** A bcrypt hash made by "another system", at cost 4 like the tests' own. */
export const MIGRATED_HASH = bcrypt.hashSync(HASHED_PASSWORD, 4);

function cell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * `rows` rows; every `passwordEvery`-th good row has a password to hash,
 * the others the migrated hash (hashing is what takes time).
 */
export function buildImportFile(world: ImportWorld, rows: number, options: { withBadRows: boolean; passwordEvery?: number; prefix?: string }): ImportFile {
  const prefix = options.prefix ?? uniqueName("imp");
  const passwordEvery = options.passwordEvery ?? 4;
  const lines = ["address,password,passwordHash,quotaMb,displayName,status"];
  const expected = new Map<number, ExpectedError[]>();
  const good: ImportFile["good"] = [];
  const bad = (row: number, line: string, errors: ExpectedError[]) => {
    lines.push(line);
    expected.set(row, errors);
  };
  const unknownDomain = `${uniqueName("nowhere")}.example`;
  // Bad rows of every kind, spread through the file; the rest is good.
  const badAt = new Map<number, (row: number) => void>(
    options.withBadRows
      ? [
          [7, (row) => bad(row, `not-an-address,${cell("a good long password")},,,,`, [{ field: "address", code: "BAD_USER_INPUT" }])],
          [250, (row) => bad(row, `${prefix}-x@${unknownDomain},a good long password,,,,`, [{ field: "address", code: "NOT_FOUND" }])],
          // Row 9 is a good row (see below): this one repeats its address.
          [1200, (row) => bad(row, `${prefix}-9@${world.main.name},a good long password,,,,`, [{ field: "address", code: "CONFLICT" }])],
          [2500, (row) => bad(row, `${world.existingAddress},a good long password,,,,`, [{ field: "address", code: "CONFLICT" }])],
          [3000, (row) => bad(row, `${prefix}-short@${world.main.name},short,,,,`, [{ field: "password", code: "BAD_USER_INPUT" }])],
          [3001, (row) => bad(row, `${prefix}-q@${world.main.name},a good long password,,lots,,`, [{ field: "quotaMb", code: "BAD_USER_INPUT" }])],
          [3002, (row) => bad(row, `${prefix}-s@${world.main.name},a good long password,,,,DELETED`, [{ field: "status", code: "BAD_USER_INPUT" }])],
          [3003, (row) => bad(row, `${prefix}-both@${world.main.name},a good long password,${MIGRATED_HASH},,,`, [{ field: "password", code: "BAD_USER_INPUT" }])],
          [3004, (row) => bad(row, `${prefix}-hash@${world.main.name},,$2b$04$tooshort,,,`, [{ field: "passwordHash", code: "BAD_USER_INPUT" }])],
          [3005, (row) => bad(row, `${prefix}-cells@${world.main.name},a good long password`, [{ field: null, code: "BAD_USER_INPUT" }])],
          [3006, (row) => bad(row, `,a good long password,,,,`, [{ field: "address", code: "BAD_USER_INPUT" }])],
          // Several problems in one row are all reported.
          [
            3007,
            (row) =>
              bad(row, `${prefix}-many@${world.main.name},short,,-5,,GONE`, [
                { field: "password", code: "BAD_USER_INPUT" },
                { field: "quotaMb", code: "BAD_USER_INPUT" },
                { field: "status", code: "BAD_USER_INPUT" },
              ]),
          ],
          // The quota domain: ten rows of 100 MiB fit its 1000 MiB, the eleventh does not.
          ...Array.from({ length: 11 }, (_, index): [number, (row: number) => void] => [
            5000 + index,
            (row) => {
              const address = `${prefix}-quota${index}@${world.quota.name}`;
              if (index < 10) {
                lines.push(`${address},a good long password,,,,`);
                good.push({ row, address, password: "a good long password", quotaMb: null, displayName: "", status: "ACTIVE", viaHash: false });
              } else {
                bad(row, `${address},a good long password,,,,`, [{ field: "quotaMb", code: "QUOTA_EXCEEDED" }]);
              }
            },
          ]),
          // The limited domain: three rows fit beside its administrator, the fourth does not.
          ...Array.from({ length: 4 }, (_, index): [number, (row: number) => void] => [
            6000 + index,
            (row) => {
              const address = `${prefix}-limit${index}@${world.limited.name}`;
              if (index < 3) {
                lines.push(`${address},,${MIGRATED_HASH},0,,`);
                good.push({ row, address, password: HASHED_PASSWORD, quotaMb: 0, displayName: "", status: "ACTIVE", viaHash: true });
              } else {
                bad(row, `${address},,${MIGRATED_HASH},0,,`, [{ field: "address", code: "QUOTA_EXCEEDED" }]);
              }
            },
          ]),
        ]
      : [],
  );
  for (let row = 1; row <= rows; row++) {
    const special = badAt.get(row);
    if (special) {
      special(row);
      continue;
    }
    const address = `${prefix}-${row}@${world.main.name}`;
    const displayName = row % 3 === 0 ? `User "${row}", imported` : `User ${row}`;
    const status = row % 50 === 0 ? "SUSPENDED" : "ACTIVE";
    const quotaMb = row % 2 === 0 ? 200 : null;
    const viaHash = row % passwordEvery !== 0;
    const password = viaHash ? HASHED_PASSWORD : `password of row ${row}`;
    lines.push([address, viaHash ? "" : password, viaHash ? MIGRATED_HASH : "", quotaMb ?? "", cell(displayName), status === "ACTIVE" && row % 7 === 0 ? "" : status].join(","));
    good.push({ row, address, password, quotaMb, displayName, status, viaHash });
  }
  return { csv: `${lines.join("\n")}\n`, expected, good, rows, prefix };
}
