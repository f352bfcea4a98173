// The checks of an account import, row by row and in file order: the values
// of each row, then the rules createAccount applies (the caller's right to the
// domain, one account per address, the domain's quota and maxAccounts),
// counting the rows above that would be created. The same checks run twice:
// once to validate (and for a dry run), and again inside the writing
// transaction with the domains locked, so that nothing changed in between
// can slip through.
import type { Domain } from "../generated/prisma/client";
import type { Principal } from "../auth/principal";
import { authorize } from "../auth/policy";
import { AppError, BadInputError, NotFoundError, QuotaExceededError } from "../errors";
import { checkMailboxQuota, type DomainUsage } from "../domains/domains.service";
import { MAX_TOTAL_MB, parseAddress, parseDisplayName, parsePassword } from "../shared/validation";
import type { Db } from "../audit/audit.service";
import { message } from "../i18n/messages";
import type { ImportColumn, RawRow, RowError } from "./imports.parse";

type AccountStatus = "ACTIVE" | "SUSPENDED";

/** A row whose values were read; what could not be read is in `errors`. */
export interface CheckedRow {
  row: number;
  line: number;
  rawAddress: string | null;
  /** Normalised address, local part and domain (ASCII), when the address is valid. */
  address?: string;
  localPart?: string;
  domainName?: string;
  password?: string;
  /** An existing bcrypt hash, for accounts moved from another system. */
  passwordHash?: string;
  /** null: the domain's defaultMailboxQuotaMb. undefined: not readable. */
  quotaMb?: number | null;
  displayName: string;
  status: AccountStatus;
  /** Set on an alias row: the destinations as written (checked by the alias rules when written). */
  destinations?: string[];
  errors: RowError[];
}

/** A row that passed every check, with its domain and final quota. */
export interface AcceptedRow extends CheckedRow {
  address: string;
  localPart: string;
  domain: Domain;
  quota: number;
}

/** Destinations in one cell: separated by commas, semicolons or white space. */
function destinationsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : typeof value === "string" ? value.split(/[\s,;]+/) : null;
  if (!list || list.some((entry) => typeof entry !== "string")) {
    throw new BadInputError("destinations", message("imports.row.destinations_format"));
  }
  const entries = (list as string[]).map((entry) => entry.trim()).filter((entry) => entry !== "");
  if (entries.length === 0) throw new BadInputError("destinations", message("imports.row.destinations_empty"));
  return entries.map((entry) => parseAddress(entry, "destinations").address);
}

/** The columns an alias row may not have: they describe a mailbox. */
const ACCOUNT_ONLY_COLUMNS = ["password", "passwordHash", "quotaMb", "displayName", "status"] as const;

/** bcrypt's modular crypt format; $2y$ (PHP) is the same algorithm as $2b$. */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

function errorOf(row: Pick<CheckedRow, "row" | "line" | "rawAddress">, field: ImportColumn | null, error: unknown): RowError {
  if (!(error instanceof AppError)) throw error;
  return { row: row.row, line: row.line, field, code: error.code, message: error.localized ?? error.message, address: row.rawAddress };
}

function text(value: unknown, field: ImportColumn): string {
  if (typeof value !== "string") throw new BadInputError(field, message("imports.row.must_be_text", { field }));
  return value;
}

/** A value as found in the file, for a message (JSON, cut to 40 characters). */
function shown(value: unknown): string {
  return String(JSON.stringify(value)).slice(0, 40);
}

function quotaOf(value: unknown): number {
  const number = typeof value === "number" ? value : typeof value === "string" && /^\s*\d{1,10}\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(number) || number < 0 || number > MAX_TOTAL_MB) {
    throw new BadInputError("quotaMb", message("imports.row.quota", { max: String(MAX_TOTAL_MB), value: shown(value) }));
  }
  return number;
}

function statusOf(value: unknown): AccountStatus {
  const status = typeof value === "string" ? value.trim().toUpperCase() : "";
  if (status !== "ACTIVE" && status !== "SUSPENDED") {
    throw new BadInputError("status", message("imports.row.status", { value: shown(value) }));
  }
  return status;
}

