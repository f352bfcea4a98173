// Input rules shared by the services. Every function either returns the
// normalised value or throws BadInputError naming the field, so that no
// malformed value ever reaches the database.
import { domainToASCII, domainToUnicode } from "node:url";
import { BadInputError, type ErrorText } from "../errors";
import { message, type Message } from "../i18n/messages";

/** Longest input string accepted anywhere before it is even looked at. */
const MAX_INPUT_LENGTH = 1024;

/** Largest total of MiB a domain may hold (quotas or usage summed): GraphQL's Int, about 2 PiB. */
export const MAX_TOTAL_MB = 2 ** 31 - 1;

function ensureString(field: string, value: string, max = MAX_INPUT_LENGTH): string {
  if (value.length > max) throw new BadInputError(field, message("input.too_long", { field, max }));
  // Control characters have no place in names, addresses or display names,
  // and PostgreSQL refuses NUL outright.
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new BadInputError(field, message("input.control_characters", { field }));
  // A lone UTF-16 surrogate is not text: it cannot be stored as UTF-8.
  if (!value.isWellFormed()) throw new BadInputError(field, message("input.lone_surrogate", { field }));
  return value;
}

export interface DomainName {
  /** Lower-case ASCII (punycode for IDNs). */
  name: string;
  unicodeName: string;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Normalises a domain name typed by a person or sent by a script: trims,
 * lower-cases, drops one trailing dot, converts Unicode labels to punycode
 * (UTS #46 via node:url) and checks the result label by label.
 */
export function parseDomainName(input: string, field = "name"): DomainName {
  const raw = ensureString(field, input.trim(), 253 * 4);
  const withoutDot = raw.endsWith(".") ? raw.slice(0, -1) : raw;
  const invalid = () => new BadInputError(field, message("input.domain_name", { input: input.length > 80 ? `${input.slice(0, 80)}…` : input }));
  if (withoutDot === "" || /[\s@/\\:]/.test(withoutDot)) throw invalid();
  const ascii = domainToASCII(withoutDot.toLowerCase());
  if (ascii === "" || ascii.length > 253) throw invalid();
  const labels = ascii.split(".");
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) throw invalid();
  // The top-level label is never all digits: that would be an IP address.
  if (/^\d+$/.test(labels[labels.length - 1]!)) throw invalid();
  const unicodeName = domainToUnicode(ascii) || ascii;
  // A punycode label must be the canonical encoding of what it decodes to
  // (xn---b0l decodes to the same name as xn--b0l): otherwise two stored names
  // would be one domain, and the Unicode name would not find it again.
  if (unicodeName !== ascii && domainToASCII(unicodeName) !== ascii) throw invalid();
  return { name: ascii, unicodeName };
}

const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** The part before the @: RFC 5322 dot-atom, ASCII, stored lower-case, at most 64 characters. */
export function parseLocalPart(input: string, field = "localPart"): string {
  const value = ensureString(field, input.trim()).toLowerCase();
  if (value.length === 0 || value.length > 64 || !LOCAL_PART.test(value)) {
    throw new BadInputError(field, message("input.local_part", { input: input.slice(0, 80) }));
  }
  return value;
}

export interface MailAddress {
  localPart: string;
  domain: DomainName;
  address: string;
}

export function parseAddress(input: string, field = "address"): MailAddress {
  const value = ensureString(field, input.trim());
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1) {
    throw new BadInputError(field, message("input.address", { input: input.slice(0, 80) }));
  }
  const localPart = parseLocalPart(value.slice(0, at), field);
  const domain = parseDomainName(value.slice(at + 1), field);
  return { localPart, domain, address: `${localPart}@${domain.name}` };
}

/** Quotas and counts: whole, non-negative, within a 32-bit integer (GraphQL's Int already enforces the range). */
export function parseQuotaMb(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new BadInputError(field, message("input.quota", { field, value: String(value) }));
  }
  return value;
}

export function parseMaxAccounts(value: number, field = "maxAccounts"): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new BadInputError(field, message("input.max_accounts", { field, value: String(value) }));
  }
  return value;
}

export function parseDisplayName(input: string, field = "displayName"): string {
  return ensureString(field, input.trim(), 128);
}

