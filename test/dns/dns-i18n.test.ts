// The DNS check in both languages, against real nameservers (NSD on loopback,
// test/helpers/dns-world.ts): the findings' expected, found and fix texts come
// in the request's language (Accept-Language), through GraphQL and REST, while
// rule ids, statuses, subjects and the values found in DNS stay the same; a
// stored check reads in its reader's language, and one stored as English
// sentences before catalogues reads as it was; the records to publish are
// explained in zh-TW naming the set-ups 甲 / 乙 / 丙 / 丁.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, TEST_SERVICE, type DnsWorld } from "../helpers/dns-world";
import { newDkimKey, rightParts, zoneBody } from "./zones";
import type { Prisma } from "../../src/generated/prisma/client";

const FINDINGS = "findings { check status subject expected found fix }";
const CHECK = `mutation($domain: String!, $refresh: Boolean) { checkDomainDns(domain: $domain, refresh: $refresh) { status setup detectedSetup ${FINDINGS} } }`;
const LAST = `query($name: String!) { domain(name: $name) { lastDnsCheck { status setup detectedSetup ${FINDINGS} } } }`;
const RECORDS = `query($name: String!) { domain(name: $name) {
  a: expectedDnsRecords(setup: A_ONLY) { setup zoneFile records { name type value purpose } }
  b: expectedDnsRecords(setup: MX) { setup zoneFile records { name type value purpose } }
  c: expectedDnsRecords(setup: MX_WEB) { setup zoneFile records { name type value purpose } }
  d: expectedDnsRecords(setup: MX_WEB_BACKUP) { setup zoneFile records { name type value purpose } }
} }`;

interface Finding {
  check: string;
  status: string;
  subject: string;
  expected: string | null;
  found: string | null;
  fix: string | null;
}

const DKIM_KEY = newDkimKey();
const WEB = "192.0.2.80";
const ZH = { "accept-language": "zh-TW" };
const EN = { "accept-language": "en" };
// Set-up 丙 with three mistakes: no MX, no www, no DMARC record.
const BROKEN = `${uniqueName("zhbad")}.example`;
const RIGHT = `${uniqueName("zhok")}.example`;

/** A text with the zone-file lines it quotes taken out (values to paste, the same in every language). */
function withoutZoneLines(text: string): string {
  return text.replace(/\S+\.\s\d+\sIN\s(A|AAAA|CNAME|MX|TXT)\s(\d+\s)?("[^"]*"(\s"[^"]*")*|\S+)/g, "");
}

const HAN = /\p{Script=Han}/u;
const ENGLISH_RUN = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;

/** A sentence written in Chinese: Han characters and no run of three English words. */
function isChinese(text: string): boolean {
  return HAN.test(text) && !ENGLISH_RUN.test(withoutZoneLines(text));
}

