// Property-based tests: hostile input sent by support staff through the
// GraphQL API never makes the server fail (no INTERNAL_SERVER_ERROR, no HTTP
// 5xx), every refusal has a meaningful code (and names its field where the code
// promises one), a refused creation changes nothing, and an accepted domain is
// stored whole, in lower-case ASCII, with a Unicode name that maps back to it.
// Hostile values always travel as GraphQL variables, never inside the query text.
import fc from "fast-check";
import { startTestApp, type GraphQLResponse, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, PASSWORD, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import type { Account, Domain } from "../../src/generated/prisma/client";

// The `punycode` package (a dependency) ships no types; only `encode` is used.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- no types to import with
const punycode = require("punycode/") as { encode(input: string): string };

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** Codes a resolver may answer to hostile but well-typed input from support staff. */
const RESOLVER_CODES = new Set(["BAD_USER_INPUT", "CONFLICT", "QUOTA_EXCEEDED", "NOT_FOUND"]);
/** Codes graphql-js/Apollo answer to variables of the wrong type. */
const TYPE_CODES = new Set(["BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"]);
/** Codes whose errors promise `extensions.field`. */
const FIELD_CODES = new Set(["BAD_USER_INPUT", "QUOTA_EXCEEDED"]);

const CREATE_DOMAIN = `mutation($input: CreateDomainInput!) {
  createDomain(input: $input) {
    domain { id name unicodeName status isTestDomain quotaMb maxAccounts defaultMailboxQuotaMb accountCount allocatedQuotaMb usedMb admin { id address } }
    admin { id address localPart displayName role quotaMb }
    generatedAdminPassword
    warnings { code field message }
  }
}`;
const UPDATE_DOMAIN = `mutation($id: ID!, $input: UpdateDomainInput!) {
  updateDomain(id: $id, input: $input) {
    domain { id name status isTestDomain quotaMb maxAccounts defaultMailboxQuotaMb }
    warnings { code field message }
  }
}`;
const CREATE_ACCOUNT = `mutation($input: CreateAccountInput!) {
  createAccount(input: $input) {
    account { id address localPart displayName role status quotaMb usedMb domain { id name } }
    warnings { code field message }
  }
}`;
const UPDATE_ACCOUNT = `mutation($id: ID!, $input: UpdateAccountInput!) {
  updateAccount(id: $id, input: $input) {
    account { id address displayName status quotaMb usedMb }
    warnings { code field message }
  }
}`;
const DOMAIN_BY_NAME = `query($name: String) { domain(name: $name) { id name unicodeName } }`;
const DOMAIN_BY_ID = `query($id: ID) { domain(id: $id) { id name } }`;
const ACCOUNT_BY_ADDRESS = `query($address: String) { account(address: $address) { id address } }`;
const ACCOUNT_BY_ID = `query($id: ID) { account(id: $id) { id address } }`;
const DOMAINS = `query($search: String, $after: String, $first: Int) {
  domains(search: $search, after: $after, first: $first) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } } }
}`;
const DOMAIN_TOTALS = `query($id: ID) { domain(id: $id) { id accountCount allocatedQuotaMb usedMb } }`;
const REPORT_USAGE = `mutation($input: [MailboxUsageInput!]!) {
  reportMailboxUsage(input: $input) { accepted rejected { index address field code message } }
}`;
const ABOVE_QUOTA = `query($percent: Int, $domainId: ID, $first: Int, $after: String) {
  mailboxesAboveQuota(percent: $percent, domainId: $domainId, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id usedMb quotaMb usagePercent messageCount usageUpdatedAt domain { usedMb } }
  }
}`;

// ---------------------------------------------------------------------------
// Assertions

type Outcome = "ok" | "refused";

/**
 * What is wrong with a response: an HTTP 5xx, an error code outside `allowed`,
 * or a resolver error whose code promises a field without naming one. Empty for
 * a success, or for errors that are all proper refusals.
 */
function problemsOf(response: GraphQLResponse, allowed: Set<string> = RESOLVER_CODES): string[] {
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`HTTP ${response.status}`);
  if (!response.errors?.length) {
    if (response.data == null) problems.push("neither data nor errors");
    return problems;
  }
  for (const error of response.errors) {
    const code = error.extensions?.code;
    if (!allowed.has(code)) problems.push(`code ${String(code)}`);
    // Resolver errors carry a path; variable-coercion errors (HTTP 400) do not, and name no field.
    if (error.path && FIELD_CODES.has(code)) {
      const field = error.extensions.field;
      if (typeof field !== "string" || field.length === 0) problems.push(`${code} without extensions.field`);
    }
  }
  return problems;
}

function outcomeOf(response: GraphQLResponse): Outcome {
  return response.errors?.length ? "refused" : "ok";
}

/** Throws with the request and the answer, so that fast-check's counterexample is readable. */
function report(what: string, sent: unknown, response: GraphQLResponse, problems: string[]): never {
  throw new Error(`${what}: ${problems.join("; ")}\n  sent: ${safeJson(sent)}\n  HTTP ${response.status}, answer: ${safeJson(response.errors ?? response.data)}`);
}

/** Throws unless the response is a success or a proper refusal (see problemsOf). */
function checkSafe(what: string, sent: unknown, response: GraphQLResponse, allowed: Set<string> = RESOLVER_CODES): Outcome {
  const problems = problemsOf(response, allowed);
  if (problems.length > 0) report(what, sent, response, problems);
  return outcomeOf(response);
}

function safeJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "string" && v.length > 120 ? `${v.slice(0, 120)}…(${v.length} chars)` : v));
  return text ?? String(value);
}

function fail(message: string, sent: unknown, extra?: unknown): never {
  throw new Error(`${message}\n  sent: ${safeJson(sent)}${extra === undefined ? "" : `\n  detail: ${safeJson(extra)}`}`);
}

// ---------------------------------------------------------------------------
// Arbitraries

/** Any single UTF-16 code unit, lone surrogates included (JSON carries them as \\udXXX escapes). */
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

/** Strings of every kind: full Unicode, raw UTF-16 with lone surrogates, control characters, long ones. */
const anyString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "binary-ascii", maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: utf16Unit, maxLength: 20 }),
  fc.string({ unit: fc.constantFrom("a", "é", "例", "-", ".", " ", "\u0000", "\ud83d", "\ude00", "💩"), minLength: 100, maxLength: 4096 }),
);

