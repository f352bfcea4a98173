// DNS checks: SPF, DKIM, DMARC, MTA-STS, TLS-RPT (the validator: dns.checker.ts).
import { message, type Message } from "../i18n/messages";
import type { Text } from "../i18n/text";
import { addressesOf } from "./dns.lookup";
import { recordText } from "./dns.transport";
import { dkimHost, dkimRecordFor, zoneLine, RECORD_TTL, type DkimProfileKey } from "./dns.records";
import { DMARC_STRENGTH, SPF_LOOKUP_LIMIT, countSpfLookups, evaluateSpf, isSpfRecord, parseDkimKey, parseDmarc, parseMtaSts, parseSpf, parseTlsRpt } from "./dns.mailauth";
import { type Context, type DnsFinding, asText, finding, joinAlso, publishLine } from "./dns.check-common";

function noAnswer(reason: string): Text {
  return message("dns.no_answer.found", { reason });
}

async function txtAt(context: Context, name: string): Promise<{ status: "ok"; texts: string[] } | { status: "error"; message: string }> {
  const txt = await context.resolve(name, "TXT");
  if (txt.status === "error") return { status: "error", message: txt.message };
  return { status: "ok", texts: txt.status === "ok" ? txt.records.map(recordText) : [] };
}

export async function checkSpf(context: Context): Promise<DnsFinding[]> {
  const { hosts, service } = context;
  const domain = hosts.apex;
  const expectedSpf = context.expected.find((record) => record.name === domain && record.type === "TXT")!;
  const publishSpf = publishLine(asText(expectedSpf.zoneLine));
  const txt = await txtAt(context, domain);
  if (txt.status === "error") return [finding("spf.record", "ERROR", domain, message("dns.spf.one"), noAnswer(txt.message), message("dns.no_answer.fix"))];
  const records = txt.texts.filter(isSpfRecord);
  if (records.length === 0) {
    return [finding("spf.record", "FAIL", domain, message("dns.spf.one_value", { value: expectedSpf.value }), message("dns.spf.none.found"), publishSpf)];
  }
  if (records.length > 1) {
    return [
      finding(
        "spf.record",
        "FAIL",
        domain,
        message("dns.spf.exactly_one"),
        message("dns.spf.many.found", { count: records.length, records: records.map((record) => `"${record}"`).join(", ") }),
        message("dns.spf.many.fix", { publish: publishSpf }),
      ),
    ];
  }
  const text = records[0]!;
  const parsed = parseSpf(text);
  if (!parsed.ok)
    return [finding("spf.record", "FAIL", domain, message("dns.spf.valid"), `"${text}" ${parsed.error} (permerror)`, message("dns.replace.fix", { publish: publishSpf }))];
  const findings = [finding("spf.record", "PASS", domain, message("dns.spf.one"), text, null)];

  const spf = parsed.value;
  const allIndex = spf.mechanisms.findIndex((mechanism) => mechanism.name === "all");
  const all = allIndex >= 0 ? spf.mechanisms[allIndex] : undefined;
  const allExpected = message("dns.spf.all.expected");
  if (all?.qualifier === "+") {
    findings.push(
      finding("spf.all", "FAIL", domain, allExpected, message("dns.spf.all.pass.found", { all: all.raw, domain }), message("dns.spf.all.pass.fix", { publish: publishSpf })),
    );
  } else if (all?.qualifier === "?") {
    findings.push(finding("spf.all", "WARN", domain, allExpected, message("dns.spf.all.neutral.found", { all: all.raw }), message("dns.spf.all.fix", { publish: publishSpf })));
  } else if (!all && spf.redirect === undefined) {
    findings.push(finding("spf.all", "WARN", domain, allExpected, message("dns.spf.all.missing.found"), message("dns.spf.all.fix", { publish: publishSpf })));
  } else {
    findings.push(finding("spf.all", "PASS", domain, allExpected, all ? all.raw : `redirect=${spf.redirect}`, null));
  }

  const addresses = [service.ipv4, ...(service.ipv6 ? [service.ipv6] : [])];
  const [evaluations, count] = await Promise.all([Promise.all(addresses.map((address) => evaluateSpf(context.resolve, domain, address))), countSpfLookups(context.resolve, spf)]);
  const serviceExpected = service.spfInclude
    ? message("dns.spf.service.expected_include", { count: addresses.length, addresses: addresses.join(", "), include: service.spfInclude })
    : message("dns.spf.service.expected", { count: addresses.length, addresses: addresses.join(", ") });
  const outcome = addresses.map((address, index) => `${address}: ${evaluations[index]!.result}${evaluations[index]!.detail ? ` (${evaluations[index]!.detail})` : ""}`).join("; ");
  const results = evaluations.map((evaluation) => evaluation.result);
  if (results.includes("temperror")) {
    findings.push(finding("spf.service", "ERROR", domain, serviceExpected, outcome, message("dns.spf.service.temperror.fix")));
  } else if (results.every((result) => result === "pass")) {
    const viaInclude =
      !service.spfInclude || spf.mechanisms.some((mechanism) => mechanism.name === "include" && mechanism.value?.toLowerCase() === service.spfInclude!.toLowerCase());
    findings.push(
      finding(
        "spf.service",
        viaInclude ? "PASS" : "WARN",
        domain,
        serviceExpected,
        viaInclude ? outcome : message("dns.spf.service.by_address.found", { outcome, include: service.spfInclude ?? "" }),
        message("dns.spf.service.by_address.fix", { include: service.spfInclude ?? "", publish: publishSpf }),
      ),
    );
  } else {
    findings.push(
      finding(
        "spf.service",
        "FAIL",
        domain,
        serviceExpected,
        message("dns.spf.service.fail.found", { outcome }),
        message("dns.spf.service.fail.fix", {
          mechanisms: service.spfInclude ? `include:${service.spfInclude}` : addresses.map((address) => (address.includes(":") ? `ip6:${address}` : `ip4:${address}`)).join(" "),
          publish: publishSpf,
        }),
      ),
    );
  }

  const lookupsExpected = message("dns.spf.lookups.expected", { limit: SPF_LOOKUP_LIMIT });
  if (count.permanentErrors.length > 0 || count.lookups > SPF_LOOKUP_LIMIT) {
    findings.push(
      finding(
        "spf.lookups",
        "FAIL",
        domain,
        lookupsExpected,
        joinAlso([message("dns.spf.lookups.count", { count: count.lookups, over: count.lookups > SPF_LOOKUP_LIMIT ? "yes" : "no" }), ...count.permanentErrors]),
        count.lookups > SPF_LOOKUP_LIMIT ? message("dns.spf.lookups.too_many.fix") : message("dns.spf.lookups.permerror.fix"),
      ),
    );
  } else if (count.unanswered.length > 0) {
    findings.push(
      finding(
        "spf.lookups",
        "ERROR",
        domain,
        lookupsExpected,
        message("dns.spf.lookups.unanswered.found", { count: count.lookups, unanswered: count.unanswered.join("; ") }),
        message("dns.check_again"),
      ),
    );
  } else {
    findings.push(
      finding(
        "spf.lookups",
        count.warnings.length > 0 ? "WARN" : "PASS",
        domain,
        lookupsExpected,
        joinAlso([message("dns.spf.lookups.count", { count: count.lookups, over: "no" }), ...count.warnings]),
        message("dns.spf.lookups.warning.fix"),
      ),
    );
  }
  return findings;
}