/** bcrypt reads at most 72 bytes; longer passwords would be silently cut, so they are refused. */
export function parsePassword(input: string, field = "password"): string {
  if (input.length < 10) throw new BadInputError(field, message("input.password_short", { field }));
  if (!input.isWellFormed()) throw new BadInputError(field, message("input.lone_surrogate", { field }));
  if (Buffer.byteLength(input, "utf8") > 72) {
    throw new BadInputError(field, message("input.password_long", { field }));
  }
  if (input.includes("\u0000")) throw new BadInputError(field, message("input.password_nul", { field }));
  return input;
}

/** PostgreSQL's bigint: the ids of delivery records, rejected lines and audit entries. */
const MAX_BIGINT = 9_223_372_036_854_775_807n;

/**
 * A numeric id (a bigint column's) given as text, as the API shows it: digits
 * only, within PostgreSQL's bigint. Anything else is the caller's mistake,
 * named by `field` (an id past the range reached the database as an error).
 */
export function parseBigintId(input: string, field: string, what: ErrorText = message("input.cursor", { field })): bigint {
  if (!/^\d{1,19}$/.test(input)) throw new BadInputError(field, what);
  const value = BigInt(input);
  if (value > MAX_BIGINT) throw new BadInputError(field, what);
  return value;
}

/** The instants the API accepts: 1970 to 9999 (JavaScript dates reach year 275760, PostgreSQL's timestamps do not, and no mail is that old or that late). */
export const EARLIEST_INSTANT = Date.UTC(1970, 0, 1);
export const LATEST_INSTANT = Date.UTC(10_000, 0, 1) - 1;

/** An instant in milliseconds since 1970 (a cursor's), within the range above. */
export function parseInstantMs(input: string, field: string): Date {
  const ms = Number(input);
  if (!Number.isSafeInteger(ms) || ms < EARLIEST_INSTANT || ms > LATEST_INSTANT) throw new BadInputError(field, message("input.cursor", { field }));
  return new Date(ms);
}

/** Ids are opaque; anything absurd is simply an id that matches nothing. */
export function parseId(input: string, field = "id"): string {
  if (input.length === 0 || input.length > 64 || /[\u0000-\u001f\u007f]/.test(input) || !input.isWellFormed()) {
    throw new BadInputError(field, message("input.id", { field }));
  }
  return input;
}

/**
 * A lookup by exactly one of id or address (account, alias): the `where` of
 * the row it names, or BAD_USER_INPUT with `bothOrNeither` on the field at
 * fault when both or neither is given.
 */
export function idOrAddress(reference: { id?: string | null; address?: string | null }, bothOrNeither: Message): { id: string } | { address: string } {
  if ((reference.id == null) === (reference.address == null)) throw new BadInputError(reference.id == null ? "id" : "address", bothOrNeither);
  return reference.id != null ? { id: parseId(reference.id) } : { address: parseAddress(reference.address!).address };
}

export function parsePageSize(first: number | null | undefined, fallback: number, field = "first"): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > 100) {
    throw new BadInputError(field, message("input.page_size", { field, value: String(value) }));
  }
  return value;
}

export function parseSearch(input: string | null | undefined, field = "search"): string | undefined {
  if (input === null || input === undefined) return undefined;
  const value = ensureString(field, input.trim(), 256);
  return value === "" ? undefined : value;
}

/**
 * Text for a "contains" filter with LIKE's wildcards escaped: Prisma passes
 * `contains` into a LIKE pattern as it is, so a search for "a_b" would also
 * match "axb". Backslash is PostgreSQL's default LIKE escape.
 */
export function likeEscaped(text: string): string {
  return text.replace(/[\\%_]/g, "\\$&");
}

/** Cursors are base64url strings of the last row's sort key. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string | null | undefined, field = "after"): string | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  if (cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new BadInputError(field, message("input.cursor", { field }));
  }
  const key = Buffer.from(cursor, "base64url").toString("utf8");
  // Our cursors hold names, addresses or numbers; anything else was not made here.
  if (key.length === 0 || /[\u0000-\u001f\u007f\ufffd]/.test(key)) throw new BadInputError(field, message("input.cursor", { field }));
  return key;
}