/** Reads one row's values the way createAccount reads its input, keeping every problem. */
export function checkRowValues(raw: RawRow): CheckedRow {
  const values = raw.values;
  const checked: CheckedRow = {
    row: raw.row,
    line: raw.line,
    rawAddress: typeof values.address === "string" ? values.address.slice(0, 320) : null,
    displayName: "",
    status: "ACTIVE",
    quotaMb: null,
    errors: [...raw.problems],
  };
  if (raw.unreadable) return checked;
  const attempt = (field: ImportColumn, read: () => void) => {
    try {
      read();
    } catch (error) {
      checked.errors.push(errorOf(checked, field, error));
    }
  };
  attempt("address", () => {
    if (values.address === undefined) throw new BadInputError("address", message("imports.row.address_missing"));
    const address = parseAddress(text(values.address, "address"), "address");
    checked.address = address.address;
    checked.localPart = address.localPart;
    checked.domainName = address.domain.name;
  });
  if (values.destinations !== undefined) {
    // An alias row: an address and where its mail goes, nothing of a mailbox.
    const extra = ACCOUNT_ONLY_COLUMNS.find((column) => values[column] !== undefined);
    if (extra) {
      checked.errors.push(errorOf(checked, extra, new BadInputError(extra, message("imports.row.alias_extra_column", { column: extra }))));
    }
    attempt("destinations", () => (checked.destinations = destinationsOf(values.destinations)));
    return checked;
  }
  if (values.password !== undefined && values.passwordHash !== undefined) {
    checked.errors.push(errorOf(checked, "password", new BadInputError("password", message("imports.row.password_and_hash"))));
  } else if (values.passwordHash !== undefined) {
    attempt("passwordHash", () => {
      const hash = text(values.passwordHash, "passwordHash").trim();
      if (!BCRYPT_HASH.test(hash)) {
        throw new BadInputError("passwordHash", message("imports.row.password_hash"));
      }
      checked.passwordHash = hash.replace(/^\$2y\$/, "$2b$");
    });
  } else {
    attempt("password", () => {
      if (values.password === undefined) throw new BadInputError("password", message("imports.row.password_missing"));
      checked.password = parsePassword(text(values.password, "password"), "password");
    });
  }
  if (values.quotaMb !== undefined) {
    checked.quotaMb = undefined;
    attempt("quotaMb", () => {
      checked.quotaMb = quotaOf(values.quotaMb);
    });
  }
  if (values.displayName !== undefined) attempt("displayName", () => (checked.displayName = parseDisplayName(text(values.displayName, "displayName"), "displayName")));
  if (values.status !== undefined) attempt("status", () => (checked.status = statusOf(values.status)));
  return checked;
}

/** What the rows are checked against: their domains, the domains' accounts and quotas, and the addresses taken. */
export interface DomainState {
  domainsByName: Map<string, Domain>;
  usageByDomainId: Map<string, DomainUsage>;
  existingAddresses: Set<string>;
  /** Addresses of existing aliases: an account row there is refused, an alias row too. */
  existingAliases: Set<string>;
}

const LOOKUP_CHUNK = 5000;

export async function loadDomainState(db: Db, rows: Pick<CheckedRow, "address" | "domainName">[]): Promise<DomainState> {
  const names = [...new Set(rows.flatMap((row) => (row.domainName ? [row.domainName] : [])))];
  const addresses = [...new Set(rows.flatMap((row) => (row.address ? [row.address] : [])))];
  const domains = names.length > 0 ? await db.domain.findMany({ where: { name: { in: names } } }) : [];
  const usage =
    domains.length > 0
      ? await db.account.groupBy({
          by: ["domainId"],
          where: { domainId: { in: domains.map((domain) => domain.id) } },
          _count: { _all: true },
          _sum: { quotaMb: true, usedMb: true },
        })
      : [];
  const existingAddresses = new Set<string>();
  const existingAliases = new Set<string>();
  for (let start = 0; start < addresses.length; start += LOOKUP_CHUNK) {
    const chunk = addresses.slice(start, start + LOOKUP_CHUNK);
    const found = await db.account.findMany({ where: { address: { in: chunk } }, select: { address: true } });
    for (const { address } of found) existingAddresses.add(address);
    const aliases = await db.alias.findMany({ where: { address: { in: chunk } }, select: { address: true } });
    for (const { address } of aliases) existingAliases.add(address);
  }
  const usageByDomainId = new Map<string, DomainUsage>(domains.map((domain) => [domain.id, { accountCount: 0, allocatedQuotaMb: 0, usedMb: 0 }]));
  for (const entry of usage) {
    usageByDomainId.set(entry.domainId, {
      accountCount: entry._count._all,
      allocatedQuotaMb: Number(entry._sum.quotaMb ?? 0),
      usedMb: Number(entry._sum.usedMb ?? 0),
    });
  }
  return { domainsByName: new Map(domains.map((domain) => [domain.name, domain])), usageByDomainId, existingAddresses, existingAliases };
}