/** Characters that matter to domain names, including everything a name must not contain. */
const domainChar = fc.constantFrom(
  ..."abcxyzABZ0189-_.@ %/\\:[]+*".split(""),
  "é",
  "ß",
  "Ü",
  "例",
  "テ",
  "ς",
  "Ω",
  "ｅ",
  "\u3002", // ideographic full stop, a dot to UTS #46
  "\u200b",
  "\u200d",
  "\u00ad",
  "\u0301",
  "ﬀ",
  "①",
  "\u0000",
  "\t",
  "\n",
  "\u007f",
  "\ud800",
  "💩",
);

const ldhLabel = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
const label = fc.oneof(
  { weight: 3, arbitrary: ldhLabel },
  { weight: 3, arbitrary: fc.string({ unit: domainChar, maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }) },
  // Random punycode: most of it does not decode, some decodes to anything.
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9-]{0,12}$/).map((rest) => `xn--${rest}`) },
  // Correctly encoded punycode of arbitrary Unicode, upper-case and combining marks included.
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 6 }).map((text) => `xn--${punycode.encode(text)}`) },
  // Labels around the 63-character limit.
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 70 }).map((length) => "a".repeat(length)) },
);

const domainLike = fc
  .tuple(fc.array(label, { minLength: 1, maxLength: 6 }), fc.constantFrom("", "", "", ".", "..", " ", "\u3002"), fc.constantFrom("", "", "", ".", " ", "@"))
  .map(([labels, suffix, prefix]) => `${prefix}${labels.join(".")}${suffix}`);

/** Names near the 253-character limit, made of labels near the 63-character limit. */
const longDomain = fc
  .tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 20 }), fc.constantFrom("", "."))
  .map(([labelLength, count, trim, dot]) => {
    const name = Array.from({ length: count }, (_, index) => String.fromCharCode(97 + index).repeat(labelLength)).join(".");
    return `${name.slice(0, Math.max(1, name.length - trim))}x.com${dot}`;
  });

const ipLiteral = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  fc.ipV6().map((address) => `[${address}]`),
  fc.ipV4().map((address) => `[${address}]`),
);

const hostileDomainName = fc.oneof(
  { weight: 4, arbitrary: domainLike },
  { weight: 2, arbitrary: fc.domain() },
  { weight: 1, arbitrary: fc.domain().map((name) => name.toUpperCase()) },
  { weight: 1, arbitrary: longDomain },
  { weight: 1, arbitrary: ipLiteral },
  { weight: 2, arbitrary: anyString },
  { weight: 1, arbitrary: fc.emailAddress() },
);

const HAND_PICKED_DOMAIN_NAMES = [
  "例え.テスト",
  "xn--",
  "xn--.com",
  "xn--a.com",
  "xn--bcher-kva.ch",
  "XN--BCHER-KVA.CH",
  "bücher.ch",
  "BÜCHER.CH",
  "straße.de",
  "ｅｘａｍｐｌｅ.com",
  "a\u3002b",
  "ab\u200b.com",
  "💩.la",
  "%41.com",
  "a%2eb.com",
  "-a.com",
  "a-.com",
  "a..b",
  "a.b.",
  "a.b..",
  ".a.b",
  "a",
  "com",
  "localhost",
  "1.2.3.4",
  "0x7f.1",
  "127.1",
  "a.123",
  "[::1]",
  "::1",
  "a_b.com",
  "a b.com",
  " a.com ",
  "admin@x.com",
  "@x.com",
  "a/b.com",
  "a\\b.com",
  "a:80.com",
  "",
  " ",
  ".",
  "..",
  "\u0000.com",
  "a.com\u0000",
  "\ud800.com",
  `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`, // 253 characters
  `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}.`, // 253 and the root dot
  `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`, // 254 characters
  `${"a".repeat(63)}.com`,
  `${"a".repeat(64)}.com`,
  `${"a".repeat(65)}.com`,
  "é".repeat(1000),
  "a".repeat(5000),
  `${"例".repeat(200)}.com`,
];

const localPartLike = fc.oneof(
  fc.stringMatching(/^[a-z0-9._+-]{1,20}$/),
  fc.emailAddress().map((address) => address.slice(0, address.lastIndexOf("@"))),
  fc.string({ unit: fc.constantFrom(..."aZ09._-+@ \"'!#$%&*/=?^`{|}~\\()<>,;:[]".split(""), "é", "\u0000", "\t"), maxLength: 20 }),
  fc.integer({ min: 60, max: 70 }).map((length) => "a".repeat(length)),
  anyString,
);

const HAND_PICKED_LOCAL_PARTS = [
  "admin@",
  "@x.com",
  "a@b@c.com",
  "",
  " ",
  ".a",
  "a.",
  "a..b",
  "a".repeat(64),
  "a".repeat(65),
  "ADMIN",
  "Ünïcode",
  "a b",
  "a\u0000",
  '"quoted"',
  "a/b",
  "-",
  "~",
];

const addressLike = fc.oneof(
  fc.tuple(localPartLike, hostileDomainName).map(([local, domain]) => `${local}@${domain}`),
  fc.emailAddress(),
  anyString,
);

const HAND_PICKED_ADDRESSES = [
  "admin@",
  "@x.com",
  "a@b@c.com",
  "a@",
  "@",
  "",
  "a@b",
  "a@1.2.3.4",
  "a@[1.2.3.4]",
  "a@例え.テスト",
  "A@X.COM",
  `${"a".repeat(65)}@x.com`,
  "a@\u0000.com",
];

const hostileInt = fc.oneof(fc.constantFrom(INT32_MIN, -1, 0, 1, 2, INT32_MAX - 1, INT32_MAX), fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.integer({ min: -5, max: 3000 }));

/** A value for an optional nullable Int input field: absent, null, or any 32-bit integer. */
const optionalInt = fc.option(fc.option(hostileInt, { nil: null }), { nil: undefined, freq: 3 });

const displayName = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.integer({ min: 120, max: 140 }).map((length) => "n".repeat(length)),
  fc.constantFrom("  padded  ", "Zoë Ω 例え 💩", "\ud800", "a\udfffb", "\u0000", "tab\there", "\u202eevil"),
  anyString,
);