describe("the DNS check in English and Traditional Chinese", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;

  beforeAll(async () => {
    world = await startDnsWorld([
      { name: BROKEN, records: zoneBody({ ...rightParts("MX_WEB", { web: WEB, dkimKey: DKIM_KEY }), mx: [], www: [], dmarc: [] }) },
      { name: RIGHT, records: zoneBody(rightParts("MX_WEB", { web: WEB, dkimKey: DKIM_KEY })) },
    ]);
    app = await startTestApp(world.config);
    support = await tokenFor(app, await supportAdmin(app));
    for (const name of [BROKEN, RIGHT]) await makeDomain(app, { name, dnsSetup: "MX_WEB", webServerAddress: WEB, dkimPublicKey: DKIM_KEY });
  });
  afterAll(async () => {
    await app?.close();
    await world?.stop();
  });

  async function check(name: string, headers: Record<string, string>, refresh = false) {
    const response = await app.gql(CHECK, { domain: name, refresh }, support, headers);
    expect(response.errors).toBeUndefined();
    return response.data.checkDomainDns as { status: string; setup: string; detectedSetup: string | null; findings: Finding[] };
  }

  /** The findings of two languages agree on everything but the texts; zh-TW texts are Chinese unless they are values found in DNS. */
  function expectSameFindingsInChinese(english: Finding[], chinese: Finding[]): void {
    expect(chinese.map(({ check, status, subject }) => ({ check, status, subject }))).toEqual(english.map(({ check, status, subject }) => ({ check, status, subject })));
    chinese.forEach((zh, index) => {
      const en = english[index]!;
      for (const field of ["expected", "found", "fix"] as const) {
        expect({ check: zh.check, field, missing: (zh[field] === null) !== (en[field] === null) }).toEqual({ check: zh.check, field, missing: false });
        const text = zh[field];
        if (text === null) continue;
        // A value found in DNS (a record, "MX 10 mail...") is the same in both languages and holds no English sentence; anything else is Chinese.
        const verdict = text === en[field] ? !ENGLISH_RUN.test(withoutZoneLines(text)) : isChinese(text);
        expect({ check: zh.check, field, text, verdict }).toEqual({ check: zh.check, field, text, verdict: true });
      }
    });
  }

  it("writes a check's findings in zh-TW when asked, with the same rules, statuses, subjects and record values as in English", async () => {
    const english = await check(BROKEN, EN, true);
    const chinese = await check(BROKEN, ZH, true);
    expect(chinese).toMatchObject({ status: english.status, setup: "MX_WEB", detectedSetup: english.detectedSetup });
    expect(english.status).toBe("FAIL");
    expectSameFindingsInChinese(english.findings, chinese.findings);

    // Every finding to act on tells support what to do in Chinese; the English stays as it was.
    const fixes = chinese.findings.filter((item) => item.status !== "PASS");
    expect(fixes.map((item) => item.check)).toEqual(expect.arrayContaining(["mx.present", "address.www", "dmarc.record", "setup.detected"]));
    for (const item of fixes) expect({ check: item.check, chinese: isChinese(item.fix!) }).toEqual({ check: item.check, chinese: true });

    const mxLine = `${BROKEN}. 3600 IN MX 10 mail.${BROKEN}.`;
    const find = (findings: Finding[], rule: string) => findings.find((item) => item.check === rule)!;
    expect(find(english.findings, "mx.present")).toMatchObject({ expected: `MX 10 mail.${BROKEN}`, found: "no MX record", fix: `Publish: ${mxLine}` });
    expect(find(chinese.findings, "mx.present")).toMatchObject({ expected: `MX 10 mail.${BROKEN}`, found: "沒有 MX 記錄", fix: `請發布：${mxLine}` });
    expect(find(english.findings, "setup.detected").fix).toBe("Publish the records of set-up 丙 (see the expected records and the other findings).");
    expect(find(chinese.findings, "setup.detected")).toMatchObject({
      expected: "設定丙（MX_WEB：郵件、網頁郵件，加上客戶自己的網站伺服器）",
      fix: "請發布設定丙的記錄（見應發布的記錄與其他檢查結果）。",
    });
    // Values found in DNS are values: the SPF record and the addresses read the same.
    expect(find(chinese.findings, "spf.record").found).toBe(`v=spf1 include:${TEST_SERVICE.spfInclude} ~all`);
    expect(find(chinese.findings, "address.mail_host").found).toContain(`A ${TEST_SERVICE.ipv4}`);
    expect(find(chinese.findings, "address.mail_host").found).toContain(`AAAA ${TEST_SERVICE.ipv6}`);
  });

  it("answers the REST DNS check in the request's language, as GraphQL does", async () => {
    const post = async (headers: Record<string, string>) => {
      const response = await fetch(`${app.url}/api/v1/domains/${BROKEN}/dns-check`, { method: "POST", headers: { authorization: `Bearer ${support}`, ...headers } });
      expect(response.status).toBe(200);
      return (await response.json()) as { status: string; findings: Finding[] };
    };
    const [restEnglish, restChinese] = [await post(EN), await post(ZH)];
    expect(restEnglish.findings).toEqual((await check(BROKEN, EN)).findings);
    expect(restChinese.findings).toEqual((await check(BROKEN, ZH)).findings);
    expect(restChinese.status).toBe(restEnglish.status);
    expectSameFindingsInChinese(restEnglish.findings, restChinese.findings);
  });

  it("reads a stored check in its reader's language, and a check stored as English sentences as it was", async () => {
    const english = await check(BROKEN, EN, true);
    const chinese = await check(BROKEN, ZH);
    const lastIn = async (headers: Record<string, string>) => (await app.gql(LAST, { name: BROKEN }, support, headers)).data.domain.lastDnsCheck as { findings: Finding[] };
    expect((await lastIn(ZH)).findings).toEqual(chinese.findings);
    expect((await lastIn(EN)).findings).toEqual(english.findings);

    // Stored as ids and values, not sentences.
    const row = await app.deps.db.domain.findUniqueOrThrow({ where: { name: BROKEN } });
    const stored = row.dnsCheck as { findings: Record<string, unknown>[] };
    const mx = stored.findings.find((item) => item.check === "mx.present")!;
    expect(mx.found).toEqual({ messageId: "dns.mx.none", values: {} });

    // A row written before catalogues holds English sentences: every reader gets them as they are.
    const oldStyle = { ...stored, findings: english.findings };
    await app.deps.db.domain.update({ where: { id: row.id }, data: { dnsCheck: oldStyle as unknown as Prisma.InputJsonValue } });
    expect((await lastIn(ZH)).findings).toEqual(english.findings);
    expect((await lastIn(EN)).findings).toEqual(english.findings);
  });

  it("explains the records to publish in zh-TW, naming the set-ups 甲, 乙, 丙 and 丁", async () => {
    const chinese = (await app.gql(RECORDS, { name: RIGHT }, support, ZH)).data.domain;
    const english = (await app.gql(RECORDS, { name: RIGHT }, support, EN)).data.domain;
    const letters = { a: "甲", b: "乙", c: "丙", d: "丁" } as const;
    for (const key of ["a", "b", "c", "d"] as const) {
      const zh = chinese[key] as { setup: string; zoneFile: string; records: { name: string; type: string; value: string; purpose: string }[] };
      const en = english[key] as typeof zh;
      // The records themselves do not change with the language.
      expect({ setup: zh.setup, zoneFile: zh.zoneFile, records: zh.records.map(({ name, type, value }) => ({ name, type, value })) }).toEqual({
        setup: en.setup,
        zoneFile: en.zoneFile,
        records: en.records.map(({ name, type, value }) => ({ name, type, value })),
      });
      for (const record of zh.records)
        expect({ record: `${record.name} ${record.type}`, chinese: isChinese(record.purpose) }).toEqual({ record: `${record.name} ${record.type}`, chinese: true });
      // Each set-up's own records say which set-up asks for them.
      expect({ setup: zh.setup, named: zh.records.some((record) => record.purpose.includes(`設定${letters[key]}`)) }).toEqual({ setup: zh.setup, named: true });
    }
    // The backup MX is set-up 丁's alone; the customer's web server 丙's and 丁's.
    const backup = (chinese.d.records as { type: string; value: string; purpose: string }[]).find((record) => record.type === "MX" && record.value === TEST_SERVICE.backupMx)!;
    expect(backup.purpose).toMatch(/^設定丁：備援 MX/);
    expect((chinese.c.records as { type: string; value: string; purpose: string }[]).find((record) => record.value === WEB)!.purpose).toBe("設定丙、丁：客戶自己的網站伺服器。");
    // English as before.
    expect((english.c.records as { value: string; purpose: string }[]).find((record) => record.value === WEB)!.purpose).toBe("The customer's own web server.");
    expect((english.a.records as { type: string; purpose: string }[]).find((record) => record.type === "A")!.purpose).toBe(
      "The mail server, on the domain itself: with no MX record, mail is delivered to this address (RFC 5321 §5.1).",
    );
  });
});
