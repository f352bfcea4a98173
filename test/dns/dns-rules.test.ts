// The validator's pure parts, without DNS: record parsers, the SPF evaluation
// and lookup count (over a lookup function answering from a table), zone-file
// formatting, input and setting rules.
import { generateKeyPairSync } from "node:crypto";
import type { LookupResult } from "../../src/dns/dns.lookup";
import type { RecordType } from "../../src/dns/dns.transport";
import { limitConcurrency, parseDnsServerList } from "../../src/dns/dns.transport";
import { countSpfLookups, evaluateSpf, parseDkimKey, parseDmarc, parseMtaSts, parseSpf, parseTlsRpt, type SpfRecord } from "../../src/dns/dns.mailauth";
import { quoteTxt, zoneLine } from "../../src/dns/dns.records";
import { reverseName, worstStatus } from "../../src/dns/dns.checker";
import { parseDkimPublicKey, parseWebServerAddress } from "../../src/dns/dns.input";
import { ConfigError, loadConfig } from "../../src/config";

/** A lookup answering from a table of "name TYPE" → values; names not in it do not exist. */
function tableLookup(table: Record<string, string[] | "error">) {
  const asked: string[] = [];
  const lookup = async (name: string, type: RecordType): Promise<LookupResult> => {
    asked.push(`${name} ${type}`);
    const entry = table[`${name} ${type}`];
    if (entry === "error") return { status: "error", name, message: "timed out" };
    if (!entry) return Object.keys(table).some((key) => key.startsWith(`${name} `)) ? { status: "nodata", name, cnames: [] } : { status: "nxdomain", name, cnames: [] };
    const records = entry.map((value) =>
      type === "MX"
        ? { name, ttl: 60, type: "MX" as const, data: { preference: Number(value.split(" ")[0]), exchange: value.split(" ")[1]! } }
        : type === "TXT"
          ? { name, ttl: 60, type: "TXT" as const, data: value }
          : { name, ttl: 60, type: type as "A", data: value },
    );
    return { status: "ok", name, records, cnames: [] };
  };
  return { lookup, asked };
}