const password = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ minLength: 10, maxLength: 80 }),
  fc.string({ unit: "binary", minLength: 5, maxLength: 40 }),
  fc.string({ unit: utf16Unit, minLength: 10, maxLength: 40 }),
  fc.constantFrom(
    "a".repeat(72),
    "a".repeat(73),
    "é".repeat(36), // 72 bytes
    "é".repeat(37), // 74 bytes
    "例".repeat(24), // 72 bytes
    "例".repeat(25),
    "nine char",
    "ten chars!",
    "0123456789\u0000",
    "\ud800".repeat(12),
  ),
);

const hostileId = fc.oneof(
  fc.uuid(),
  fc.string({ minLength: 0, maxLength: 70 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.string({ unit: utf16Unit, maxLength: 10 }),
  fc.constantFrom("", " ", "\u0000", "a\u0000b", "0", "-1", "' OR 1=1 --", "x".repeat(64), "x".repeat(65), "%", "_", "\\"),
);

/** Cursors: real-looking base64url of arbitrary bytes, and anything else. */
const hostileCursor = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString("base64url")),
  fc.string({ unit: "grapheme", maxLength: 40 }).map((text) => Buffer.from(text, "utf8").toString("base64url")),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("", "AA", "_-_-", "====", "a".repeat(512), "a".repeat(513)),
  anyString,
);

const hostileSearch = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom("%", "_", "\\", "a\\", "\\%", "%%", "[", "*", "'", "例え", "XN--", "\u0000"), anyString);

// ---------------------------------------------------------------------------

interface Counts {
  domains: number;
  accounts: number;
  admins: number;
  audit: number;
}

