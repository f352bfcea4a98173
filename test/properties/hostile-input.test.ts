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
// eslint-disable-next-line @typescript-eslint/no-require-imports
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

// ---------------------------------------------------------------------------
// Assertions

type Outcome = "ok" | "refused";

/**
 * Throws (with the request and the answer, so fast-check's counterexample is
 * readable) unless the response is a success, or errors whose codes are all in
 * `allowed`, none of them a 5xx, and resolver errors with a field code name a field.
 */
function checkSafe(what: string, sent: unknown, response: GraphQLResponse, allowed: Set<string> = RESOLVER_CODES): Outcome {
  const problems: string[] = [];
  if (response.status >= 500) problems.push(`HTTP ${response.status}`);
  if (!response.errors?.length) {
    if (response.data == null) problems.push("neither data nor errors");
  } else {
    for (const error of response.errors) {
      const code = error.extensions?.code;
      if (!allowed.has(code)) problems.push(`code ${String(code)}`);
      // Resolver errors carry a path; variable-coercion errors (HTTP 400) do not, and name no field.
      if (error.path && FIELD_CODES.has(code)) {
        const field = error.extensions.field;
        if (typeof field !== "string" || field.length === 0) problems.push(`${code} without extensions.field`);
      }
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${what}: ${problems.join("; ")}\n  sent: ${safeJson(sent)}\n  HTTP ${response.status}, answer: ${safeJson(response.errors ?? response.data)}`,
    );
  }
  return response.errors?.length ? "refused" : "ok";
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

const HAND_PICKED_LOCAL_PARTS = ["admin@", "@x.com", "a@b@c.com", "", " ", ".a", "a.", "a..b", "a".repeat(64), "a".repeat(65), "ADMIN", "Ünïcode", "a b", "a\u0000", '"quoted"', "a/b", "-", "~"];

const addressLike = fc.oneof(
  fc.tuple(localPartLike, hostileDomainName).map(([local, domain]) => `${local}@${domain}`),
  fc.emailAddress(),
  anyString,
);

const HAND_PICKED_ADDRESSES = ["admin@", "@x.com", "a@b@c.com", "a@", "@", "", "a@b", "a@1.2.3.4", "a@[1.2.3.4]", "a@例え.テスト", "A@X.COM", `${"a".repeat(65)}@x.com`, "a@\u0000.com"];

const hostileInt = fc.oneof(
  fc.constantFrom(INT32_MIN, -1, 0, 1, 2, INT32_MAX - 1, INT32_MAX),
  fc.integer({ min: INT32_MIN, max: INT32_MAX }),
  fc.integer({ min: -5, max: 3000 }),
);

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

const hostileSearch = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("%", "_", "\\", "a\\", "\\%", "%%", "[", "*", "'", "例え", "XN--", "\u0000"),
  anyString,
);

// ---------------------------------------------------------------------------

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

  async function counts() {
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
  async function checkCreatedDomain(sent: Record<string, unknown>, payload: any, before: Awaited<ReturnType<typeof counts>>) {
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
    if (stored.unicodeName !== payload.domain.unicodeName) fail("unicodeName differs between the answer and the database", sent, { stored: stored.unicodeName, payload: payload.domain.unicodeName });
    // The Unicode name (and the ASCII name in any letter case) leads back to the same domain.
    for (const lookup of [payload.domain.unicodeName as string, name, name.toUpperCase()]) {
      const found = await gql(DOMAIN_BY_NAME, { name: lookup });
      checkSafe("domain(name:) of a created domain", { name: lookup }, found);
      if (found.data?.domain?.id !== stored.id || found.data.domain.name !== name) {
        fail("the created domain's name does not round-trip", sent, { lookup, answer: found.data ?? found.errors });
      }
    }
  }

  it("createDomain: arbitrary names never fail the server; a refusal changes nothing, an acceptance stores one normalised, round-tripping domain", async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(hostileDomainName, async (name) => {
        const sent = { name, adminPassword: PASSWORD };
        const before = await counts();
        const response = await gql(CREATE_DOMAIN, { input: sent });
        const outcome = checkSafe("createDomain(name)", sent, response);
        if (outcome === "refused") {
          const after = await counts();
          if (JSON.stringify(after) !== JSON.stringify(before)) fail("a refused createDomain changed the database", sent, { before, after });
        } else {
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
      { maxAccounts: 0 },
      { maxAccounts: -1 },
      { maxAccounts: 1 },
      { maxAccounts: INT32_MAX },
      { adminQuotaMb: -1 },
      ...HAND_PICKED_LOCAL_PARTS.map((adminLocalPart) => ({ adminLocalPart })),
      { adminDisplayName: "\ud800" },
      { adminDisplayName: "n".repeat(129) },
      { adminPassword: "a".repeat(73) },
      { adminPassword: "é".repeat(37) },
      { adminPassword: "short" },
    ];
    await fc.assert(
      fc.asyncProperty(input, async (fields) => {
        const sent = { name: `${uniqueName("h")}.example`, ...fields };
        const before = await counts();
        const response = await gql(CREATE_DOMAIN, { input: sent });
        const outcome = checkSafe("createDomain(fields)", sent, response);
        if (outcome === "refused") {
          const after = await counts();
          if (JSON.stringify(after) !== JSON.stringify(before)) fail("a refused createDomain changed the database", sent, { before, after });
          return;
        }
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

  it("createAccount: hostile ids, local parts, display names, passwords and quotas never fail the server and never half-create", async () => {
    let accepted = 0;
    const domainId = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(() => limited.id, () => unlimited.id).map((get) => get()) },
      { weight: 1, arbitrary: hostileId },
    );
    const input = fc.record(
      {
        domainId,
        localPart: fc.oneof(localPartLike, fc.constantFrom(...HAND_PICKED_LOCAL_PARTS), fc.constant("admin")),
        displayName: fc.option(displayName, { nil: undefined, freq: 3 }),
        password: fc.oneof({ weight: 1, arbitrary: password }, { weight: 2, arbitrary: fc.constant(PASSWORD) }),
        quotaMb: optionalInt,
        status: fc.option(fc.constantFrom("ACTIVE", "SUSPENDED"), { nil: undefined }),
      },
      { requiredKeys: ["domainId", "localPart", "password"] },
    );
    await fc.assert(
      fc.asyncProperty(input, async (sent) => {
        const before = await counts();
        const response = await gql(CREATE_ACCOUNT, { input: sent });
        const outcome = checkSafe("createAccount", sent, response);
        const after = await counts();
        if (outcome === "refused") {
          if (JSON.stringify(after) !== JSON.stringify(before)) fail("a refused createAccount changed the database", sent, { before, after });
          return;
        }
        accepted++;
        const account = response.data.createAccount.account;
        const stored = await app.deps.db.account.findUnique({ where: { id: account.id }, include: { domain: true } });
        if (!stored || after.accounts - before.accounts !== 1 || after.audit - before.audit !== 1 || after.domains !== before.domains) {
          fail("createAccount accepted but did not add exactly one account and one audit record", sent, { before, after });
        }
        if (stored.localPart !== stored.localPart.toLowerCase() || stored.address !== `${stored.localPart}@${stored.domain.name}` || account.address !== stored.address) {
          fail("createAccount stored an address that is not localPart@domain in lower case", sent, { address: stored.address, localPart: stored.localPart });
        }
        const { quotaMb, maxAccounts } = stored.domain;
        if (quotaMb !== null) {
          const allocated = await app.deps.db.account.aggregate({ where: { domainId: stored.domainId }, _sum: { quotaMb: true }, _count: { _all: true } });
          if (Number(allocated._sum.quotaMb) > quotaMb) fail("createAccount overshot the domain quota", sent, { allocated, quotaMb });
        }
        if (maxAccounts !== null && (await app.deps.db.account.count({ where: { domainId: stored.domainId } })) > maxAccounts) {
          fail("createAccount overshot maxAccounts", sent, { maxAccounts });
        }
      }),
      {
        numRuns: 200,
        examples: [
          [{ domainId: "\u0000", localPart: "a", password: PASSWORD }],
          [{ domainId: "x".repeat(65), localPart: "a", password: PASSWORD }],
          [{ domainId: "", localPart: "a", password: PASSWORD }],
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
        checkSafe("createAccount above the domain quota", sent, response);
        if (response.errors?.[0]?.extensions.code !== "QUOTA_EXCEEDED") fail("a mailbox quota above the domain quota was not QUOTA_EXCEEDED", sent, response.errors ?? response.data);
        if (JSON.stringify(await counts()) !== JSON.stringify(before)) fail("a refused createAccount changed the database", sent);
        // Fill the domain up to maxAccounts (the administrator is one), then one more is refused.
        for (let index = 1; index < maxAccounts; index++) await makeAccount(app, domain, { quotaMb: 0 });
        const full = { domainId: domain.id, localPart: "onetoomany", password: PASSWORD, quotaMb: 0 };
        const beforeFull = await counts();
        const refused = await gql(CREATE_ACCOUNT, { input: full });
        checkSafe("createAccount in a full domain", full, refused);
        if (refused.errors?.[0]?.extensions.code !== "QUOTA_EXCEEDED") fail("an account beyond maxAccounts was not QUOTA_EXCEEDED", full, refused.errors ?? refused.data);
        if (JSON.stringify(await counts()) !== JSON.stringify(beforeFull)) fail("a refused createAccount changed the database", full);
      }),
      { numRuns: 15 },
    );
  }, 60_000);

  it("updateDomain: hostile ids, quotas and limits never fail the server; a refusal changes nothing, an acceptance stores what was asked", async () => {
    const id = fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hostileId });
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
    await fc.assert(
      fc.asyncProperty(id, input, async (maybeId, fields) => {
        const sent = { id: maybeId ?? tuned.id, input: fields };
        const before = await counts();
        const rowBefore = await app.deps.db.domain.findUnique({ where: { id: tuned.id } });
        const response = await gql(UPDATE_DOMAIN, sent);
        const outcome = checkSafe("updateDomain", sent, response);
        const after = await counts();
        const rowAfter = await app.deps.db.domain.findUnique({ where: { id: tuned.id } });
        if (outcome === "refused") {
          if (JSON.stringify(after) !== JSON.stringify(before) || JSON.stringify(rowAfter) !== JSON.stringify(rowBefore)) {
            fail("a refused updateDomain changed the database", sent, { before, after, rowBefore, rowAfter });
          }
          return;
        }
        const domain = response.data.updateDomain.domain;
        for (const [key, value] of Object.entries(fields)) {
          if (value !== undefined && domain[key] !== value) fail(`updateDomain accepted ${key} but answered another value`, sent, domain);
          if (value !== undefined && (rowAfter as Record<string, unknown>)[key] !== value) fail(`updateDomain accepted ${key} but stored another value`, sent, rowAfter);
        }
        if (after.audit - before.audit > 1 || after.domains !== before.domains || after.accounts !== before.accounts) fail("updateDomain changed more than its domain and one audit record", sent, { before, after });
        // Keep the fixture usable: restore generous limits for the next run.
        await app.deps.db.domain.update({ where: { id: tuned.id }, data: { quotaMb: 10_000, maxAccounts: 50, defaultMailboxQuotaMb: 100 } });
      }),
      {
        numRuns: 150,
        examples: [
          [null, { quotaMb: -1 }],
          [null, { quotaMb: 0 }],
          [null, { quotaMb: 499 }], // below the 500 MiB its mailboxes hold
          [null, { quotaMb: 450 }], // below the 500 MiB of quotas, above the 400 MiB used
          [null, { maxAccounts: 0 }],
          [null, { maxAccounts: 2 }], // below its 3 accounts
          [null, { maxAccounts: INT32_MAX, quotaMb: INT32_MAX, defaultMailboxQuotaMb: INT32_MAX }],
          [null, { defaultMailboxQuotaMb: null }],
          [null, { status: null }],
          [null, { quotaMb: 50, defaultMailboxQuotaMb: 60 }],
          ["\u0000", { quotaMb: 1 }],
          ["x".repeat(65), {}],
        ],
      },
    );
  }, 120_000);

  it("updateAccount: hostile ids, display names, quotas and usage never fail the server; a refusal changes nothing", async () => {
    const id = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: hostileId });
    const input = fc.record(
      {
        displayName: fc.option(fc.oneof(displayName, fc.constant(null)), { nil: undefined, freq: 2 }),
        quotaMb: fc.option(fc.oneof(hostileInt, fc.constant(null)), { nil: undefined, freq: 2 }),
        usedMb: fc.option(fc.oneof(hostileInt, fc.constant(null)), { nil: undefined, freq: 2 }),
        status: fc.option(fc.constantFrom("ACTIVE", "SUSPENDED", null), { nil: undefined, freq: 2 }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(id, input, async (which, fields) => {
        const target = typeof which === "number" ? quotaAccounts[which]! : undefined;
        const sent = { id: target ? target.id : which, input: fields };
        const before = await counts();
        const rowsBefore = await app.deps.db.account.findMany({ where: { domainId: quotaDomain.id }, orderBy: { id: "asc" } });
        const response = await gql(UPDATE_ACCOUNT, sent);
        const outcome = checkSafe("updateAccount", sent, response);
        const after = await counts();
        const rowsAfter = await app.deps.db.account.findMany({ where: { domainId: quotaDomain.id }, orderBy: { id: "asc" } });
        if (outcome === "refused") {
          if (JSON.stringify(after) !== JSON.stringify(before) || JSON.stringify(rowsAfter) !== JSON.stringify(rowsBefore)) {
            fail("a refused updateAccount changed the database", sent, { before, after });
          }
          return;
        }
        const allocated = rowsAfter.reduce((sum, row) => sum + row.quotaMb, 0);
        if (allocated > quotaDomain.quotaMb!) fail("updateAccount overshot the domain quota", sent, { allocated, quotaMb: quotaDomain.quotaMb });
        if (after.audit - before.audit > 1 || after.accounts !== before.accounts) fail("updateAccount changed more than its account and one audit record", sent, { before, after });
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
          [0, { displayName: "\ud800" }],
          [0, { displayName: null }],
          ["\u0000", { quotaMb: 1 }],
          ["", {}],
        ],
      },
    );
  }, 120_000);

  it("domain totals: huge quotas and usage in an unlimited domain never fail the server", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: INT32_MAX }), fc.integer({ min: 0, max: INT32_MAX })), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: INT32_MAX }),
        async (mailboxes, adminQuotaMb) => {
          const created = await gql(CREATE_DOMAIN, { input: { name: `${uniqueName("big")}.example`, adminPassword: PASSWORD, adminQuotaMb } });
          checkSafe("createDomain with a huge administrator quota", { adminQuotaMb }, created);
          const domainId: string = created.data.createDomain.domain.id;
          for (const [index, [quotaMb, usedMb]] of mailboxes.entries()) {
            const input = { domainId, localPart: `m${index}`, password: PASSWORD, quotaMb };
            const account = await gql(CREATE_ACCOUNT, { input });
            checkSafe("createAccount with a huge quota", input, account);
            const usage = { id: account.data.createAccount.account.id, input: { usedMb } };
            checkSafe("updateAccount with huge usage", usage, await gql(UPDATE_ACCOUNT, usage));
          }
          const totals = await gql(DOMAIN_TOTALS, { id: domainId });
          checkSafe("domain totals", { adminQuotaMb, mailboxes }, totals);
        },
      ),
      { numRuns: 10, examples: [[[[INT32_MAX, INT32_MAX]], INT32_MAX]] },
    );
  }, 60_000);

  it("lookups and listings: hostile names, addresses, ids, searches and cursors never fail the server", async () => {
    const lookup = fc.oneof(
      fc.record({ kind: fc.constant("domainByName" as const), value: fc.oneof(hostileDomainName, fc.constantFrom(...HAND_PICKED_DOMAIN_NAMES)) }),
      fc.record({ kind: fc.constant("accountByAddress" as const), value: fc.oneof(addressLike, fc.constantFrom(...HAND_PICKED_ADDRESSES)) }),
      fc.record({ kind: fc.constant("domainById" as const), value: hostileId }),
      fc.record({ kind: fc.constant("accountById" as const), value: hostileId }),
      fc.record({
        kind: fc.constant("domains" as const),
        value: fc.record(
          { search: fc.option(hostileSearch, { nil: null }), after: fc.option(hostileCursor, { nil: null }), first: fc.option(hostileInt, { nil: null }) },
          { requiredKeys: [] },
        ),
      }),
    );
    await fc.assert(
      fc.asyncProperty(lookup, async ({ kind, value }) => {
        const [query, variables] =
          kind === "domainByName"
            ? [DOMAIN_BY_NAME, { name: value }]
            : kind === "accountByAddress"
              ? [ACCOUNT_BY_ADDRESS, { address: value }]
              : kind === "domainById"
                ? [DOMAIN_BY_ID, { id: value }]
                : kind === "accountById"
                  ? [ACCOUNT_BY_ID, { id: value }]
                  : [DOMAINS, value as Record<string, unknown>];
        const before = await counts();
        const response = await gql(query, variables);
        checkSafe(kind, variables, response);
        if (JSON.stringify(await counts()) !== JSON.stringify(before)) fail("a read changed the database", variables);
      }),
      {
        numRuns: 300,
        examples: [
          [{ kind: "domains", value: { after: "AA" } }],
          [{ kind: "domains", value: { search: "\\" } }],
          [{ kind: "domains", value: { search: "a\\" } }],
          [{ kind: "domains", value: { search: "%" } }],
          [{ kind: "domains", value: { first: 0 } }],
          [{ kind: "domains", value: { first: INT32_MAX } }],
          [{ kind: "domainById", value: "\u0000" }],
          [{ kind: "accountById", value: "\u0000" }],
          [{ kind: "accountByAddress", value: "a@b@c.com" }],
        ],
      },
    );
  }, 120_000);

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
});
