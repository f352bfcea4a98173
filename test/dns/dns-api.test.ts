// The DNS check as an API: who may check what, the stored last result and its
// audit record, the short cache, what-if set-ups, support's sweep, the DNS
// fields of createDomain/updateDomain, the expected records, and the time
// bounds when DNS does not answer. All against NSD on loopback.
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeDomain, makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, TEST_SERVICE, type DnsWorld } from "../helpers/dns-world";
import { newDkimKey, rightParts, zoneBody, type Setup } from "./zones";

const CHECK = `mutation($domain: String!, $setup: DnsSetup, $refresh: Boolean) {
  checkDomainDns(domain: $domain, setup: $setup, refresh: $refresh) {
    domainName setup contractSetup detectedSetup status cached checkedAt durationMs
    domain { id name }
    findings { check status subject found fix }
  }
}`;

const SWEEP = `mutation($names: [String!], $status: DomainStatus, $refresh: Boolean) {
  checkDomainsDns(names: $names, status: $status, refresh: $refresh) { domainName status cached detectedSetup findings { check status } }
}`;

const LAST = `query($name: String!) { domain(name: $name) { dnsSetup webServerAddress lastDnsCheck { status setup contractSetup detectedSetup checkedAt findings { check status } } } }`;

const EXPECTED = `query($name: String!, $setup: DnsSetup) { domain(name: $name) {
  expectedDnsRecords(setup: $setup) { setup zoneFile records { name type ttl preference value purpose zoneLine } } } }`;

const UPDATE = `mutation($id: ID!, $input: UpdateDomainInput!) { updateDomain(id: $id, input: $input) { domain { dnsSetup webServerAddress dkimPublicKey } } }`;
const CREATE = `mutation($input: CreateDomainInput!) { createDomain(input: $input) { domain { name dnsSetup webServerAddress dkimPublicKey } } }`;

const WEB = "192.0.2.80";
const DKIM_KEY = newDkimKey();

/** Domains published in DNS for this file, each set up as its name says. */
const NAMES = {
  authz: `${uniqueName("authz")}.example`,
  stored: `${uniqueName("stored")}.example`,
  cache: `${uniqueName("cache")}.example`,
  whatIf: `${uniqueName("whatif")}.example`,
  sweepA: `${uniqueName("sweepa")}.example`,
  sweepB: `${uniqueName("sweepb")}.example`,
  suspended: `${uniqueName("susp")}.example`,
};