describe("hostile input from support staff", () => {
  let app: TestApp;
  let token: string;
  /** For createAccount: a domain with limits, and one without. */
  let limited: Domain;
  let unlimited: Domain;
  /** For updateDomain: a domain whose accounts hold quota and usage. */
  let tuned: Domain;
  /** For updateAccount: accounts of a domain with a quota. */
  let quotaDomain: Domain;
  let quotaAccounts: Account[];

  const gql = (query: string, variables: Record<string, unknown>) => app.gql(query, variables, token);

  async function counts(): Promise<Counts> {
    const db = app.deps.db;
    return {
      domains: await db.domain.count(),
      accounts: await db.account.count(),
      admins: await db.domainAdmin.count(),
      audit: await db.auditEntry.count(),
    };
  }

  beforeAll(async () => {
    app = await startTestApp();
    token = await tokenFor(app, await supportAdmin(app));
    limited = (await makeDomain(app, { quotaMb: 5000, maxAccounts: 40, defaultMailboxQuotaMb: 100 })).domain;
    unlimited = (await makeDomain(app)).domain;
    tuned = (await makeDomain(app, { quotaMb: 10_000, maxAccounts: 50, defaultMailboxQuotaMb: 100 })).domain;
    for (const quotaMb of [300, 200]) {
      const account = await makeAccount(app, tuned, { quotaMb });
      await app.deps.db.account.update({ where: { id: account.id }, data: { usedMb: quotaMb - 50 } });
    }
    quotaDomain = (await makeDomain(app, { quotaMb: 20_000, defaultMailboxQuotaMb: 100 })).domain;
    quotaAccounts = [];
    for (let index = 0; index < 3; index++) quotaAccounts.push(await makeAccount(app, quotaDomain, { quotaMb: 500 }));
  });
  afterAll(() => app.close());

  /** After an accepted createDomain: one domain, one administrator, their audit records, a normalised name that round-trips. */
  async function checkCreatedDomain(sent: Record<string, unknown>, payload: any, before: Counts) {
    const after = await counts();
    const delta = { domains: after.domains - before.domains, accounts: after.accounts - before.accounts, admins: after.admins - before.admins };
    if (delta.domains !== 1 || delta.accounts !== 1 || delta.admins !== 1) fail("createDomain accepted but did not add exactly one domain, account and administrator", sent, delta);
    const stored = await app.deps.db.domain.findUnique({ where: { id: payload.domain.id }, include: { admin: true, accounts: true } });
    if (!stored) fail("createDomain accepted but the domain is not stored", sent, payload);
    if (stored.accounts.length !== 1 || stored.admin?.accountId !== stored.accounts[0]!.id || payload.admin.id !== stored.admin.accountId) {
      fail("createDomain stored an inconsistent administrator", sent, { accounts: stored.accounts.map((a) => a.id), admin: stored.admin, payload: payload.admin });
    }
    const audit = await app.deps.db.auditEntry.findMany({ where: { domainId: stored.id } });
    const actions = audit.map((entry) => entry.action).sort();
    if (actions.join() !== "account.create,domain.create" || after.audit - before.audit !== audit.length) {
      fail("createDomain accepted without exactly its domain.create and account.create audit records", sent, { actions, auditDelta: after.audit - before.audit });
    }
    const name = stored.name;
    const labels = name.split(".");
    const wellFormed =
      name === payload.domain.name &&
      /^[\x21-\x7e]+$/.test(name) &&
      name === name.toLowerCase() &&
      name.length <= 253 &&
      labels.length >= 2 &&
      labels.every((part) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/.test(part)) &&
      !/^\d+$/.test(labels.at(-1)!) &&
      stored.accounts[0]!.address === `${stored.accounts[0]!.localPart}@${name}`;
    if (!wellFormed) fail("createDomain stored a name that is not lower-case ASCII LDH labels", sent, { name, address: stored.accounts[0]!.address });
    // A plain ASCII name is only lower-cased and loses its root dot.
    const typed = String(sent.name).trim();
    if (/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?$/.test(typed) && name !== typed.toLowerCase().replace(/\.$/, "")) {
      fail("createDomain changed a plain ASCII name beyond lower-casing it", sent, { name });
    }
    if (stored.unicodeName !== payload.domain.unicodeName)
      fail("unicodeName differs between the answer and the database", sent, { stored: stored.unicodeName, payload: payload.domain.unicodeName });
    // The Unicode name (and the ASCII name in any letter case) leads back to the same domain.
    for (const lookup of [payload.domain.unicodeName as string, name, name.toUpperCase()]) {
      const found = await gql(DOMAIN_BY_NAME, { name: lookup });
      checkSafe("domain(name:) of a created domain", { name: lookup }, found);
      if (found.data?.domain?.id !== stored.id || found.data.domain.name !== name) {
        fail("the created domain's name does not round-trip", sent, { lookup, answer: found.data ?? found.errors });
      }
    }
  }

  /** Checks a write's response: a proper answer, and nothing changed when it was refused (even by a failure). */
  async function checkWrite(
    what: string,
    sent: unknown,
    response: GraphQLResponse,
    before: { counts: Counts; rows?: unknown },
    rowsNow?: () => Promise<unknown>,
  ): Promise<{ outcome: Outcome; after: Counts }> {
    const problems = problemsOf(response);
    const after = await counts();
    if (outcomeOf(response) === "refused") {
      if (JSON.stringify(after) !== JSON.stringify(before.counts)) {
        problems.push(`partial change: row counts went from ${JSON.stringify(before.counts)} to ${JSON.stringify(after)}`);
      }
      if (rowsNow && JSON.stringify(await rowsNow()) !== JSON.stringify(before.rows)) problems.push("partial change: the target's row changed");
    }
    if (problems.length > 0) report(what, sent, response, problems);
    return { outcome: outcomeOf(response), after };
  }

  it("createDomain: arbitrary names never fail the server; a refusal changes nothing, an acceptance stores one normalised, round-tripping domain", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(hostileDomainName, async (name) => {
        const sent = { name, adminPassword: PASSWORD };
        const before = await counts();
        const response = await gql(CREATE_DOMAIN, { input: sent });
        const { outcome } = await checkWrite("createDomain(name)", sent, response, { counts: before });
        if (outcome === "ok") {
          accepted++;
          await checkCreatedDomain(sent, response.data.createDomain, before);
        }
      }),
      { numRuns: 250, examples: HAND_PICKED_DOMAIN_NAMES.map((name) => [name] as [string]) },
    );
    // The generators must reach the success path too, or its checks prove nothing.
    expect(accepted).toBeGreaterThan(10);
  }, 120_000);

  it("createDomain: hostile quotas, limits, administrator names and passwords never fail the server and never half-create", async () => {
    let accepted = 0;
    const input = fc.record(
      {
        quotaMb: optionalInt,
        maxAccounts: optionalInt,
        defaultMailboxQuotaMb: optionalInt,
        adminQuotaMb: fc.option(hostileInt, { nil: undefined }),
        adminLocalPart: fc.option(localPartLike, { nil: undefined, freq: 3 }),
        adminDisplayName: fc.option(displayName, { nil: undefined, freq: 3 }),
        adminPassword: fc.option(password, { nil: undefined, freq: 4 }),
        status: fc.constantFrom("ACTIVE", "SUSPENDED"),
        isTestDomain: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    const handPicked: Record<string, unknown>[] = [
      { quotaMb: -1 },
      { quotaMb: 0 },
      { quotaMb: INT32_MAX, adminQuotaMb: INT32_MAX, defaultMailboxQuotaMb: INT32_MAX },
      { quotaMb: 100, adminQuotaMb: 101 },
      { quotaMb: 100, defaultMailboxQuotaMb: 101 },
      { quotaMb: 0, defaultMailboxQuotaMb: 1 },
      { maxAccounts: 0 },
      { maxAccounts: -1 },
      { maxAccounts: 1 },
      { maxAccounts: INT32_MAX },
      { adminQuotaMb: -1 },
      { defaultMailboxQuotaMb: -1 },
      ...HAND_PICKED_LOCAL_PARTS.map((adminLocalPart) => ({ adminLocalPart })),
      { adminDisplayName: "n".repeat(129) },
      { adminDisplayName: "tab\there" },
      { adminDisplayName: "\ud800" },
      { adminPassword: "a".repeat(73) },
      { adminPassword: "é".repeat(37) },
      { adminPassword: "short" },
      { adminPassword: "0123456789\u0000" },
    ];
    await fc.assert(
      fc.asyncProperty(input, async (fields) => {
        const sent = { name: `${uniqueName("h")}.example`, ...fields };
        const before = await counts();
        const response = await gql(CREATE_DOMAIN, { input: sent });
        const { outcome } = await checkWrite("createDomain(fields)", sent, response, { counts: before });
        if (outcome === "refused") return;
        accepted++;
        const payload = response.data.createDomain;
        await checkCreatedDomain(sent, payload, before);
        if (sent.quotaMb != null && (payload.domain.allocatedQuotaMb > sent.quotaMb || payload.domain.defaultMailboxQuotaMb > sent.quotaMb)) {
          fail("createDomain accepted mailbox quotas above the domain quota", sent, payload.domain);
        }
        if ((payload.generatedAdminPassword === null) !== (sent.adminPassword !== undefined)) fail("generatedAdminPassword disagrees with adminPassword", sent, payload);
      }),
      { numRuns: 150, examples: handPicked.map((fields) => [fields] as [any]) },
    );
    expect(accepted).toBeGreaterThan(5);
  }, 120_000);

  it("createDomain and updateDomain: variables of the wrong type are refused as bad input and change nothing", async () => {
    const wrong = fc.constantFrom<unknown>("5", "", 1.5, -0.5, 2 ** 31, INT32_MIN - 1, 1e20, Number.MAX_SAFE_INTEGER, true, [], [1], {}, { a: 1 }, "NaN", "0x10");
    const field = fc.constantFrom("quotaMb", "maxAccounts", "defaultMailboxQuotaMb", "adminQuotaMb", "name", "status", "isTestDomain", "adminLocalPart", "adminPassword");
    await fc.assert(
      fc.asyncProperty(field, wrong, fc.boolean(), async (key, value, update) => {
        const before = await counts();
        let sent: Record<string, unknown>;
        let response: GraphQLResponse;
        if (update && !["name", "adminLocalPart", "adminPassword", "adminQuotaMb"].includes(key)) {
          sent = { id: tuned.id, input: { [key]: value } };
          response = await gql(UPDATE_DOMAIN, sent);
        } else {
          sent = { input: { name: `${uniqueName("w")}.example`, adminPassword: PASSWORD, [key]: value } };
          response = await gql(CREATE_DOMAIN, sent);
        }
        // A string is a fine value for a String field: only the types that cannot coerce must be refused.
        const coercible = (typeof value === "string" && ["name", "adminLocalPart", "adminPassword"].includes(key)) || (typeof value === "boolean" && key === "isTestDomain");
        if (coercible) {
          checkSafe("wrongly-typed variable that happens to coerce", sent, response);
          return;
        }
        checkSafe("wrongly-typed variable", sent, response, TYPE_CODES);
        if (!response.errors?.length) fail("a wrongly-typed variable was accepted", sent, response.data);
        const after = await counts();
        if (JSON.stringify(after) !== JSON.stringify(before)) fail("a wrongly-typed request changed the database", sent, { before, after });
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it("createAccount: hostile local parts, display names, passwords and quotas never fail the server and never half-create", async () => {
    let accepted = 0;
    const input = fc.record(
      {
        // The fixtures, or an id of nothing (hostile ids have their own property below).
        domainId: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("limited", "unlimited") }, { weight: 1, arbitrary: fc.uuid() }),
        localPart: fc.oneof(localPartLike, fc.constantFrom(...HAND_PICKED_LOCAL_PARTS), fc.constant("admin")),
        displayName: fc.option(displayName, { nil: undefined, freq: 3 }),
        password: fc.oneof({ weight: 1, arbitrary: password }, { weight: 2, arbitrary: fc.constant(PASSWORD) }),
        quotaMb: optionalInt,
        status: fc.option(fc.constantFrom("ACTIVE", "SUSPENDED"), { nil: undefined }),
      },
      { requiredKeys: ["domainId", "localPart", "password"] },
    );
    await fc.assert(
      fc.asyncProperty(input, async (generated) => {
        const domainId = generated.domainId === "limited" ? limited.id : generated.domainId === "unlimited" ? unlimited.id : generated.domainId;
        const sent = { ...generated, domainId };
        const before = await counts();
        const response = await gql(CREATE_ACCOUNT, { input: sent });
        const { outcome, after } = await checkWrite("createAccount", sent, response, { counts: before });
        if (outcome === "refused") return;
        accepted++;
        const account = response.data.createAccount.account;
        const stored = await app.deps.db.account.findUnique({ where: { id: account.id }, include: { domain: true } });
        if (!stored || after.accounts - before.accounts !== 1 || after.audit - before.audit !== 1 || after.domains !== before.domains || after.admins !== before.admins) {
          fail("createAccount accepted but did not add exactly one account and one audit record", sent, { before, after });
        }
        if (stored.localPart !== stored.localPart.toLowerCase() || stored.address !== `${stored.localPart}@${stored.domain.name}` || account.address !== stored.address) {
          fail("createAccount stored an address that is not localPart@domain in lower case", sent, { address: stored.address, localPart: stored.localPart });
        }
        const { quotaMb, maxAccounts } = stored.domain;
        if (quotaMb !== null) {
          const allocated = await app.deps.db.account.aggregate({ where: { domainId: stored.domainId }, _sum: { quotaMb: true } });
          if (Number(allocated._sum.quotaMb) > quotaMb) fail("createAccount overshot the domain quota", sent, { allocated: allocated._sum.quotaMb, quotaMb });
        }
        if (maxAccounts !== null && (await app.deps.db.account.count({ where: { domainId: stored.domainId } })) > maxAccounts) {
          fail("createAccount overshot maxAccounts", sent, { maxAccounts });
        }
      }),
      {
        numRuns: 200,
        examples: [
          [{ domainId: "limited", localPart: "admin", password: PASSWORD }], // taken: CONFLICT
          [{ domainId: "limited", localPart: "q", password: PASSWORD, quotaMb: 5001 }],
          [{ domainId: "limited", localPart: "q", password: PASSWORD, quotaMb: -1 }],
          [{ domainId: "unlimited", localPart: "q", password: PASSWORD, quotaMb: INT32_MAX }],
          [{ domainId: "unlimited", localPart: "q2", password: "a".repeat(73) }],
          [{ domainId: "unlimited", localPart: "q2", password: "é".repeat(37) }],
          [{ domainId: "unlimited", localPart: "q3", password: PASSWORD, displayName: "\u0000" }],
          [{ domainId: "unlimited", localPart: "q3", password: PASSWORD, displayName: "\ud800" }],
          // Plain creations, so that the checks of an accepted account always run (random inputs are mostly refused).
          [{ domainId: "unlimited", localPart: "ok1", password: PASSWORD, quotaMb: 0 }],
          [{ domainId: "unlimited", localPart: "ok2", password: PASSWORD, quotaMb: 0 }],
          [{ domainId: "unlimited", localPart: "ok3", password: PASSWORD, quotaMb: 0 }],
          [{ domainId: "unlimited", localPart: "ok4", password: PASSWORD, quotaMb: 0 }],
          [{ domainId: "unlimited", localPart: "ok5", password: PASSWORD, quotaMb: 0 }],
          [{ domainId: "unlimited", localPart: "ok6", password: PASSWORD, quotaMb: 0 }],
        ],
      },
    );
    expect(accepted).toBeGreaterThan(5);
  }, 120_000);

  it("createAccount: a quota beyond the domain's quota or a full domain is QUOTA_EXCEEDED and changes nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: INT32_MAX }), fc.integer({ min: 1, max: 3 }), async (domainQuota, over, maxAccounts) => {
        const { domain } = await makeDomain(app, { quotaMb: domainQuota, maxAccounts, defaultMailboxQuotaMb: 0 });
        const quotaMb = Math.min(INT32_MAX, domainQuota + over);
        const sent = { domainId: domain.id, localPart: "over", password: PASSWORD, quotaMb };
        const before = await counts();
        const response = await gql(CREATE_ACCOUNT, { input: sent });
        await checkWrite("createAccount above the domain quota", sent, response, { counts: before });
        if (response.errors?.[0]?.extensions.code !== "QUOTA_EXCEEDED")
          fail("a mailbox quota above the domain quota was not QUOTA_EXCEEDED", sent, response.errors ?? response.data);
        // Fill the domain up to maxAccounts (the administrator is one), then one more is refused.
        for (let index = 1; index < maxAccounts; index++) await makeAccount(app, domain, { quotaMb: 0 });
        const full = { domainId: domain.id, localPart: "onetoomany", password: PASSWORD, quotaMb: 0 };
        const beforeFull = await counts();
        const refused = await gql(CREATE_ACCOUNT, { input: full });
        await checkWrite("createAccount in a full domain", full, refused, { counts: beforeFull });
        if (refused.errors?.[0]?.extensions.code !== "QUOTA_EXCEEDED") fail("an account beyond maxAccounts was not QUOTA_EXCEEDED", full, refused.errors ?? refused.data);
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  it("updateDomain: hostile quotas and limits never fail the server; a refusal changes nothing, an acceptance stores what was asked", async () => {
    const input = fc.record(
      {
        status: fc.option(fc.constantFrom("ACTIVE", "SUSPENDED", null), { nil: undefined, freq: 2 }),
        isTestDomain: fc.option(fc.constantFrom(true, false, null), { nil: undefined, freq: 2 }),
        quotaMb: optionalInt,
        maxAccounts: optionalInt,
        defaultMailboxQuotaMb: optionalInt,
      },
      { requiredKeys: [] },
    );
    const row = () => app.deps.db.domain.findUnique({ where: { id: tuned.id } });
    await fc.assert(
      fc.asyncProperty(fc.option(fc.uuid(), { freq: 8 }), input, async (otherId, fields) => {
        const sent = { id: otherId ?? tuned.id, input: fields };
        const before = { counts: await counts(), rows: await row() };
        const response = await gql(UPDATE_DOMAIN, sent);
        const { outcome, after } = await checkWrite("updateDomain", sent, response, before, row);
        if (outcome === "refused") return;
        const domain = response.data.updateDomain.domain;
        const stored = (await row()) as Record<string, unknown>;
        for (const [key, value] of Object.entries(fields)) {
          if (value !== undefined && domain[key] !== value) fail(`updateDomain accepted ${key} but answered another value`, sent, domain);
          if (value !== undefined && stored[key] !== value) fail(`updateDomain accepted ${key} but stored another value`, sent, stored);
        }
        if (after.audit - before.counts.audit > 1 || after.domains !== before.counts.domains || after.accounts !== before.counts.accounts) {
          fail("updateDomain changed more than its domain and one audit record", sent, { before: before.counts, after });
        }
        // Keep the fixture usable: restore generous limits for the next run.
        await app.deps.db.domain.update({ where: { id: tuned.id }, data: { quotaMb: 10_000, maxAccounts: 50, defaultMailboxQuotaMb: 100 } });
      }),
      {
        numRuns: 150,
        examples: [
          [null, { quotaMb: -1 }],
          [null, { quotaMb: 0 }],
          [null, { quotaMb: 499 }], // below the 500 MiB of quotas its mailboxes hold
          [null, { quotaMb: 450 }], // below the 500 MiB of quotas, above the 400 MiB used
          [null, { maxAccounts: 0 }],
          [null, { maxAccounts: 2 }], // below its 3 accounts
          [null, { maxAccounts: INT32_MAX, quotaMb: INT32_MAX, defaultMailboxQuotaMb: INT32_MAX }],
          [null, { defaultMailboxQuotaMb: null }],
          [null, { status: null }],
          [null, { quotaMb: 50, defaultMailboxQuotaMb: 60 }],
        ],
      },
    );
  }, 120_000);

  it("updateAccount: hostile display names, quotas and usage never fail the server; a refusal changes nothing", async () => {
    const input = fc.record(
      {
        displayName: fc.option(fc.oneof(displayName, fc.constant(null)), { nil: undefined, freq: 2 }),
        quotaMb: fc.option(fc.oneof(hostileInt, fc.constant(null)), { nil: undefined, freq: 2 }),
        usedMb: fc.option(fc.oneof(hostileInt, fc.constant(null)), { nil: undefined, freq: 2 }),
        status: fc.option(fc.constantFrom("ACTIVE", "SUSPENDED", null), { nil: undefined, freq: 2 }),
      },
      { requiredKeys: [] },
    );
    const rows = () => app.deps.db.account.findMany({ where: { domainId: quotaDomain.id }, orderBy: { id: "asc" } });
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.uuid() }), input, async (which, fields) => {
        const sent = { id: typeof which === "number" ? quotaAccounts[which]!.id : which, input: fields };
        const before = { counts: await counts(), rows: await rows() };
        const response = await gql(UPDATE_ACCOUNT, sent);
        const { outcome, after } = await checkWrite("updateAccount", sent, response, before, rows);
        if (outcome === "refused") return;
        const allocated = (await rows()).reduce((sum, account) => sum + account.quotaMb, 0);
        if (allocated > quotaDomain.quotaMb!) fail("updateAccount overshot the domain quota", sent, { allocated, quotaMb: quotaDomain.quotaMb });
        if (after.audit - before.counts.audit > 1 || after.accounts !== before.counts.accounts) {
          fail("updateAccount changed more than its account and one audit record", sent, { before: before.counts, after });
        }
        // Keep the fixture usable: small quotas again for the next run.
        await app.deps.db.account.updateMany({ where: { domainId: quotaDomain.id, adminOf: null }, data: { quotaMb: 500 } });
      }),
      {
        numRuns: 150,
        examples: [
          [0, { quotaMb: -1 }],
          [0, { quotaMb: 20_000 }],
          [0, { quotaMb: INT32_MAX }],
          [0, { usedMb: -1 }],
          [0, { usedMb: INT32_MAX }],
          [0, { displayName: "n".repeat(129) }],
          [0, { displayName: "\u0000" }],
          [0, { displayName: null }],
          [0, { displayName: "\ud800" }],
        ],
      },
    );
  }, 120_000);

  it("ids: hostile ids for createAccount, updateDomain, updateAccount, domain(id:) and account(id:) never fail the server and change nothing", async () => {
    const operation = fc.constantFrom("createAccount", "updateDomain", "updateAccount", "domain", "account");
    await fc.assert(
      fc.asyncProperty(operation, hostileId, async (kind, id) => {
        const [query, variables] =
          kind === "createAccount"
            ? [CREATE_ACCOUNT, { input: { domainId: id, localPart: "someone", password: PASSWORD } }]
            : kind === "updateDomain"
              ? [UPDATE_DOMAIN, { id, input: { quotaMb: 100 } }]
              : kind === "updateAccount"
                ? [UPDATE_ACCOUNT, { id, input: { quotaMb: 1 } }]
                : kind === "domain"
                  ? [DOMAIN_BY_ID, { id }]
                  : [ACCOUNT_BY_ID, { id }];
        const before = await counts();
        const response = await gql(query, variables);
        await checkWrite(kind, variables, response, { counts: before });
        if (outcomeOf(response) === "ok" && !["domain", "account"].includes(kind)) fail(`${kind} accepted a made-up id`, variables, response.data);
        if (outcomeOf(response) === "ok" && response.data[kind] !== null) fail(`${kind}(id:) found something for a made-up id`, variables, response.data);
      }),
      {
        numRuns: 150,
        examples: [
          ["createAccount", "\u0000"],
          ["updateDomain", "\u0000"],
          ["updateAccount", "\u0000"],
          ["domain", "\u0000"],
          ["account", "a\u0000b"],
          ["domain", "\ud800"],
          ["createAccount", ""],
          ["updateDomain", "x".repeat(65)],
          ["account", "x".repeat(64)],
        ],
      },
    );
  }, 60_000);

  it("domain totals: huge quotas and usage in an unlimited domain never fail the server", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: INT32_MAX }), fc.integer({ min: 0, max: INT32_MAX })), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: INT32_MAX }),
        async (mailboxes, adminQuotaMb) => {
          const created = await gql(CREATE_DOMAIN, { input: { name: `${uniqueName("big")}.example`, adminPassword: PASSWORD, adminQuotaMb } });
          checkSafe("createDomain with a huge administrator quota", { adminQuotaMb }, created);
          const domainId: string = created.data.createDomain.domain.id;
          let allocated = adminQuotaMb;
          let used = 0;
          for (const [index, [quotaMb, usedMb]] of mailboxes.entries()) {
            const input = { domainId, localPart: `m${index}`, password: PASSWORD, quotaMb };
            const account = await gql(CREATE_ACCOUNT, { input });
            checkSafe("createAccount with a huge quota", input, account);
            // Unlimited still has a ceiling: the totals must fit GraphQL's Int.
            expect({ input, code: account.errors?.[0]?.extensions.code }).toEqual({
              input,
              code: allocated + quotaMb > INT32_MAX ? "QUOTA_EXCEEDED" : undefined,
            });
            if (account.errors) continue;
            allocated += quotaMb;
            const usage = { id: account.data.createAccount.account.id, input: { usedMb } };
            const updated = await gql(UPDATE_ACCOUNT, usage);
            checkSafe("updateAccount with huge usage", usage, updated);
            expect({ usage, code: updated.errors?.[0]?.extensions.code }).toEqual({ usage, code: used + usedMb > INT32_MAX ? "QUOTA_EXCEEDED" : undefined });
            if (!updated.errors) used += usedMb;
          }
          const totals = await gql(DOMAIN_TOTALS, { id: domainId });
          checkSafe("domain { accountCount allocatedQuotaMb usedMb }", { adminQuotaMb, mailboxes }, totals);
          expect(totals.data.domain).toMatchObject({ allocatedQuotaMb: allocated, usedMb: used });
        },
      ),
      { numRuns: 10, examples: [[[[INT32_MAX, INT32_MAX]], INT32_MAX]] },
    );
  }, 60_000);

  it("lookups: hostile names and addresses for domain(name:) and account(address:) never fail the server", async () => {
    const lookup = fc.oneof(
      fc.record({ kind: fc.constant("domain" as const), value: fc.oneof(hostileDomainName, fc.constantFrom(...HAND_PICKED_DOMAIN_NAMES)) }),
      fc.record({ kind: fc.constant("account" as const), value: fc.oneof(addressLike, fc.constantFrom(...HAND_PICKED_ADDRESSES)) }),
    );
    await fc.assert(
      fc.asyncProperty(lookup, async ({ kind, value }) => {
        const [query, variables] = kind === "domain" ? [DOMAIN_BY_NAME, { name: value }] : [ACCOUNT_BY_ADDRESS, { address: value }];
        const before = await counts();
        const response = await gql(query, variables);
        await checkWrite(`${kind} lookup`, variables, response, { counts: before });
      }),
      { numRuns: 200, examples: [[{ kind: "account", value: "a@b@c.com" }], [{ kind: "domain", value: "\ud800.com" }], [{ kind: "account", value: "\ud800@x.com" }]] },
    );
  }, 60_000);

  it("listings: hostile searches, cursors and page sizes for domains() never fail the server", async () => {
    const args = fc.record(
      { search: fc.option(hostileSearch, { nil: null }), after: fc.option(hostileCursor, { nil: null }), first: fc.option(hostileInt, { nil: null }) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(args, async (variables) => {
        const response = await gql(DOMAINS, variables);
        checkSafe("domains()", variables, response);
        if (outcomeOf(response) === "ok") {
          const page = response.data.domains;
          if (page.edges.length > (variables.first ?? 20) || page.edges.length > page.totalCount) fail("domains() returned more than asked", variables, page.pageInfo);
        }
      }),
      {
        numRuns: 200,
        examples: [
          [{ search: "\\" }],
          [{ search: "a\\" }],
          [{ search: "%" }],
          [{ search: "_" }],
          [{ first: 0 }],
          [{ first: 101 }],
          [{ first: INT32_MAX }],
          [{ first: INT32_MIN }],
          [{ after: "a".repeat(513) }],
          [{ after: "AA" }], // base64url of a NUL byte
          [{ search: "\ud800" }],
        ],
      },
    );
  }, 60_000);

  it("lookups and listings: variables of the wrong type are refused as bad input", async () => {
    const wrong = fc.constantFrom<unknown>(1.5, 2 ** 31, INT32_MIN - 1, "20", true, [], {}, [1]);
    const target = fc.constantFrom(
      { query: DOMAINS, key: "first" },
      { query: DOMAINS, key: "search" },
      { query: DOMAINS, key: "after" },
      { query: DOMAIN_BY_NAME, key: "name" },
      { query: DOMAIN_BY_ID, key: "id" },
      { query: ACCOUNT_BY_ADDRESS, key: "address" },
    );
    await fc.assert(
      fc.asyncProperty(target, wrong, async ({ query, key }, value) => {
        const variables = { [key]: value };
        const response = await gql(query, variables);
        // ID accepts integers (it coerces them to strings), and strings are fine for String and ID:
        // those are ordinary hostile values.
        if ((key === "id" && Number.isInteger(value)) || (typeof value === "string" && key !== "first")) {
          checkSafe("coercible variable", variables, response);
          return;
        }
        checkSafe("wrongly-typed variable", variables, response, TYPE_CODES);
        if (!response.errors?.length) fail("a wrongly-typed variable was accepted", variables, response.data);
      }),
      { numRuns: 40 },
    );
  }, 60_000);
  it("reportMailboxUsage: hostile rows never fail the server; each row is stored exactly as sent or rejected with its field, and a push is one audit entry", async () => {
    const usageDomain = (await makeDomain(app, { defaultMailboxQuotaMb: 100 })).domain;
    const mailboxes: Account[] = [];
    for (let index = 0; index < 3; index++) mailboxes.push(await makeAccount(app, usageDomain, { quotaMb: index === 0 ? 1 : 500 }));
    const known = fc.constantFrom(...mailboxes.map((account) => account.address), ...mailboxes.map((account) => account.address.toUpperCase()));
    const hostileBytes = fc.oneof(
      fc.constantFrom(0, 1, -1, 0.5, 1.5, 2 ** 31, 2 ** 53 - 1, 2 ** 53, 2 ** 63, -(2 ** 53), 1e308, Number.MIN_VALUE),
      fc.integer({ min: -5, max: 10 * 1024 * 1024 * 1024 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    const row = fc.record({
      address: fc.oneof({ weight: 4, arbitrary: known }, { weight: 1, arbitrary: addressLike }, { weight: 1, arbitrary: fc.constantFrom(...HAND_PICKED_ADDRESSES) }),
      bytes: hostileBytes,
      messages: hostileInt,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 6 }), async (input) => {
        const sent = { input };
        const before = { counts: await counts() };
        const response = await gql(REPORT_USAGE, sent);
        const { outcome, after } = await checkWrite("reportMailboxUsage", sent, response, before);
        if (outcome === "refused") fail("reportMailboxUsage refused a whole push of 1 to 6 rows", sent, response.errors);
        const { accepted, rejected } = response.data.reportMailboxUsage as { accepted: number; rejected: { index: number; field: string; code: string; message: string }[] };
        if (accepted + rejected.length !== input.length) fail("reportMailboxUsage lost or doubled rows", sent, response.data);
        for (const refusal of rejected) {
          if (!["address", "bytes", "messages"].includes(refusal.field) || !["BAD_USER_INPUT", "NOT_FOUND"].includes(refusal.code) || !refusal.message) {
            fail("reportMailboxUsage rejected a row without a proper field, code and message", sent, refusal);
          }
        }
        if (after.audit - before.counts.audit !== 1 || after.accounts !== before.counts.accounts) fail("a push is not exactly one audit entry", sent, { before, after });
        const refusedRows = new Set(rejected.map((refusal) => refusal.index));
        for (const [index, stored] of input.entries()) {
          if (refusedRows.has(index)) continue;
          const account = await app.deps.db.account.findUnique({ where: { address: stored.address.toLowerCase() } });
          const expected = { usedMb: Math.min(Math.ceil(stored.bytes / (1024 * 1024)), INT32_MAX), messageCount: stored.messages };
          if (!account || account.usedMb !== expected.usedMb || account.messageCount !== expected.messageCount) {
            fail("an accepted row is not what the account shows", sent, { index, expected, account: account && { usedMb: account.usedMb, messageCount: account.messageCount } });
          }
        }
        // The account and domain read back whatever was stored.
        const read = await gql(`query($id: ID) { domain(id: $id) { usedMb accounts(first: 10) { nodes { usedMb messageCount usagePercent usageUpdatedAt } } } }`, {
          id: usageDomain.id,
        });
        checkSafe("domain usage after a push", sent, read);
      }),
      {
        numRuns: 100,
        examples: [[[{ address: "a@b", bytes: -1, messages: -1 }]], [[{ address: "\u0000@x.com", bytes: 1.5, messages: 0 }]]],
      },
    );
    // Every mailbox of the domain at the largest usage: the totals still fit GraphQL's Int.
    const huge = mailboxes.map((account) => ({ address: account.address, bytes: 2 ** 53 - 1, messages: INT32_MAX }));
    expect((await gql(REPORT_USAGE, { input: huge })).data.reportMailboxUsage.accepted).toBe(3);
    const totals = await gql(DOMAIN_TOTALS, { id: usageDomain.id });
    checkSafe("domain totals at the largest usage", huge, totals);
    expect(totals.data.domain.usedMb).toBe(INT32_MAX);
  }, 120_000);

  it("mailboxesAboveQuota: hostile percents, domain ids, cursors and page sizes never fail the server", async () => {
    const args = fc.record(
      {
        percent: fc.option(hostileInt, { nil: null }),
        domainId: fc.option(fc.oneof(hostileId, fc.constant(quotaDomain.id)), { nil: null }),
        first: fc.option(hostileInt, { nil: null }),
        after: fc.option(hostileCursor, { nil: null }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(args, async (variables) => {
        const before = await counts();
        const response = await gql(ABOVE_QUOTA, variables);
        await checkWrite("mailboxesAboveQuota", variables, response, { counts: before });
        if (outcomeOf(response) === "refused") return;
        const page = response.data.mailboxesAboveQuota;
        if (page.nodes.length > (variables.first ?? 50) || page.nodes.length > page.totalCount) fail("mailboxesAboveQuota returned more than asked", variables, page.pageInfo);
        const threshold = variables.percent ?? 80;
        for (const node of page.nodes) {
          if (node.quotaMb <= 0 || node.usedMb * 100 < threshold * node.quotaMb) fail("mailboxesAboveQuota listed a mailbox below the threshold", variables, node);
        }
      }),
      { numRuns: 150, examples: [[{ percent: 0 }], [{ percent: 1001 }], [{ percent: INT32_MAX }], [{ domainId: "\u0000" }], [{ first: 0 }], [{ after: "AA" }]] },
    );
  }, 60_000);
});