function spf(text: string): SpfRecord {
  const parsed = parseSpf(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

describe("SPF", () => {
  it("parses mechanisms with their qualifiers, networks and the redirect modifier", () => {
    const record = spf(
      "v=spf1 ip4:192.0.2.0/24 -ip6:2001:db8::/32 a:mail.example.com/28//64 ~mx include:_spf.example.net ?exists:%{i}.x.example exp=why.example redirect=other.example",
    );
    expect(record.mechanisms.map((mechanism) => [mechanism.qualifier, mechanism.name, mechanism.value ?? null, mechanism.cidr4 ?? null, mechanism.cidr6 ?? null])).toEqual([
      ["+", "ip4", "192.0.2.0", 24, null],
      ["-", "ip6", "2001:db8::", null, 32],
      ["+", "a", "mail.example.com", 28, 64],
      ["~", "mx", null, null, null],
      ["+", "include", "_spf.example.net", null, null],
      ["?", "exists", "%{i}.x.example", null, null],
    ]);
    expect(record.redirect).toBe("other.example");
  });

  it.each([
    ["v=spf1 include ~all", /include/],
    ["v=spf1 ip4:300.0.0.1 ~all", /ip4:300/],
    ["v=spf1 ip4:192.0.2.0/33 ~all", /ip4/],
    ["v=spf1 mx:/24 ~all", /mx/],
    ["v=spf1 frobnicate ~all", /not an SPF mechanism/],
    ["v=spf1 redirect=a.example redirect=b.example", /two redirect/],
    ["v=spf10 ~all", /does not start with v=spf1/],
  ])("refuses %s", (text, error) => {
    const parsed = parseSpf(text);
    expect(parsed).toEqual({ ok: false, error: expect.stringMatching(error) });
  });

  it("evaluates the mail server's address through includes, a, mx and redirect", async () => {
    const { lookup } = tableLookup({
      "d.example TXT": ["v=spf1 a mx:m.example/24 include:_spf.svc.example ~all"],
      "d.example A": ["192.0.2.10"],
      "m.example MX": ["10 mx1.m.example"],
      "mx1.m.example A": ["198.51.100.77"],
      "_spf.svc.example TXT": ["v=spf1 ip4:203.0.113.0/24 ip6:2001:db8::/48 -all"],
      "r.example TXT": ["v=spf1 redirect=d.example"],
    });
    expect((await evaluateSpf(lookup, "d.example", "192.0.2.10")).result).toBe("pass");
    expect((await evaluateSpf(lookup, "d.example", "198.51.100.1")).result).toBe("pass");
    expect((await evaluateSpf(lookup, "d.example", "203.0.113.99")).result).toBe("pass");
    expect((await evaluateSpf(lookup, "d.example", "2001:db8::25")).result).toBe("pass");
    expect((await evaluateSpf(lookup, "d.example", "192.0.2.11")).result).toBe("softfail");
    expect((await evaluateSpf(lookup, "r.example", "203.0.113.5")).result).toBe("pass");
  });

  it("gives permerror past 10 lookups or for an include without a record, and temperror when DNS does not answer", async () => {
    const includes = Array.from({ length: 11 }, (_, index) => `include:i${index}.example`).join(" ");
    const table: Record<string, string[] | "error"> = {
      "many.example TXT": [`v=spf1 ${includes} -all`],
      "gone.example TXT": ["v=spf1 include:nothing.example -all"],
      "slow.example TXT": "error",
    };
    for (let index = 0; index < 11; index++) table[`i${index}.example TXT`] = ["v=spf1 ip4:192.0.2.1 -all"];
    const { lookup } = tableLookup(table);
    expect(await evaluateSpf(lookup, "many.example", "198.51.100.1")).toEqual({ result: "permerror", detail: "more than 10 DNS lookups" });
    expect(await evaluateSpf(lookup, "gone.example", "198.51.100.1")).toEqual({ result: "permerror", detail: "include:nothing.example has no SPF record" });
    expect((await evaluateSpf(lookup, "slow.example", "198.51.100.1")).result).toBe("temperror");
    expect((await evaluateSpf(lookup, "none.example", "198.51.100.1")).result).toBe("none");
  });

  it("counts every lookup a receiver could spend, following all includes, and finds loops and dead includes", async () => {
    const { lookup } = tableLookup({
      "a.example TXT": ["v=spf1 include:b.example -all"],
      "b.example TXT": ["v=spf1 a mx include:a.example ptr -all"],
    });
    const count = await countSpfLookups(lookup, spf("v=spf1 include:a.example include:missing.example exists:x.example -all"));
    expect(count.lookups).toBe(3 + 1 + 4);
    // Depth first, as a receiver walks it: the loop inside a.example comes before the second include.
    expect(count.permanentErrors).toEqual(["a.example is included twice on one path (a loop)", "missing.example (included) has no SPF record"]);
    expect(count.warnings).toEqual(["uses the ptr mechanism, which RFC 7208 §5.5 says not to use"]);
  });
});

describe("DKIM, DMARC, MTA-STS and TLS-RPT records", () => {
  it("reads a DKIM key record, joining a key split by whitespace, and sees a revoked key", () => {
    expect(parseDkimKey("v=DKIM1; k=rsa; p=MIIB IjAN Bgkq")).toEqual({ ok: true, value: { keyType: "rsa", publicKey: "MIIBIjANBgkq" } });
    expect(parseDkimKey("v=DKIM1; p=")).toEqual({ ok: true, value: { keyType: "rsa", publicKey: "" } });
    expect(parseDkimKey("k=rsa; v=DKIM1; p=AAAA")).toMatchObject({ ok: false });
    expect(parseDkimKey("v=DKIM1; k=rsa")).toEqual({ ok: false, error: "has no p= (public key) tag" });
  });

  it("reads DMARC records and refuses malformed ones", () => {
    expect(parseDmarc("v=DMARC1; p=Reject; sp=none; pct=50; rua=mailto:a@example.com,mailto:b@example.net")).toEqual({
      ok: true,
      value: { policy: "reject", subdomainPolicy: "none", percent: 50, reportAddresses: ["mailto:a@example.com", "mailto:b@example.net"] },
    });
    expect(parseDmarc("p=reject; v=DMARC1")).toMatchObject({ ok: false, error: "does not start with v=DMARC1" });
    expect(parseDmarc("v=DMARC1; rua=mailto:a@example.com")).toMatchObject({ ok: false, error: "has no p= (policy) tag" });
    expect(parseDmarc("v=DMARC1; p=block")).toMatchObject({ ok: false });
    expect(parseDmarc("v=DMARC1; p=none; pct=150")).toMatchObject({ ok: false });
    expect(parseDmarc("v=DMARC1; p=none; rua=reports@example.com")).toMatchObject({ ok: false, error: expect.stringMatching(/not a mailto: or https: URI/) });
    expect(parseDmarc("v=DMARC1; p=none; p=reject")).toMatchObject({ ok: false, error: "the tag p appears twice" });
  });

  it("reads MTA-STS and TLS-RPT records", () => {
    expect(parseMtaSts("v=STSv1; id=20261128T1200;")).toEqual({ ok: true, value: { id: "20261128T1200" } });
    expect(parseMtaSts("v=STSv1; id=")).toMatchObject({ ok: false });
    expect(parseTlsRpt("v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example.com/tls")).toEqual({
      ok: true,
      value: { reportAddresses: ["mailto:tls@example.com", "https://r.example.com/tls"] },
    });
    expect(parseTlsRpt("v=TLSRPTv1; rua=http://r.example.com")).toMatchObject({ ok: false });
  });
});

describe("zone-file lines", () => {
  it("quotes TXT data in strings of at most 255 characters and escapes quotes", () => {
    const long = "a".repeat(300);
    expect(quoteTxt(long)).toBe(`"${"a".repeat(255)}" "${"a".repeat(45)}"`);
    expect(quoteTxt('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
  });

  it("writes absolute names and MX preferences", () => {
    expect(zoneLine({ name: "example.tw", type: "MX", ttl: 3600, preference: 10, value: "mail.example.tw" })).toBe("example.tw.\t3600\tIN\tMX\t10 mail.example.tw.");
    expect(zoneLine({ name: "www.example.tw", type: "CNAME", ttl: 3600, preference: null, value: "example.tw" })).toBe("www.example.tw.\t3600\tIN\tCNAME\texample.tw.");
  });

  it("names the reverse-DNS owner of IPv4 and IPv6 addresses", () => {
    expect(reverseName("203.79.224.60")).toBe("60.224.79.203.in-addr.arpa");
    expect(reverseName("2001:db8::25")).toBe("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
  });

  it("orders statuses PASS < WARN < ERROR < FAIL", () => {
    expect(worstStatus(["PASS", "ERROR", "WARN"])).toBe("ERROR");
    expect(worstStatus(["ERROR", "FAIL", "PASS"])).toBe("FAIL");
    expect(worstStatus([])).toBe("PASS");
  });
});

describe("inputs and settings", () => {
  it("normalises web server addresses and refuses unusable ones", () => {
    expect(parseWebServerAddress(" 2001:DB8:0::80 ")).toBe("2001:db8::80");
    expect(parseWebServerAddress("::ffff:192.0.2.80")).toBe("192.0.2.80");
    for (const bad of ["1.2.3", "example.com", "0.0.0.0", "127.0.0.1", "224.0.0.1", "fe80::1"]) {
      expect(() => parseWebServerAddress(bad)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT", field: "webServerAddress" }));
    }
  });

  it("keeps RSA DKIM keys as given, reduces Ed25519 keys to their 32 bytes, and refuses weak or foreign keys", () => {
    const ed = generateKeyPairSync("ed25519").publicKey;
    const raw = Buffer.from(ed.export({ format: "jwk" }).x!, "base64url").toString("base64");
    expect(parseDkimPublicKey(ed.export({ format: "pem", type: "spki" }).toString())).toBe(raw);
    expect(parseDkimPublicKey(raw)).toBe(raw);
    const weak = generateKeyPairSync("rsa", { modulusLength: 512 }).publicKey.export({ format: "der", type: "spki" }).toString("base64");
    expect(() => parseDkimPublicKey(weak)).toThrow(/512-bit RSA key/);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "der", type: "spki" }).toString("base64");
    expect(() => parseDkimPublicKey(ec)).toThrow(/ec key; DKIM uses RSA or Ed25519/);
  });

  it("reads DNS_SERVERS lists and refuses names and bad ports, naming the setting", () => {
    expect(parseDnsServerList("127.0.0.1:5353, [::1]:53 192.0.2.53 ::1")).toEqual([
      { host: "127.0.0.1", port: 5353 },
      { host: "::1", port: 53 },
      { host: "192.0.2.53", port: 53 },
      { host: "::1", port: 53 },
    ]);
    expect(() => parseDnsServerList("dns.example.com:53")).toThrow(/not a resolver address/);
    expect(() => loadConfig({ DNS_SERVERS: "127.0.0.1:99999" })).toThrow(ConfigError);
    expect(() => loadConfig({ DNS_SERVERS: "127.0.0.1:99999" })).toThrow(/DNS_SERVERS: "127.0.0.1:99999" is not a resolver address/);
    expect(() => loadConfig({ MAIL_HOST_PATTERN: "mail .{domain}" })).toThrow(/MAIL_HOST_PATTERN/);
    expect(() => loadConfig({ MAIL_SERVER_IPV4: "2001:db8::1" })).toThrow(/MAIL_SERVER_IPV4/);
    expect(loadConfig({}).DNS_SERVERS).toBeUndefined();
    expect(loadConfig({ MAIL_SERVER_IPV6: "2001:DB8:0:0::25", MAIL_HOST_PATTERN: "Mail.{domain}." })).toMatchObject({
      MAIL_SERVER_IPV6: "2001:db8::25",
      MAIL_HOST_PATTERN: "mail.{domain}",
    });
  });

  it("never runs more tasks at once than the limit", async () => {
    const limit = limitConcurrency(3);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        limit(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setTimeout(resolve, index % 4));
          running--;
        }),
      ),
    );
    expect(most).toBe(3);
  });
});