describe("the DNS check API", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;

  beforeAll(async () => {
    const mx = zoneBody(rightParts("MX", { dkimKey: DKIM_KEY }));
    world = await startDnsWorld([...Object.values(NAMES).map((name) => ({ name, records: mx }))]);
    app = await startTestApp(world.config);
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(async () => {
    await app?.close();
    await world?.stop();
  });

  describe("who may check", () => {
    it("lets support check any domain and an administrator its own; another domain's administrator gets NOT_FOUND, an ordinary user FORBIDDEN, an anonymous caller UNAUTHENTICATED", async () => {
      const f = await makeWorld(app, { name: NAMES.authz, dkimPublicKey: DKIM_KEY });
      const outcomes: Record<string, string | undefined> = {};
      for (const role of ["otherAdmin", "user", "anonymous"] as const) {
        outcomes[role] = errorCode(await app.gql(CHECK, { domain: NAMES.authz }, f.tokens[role]));
      }
      expect(outcomes).toEqual({ otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" });
      // A refused check stores nothing and audits nothing.
      expect(await app.deps.db.domain.findUniqueOrThrow({ where: { id: f.domain.id } })).toMatchObject({ dnsCheck: null, dnsCheckedAt: null });
      expect(await app.deps.db.auditEntry.count({ where: { objectId: f.domain.id, action: "domain.dns_check" } })).toBe(0);

      for (const role of ["support", "admin"] as const) {
        const response = await app.gql(CHECK, { domain: NAMES.authz, refresh: true }, f.tokens[role]);
        expect({ role, status: response.data?.checkDomainDns?.status }).toEqual({ role, status: "PASS" });
      }
    });

    it("lets only support run the sweep", async () => {
      const f = await makeWorld(app);
      const outcomes: Record<string, string | undefined> = {};
      for (const role of ["admin", "user", "anonymous"] as const) outcomes[role] = errorCode(await app.gql(SWEEP, { names: [f.domain.name] }, f.tokens[role]));
      expect(outcomes).toEqual({ admin: "FORBIDDEN", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" });
    });
  });

  it("stores the result of a check on the domain with its time, audited in the same request", async () => {
    const { domain } = await makeDomain(app, { name: NAMES.stored, dkimPublicKey: DKIM_KEY });
    const before = await app.gql(LAST, { name: NAMES.stored }, support);
    expect(before.data.domain.lastDnsCheck).toBeNull();
    const response = await app.gql(CHECK, { domain: NAMES.stored }, support);
    const check = response.data.checkDomainDns;
    expect(check).toMatchObject({ domainName: NAMES.stored, setup: "MX", contractSetup: "MX", detectedSetup: "MX", status: "PASS", cached: false, domain: { id: domain.id } });

    const last = (await app.gql(LAST, { name: NAMES.stored }, support)).data.domain.lastDnsCheck;
    expect(last).toEqual({
      status: "PASS",
      setup: "MX",
      contractSetup: "MX",
      detectedSetup: "MX",
      checkedAt: check.checkedAt,
      findings: check.findings.map((item: { check: string; status: string }) => ({ check: item.check, status: item.status })),
    });
    const audit = await app.deps.db.auditEntry.findMany({ where: { objectId: domain.id, action: "domain.dns_check" } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ domainName: NAMES.stored, changes: [{ field: "dnsCheck", before: null, after: "PASS" }], requestId: response.headers.get("x-request-id") });
  });

  it("reuses a result for DNS_CHECK_CACHE_SECONDS, and asks DNS again with refresh", async () => {
    await makeDomain(app, { name: NAMES.cache, dkimPublicKey: DKIM_KEY });
    const first = (await app.gql(CHECK, { domain: NAMES.cache }, support)).data.checkDomainDns;
    const second = (await app.gql(CHECK, { domain: NAMES.cache }, support)).data.checkDomainDns;
    expect(first.cached).toBe(false);
    expect(second).toMatchObject({ cached: true, checkedAt: first.checkedAt, durationMs: first.durationMs });
    const refreshed = (await app.gql(CHECK, { domain: NAMES.cache, refresh: true }, support)).data.checkDomainDns;
    expect(refreshed.cached).toBe(false);
    expect(Date.parse(refreshed.checkedAt)).toBeGreaterThan(Date.parse(first.checkedAt));
  });

  it("shares the cache between servers on one database: a second server answers from the first's result", async () => {
    const name = `${uniqueName("shared")}.example`;
    await makeDomain(app, { name, dkimPublicKey: DKIM_KEY });
    // The domain is not published: the check fails, and the result is what is cached.
    const first = (await app.gql(CHECK, { domain: name }, support)).data.checkDomainDns;
    expect(first.cached).toBe(false);
    const other = await startTestApp(world.config);
    try {
      // A test app starts from an empty cache (test-app.ts): check again on the first, then read from the other.
      const again = (await app.gql(CHECK, { domain: name }, support)).data.checkDomainDns;
      expect(again.cached).toBe(false);
      const fromOther = (await other.gql(CHECK, { domain: name }, support)).data.checkDomainDns;
      expect(fromOther).toMatchObject({ cached: true, status: again.status, checkedAt: again.checkedAt, durationMs: again.durationMs });
      const sweep = (await other.gql(SWEEP, { names: [name] }, support)).data.checkDomainsDns;
      expect(sweep).toMatchObject([{ domainName: name, cached: true, status: again.status }]);
    } finally {
      await other.close();
    }
  });

  it("answers a what-if set-up without storing it, and refuses one the domain lacks data for", async () => {
    const { domain } = await makeDomain(app, { name: NAMES.whatIf, dkimPublicKey: DKIM_KEY });
    const lacking = await app.gql(CHECK, { domain: NAMES.whatIf, setup: "MX_WEB" }, support);
    expect(lacking.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "setup" });

    await app.gql(UPDATE, { id: domain.id, input: { webServerAddress: WEB } }, support);
    const whatIf = (await app.gql(CHECK, { domain: NAMES.whatIf, setup: "MX_WEB" }, support)).data.checkDomainDns;
    expect(whatIf).toMatchObject({ setup: "MX_WEB", contractSetup: "MX", detectedSetup: "MX", status: "FAIL" });
    const findings = whatIf.findings as { check: string; status: string; found: string }[];
    expect(findings.find((item) => item.check === "address.apex")).toMatchObject({ status: "FAIL", found: expect.stringMatching(/^no A record/) });
    expect(findings.find((item) => item.check === "setup.detected")).toMatchObject({ status: "WARN", found: expect.stringMatching(/^set-up 乙/) });
    expect((await app.gql(LAST, { name: NAMES.whatIf }, support)).data.domain.lastDnsCheck).toBeNull();
  });

  it("sweeps the named domains and stores each result; without names it takes every domain with the status", async () => {
    await makeDomain(app, { name: NAMES.sweepB, dkimPublicKey: DKIM_KEY });
    await makeDomain(app, { name: NAMES.sweepA, dkimPublicKey: DKIM_KEY });
    const unpublished = `${uniqueName("nodns")}.example`;
    await makeDomain(app, { name: unpublished });
    const response = await app.gql(SWEEP, { names: [NAMES.sweepB, unpublished, NAMES.sweepA] }, support);
    expect(response.data.checkDomainsDns.map((item: { domainName: string; status: string; cached: boolean }) => [item.domainName, item.status, item.cached])).toEqual(
      [
        [NAMES.sweepA, "PASS", false],
        [NAMES.sweepB, "PASS", false],
        [unpublished, "FAIL", false],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    for (const name of [NAMES.sweepA, NAMES.sweepB, unpublished]) {
      expect((await app.gql(LAST, { name }, support)).data.domain.lastDnsCheck).not.toBeNull();
    }
    const missing = await app.gql(SWEEP, { names: [`${uniqueName("nosuch")}.example`] }, support);
    expect(missing.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "names" });

    await makeDomain(app, { name: NAMES.suspended, status: "SUSPENDED", dkimPublicKey: DKIM_KEY });
    const bySuspended = await app.gql(SWEEP, { status: "SUSPENDED" }, support);
    const mine = bySuspended.data.checkDomainsDns.find((item: { domainName: string }) => item.domainName === NAMES.suspended);
    expect(mine).toMatchObject({ status: "PASS", detectedSetup: "MX" });
    expect(bySuspended.data.checkDomainsDns.every((item: { domainName: string }) => item.domainName !== NAMES.sweepA)).toBe(true);
  });

  describe("DNS fields of a domain", () => {
    it("creates a domain with its set-up, web server address and DKIM key, normalised", async () => {
      const name = `${uniqueName("web")}.example`;
      const pem = `-----BEGIN PUBLIC KEY-----\n${DKIM_KEY.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
      const response = await app.gql(CREATE, { input: { name, dnsSetup: "MX_WEB", webServerAddress: " 2001:DB8:0:0::80 ", dkimPublicKey: pem } }, support);
      expect(response.data.createDomain.domain).toEqual({ name, dnsSetup: "MX_WEB", webServerAddress: "2001:db8::80", dkimPublicKey: DKIM_KEY });
      const plain = await app.gql(CREATE, { input: { name: `${uniqueName("plain")}.example` } }, support);
      expect(plain.data.createDomain.domain).toMatchObject({ dnsSetup: "MX", webServerAddress: null, dkimPublicKey: null });
    });

    it("refuses bad DNS input, naming the field, and creates nothing", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{ dnsSetup: "MX_WEB" }, "webServerAddress"],
        [{ dnsSetup: "MX_WEB_BACKUP" }, "webServerAddress"],
        [{ webServerAddress: "web.example.com" }, "webServerAddress"],
        [{ webServerAddress: "300.1.2.3" }, "webServerAddress"],
        [{ webServerAddress: "127.0.0.1" }, "webServerAddress"],
        [{ webServerAddress: "::" }, "webServerAddress"],
        [{ dkimPublicKey: "not base64!" }, "dkimPublicKey"],
        [{ dkimPublicKey: Buffer.from("sixteen bytes!!!").toString("base64") }, "dkimPublicKey"],
      ];
      for (const [input, field] of cases) {
        const name = `${uniqueName("bad")}.example`;
        const response = await app.gql(CREATE, { input: { name, ...input } }, support);
        expect({ input, extensions: response.errors?.[0]?.extensions }).toEqual({ input, extensions: expect.objectContaining({ code: "BAD_USER_INPUT", field }) });
        expect(await app.deps.db.domain.count({ where: { name } })).toBe(0);
      }
    });

    it("changes the set-up with updateDomain, requires a web server for 丙 and 丁, and audits the change", async () => {
      const { domain } = await makeDomain(app);
      const needsWeb = await app.gql(UPDATE, { id: domain.id, input: { dnsSetup: "MX_WEB" } }, support);
      expect(needsWeb.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "webServerAddress" });
      const nullSetup = await app.gql(UPDATE, { id: domain.id, input: { dnsSetup: null } }, support);
      expect(nullSetup.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "dnsSetup" });

      const changed = await app.gql(UPDATE, { id: domain.id, input: { dnsSetup: "MX_WEB_BACKUP", webServerAddress: "192.0.2.81", dkimPublicKey: DKIM_KEY } }, support);
      expect(changed.data.updateDomain.domain).toEqual({ dnsSetup: "MX_WEB_BACKUP", webServerAddress: "192.0.2.81", dkimPublicKey: DKIM_KEY });
      const clearWeb = await app.gql(UPDATE, { id: domain.id, input: { webServerAddress: null } }, support);
      expect(clearWeb.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "webServerAddress" });

      const audit = await app.deps.db.auditEntry.findFirstOrThrow({ where: { objectId: domain.id, action: "domain.update" }, orderBy: { id: "desc" } });
      expect(audit.changes).toEqual([
        { field: "dnsSetup", before: "MX", after: "MX_WEB_BACKUP" },
        { field: "webServerAddress", before: null, after: "192.0.2.81" },
        { field: "dkimPublicKey", before: null, after: DKIM_KEY },
      ]);
      const admin = await app.gql(
        UPDATE,
        { id: domain.id, input: { dnsSetup: "MX" } },
        await tokenFor(app, (await app.deps.db.domainAdmin.findUniqueOrThrow({ where: { domainId: domain.id }, include: { account: true } })).account),
      );
      expect(errorCode(admin)).toBe("FORBIDDEN");
    });

    it("refuses set-up 丁 when the service has no backup MX host configured", async () => {
      const bare = await startTestApp({ ...world.config, BACKUP_MX_HOST: "" });
      try {
        const token = await tokenFor(bare, await supportAdmin(bare));
        const response = await bare.gql(CREATE, { input: { name: `${uniqueName("nobackup")}.example`, dnsSetup: "MX_WEB_BACKUP", webServerAddress: WEB } }, token);
        expect(response.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "dnsSetup" });
      } finally {
        await bare.close();
      }
    });
  });

  describe("expected records", () => {
    // What the domain notes (section 3) tell each set-up to publish, with the
    // test service's addresses, plus SPF, DKIM and DMARC for every set-up.
    function notes(domain: string, setup: Setup): [string, string, string, number | null][] {
      const mail = TEST_SERVICE.ipv4;
      const mail6 = TEST_SERVICE.ipv6;
      const mailHost = (backup: boolean): [string, string, string, number | null][] => [
        [`mail.${domain}`, "A", mail, null],
        [`mail.${domain}`, "AAAA", mail6, null],
        [domain, "MX", `mail.${domain}`, 10],
        ...(backup ? [[domain, "MX", TEST_SERVICE.backupMx, 20] as [string, string, string, number]] : []),
        [`webmail.${domain}`, "A", mail, null],
        [`webmail.${domain}`, "AAAA", mail6, null],
      ];
      const web: [string, string, string, number | null][] = [
        [domain, "A", WEB, null],
        [`www.${domain}`, "CNAME", domain, null],
      ];
      const auth: [string, string, string, number | null][] = [
        [domain, "TXT", `v=spf1 include:${TEST_SERVICE.spfInclude} ~all`, null],
        [`${TEST_SERVICE.dkimSelector}._domainkey.${domain}`, "TXT", `v=DKIM1; k=rsa; p=${DKIM_KEY}`, null],
        [`_dmarc.${domain}`, "TXT", `v=DMARC1; p=quarantine; rua=mailto:${TEST_SERVICE.dmarcReportAddress}`, null],
      ];
      switch (setup) {
        case "A_ONLY":
          return [[domain, "A", mail, null], [domain, "AAAA", mail6, null], ...auth];
        case "MX":
          return [...mailHost(false), ...auth];
        case "MX_WEB":
          return [...web, ...mailHost(false), ...auth];
        case "MX_WEB_BACKUP":
          return [...web, ...mailHost(true), ...auth];
      }
    }

    it.each(["A_ONLY", "MX", "MX_WEB", "MX_WEB_BACKUP"] as const)("lists the records of set-up %s as structured records and zone-file lines", async (setup) => {
      const { domain } = await makeDomain(app, { dnsSetup: setup, webServerAddress: setup.startsWith("MX_WEB") ? WEB : null, dkimPublicKey: DKIM_KEY });
      const expected = (await app.gql(EXPECTED, { name: domain.name }, support)).data.domain.expectedDnsRecords;
      expect(expected.setup).toBe(setup);
      expect(
        expected.records.map((record: { name: string; type: string; value: string; preference: number | null }) => [record.name, record.type, record.value, record.preference]),
      ).toEqual(notes(domain.name, setup));
      const mx = expected.records.find((record: { type: string }) => record.type === "MX");
      if (mx) expect(mx.zoneLine).toBe(`${domain.name}.\t3600\tIN\tMX\t10 mail.${domain.name}.`);
      const dkim = expected.records.find((record: { name: string }) => record.name.includes("_domainkey"));
      // A 2048-bit key is longer than one TXT string may be: the line splits it.
      expect(dkim.zoneLine).toMatch(/^mail\._domainkey\.\S+\.\t3600\tIN\tTXT\t"v=DKIM1; k=rsa; p=[^"]{200,}" "[^"]+"$/);
      expect(expected.zoneFile).toBe(expected.records.map((record: { zoneLine: string }) => record.zoneLine).join("\n"));
    });

    it("gives records that, once published, pass every check (each set-up)", async () => {
      const setups = ["A_ONLY", "MX", "MX_WEB", "MX_WEB_BACKUP"] as const;
      const domains = await Promise.all(
        setups.map(async (setup) => (await makeDomain(app, { dnsSetup: setup, webServerAddress: setup.startsWith("MX_WEB") ? WEB : null, dkimPublicKey: DKIM_KEY })).domain),
      );
      const zones = await Promise.all(
        domains.map(async (domain) => ({
          name: domain.name,
          records: (await app.gql(EXPECTED, { name: domain.name }, support)).data.domain.expectedDnsRecords.zoneFile as string,
        })),
      );
      const published = await startDnsWorld(zones);
      const publishedApp = await startTestApp(published.config);
      try {
        const token = await tokenFor(publishedApp, await supportAdmin(publishedApp));
        for (const [index, domain] of domains.entries()) {
          const check = (await publishedApp.gql(CHECK, { domain: domain.name }, token)).data.checkDomainDns;
          expect({
            setup: setups[index],
            status: check.status,
            detected: check.detectedSetup,
            notPassing: check.findings.filter((item: { status: string }) => item.status !== "PASS"),
          }).toEqual({
            setup: setups[index],
            status: "PASS",
            detected: setups[index],
            notPassing: [],
          });
        }
      } finally {
        await publishedApp.close();
        await published.stop();
      }
    });
  });

  describe("when DNS does not answer", () => {
    it("turns a dead resolver into ERROR findings within the query timeouts, never a hang or an error", async () => {
      const dead = await startTestApp({ ...world.config, DNS_SERVERS: `${world.addresses.silent}:53`, DNS_QUERY_TIMEOUT_MS: "200", DNS_QUERY_ATTEMPTS: "1" });
      try {
        const token = await tokenFor(dead, await supportAdmin(dead));
        const { domain } = await makeDomain(dead);
        const started = Date.now();
        const response = await dead.gql(CHECK, { domain: domain.name }, token);
        expect(Date.now() - started).toBeLessThan(2000);
        expect(response.errors).toBeUndefined();
        const check = response.data.checkDomainDns;
        expect(check.status).toBe("ERROR");
        expect(check.findings.filter((item: { status: string }) => item.status !== "ERROR")).toEqual([]);
        expect(check.findings.find((item: { check: string }) => item.check === "ns.delegation")).toMatchObject({ found: expect.stringMatching(/did not answer .* within 200 ms/) });
      } finally {
        await dead.close();
      }
    });

    it("stops a check at DNS_CHECK_TIMEOUT_MS even when single queries may wait longer", async () => {
      const slow = await startTestApp({ ...world.config, DNS_SERVERS: `${world.addresses.silent}:53`, DNS_QUERY_TIMEOUT_MS: "10000", DNS_CHECK_TIMEOUT_MS: "500" });
      try {
        const token = await tokenFor(slow, await supportAdmin(slow));
        const { domain } = await makeDomain(slow);
        const started = Date.now();
        const check = (await slow.gql(CHECK, { domain: domain.name }, token)).data.checkDomainDns;
        expect(Date.now() - started).toBeLessThan(2000);
        expect(check.status).toBe("ERROR");
        expect(check.durationMs).toBeLessThan(1500);
      } finally {
        await slow.close();
      }
    });
  });
});
