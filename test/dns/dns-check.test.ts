// checkDomainDns against real DNS: NSD servers on loopback (test/helpers/
// dns-world.ts) serve each of the four set-ups done right and the classic
// mistakes done wrong; each test creates its domain, checks it through HTTP
// and names the exact finding (rule id and status) the mistake must produce.
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, TEST_SERVICE, type ChildZone, type DnsWorld } from "../helpers/dns-world";
import { newDkimKey, rightParts, zoneBody, type Setup, type ZoneParts } from "./zones";

const CHECK = `mutation($domain: String!, $setup: DnsSetup, $refresh: Boolean) {
  checkDomainDns(domain: $domain, setup: $setup, refresh: $refresh) {
    domainName setup contractSetup detectedSetup status durationMs cached checkedAt
    findings { check status subject expected found fix }
  }
}`;

interface Finding {
  check: string;
  status: "PASS" | "WARN" | "FAIL" | "ERROR";
  subject: string;
  expected: string | null;
  found: string | null;
  fix: string | null;
}

const DKIM_KEY = newDkimKey();
const WEB = "192.0.2.80";

interface Scenario {
  title: string;
  setup: Setup;
  parts: ZoneParts;
  zone?: Omit<ChildZone, "name" | "records">;
  /** Leave the domain out of DNS altogether. */
  unpublished?: boolean;
  dkimKey?: string;
  expect: { check: string; status: Finding["status"]; subject?: (domain: string) => string; found: RegExp };
  /** Which set-up the records match, when the scenario is about that. */
  detectedSetup?: Setup | null;
  /** Every rule reported, when the scenario leaves only a few. */
  onlyChecks?: string[];
}

function parts(setup: Setup, change: Partial<ZoneParts> = {}): ZoneParts {
  return { ...rightParts(setup, { web: WEB, dkimKey: DKIM_KEY }), ...change };
}

const MAIL = TEST_SERVICE.ipv4;
const MAIL6 = TEST_SERVICE.ipv6;

