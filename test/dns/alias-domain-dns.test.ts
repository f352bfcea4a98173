// The DNS check of an alias domain: its domain's records are expected under
// its name (what AliasDomain.expectedDnsRecords lists), for a single check and
// in support's sweep, against NSD on loopback. Nothing is stored for it.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";
import { newDkimKey, rightParts, zoneBody } from "./zones";

const CHECK = `mutation($domain: String!) {
  checkDomainDns(domain: $domain, refresh: true) { domainName status domain { name } aliasDomain { name domain { name } } findings { check status } }
}`;
const SWEEP = `mutation($names: [String!]) { checkDomainsDns(names: $names, refresh: true) { domainName status aliasDomain { name } } }`;
const ADD = `mutation($id: ID!, $name: String!) { addAliasDomain(domainId: $id, name: $name) { domain { id } } }`;

const DKIM_KEY = newDkimKey();
const NAMES = {
  domain: `${uniqueName("main")}.example`,
  // Published with the domain's records under its own name.
  right: `${uniqueName("aliasok")}.example`,
  // Published with the records of set-up A_ONLY: no MX, so its mail never reaches the service.
  wrong: `${uniqueName("aliasbad")}.example`,
};

describe("the DNS check of alias domains", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;
  let f: Awaited<ReturnType<typeof makeWorld>>;

  beforeAll(async () => {
    world = await startDnsWorld([
      { name: NAMES.domain, records: zoneBody(rightParts("MX", { dkimKey: DKIM_KEY })) },
      { name: NAMES.right, records: zoneBody(rightParts("MX", { dkimKey: DKIM_KEY })) },
      { name: NAMES.wrong, records: zoneBody(rightParts("A_ONLY", { dkimKey: DKIM_KEY })) },
    ]);
    app = await startTestApp(world.config);
    support = await tokenFor(app, await supportAdmin(app));
    f = await makeWorld(app, { name: NAMES.domain, dkimPublicKey: DKIM_KEY });
    for (const name of [NAMES.right, NAMES.wrong]) expect((await app.gql(ADD, { id: f.domain.id, name }, support)).errors).toBeUndefined();
  });
  afterAll(async () => {
    await app?.close();
    await world?.stop();
  });

  it("checks an alias domain against its domain's set-up under its own name, for support and the domain's administrator; stores nothing", async () => {
    const right = await app.gql(CHECK, { domain: NAMES.right }, f.tokens.admin);
    expect(right.errors).toBeUndefined();
    expect(right.data.checkDomainDns).toMatchObject({
      domainName: NAMES.right,
      status: "PASS",
      domain: { name: NAMES.domain },
      aliasDomain: { name: NAMES.right, domain: { name: NAMES.domain } },
    });

    const wrong = (await app.gql(CHECK, { domain: NAMES.wrong }, support)).data.checkDomainDns;
    expect(wrong.status).toBe("FAIL");
    const failed = wrong.findings.filter((finding: { status: string }) => finding.status === "FAIL").map((finding: { check: string }) => finding.check);
    expect(failed).toEqual(expect.arrayContaining(["mx.present"]));

    // The domain's own stored result is untouched by its alias domains' checks.
    const stored = await app.deps.db.domain.findUniqueOrThrow({ where: { id: f.domain.id } });
    const audits = await app.deps.db.auditEntry.count({ where: { objectId: f.domain.id, action: "domain.dns_check" } });
    await app.gql(CHECK, { domain: NAMES.wrong }, support);
    expect(await app.deps.db.domain.findUniqueOrThrow({ where: { id: f.domain.id } })).toMatchObject({ dnsCheck: stored.dnsCheck, dnsCheckedAt: stored.dnsCheckedAt });
    expect(await app.deps.db.auditEntry.count({ where: { objectId: f.domain.id, action: "domain.dns_check" } })).toBe(audits);

    // Another domain's administrator and an ordinary user get what they get for the domain itself.
    expect((await app.gql(CHECK, { domain: NAMES.right }, f.tokens.otherAdmin)).errors![0]!.extensions.code).toBe("NOT_FOUND");
    expect((await app.gql(CHECK, { domain: NAMES.right }, f.tokens.user)).errors![0]!.extensions.code).toBe("FORBIDDEN");
  });

  it("sweeps alias domains with the domains, by name, ordered by name", async () => {
    const response = await app.gql(SWEEP, { names: [NAMES.wrong, NAMES.domain, NAMES.right] }, support);
    expect(response.errors).toBeUndefined();
    const expected = [
      { domainName: NAMES.domain, status: "PASS", aliasDomain: null },
      { domainName: NAMES.right, status: "PASS", aliasDomain: { name: NAMES.right } },
      { domainName: NAMES.wrong, status: "FAIL", aliasDomain: { name: NAMES.wrong } },
    ].sort((a, b) => a.domainName.localeCompare(b.domainName));
    expect(response.data.checkDomainsDns).toEqual(expected);
  });
});