/** One finding per key of mailadmin's (dkim.key), and dkim.age for signing keys past DKIM_KEY_MAX_AGE_DAYS. */
async function checkManagedDkim(context: Context, keys: DkimProfileKey[]): Promise<DnsFinding[]> {
  const { profile, service } = context;
  const findings = await Promise.all(
    keys.map(async (key): Promise<DnsFinding> => {
      const host = dkimHost(key.selector, profile.name);
      const value = dkimRecordFor(key.publicKey);
      const publish = publishLine(asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value })));
      const role = key.state === "ACTIVE" ? "signing" : key.state === "PUBLISHED_PENDING" ? "next" : "previous";
      const txt = await txtAt(context, host);
      if (txt.status === "error") return finding("dkim.key", "ERROR", host, value, noAnswer(txt.message), message("dns.no_answer.fix"));
      const records = txt.texts;
      if (records.length === 0) {
        if (key.state === "ACTIVE") return finding("dkim.key", "FAIL", host, value, message("dns.dkim.managed.unpublished.found", { role }), publish);
        if (key.state === "PUBLISHED_PENDING") {
          return finding("dkim.key", "WARN", host, value, message("dns.dkim.managed.not_yet.found", { role }), message("dns.dkim.managed.not_yet.fix", { publish }));
        }
        return finding("dkim.key", "WARN", host, value, message("dns.dkim.managed.gone.found", { role }), message("dns.dkim.managed.gone.fix", { publish }));
      }
      if (records.length > 1) return finding("dkim.key", "FAIL", host, value, message("dns.dkim.many.found", { count: records.length }), message("dns.dkim.many.fix", { publish }));
      const parsed = parseDkimKey(records[0]!);
      if (!parsed.ok) return finding("dkim.key", "FAIL", host, value, `"${records[0]}" ${parsed.error}`, message("dns.replace.fix", { publish }));
      if (parsed.value.publicKey === "")
        return finding("dkim.key", "FAIL", host, value, message("dns.dkim.managed.revoked.found", { role }), message("dns.dkim.managed.revoked.fix", { publish }));
      if (parsed.value.publicKey !== key.publicKey) {
        return finding("dkim.key", "FAIL", host, value, message("dns.dkim.managed.different.found", { role }), message("dns.dkim.replace_record.fix", { publish }));
      }
      return finding("dkim.key", "PASS", host, value, message("dns.dkim.managed.ok.found", { role, keyType: parsed.value.keyType }), null);
    }),
  );
  const maxAge = service.dkimKeyMaxAgeDays ?? 0;
  if (maxAge > 0) {
    for (const key of keys) {
      if (key.state !== "ACTIVE" || key.ageDays < maxAge) continue;
      findings.push(
        finding(
          "dkim.age",
          "WARN",
          dkimHost(key.selector, profile.name),
          message("dns.dkim.age.expected", { days: maxAge }),
          message("dns.dkim.age.found", { days: key.ageDays }),
          message("dns.dkim.age.fix"),
        ),
      );
    }
  }
  return findings;
}