/**
 * Checks rows in order against the domains' state, as if each accepted row
 * were created before the next: a row's quota and the account count include
 * the accepted rows above it. Returns the accepted rows; refused rows keep
 * their errors. `onRow` reports progress.
 */
export async function checkRowsAgainstDomains(
  rows: CheckedRow[],
  state: DomainState,
  principal: Principal,
  onRow: (done: number) => void = () => undefined,
): Promise<AcceptedRow[]> {
  const accepted: AcceptedRow[] = [];
  const firstRowOf = new Map<string, number>();
  // Usage as the rows above leave it, per domain (a copy: state stays as loaded).
  const running = new Map<string, DomainUsage>([...state.usageByDomainId].map(([id, usage]) => [id, { ...usage }]));
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!;
    checkOneRow(row, state, running, firstRowOf, principal, accepted);
    if ((index + 1) % 500 === 0) {
      onRow(index + 1);
      // Let requests (and progress reads) in between.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  onRow(rows.length);
  return accepted;
}

function checkOneRow(row: CheckedRow, state: DomainState, running: Map<string, DomainUsage>, firstRowOf: Map<string, number>, principal: Principal, accepted: AcceptedRow[]): void {
  if (!row.address || !row.domainName || !row.localPart) return;
  const first = firstRowOf.get(row.address);
  if (first !== undefined) {
    row.errors.push({
      row: row.row,
      line: row.line,
      field: "address",
      code: "CONFLICT",
      message: message("imports.row.address_twice", { address: row.address, first: String(first) }),
      address: row.rawAddress,
    });
  } else {
    firstRowOf.set(row.address, row.row);
  }
  const domain = state.domainsByName.get(row.domainName);
  try {
    // Another domain's rows answer exactly like a missing domain's.
    if (!domain) throw new NotFoundError("domain", row.domainName);
    authorize(principal, row.destinations ? "alias.manage" : "account.create", { domainId: domain.id }, ["domain", row.domainName]);
  } catch (error) {
    row.errors.push(errorOf(row, "address", error));
    return;
  }
  if (first === undefined && state.existingAddresses.has(row.address)) {
    row.errors.push({
      row: row.row,
      line: row.line,
      field: "address",
      code: "CONFLICT",
      message: message("imports.row.account_exists", { address: row.address }),
      address: row.rawAddress,
    });
  }
  if (first === undefined && state.existingAliases.has(row.address)) {
    row.errors.push({
      row: row.row,
      line: row.line,
      field: "address",
      code: "CONFLICT",
      message: message("imports.row.alias_exists", { address: row.address }),
      address: row.rawAddress,
    });
  }
  if (row.destinations) {
    // The alias rules that need the database (destinations that exist, limits, loops) apply when the row is written.
    if (row.errors.length === 0) accepted.push({ ...row, address: row.address, localPart: row.localPart, domain, quota: 0 });
    return;
  }
  const usage = running.get(domain.id) ?? { accountCount: 0, allocatedQuotaMb: 0, usedMb: 0 };
  if (domain.maxAccounts !== null && usage.accountCount >= domain.maxAccounts) {
    row.errors.push(errorOf(row, "address", new QuotaExceededError("address", message("imports.row.max_accounts", { domain: domain.name, max: String(domain.maxAccounts) }))));
  }
  const quota = row.quotaMb === null ? domain.defaultMailboxQuotaMb : row.quotaMb;
  if (quota !== undefined) {
    try {
      checkMailboxQuota(domain, quota, usage, "quotaMb");
    } catch (error) {
      row.errors.push(errorOf(row, "quotaMb", error));
    }
  }
  if (row.errors.length > 0 || quota === undefined) return;
  running.set(domain.id, { ...usage, accountCount: usage.accountCount + 1, allocatedQuotaMb: usage.allocatedQuotaMb + quota });
  accepted.push({ ...row, address: row.address, localPart: row.localPart, domain, quota });
}