// The mistakes of the issue first, then more that support meets.
const MISTAKES: Scenario[] = [
  {
    title: "a missing MX record (set-up 乙) fails mx.present",
    setup: "MX",
    parts: parts("MX", { mx: [] }),
    expect: { check: "mx.present", status: "FAIL", found: /^no MX record$/ },
  },
  {
    title: "an MX pointing at a CNAME fails mx.target",
    setup: "MX",
    parts: parts("MX", { mailHost: [`mail IN CNAME ${TEST_SERVICE.hostname}.`] }),
    expect: { check: "mx.target", status: "FAIL", subject: (domain) => `mail.${domain}`, found: /is an alias \(CNAME for mx\.mailsvc\.example\)/ },
  },
  {
    title: "an MX pointing at an IP address fails mx.target",
    setup: "MX",
    parts: parts("MX", { mx: [`@ IN MX 10 ${MAIL}.`] }),
    expect: { check: "mx.target", status: "FAIL", subject: () => MAIL, found: /is an IP address/ },
  },
  {
    title: "a mail host with the wrong address fails address.mail_host",
    setup: "MX",
    parts: parts("MX", { mailHost: ["mail IN A 198.51.100.99", `mail IN AAAA ${MAIL6}`] }),
    expect: { check: "address.mail_host", status: "FAIL", subject: (domain) => `mail.${domain}`, found: /^A 198\.51\.100\.99; AAAA 2001:db8::25$/ },
  },
  {
    title: "two nameservers serving different serials fail soa.serial",
    setup: "MX",
    parts: parts("MX"),
    zone: { serial: 2026112801, serials: { ns2: 2026112805 } },
    expect: { check: "soa.serial", status: "FAIL", found: /^ns1\.\S+: 2026112801; ns2\.\S+: 2026112805$/ },
  },
  {
    title: "a lame nameserver (listed, but not serving the zone) fails ns.authoritative",
    setup: "MX",
    parts: parts("MX"),
    zone: { nameservers: ["ns1", "lame"] },
    expect: { check: "ns.authoritative", status: "FAIL", subject: (domain) => `lame.${domain}`, found: /answers REFUSED: it does not serve the zone \(lame delegation\)/ },
  },
  {
    title: "two SPF records fail spf.record",
    setup: "MX",
    parts: parts("MX", { spf: [`@ IN TXT "v=spf1 include:${TEST_SERVICE.spfInclude} ~all"`, '@ IN TXT "v=spf1 ip4:192.0.2.1 -all"'] }),
    expect: { check: "spf.record", status: "FAIL", found: /^2 SPF records .*permerror/ },
  },
  {
    title: "SPF ending in +all fails spf.all",
    setup: "MX",
    parts: parts("MX", { spf: [`@ IN TXT "v=spf1 include:${TEST_SERVICE.spfInclude} +all"`] }),
    expect: { check: "spf.all", status: "FAIL", found: /^\+all: every server on the Internet may send as/ },
  },
  {
    title: "a missing DMARC record fails dmarc.record",
    setup: "MX",
    parts: parts("MX", { dmarc: [] }),
    expect: { check: "dmarc.record", status: "FAIL", subject: (domain) => `_dmarc.${domain}`, found: /^no DMARC record$/ },
  },
  {
    title: "a backup MX with a lower preference number than the primary fails mx.backup",
    setup: "MX_WEB_BACKUP",
    parts: parts("MX_WEB_BACKUP", { mx: ["@ IN MX 10 mail", `@ IN MX 5 ${TEST_SERVICE.backupMx}.`] }),
    expect: { check: "mx.backup", status: "FAIL", found: /^MX 5 backup\.mailsvc\.example: not a higher number than the main MX's 10, so senders use the backup first$/ },
  },
  {
    title: "a missing webmail host fails address.webmail",
    setup: "MX",
    parts: parts("MX", { webmail: [] }),
    expect: { check: "address.webmail", status: "FAIL", subject: (domain) => `webmail.${domain}`, found: /NXDOMAIN/ },
  },
  {
    title: "records of set-up 丙 under a contract for 丁 warn in setup.detected",
    setup: "MX_WEB_BACKUP",
    parts: parts("MX_WEB"),
    expect: { check: "setup.detected", status: "WARN", found: /^set-up 丙/ },
    detectedSetup: "MX_WEB",
  },
  {
    title: "a parent zone listing other nameservers than the zone warns in ns.parent_child_match",
    setup: "MX",
    parts: parts("MX"),
    zone: { nameservers: ["ns1"], parentNameservers: ["ns1", "ns2"] },
    expect: { check: "ns.parent_child_match", status: "WARN", found: /^parent zone: ns1\.\S+, ns2\.\S+; the zone itself: ns1\.\S+$/ },
  },
  {
    title: "an SPF record needing more than 10 lookups fails spf.lookups",
    setup: "MX",
    parts: parts("MX", {
      spf: [`@ IN TXT "v=spf1 include:${TEST_SERVICE.spfInclude} ${Array.from({ length: 10 }, (_, index) => `include:s${index}`).join(" ")} ~all"`],
      extra: Array.from({ length: 10 }, (_, index) => `s${index} IN TXT "v=spf1 ip4:192.0.2.${index + 1} -all"`),
    }),
    expect: { check: "spf.lookups", status: "FAIL", found: /^11 lookups: receivers stop at 10/ },
  },
  {
    title: "a DKIM key other than the one on file fails dkim.key",
    setup: "MX",
    parts: parts("MX"),
    dkimKey: newDkimKey(),
    expect: { check: "dkim.key", status: "FAIL", subject: (domain) => `${TEST_SERVICE.dkimSelector}._domainkey.${domain}`, found: /^a different key is published/ },
  },
  {
    title: "a negative TTL of two days warns in soa.timers",
    setup: "MX",
    parts: parts("MX"),
    zone: { soaTimers: "3600 900 1209600 172800" },
    expect: { check: "soa.timers", status: "WARN", found: /minimum 172800 s is outside 60–10800 s/ },
  },
  {
    title: "a DMARC policy of none warns in dmarc.policy",
    setup: "MX",
    parts: parts("MX", { dmarc: ['_dmarc IN TXT "v=DMARC1; p=none"'] }),
    expect: { check: "dmarc.policy", status: "WARN", found: /^p=none: receivers only report/ },
  },
  {
    title: "a malformed MTA-STS record fails mta_sts.record",
    setup: "MX",
    parts: parts("MX", { extra: ['_mta-sts IN TXT "v=STSv1; id=not-valid!"'] }),
    expect: { check: "mta_sts.record", status: "FAIL", subject: (domain) => `_mta-sts.${domain}`, found: /id= must be 1 to 32 letters and digits/ },
  },
  {
    title: "an MX host without an address fails mx.target",
    setup: "MX",
    parts: parts("MX", { mailHost: [] }),
    expect: { check: "mx.target", status: "FAIL", subject: (domain) => `mail.${domain}`, found: /NXDOMAIN.*senders cannot deliver to it/ },
  },
  {
    title: "set-up 甲 with its A record on another address fails address.apex",
    setup: "A_ONLY",
    parts: parts("A_ONLY", { apex: ["@ IN A 192.0.2.99", `@ IN AAAA ${MAIL6}`] }),
    expect: { check: "address.apex", status: "FAIL", found: /^A 192\.0\.2\.99; AAAA 2001:db8::25$/ },
  },
  {
    title: "a domain that is not in DNS at all fails ns.delegation",
    setup: "MX",
    parts: parts("MX"),
    unpublished: true,
    expect: { check: "ns.delegation", status: "FAIL", found: /does not exist in DNS \(NXDOMAIN\)/ },
    // Not one FAIL per missing record: the domain's absence says it all.
    onlyChecks: ["ns.delegation", "ptr.mail_server", "ptr.mail_server"],
  },
];

/** Valid MTA-STS and TLS-RPT records, published in the 丁 domain to show they pass when present. */
const STS_EXTRA = ['_mta-sts IN TXT "v=STSv1; id=20261128T1200"', `mta-sts IN A ${WEB}`, '_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@mailsvc.example"'];

const RIGHT: { setup: Setup; label: string; name: string; parts: ZoneParts; checks: string[] }[] = (
  [
    ["A_ONLY", "甲"],
    ["MX", "乙"],
    ["MX_WEB", "丙"],
    ["MX_WEB_BACKUP", "丁"],
  ] as const
).map(([setup, label]) => ({
  setup,
  label,
  name: `${uniqueName("ok")}.example`,
  parts: setup === "MX_WEB_BACKUP" ? parts(setup, { extra: STS_EXTRA }) : parts(setup),
  checks: [
    "ns.delegation",
    "ns.parent_child_match",
    "ns.count",
    "ns.authoritative",
    "ns.authoritative",
    "soa.present",
    "soa.serial",
    "soa.timers",
    ...(setup === "A_ONLY"
      ? ["address.apex"]
      : setup === "MX"
        ? ["address.mail_host", "address.webmail"]
        : ["address.apex", "address.www", "address.mail_host", "address.webmail"]),
    "mx.present",
    ...(setup === "A_ONLY" ? [] : ["mx.primary"]),
    ...(setup === "MX_WEB_BACKUP" ? ["mx.backup"] : []),
    ...(setup === "A_ONLY" ? [] : setup === "MX_WEB_BACKUP" ? ["mx.target", "mx.target"] : ["mx.target"]),
    "spf.record",
    "spf.all",
    "spf.service",
    "spf.lookups",
    "dkim.key",
    "dmarc.record",
    "dmarc.policy",
    "mta_sts.record",
    "tls_rpt.record",
    "ptr.mail_server",
    "ptr.mail_server",
    "setup.detected",
  ],
}));

const named = MISTAKES.map((scenario) => ({ ...scenario, name: `${uniqueName("bad")}.example` }));
const DEAD_NS = `${uniqueName("dead")}.example`;
const IMPLICIT_MX = `${uniqueName("implicit")}.example`;
const BIG_TXT = `${uniqueName("big")}.example`;

describe("checkDomainDns against real nameservers", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;

  beforeAll(async () => {
    world = await startDnsWorld([
      ...RIGHT.map((entry) => ({ name: entry.name, records: zoneBody(entry.parts) })),
      ...named.filter((scenario) => !scenario.unpublished).map((scenario) => ({ name: scenario.name, records: zoneBody(scenario.parts), ...scenario.zone })),
      { name: DEAD_NS, records: zoneBody(parts("MX")), nameservers: ["ns1", "silent"] },
      { name: IMPLICIT_MX, records: zoneBody(parts("A_ONLY")) },
      {
        name: BIG_TXT,
        // Site-verification tokens pile up at the apex: 12 × 200 bytes is more
        // than a 1232-byte UDP answer holds, so the SPF record comes over TCP.
        records: zoneBody(parts("MX", { extra: Array.from({ length: 12 }, (_, index) => `@ IN TXT "verification-${index}=${"x".repeat(180)}"`) })),
      },
    ]);
    app = await startTestApp(world.config);
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(async () => {
    await app?.close();
    await world?.stop();
  });

  async function check(name: string, setup: Setup, dkimKey = DKIM_KEY) {
    await makeDomain(app, { name, dnsSetup: setup, webServerAddress: setup === "MX_WEB" || setup === "MX_WEB_BACKUP" ? WEB : null, dkimPublicKey: dkimKey });
    const response = await app.gql(CHECK, { domain: name }, support);
    expect(response.errors).toBeUndefined();
    return response.data.checkDomainDns as { status: string; detectedSetup: string | null; setup: string; durationMs: number; findings: Finding[] };
  }

  describe.each(RIGHT)("set-up $label ($setup) done right", (entry) => {
    it("passes every check and is recognised as its set-up", async () => {
      const result = await check(entry.name, entry.setup);
      expect(result.findings.filter((item) => item.status !== "PASS")).toEqual([]);
      expect(result.findings.map((item) => item.check)).toEqual(entry.checks);
      expect(result).toMatchObject({ status: "PASS", setup: entry.setup, detectedSetup: entry.setup });
      expect(result.findings.every((item) => item.fix === null)).toBe(true);
    });
  });

  it("reports set-up 甲 without MX as falling back to the A record, not as an error", async () => {
    const result = await check(IMPLICIT_MX, "A_ONLY");
    expect(result.findings.find((item) => item.check === "mx.present")).toMatchObject({
      status: "PASS",
      found: `no MX record: mail falls back to the address of ${IMPLICIT_MX} (RFC 5321 §5.1 implicit MX)`,
    });
    expect(result.findings.some((item) => item.check === "mx.primary" || item.check === "mx.target")).toBe(false);
  });

  it.each(named)("$title", async (scenario) => {
    const result = await check(scenario.name, scenario.setup, scenario.dkimKey ?? DKIM_KEY);
    const subject = scenario.expect.subject?.(scenario.name) ?? (scenario.expect.check.startsWith("dmarc") ? `_dmarc.${scenario.name}` : scenario.name);
    const matching = result.findings.filter((item) => item.check === scenario.expect.check && item.subject === subject);
    expect(matching).toHaveLength(1);
    expect(matching[0]).toMatchObject({ status: scenario.expect.status, found: expect.stringMatching(scenario.expect.found) });
    // Every finding that is not a pass tells support what to say.
    expect(matching[0]!.fix).toEqual(expect.stringMatching(/^[A-Z].{30,}/));
    expect(["WARN", "FAIL", "ERROR"]).toContain(result.status);
    if (scenario.detectedSetup !== undefined) expect(result.detectedSetup).toBe(scenario.detectedSetup);
    if (scenario.onlyChecks) expect(result.findings.map((item) => item.check)).toEqual(scenario.onlyChecks);
  });

  it("reports a nameserver that never answers as ERROR within the query timeouts, without hanging", async () => {
    const started = Date.now();
    const result = await check(DEAD_NS, "MX");
    const elapsed = Date.now() - started;
    const dead = result.findings.find((item) => item.subject === `silent.${DEAD_NS}`);
    expect(dead).toMatchObject({ check: "ns.authoritative", status: "ERROR", found: expect.stringMatching(/did not answer .* within 400 ms/) });
    // Two tries of 400 ms, plus the domain's creation: far below the 5 s bound.
    expect(elapsed).toBeLessThan(2500);
    expect(result.findings.find((item) => item.subject === `ns1.${DEAD_NS}`)).toMatchObject({ check: "ns.authoritative", status: "PASS" });
  });

  it("reads an SPF record from a TXT answer too large for UDP (TCP fallback)", async () => {
    const result = await check(BIG_TXT, "MX");
    expect(result.findings.find((item) => item.check === "spf.record")).toMatchObject({ status: "PASS", found: `v=spf1 include:${TEST_SERVICE.spfInclude} ~all` });
  });

  it("refuses a name that is not a domain, and a domain that does not exist, as errors rather than findings", async () => {
    const bad = await app.gql(CHECK, { domain: "not a domain" }, support);
    expect(bad.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "domain" });
    expect(errorCode(await app.gql(CHECK, { domain: `${uniqueName("none")}.example` }, support))).toBe("NOT_FOUND");
  });
});