export async function checkDkim(context: Context): Promise<DnsFinding[]> {
  const { hosts, profile, service } = context;
  if (profile.dkimKeys && profile.dkimKeys.length > 0) return checkManagedDkim(context, profile.dkimKeys);
  const host = hosts.dkim;
  const key = profile.dkimPublicKey;
  const expected: Text = key ? dkimRecordFor(key) : message("dns.dkim.expected_selector", { selector: service.dkimSelector });
  const publishKey: Text = key ? publishLine(asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: dkimRecordFor(key) }))) : "";
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("dkim.key", "ERROR", host, expected, noAnswer(txt.message), message("dns.no_answer.fix"))];
  const records = txt.texts;
  if (records.length === 0) {
    return [
      key
        ? finding("dkim.key", "FAIL", host, expected, message("dns.dkim.none.found"), publishKey)
        : finding("dkim.key", "WARN", host, expected, message("dns.dkim.none_on_file.found"), message("dns.dkim.none_on_file.fix")),
    ];
  }
  if (records.length > 1) {
    return [
      finding(
        "dkim.key",
        "FAIL",
        host,
        expected,
        message("dns.dkim.many.found", { count: records.length }),
        key ? message("dns.dkim.many.fix", { publish: publishKey }) : message("dns.dkim.many.fix_bare"),
      ),
    ];
  }
  const parsed = parseDkimKey(records[0]!);
  if (!parsed.ok)
    return [
      finding("dkim.key", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, key ? message("dns.replace.fix", { publish: publishKey }) : message("dns.replace.fix_bare")),
    ];
  if (parsed.value.publicKey === "") {
    return [
      finding(
        "dkim.key",
        "FAIL",
        host,
        expected,
        message("dns.dkim.revoked.found"),
        key ? message("dns.dkim.revoked.fix", { publish: publishKey }) : message("dns.dkim.revoked.fix_bare"),
      ),
    ];
  }
  if (!key) {
    return [finding("dkim.key", "WARN", host, expected, message("dns.dkim.unknown_key.found", { keyType: parsed.value.keyType }), message("dns.dkim.unknown_key.fix"))];
  }
  const matches = parsed.value.publicKey === key.replace(/\s+/g, "");
  return [
    finding(
      "dkim.key",
      matches ? "PASS" : "FAIL",
      host,
      expected,
      matches ? message("dns.dkim.ok.found", { keyType: parsed.value.keyType }) : message("dns.dkim.different.found"),
      message("dns.dkim.replace_record.fix", { publish: publishKey }),
    ),
  ];
}

