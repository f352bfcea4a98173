// DKIM keys made, published and rotated by mailadmin (issue 21): a domain's
// key pair made at its creation, the private half encrypted at rest and never
// answered, logged or audited; the records to publish; the rotation without a
// gap (start, the DNS check seeing the new selector, confirm, grace period,
// retirement; cancel) through the API, with who may do what; keys past their
// age reported by the sweep; the back-fill of older domains. DNS is NSD on
// loopback (test/helpers/dns-world.ts), republished as the customer would.
import { decryptPrivateKey, dkimEncryptionKey, encryptPrivateKey, encryptionKeyId, parseEncryptionKey } from "../../src/dkim/dkim.crypto";
import { backfillDkimKeys, newSelector, signingKeys } from "../../src/dkim/dkim.service";
import { openDkimFiles } from "../../src/mailstack/opendkim";
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeDomain, makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";
import { rightParts, txt, zoneBody } from "../dns/zones";

const KEYS = `query($name: String!, $all: Boolean) { domain(name: $name) { dkimKeys(includeRetired: $all) {
  id selector algorithm state publicKey dnsName txtValue txtStrings zoneLine createdAt activatedAt retiringAt retireAfter retiredAt } } }`;
const EXPECTED = `query($name: String!) { domain(name: $name) { expectedDnsRecords { zoneFile records { name type value purpose zoneLine } } } }`;
const CHECK = `mutation($domain: String!) { checkDomainDns(domain: $domain, refresh: true) { status findings { check status subject found fix } } }`;
const SWEEP = `mutation($names: [String!]) { checkDomainsDns(names: $names, refresh: true) { domainName findings { check status subject found } } }`;
const PAYLOAD = `domain { name } keys { selector algorithm state retireAfter }`;
const START = `mutation($id: ID!) { startDkimRotation(domainId: $id) { ${PAYLOAD} } }`;
const CONFIRM = `mutation($id: ID!, $force: Boolean) { confirmDkimRotation(domainId: $id, force: $force) { ${PAYLOAD} } }`;
const CANCEL = `mutation($id: ID!) { cancelDkimRotation(domainId: $id) { ${PAYLOAD} } }`;
const ENSURE = `mutation($id: ID!, $ed: Boolean) { ensureDkimKeys(domainId: $id, ed25519: $ed) { ${PAYLOAD} } }`;

const NAMES = {
  rotate: `${uniqueName("rot")}.example`,
  authz: `${uniqueName("authz")}.example`,
  age: `${uniqueName("age")}.example`,
  ed: `${uniqueName("ed")}.example`,
};

/** The zone of an MX domain publishing these DKIM records (selector -> p= value, k= from its length). */
function zoneWith(keys: Record<string, string>): string {
  const parts = rightParts("MX");
  parts.dkim = Object.entries(keys).map(
    ([selector, key]) => `${selector}._domainkey IN TXT ${txt(`v=DKIM1; k=${Buffer.from(key, "base64").length === 32 ? "ed25519" : "rsa"}; p=${key}`)}`,
  );
  return zoneBody(parts);
}

