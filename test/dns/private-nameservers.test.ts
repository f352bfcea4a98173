// The DNS check never sends a query to a private, loopback or link-local
// address that a customer's DNS names (issue 13, F6): its nameservers are
// reported as not queried, as data, unless DNS_ALLOW_PRIVATE allows it. The
// configured resolvers (DNS_SERVERS) are always asked. The probe and the DNS
// check classify addresses with one rule, which sees IPv4 inside IPv6 forms.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, uniqueName } from "../helpers/factories";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";
import { rightParts, zoneBody } from "./zones";
import { isPrivateAddress } from "../../src/shared/addresses";

const CHECK = `mutation($domain: String!) { checkDomainDns(domain: $domain, refresh: true) { status findings { check status found } } }`;

describe("DNS checks and private addresses", () => {
  let world: DnsWorld;
  let app: TestApp;
  const name = `${uniqueName("private")}.example`;

  beforeAll(async () => {
    world = await startDnsWorld([{ name, records: zoneBody(rightParts("MX", {})) }]);
    // The world's nameservers sit on 127.x addresses, as a hostile customer's NS records would point there.
    app = await startTestApp({ ...world.config, DNS_ALLOW_PRIVATE: "false" });
  });
  afterAll(async () => {
    await app?.close();
    await world?.stop();
  });

  it("reports the domain's loopback nameservers as not queried instead of asking them, while the configured resolver is asked", async () => {
    const f = await makeWorld(app, { name });
    const response = await app.gql(CHECK, { domain: name }, f.tokens.admin);
    expect(response.errors).toBeUndefined();
    const found = response.data.checkDomainDns.findings.map((finding: { found: string }) => finding.found).join("\n");
    expect(found).toContain(`not queried: ${world.addresses.parent} is a private, loopback or link-local address`);
    // Nothing says a private server answered or stayed silent: none was asked.
    for (const role of ["parent", "ns1", "ns2"] as const) {
      expect(found).not.toMatch(new RegExp(`${world.addresses[role].replace(/\./g, "\\.")} (answers|did not answer)`));
    }
    // The resolver (DNS_SERVERS, on loopback too) was asked: the MX records were found through it.
    expect(response.data.checkDomainDns.findings.some((finding: { check: string; status: string }) => finding.check.startsWith("mx") && finding.status === "PASS")).toBe(true);
  });

  it("asks them with DNS_ALLOW_PRIVATE, as the tests on loopback do", async () => {
    const allowed = await startTestApp(world.config);
    try {
      const response = await allowed.gql(CHECK, { domain: name }, (await makeWorld(allowed)).tokens.support);
      expect(response.data.checkDomainDns.status).not.toBe("ERROR");
      expect(JSON.stringify(response.data.checkDomainDns.findings)).not.toContain("not queried");
    } finally {
      await allowed.close();
    }
  });
});

describe("which addresses are private", () => {
  it.each([
    ["127.0.0.2", true],
    ["10.1.2.3", true],
    ["192.168.0.1", true],
    ["169.254.1.1", true],
    ["::1", true],
    ["fe80::1", true],
    ["fc00::1", true],
    ["::ffff:127.0.0.1", true],
    ["::7f00:1", true],
    ["::127.0.0.1", true],
    ["64:ff9b::a00:1", true],
    ["2002:7f00:1::", true],
    ["2002:c0a8:101::1", true],
    ["8.8.8.8", false],
    ["2001:4860:4860::8888", false],
    ["::ffff:8.8.8.8", false],
    ["64:ff9b::808:808", false],
    ["not an address", true],
  ])("%s is private: %s", (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });
});