export async function checkDmarc(context: Context): Promise<DnsFinding[]> {
  const { hosts, service } = context;
  const host = hosts.dmarc;
  const expectedRecord = context.expected.find((record) => record.name === host)!;
  const publishDmarc = publishLine(asText(expectedRecord.zoneLine));
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("dmarc.record", "ERROR", host, message("dns.dmarc.one"), noAnswer(txt.message), message("dns.no_answer.fix"))];
  const records = txt.texts.filter((text) => /^v\s*=\s*DMARC1/i.test(text.trim()));
  if (records.length === 0) {
    return [
      finding(
        "dmarc.record",
        "FAIL",
        host,
        message("dns.dmarc.one_value", { value: expectedRecord.value }),
        txt.texts.length > 0 ? message("dns.dmarc.none_other.found", { texts: txt.texts.map((text) => `"${text}"`).join(", ") }) : message("dns.dmarc.none.found"),
        message("dns.dmarc.none.fix", { publish: publishDmarc }),
      ),
    ];
  }
  if (records.length > 1) {
    return [
      finding(
        "dmarc.record",
        "FAIL",
        host,
        message("dns.dmarc.exactly_one"),
        message("dns.dmarc.many.found", { count: records.length }),
        message("dns.dmarc.many.fix", { publish: publishDmarc }),
      ),
    ];
  }
  const parsed = parseDmarc(records[0]!);
  if (!parsed.ok)
    return [finding("dmarc.record", "FAIL", host, message("dns.dmarc.valid"), `"${records[0]}" ${parsed.error}`, message("dns.replace.fix", { publish: publishDmarc }))];
  const findings = [finding("dmarc.record", "PASS", host, message("dns.dmarc.one"), records[0]!, null)];
  const dmarc = parsed.value;
  const weak = DMARC_STRENGTH[dmarc.policy] < DMARC_STRENGTH[service.dmarcPolicy] || dmarc.percent < 100;
  findings.push(
    finding(
      "dmarc.policy",
      weak ? "WARN" : "PASS",
      host,
      message("dns.dmarc.policy.expected", { policy: service.dmarcPolicy }),
      dmarc.policy === "none"
        ? message("dns.dmarc.policy.none.found", { policy: `p=${dmarc.policy}${dmarc.percent < 100 ? `, pct=${dmarc.percent}` : ""}` })
        : `p=${dmarc.policy}${dmarc.percent < 100 ? `, pct=${dmarc.percent}` : ""}`,
      message("dns.dmarc.policy.fix", { publish: publishDmarc }),
    ),
  );
  return findings;
}