describe("DKIM keys made, published and rotated by mailadmin", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;
  const responses: string[] = [];

  async function gql(query: string, variables: Record<string, unknown>, token?: string) {
    const response = await app.gql(query, variables, token);
    responses.push(JSON.stringify(response));
    return response;
  }
  const keysOf = async (name: string, token = support, all = false) => (await gql(KEYS, { name, all }, token)).data.domain.dkimKeys as any[];
  const publish = (name: string, keys: Record<string, string>) => world.republish([{ name, records: zoneWith(keys) }]);

  beforeAll(async () => {
    world = await startDnsWorld(Object.values(NAMES).map((name) => ({ name, records: zoneWith({}) })));
    // 2048-bit keys as in production: the TXT value is then split into 255-byte strings.
    app = await startTestApp({ ...world.config, DKIM_RSA_KEY_BITS: "2048", DNS_CHECK_CACHE_SECONDS: "0" });
    support = await tokenFor(app, await supportAdmin(app));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await world?.stop();
  });

  it("makes an RSA 2048 key when a domain is created, signing at once, and lists it in the records to publish as 255-byte strings", async () => {
    const created = await gql(
      `mutation($name: String!) { createDomain(input: { name: $name }) { domain { id name dkimPublicKey dkimKeys { selector algorithm state } } } }`,
      { name: `${uniqueName("new")}.example` },
      support,
    );
    expect(created.errors).toBeUndefined();
    const domain = created.data.createDomain.domain;
    expect(domain.dkimPublicKey).toBeNull();
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, "");
    expect(domain.dkimKeys).toEqual([{ selector: `mail-${today}`, algorithm: "RSA_SHA256", state: "ACTIVE" }]);
    const [key] = await keysOf(domain.name);
    expect(Buffer.from(key.publicKey, "base64").length).toBeGreaterThan(290);
    expect(key.dnsName).toBe(`mail-${today}._domainkey.${domain.name}`);
    expect(key.txtValue).toBe(`v=DKIM1; k=rsa; p=${key.publicKey}`);
    expect(key.txtStrings.join("")).toBe(key.txtValue);
    expect(key.txtStrings.length).toBe(2);
    expect(key.txtStrings.every((part: string) => Buffer.byteLength(part) <= 255)).toBe(true);
    expect(key.zoneLine).toBe(`${key.dnsName}.\t3600\tIN\tTXT\t"${key.txtStrings[0]}" "${key.txtStrings[1]}"`);
    const expected = (await gql(EXPECTED, { name: domain.name }, support)).data.domain.expectedDnsRecords;
    const dkim = expected.records.filter((record: { name: string }) => record.name.includes("._domainkey."));
    expect(dkim).toEqual([{ name: key.dnsName, type: "TXT", value: key.txtValue, purpose: expect.stringMatching(/^DKIM: /), zoneLine: key.zoneLine }]);
    expect(expected.zoneFile).toContain(key.zoneLine);
  });

  it("makes an Ed25519 key alongside RSA when asked (RFC 8463), published with k=ed25519", async () => {
    const { domain } = await makeDomain(app, { dkimEd25519: true });
    const keys = await keysOf(domain.name);
    expect(keys.map((key) => [key.algorithm, key.state]).sort()).toEqual([
      ["ED25519_SHA256", "ACTIVE"],
      ["RSA_SHA256", "ACTIVE"],
    ]);
    const ed = keys.find((key) => key.algorithm === "ED25519_SHA256");
    expect(ed.selector).toMatch(/^mail-\d{8}-ed$/);
    expect(Buffer.from(ed.publicKey, "base64")).toHaveLength(32);
    expect(ed.txtValue).toBe(`v=DKIM1; k=ed25519; p=${ed.publicKey}`);
  });

  it("makes no key for a domain given a hand-typed key (its signer is elsewhere): the record stays at DKIM_SELECTOR", async () => {
    const typed = (await keysOf((await makeDomain(app)).domain.name))[0].publicKey;
    const { domain } = await makeDomain(app, { dkimPublicKey: typed });
    expect(await keysOf(domain.name)).toEqual([]);
    const expected = (await gql(EXPECTED, { name: domain.name }, support)).data.domain.expectedDnsRecords;
    expect(expected.records.filter((record: { name: string }) => record.name.includes("._domainkey.")).map((record: { name: string }) => record.name)).toEqual([
      `mail._domainkey.${domain.name}`,
    ]);
  });

  it("rotates without a gap: new selector published first, confirmed once the DNS check sees it, the old key retiring for the grace period", async () => {
    const { domain } = await makeDomain(app, { name: NAMES.rotate });
    const [first] = await keysOf(domain.name);
    await publish(domain.name, { [first.selector]: first.publicKey });
    const checked = await gql(CHECK, { domain: domain.name }, support);
    expect(checked.data.checkDomainDns.findings.filter((f: { check: string }) => f.check.startsWith("dkim."))).toEqual([
      { check: "dkim.key", status: "PASS", subject: first.dnsName, found: "the signing key (rsa) is published and matches the key on file", fix: null },
    ]);

    // Start: a second key, pending, under a new selector; signing is unchanged.
    const started = await gql(START, { id: domain.id }, support);
    expect(started.errors).toBeUndefined();
    const keys = started.data.startDkimRotation.keys;
    expect(keys.map((key: { state: string }) => key.state)).toEqual(["PUBLISHED_PENDING", "ACTIVE"]);
    const next = (await keysOf(domain.name))[0];
    expect(next.selector).toBe(`${first.selector}-2`);
    // A second start is refused while one is under way.
    const again = await gql(START, { id: domain.id }, support);
    expect(again.errors![0]!.extensions).toMatchObject({ code: "CONFLICT", field: "domainId" });

    // Both keys are in the records to publish; the pending one is not in DNS yet.
    const expected = (await gql(EXPECTED, { name: domain.name }, support)).data.domain.expectedDnsRecords;
    expect(
      expected.records
        .filter((record: { name: string }) => record.name.includes("._domainkey."))
        .map((record: { name: string; purpose: string }) => [record.name, record.purpose.slice(0, 20)]),
    ).toEqual([
      [first.dnsName, "DKIM: the key receiv"],
      [next.dnsName, "DKIM, next key of a "],
    ]);
    const waiting = await gql(CHECK, { domain: domain.name }, support);
    expect(waiting.data.checkDomainDns.findings.find((f: { subject: string }) => f.subject === next.dnsName)).toMatchObject({
      status: "WARN",
      found: expect.stringMatching(/not published yet/),
    });

    // Confirm before the record is published: refused, saying what DNS shows.
    const early = await gql(CONFIRM, { id: domain.id }, support);
    expect(early.errors![0]!.extensions).toMatchObject({ code: "CONFLICT", field: "domainId" });
    expect(early.errors![0]!.message).toMatch(new RegExp(`${next.selector}\\._domainkey`));
    // A wrong key at the new selector fails the check and the confirmation alike.
    await publish(domain.name, { [first.selector]: first.publicKey, [next.selector]: first.publicKey });
    expect((await gql(CHECK, { domain: domain.name }, support)).data.checkDomainDns.findings.find((f: { subject: string }) => f.subject === next.dnsName)).toMatchObject({
      status: "FAIL",
      found: expect.stringMatching(/different key/),
    });
    expect(errorCode(await gql(CONFIRM, { id: domain.id }, support))).toBe("CONFLICT");

    // Published: the check passes both, and the confirmation switches signing.
    await publish(domain.name, { [first.selector]: first.publicKey, [next.selector]: next.publicKey });
    const seen = await gql(CHECK, { domain: domain.name }, support);
    expect(seen.data.checkDomainDns.findings.filter((f: { check: string }) => f.check === "dkim.key").map((f: { status: string }) => f.status)).toEqual(["PASS", "PASS"]);
    const before = Date.now();
    const confirmed = await gql(CONFIRM, { id: domain.id }, support);
    expect(confirmed.errors).toBeUndefined();
    const after = await keysOf(domain.name);
    expect(after.map((key) => [key.selector, key.state])).toEqual([
      [next.selector, "ACTIVE"],
      [first.selector, "RETIRING"],
    ]);
    const retireAfter = new Date(after[1].retireAfter).getTime();
    expect(retireAfter).toBeGreaterThanOrEqual(before + 168 * 3_600_000 - 1000);
    expect(retireAfter).toBeLessThanOrEqual(Date.now() + 168 * 3_600_000 + 1000);
    expect(await app.deps.db.auditEntry.findMany({ where: { domainId: domain.id, action: { startsWith: "dkim." } }, orderBy: { id: "asc" }, select: { action: true } })).toEqual([
      { action: "dkim.rotation_start" },
      { action: "dkim.rotation_confirm" },
    ]);

    // The retiring key is still expected in DNS; once its grace period is over the sweep retires it.
    await app.deps.db.dkimKey.updateMany({ where: { domainId: domain.id, selector: first.selector }, data: { retireAfter: new Date(Date.now() - 1000) } });
    expect((await keysOf(domain.name)).map((key) => key.selector)).toEqual([next.selector]);
    await gql(SWEEP, { names: [domain.name] }, support);
    const row = await app.deps.db.dkimKey.findFirstOrThrow({ where: { domainId: domain.id, selector: first.selector } });
    expect(row).toMatchObject({ state: "RETIRED", retiredAt: expect.any(Date) });
    expect((await keysOf(domain.name, support, true)).map((key) => [key.selector, key.state])).toEqual([
      [next.selector, "ACTIVE"],
      [first.selector, "RETIRED"],
    ]);

    // Cancel: the pending key goes, signing stays.
    const third = await gql(START, { id: domain.id }, support);
    expect(third.errors).toBeUndefined();
    const cancelled = await gql(CANCEL, { id: domain.id }, support);
    expect(cancelled.data.cancelDkimRotation.keys.map((key: { selector: string; state: string }) => [key.selector, key.state])).toEqual([[next.selector, "ACTIVE"]]);
    expect(errorCode(await gql(CANCEL, { id: domain.id }, support))).toBe("CONFLICT");
    expect(errorCode(await gql(CONFIRM, { id: domain.id }, support))).toBe("CONFLICT");
  }, 60_000);

  it("lets support and the domain's administrator see and rotate its keys; forcing a confirmation is support's; others are refused", async () => {
    const f = await makeWorld(app, { name: NAMES.authz });
    const codes: Record<string, unknown> = {};
    for (const role of ["otherAdmin", "user", "anonymous"] as const) {
      codes[role] = [errorCode(await gql(KEYS, { name: NAMES.authz }, f.tokens[role])), errorCode(await gql(START, { id: f.domain.id }, f.tokens[role]))];
    }
    expect(codes).toEqual({ otherAdmin: ["NOT_FOUND", "NOT_FOUND"], user: ["FORBIDDEN", "FORBIDDEN"], anonymous: ["UNAUTHENTICATED", "UNAUTHENTICATED"] });
    expect(await app.deps.db.dkimKey.count({ where: { domainId: f.domain.id } })).toBe(1);

    expect((await keysOf(NAMES.authz, f.tokens.admin)).length).toBe(1);
    expect((await gql(START, { id: f.domain.id }, f.tokens.admin)).errors).toBeUndefined();
    const forced = await gql(CONFIRM, { id: f.domain.id, force: true }, f.tokens.admin);
    expect(forced.errors![0]!.extensions).toMatchObject({ code: "FORBIDDEN", field: "force" });
    const bySupport = await gql(CONFIRM, { id: f.domain.id, force: true }, f.tokens.support);
    expect(bySupport.data.confirmDkimRotation.keys.map((key: { state: string }) => key.state)).toEqual(["ACTIVE", "RETIRING"]);
    const audit = await app.deps.db.auditEntry.findFirstOrThrow({ where: { domainId: f.domain.id, action: "dkim.rotation_confirm" } });
    expect(audit.changes).toEqual(expect.arrayContaining([{ field: "force", before: null, after: true }]));
    expect(audit.actorRole).toBe("SUPPORT_ADMIN");
    expect(errorCode(await gql(START, { id: "not-an-id" }, support))).toBe("NOT_FOUND");
  }, 30_000);

  it("reports a signing key older than DKIM_KEY_MAX_AGE_DAYS in the sweep (dkim.age)", async () => {
    const { domain } = await makeDomain(app, { name: NAMES.age });
    const [key] = await keysOf(domain.name);
    await publish(domain.name, { [key.selector]: key.publicKey });
    await app.deps.db.dkimKey.updateMany({ where: { domainId: domain.id }, data: { activatedAt: new Date(Date.now() - 200 * 86_400_000) } });
    const swept = await gql(SWEEP, { names: [domain.name] }, support);
    expect(swept.data.checkDomainsDns[0].findings.filter((f: { check: string }) => f.check.startsWith("dkim."))).toEqual([
      { check: "dkim.key", status: "PASS", subject: key.dnsName, found: expect.any(String) },
      { check: "dkim.age", status: "WARN", subject: key.dnsName, found: "the signing key has signed for 200 days" },
    ]);
  }, 30_000);

  it("gives older domains keys: ensureDkimKeys for one domain, the back-fill for all; an Ed25519 key added later waits for DNS", async () => {
    const f = await makeWorld(app);
    await app.deps.db.dkimKey.deleteMany({ where: { domainId: { in: [f.domain.id, f.otherDomain.id] } } });
    expect(await keysOf(f.domain.name)).toEqual([]);
    const ensured = await gql(ENSURE, { id: f.domain.id }, f.tokens.admin);
    expect(ensured.data.ensureDkimKeys.keys.map((key: { state: string; algorithm: string }) => [key.algorithm, key.state])).toEqual([["RSA_SHA256", "ACTIVE"]]);
    const withEd = await gql(ENSURE, { id: f.domain.id, ed: true }, f.tokens.admin);
    expect(withEd.data.ensureDkimKeys.keys.map((key: { state: string; algorithm: string }) => [key.algorithm, key.state]).sort()).toEqual([
      ["ED25519_SHA256", "PUBLISHED_PENDING"],
      ["RSA_SHA256", "ACTIVE"],
    ]);
    const filled = await backfillDkimKeys(app.deps);
    expect(filled).toContain(f.otherDomain.name);
    expect(filled).not.toContain(f.domain.name);
    expect(await app.deps.db.dkimKey.count({ where: { domainId: f.otherDomain.id, state: "ACTIVE" } })).toBe(1);
    expect(await app.deps.db.auditEntry.count({ where: { domainId: f.otherDomain.id, action: "dkim.keys_create", actorRole: "SYSTEM" } })).toBe(1);
  }, 30_000);

  it("keeps the private keys encrypted at rest, bound to their domain and selector, and out of every answer, log line and audit record", async () => {
    const rows = await app.deps.db.dkimKey.findMany({ include: { domain: { select: { name: true } } } });
    expect(rows.length).toBeGreaterThan(5);
    const key = dkimEncryptionKey(app.config);
    const secrets: string[] = [];
    for (const row of rows) {
      expect(row.privateKeyEncrypted).toMatch(new RegExp(`^v1\\.${encryptionKeyId(key)}\\.`));
      expect(row.privateKeyEncrypted).not.toContain("PRIVATE KEY");
      const pem = decryptPrivateKey(key, row.domainId, row.selector, row.privateKeyEncrypted);
      expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      // The key's body, and a line of it as a log or JSON might cut it.
      const body = pem.replace(/-----[A-Z ]+-----|\s/g, "");
      secrets.push(body, pem.split("\n")[2]!);
      // Moved to another selector or domain, the ciphertext does not decrypt.
      expect(() => decryptPrivateKey(key, row.domainId, `${row.selector}x`, row.privateKeyEncrypted)).toThrow(/does not decrypt/);
    }
    const other = parseEncryptionKey(Buffer.alloc(32, 7).toString("base64"))!;
    expect(() => decryptPrivateKey(other, rows[0]!.domainId, rows[0]!.selector, rows[0]!.privateKeyEncrypted)).toThrow(/another DKIM_KEY_ENCRYPTION_KEY/);
    const audit = JSON.stringify(await app.deps.db.auditEntry.findMany({ select: { changes: true } }));
    const everything = [...responses, ...app.logLines, audit].join("\n");
    for (const secret of secrets) expect(everything.includes(secret)).toBe(false);
    expect(audit).toMatch(/mail-\d{8}/);
  });

  it("writes the signer's files from the decrypted ACTIVE keys of active domains: RSA keys signing, Ed25519 ones published only", async () => {
    const { domain } = await makeDomain(app, { dkimEd25519: true });
    const keys = (await signingKeys(app.deps)).filter((key) => key.domain === domain.name);
    expect(keys.map((key) => key.algorithm).sort()).toEqual(["ED25519_SHA256", "RSA_SHA256"]);
    const rsa = keys.find((key) => key.algorithm === "RSA_SHA256")!;
    const files = openDkimFiles(keys, { dir: "/etc/opendkim/mailadmin", socket: "inet:8891@127.0.0.1", userId: "opendkim" });
    const file = (path: string) => files.find((entry) => entry.path === path)!;
    expect(file("KeyTable").content).toBe(
      `${rsa.selector}._domainkey.${domain.name} ${domain.name}:${rsa.selector}:/etc/opendkim/mailadmin/keys/${domain.name}/${rsa.selector}.private\n`,
    );
    expect(file("SigningTable").content).toBe(`*@${domain.name} ${rsa.selector}._domainkey.${domain.name}\n`);
    expect(file(`keys/${domain.name}/${rsa.selector}.private`)).toEqual({ path: `keys/${domain.name}/${rsa.selector}.private`, content: rsa.privateKeyPem, secret: true });
    expect(file("opendkim.conf").content).toMatch(/^Mode s$[\s\S]*^SigningTable refile:\/etc\/opendkim\/mailadmin\/SigningTable$/m);
    // A suspended domain's mail is refused anyway: it has no signing key in the files.
    await app.deps.db.domain.update({ where: { id: domain.id }, data: { status: "SUSPENDED" } });
    expect((await signingKeys(app.deps)).filter((key) => key.domain === domain.name)).toEqual([]);
  });

  it("names selectors <DKIM_SELECTOR>-<yyyymmdd>, -ed for Ed25519, numbered when taken, in one DNS label", () => {
    const day = new Date("2026-12-05T10:00:00Z");
    expect(newSelector("mail", "RSA_SHA256", day, new Set())).toBe("mail-20261205");
    expect(newSelector("mail", "ED25519_SHA256", day, new Set())).toBe("mail-20261205-ed");
    expect(newSelector("s.Corp", "RSA_SHA256", day, new Set(["s-corp-20261205", "s-corp-20261205-2"]))).toBe("s-corp-20261205-3");
    const key = parseEncryptionKey("00".repeat(32))!;
    expect(encryptPrivateKey(key, "d", "s", "x")).not.toBe(encryptPrivateKey(key, "d", "s", "x"));
  });
});