/**
 * The TXT records at `host` of a policy a domain may leave out (MTA-STS,
 * TLS-RPT): the whole answer when there is nothing to read (no answer: ERROR,
 * none published: PASS), else every text and the ones of the policy's version.
 */
async function optionalPolicyRecords(
  context: Context,
  check: string,
  host: string,
  expected: Message,
  version: RegExp,
): Promise<{ findings: DnsFinding[] } | { texts: string[]; records: string[] }> {
  const txt = await txtAt(context, host);
  if (txt.status === "error") return { findings: [finding(check, "ERROR", host, expected, noAnswer(txt.message), message("dns.no_answer.fix"))] };
  if (txt.texts.length === 0) return { findings: [finding(check, "PASS", host, expected, message("dns.not_published"), null)] };
  return { texts: txt.texts, records: txt.texts.filter((text) => version.test(text.trim())) };
}

export async function checkMtaSts(context: Context): Promise<DnsFinding[]> {
  const { hosts } = context;
  const host = hosts.mtaSts;
  const expected = message("dns.mta_sts.expected");
  // RFC 8461 §3.1: records not starting with v=STSv1 are discarded; anything but one left means no policy.
  const txt = await optionalPolicyRecords(context, "mta_sts.record", host, expected, /^v=STSv1/);
  if ("findings" in txt) return txt.findings;
  const records = txt.records;
  const fix = message("dns.publish_one_or_remove.fix", {
    line: asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: "v=STSv1; id=20260101T000000" })),
  });
  if (records.length !== 1) {
    return [
      finding("mta_sts.record", "FAIL", host, expected, message("dns.mta_sts.count.found", { count: records.length, texts: txt.texts.map((text) => `"${text}"`).join(", ") }), fix),
    ];
  }
  const parsed = parseMtaSts(records[0]!);
  if (!parsed.ok) return [finding("mta_sts.record", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, fix)];
  const policyHost = await context.lookup.addresses(hosts.mtaStsPolicyHost);
  if (policyHost.v4.status === "error" || policyHost.v6.status === "error") {
    return [finding("mta_sts.record", "ERROR", host, expected, message("dns.mta_sts.host_error.found", { id: parsed.value.id }), message("dns.check_again"))];
  }
  if (addressesOf(policyHost.v4).length === 0 && addressesOf(policyHost.v6).length === 0) {
    return [
      finding(
        "mta_sts.record",
        "FAIL",
        host,
        expected,
        message("dns.mta_sts.no_host.found", { id: parsed.value.id, host: hosts.mtaStsPolicyHost }),
        message("dns.mta_sts.no_host.fix", { host: hosts.mtaStsPolicyHost }),
      ),
    ];
  }
  return [finding("mta_sts.record", "PASS", host, expected, message("dns.mta_sts.ok.found", { id: parsed.value.id, host: hosts.mtaStsPolicyHost }), null)];
}

export async function checkTlsRpt(context: Context): Promise<DnsFinding[]> {
  const host = context.hosts.tlsRpt;
  const expected = message("dns.tls_rpt.expected");
  const txt = await optionalPolicyRecords(context, "tls_rpt.record", host, expected, /^v=TLSRPTv1/);
  if ("findings" in txt) return txt.findings;
  const records = txt.records;
  const fix = message("dns.publish_one_or_remove.fix", {
    line: asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: `v=TLSRPTv1; rua=mailto:tls-reports@${context.hosts.apex}` })),
  });
  if (records.length !== 1) return [finding("tls_rpt.record", "FAIL", host, expected, message("dns.tls_rpt.count.found", { count: records.length }), fix)];
  const parsed = parseTlsRpt(records[0]!);
  if (!parsed.ok) return [finding("tls_rpt.record", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, fix)];
  return [finding("tls_rpt.record", "PASS", host, expected, message("dns.tls_rpt.ok.found", { addresses: parsed.value.reportAddresses.join(", ") }), null)];
}
