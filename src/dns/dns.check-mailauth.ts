// DNS checks: SPF, DKIM, DMARC, MTA-STS, TLS-RPT (the validator: dns.checker.ts).
import { addressesOf } from "./dns.lookup";
import { recordText } from "./dns.transport";
import { dkimHost, dkimRecordFor, zoneLine, RECORD_TTL, type DkimProfileKey } from "./dns.records";
import { DMARC_STRENGTH, SPF_LOOKUP_LIMIT, countSpfLookups, evaluateSpf, isSpfRecord, parseDkimKey, parseDmarc, parseMtaSts, parseSpf, parseTlsRpt } from "./dns.mailauth";
import { type Context, type DnsFinding, asText, finding } from "./dns.check-common";

async function txtAt(context: Context, name: string): Promise<{ status: "ok"; texts: string[] } | { status: "error"; message: string }> {
  const txt = await context.resolve(name, "TXT");
  if (txt.status === "error") return { status: "error", message: txt.message };
  return { status: "ok", texts: txt.status === "ok" ? txt.records.map(recordText) : [] };
}

export async function checkSpf(context: Context): Promise<DnsFinding[]> {
  const { hosts, service } = context;
  const domain = hosts.apex;
  const expectedSpf = context.expected.find((record) => record.name === domain && record.type === "TXT")!;
  const publishSpf = `Publish: ${asText(expectedSpf.zoneLine)}`;
  const txt = await txtAt(context, domain);
  if (txt.status === "error") return [finding("spf.record", "ERROR", domain, "one SPF record", `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  const records = txt.texts.filter(isSpfRecord);
  if (records.length === 0) {
    return [
      finding("spf.record", "FAIL", domain, `one SPF record: ${expectedSpf.value}`, "no SPF record: receivers cannot tell the service's mail from forgeries", `${publishSpf}`),
    ];
  }
  if (records.length > 1) {
    return [
      finding(
        "spf.record",
        "FAIL",
        domain,
        "exactly one SPF record",
        `${records.length} SPF records (${records.map((record) => `"${record}"`).join(", ")}): receivers then fail SPF for every message (permerror, RFC 7208 §4.5)`,
        `Merge them into one record and delete the others. ${publishSpf}`,
      ),
    ];
  }
  const text = records[0]!;
  const parsed = parseSpf(text);
  if (!parsed.ok) return [finding("spf.record", "FAIL", domain, "a valid SPF record", `"${text}" ${parsed.error} (permerror)`, `Replace it. ${publishSpf}`)];
  const findings = [finding("spf.record", "PASS", domain, "one SPF record", text, null)];

  const spf = parsed.value;
  const allIndex = spf.mechanisms.findIndex((mechanism) => mechanism.name === "all");
  const all = allIndex >= 0 ? spf.mechanisms[allIndex] : undefined;
  const allExpected = "~all or -all at the end";
  if (all?.qualifier === "+") {
    findings.push(
      finding("spf.all", "FAIL", domain, allExpected, `${all.raw}: every server on the Internet may send as ${domain}`, `End the record with ~all instead. ${publishSpf}`),
    );
  } else if (all?.qualifier === "?") {
    findings.push(
      finding("spf.all", "WARN", domain, allExpected, `${all.raw}: mail from other servers is neutral, neither pass nor fail`, `End the record with ~all. ${publishSpf}`),
    );
  } else if (!all && spf.redirect === undefined) {
    findings.push(finding("spf.all", "WARN", domain, allExpected, "no all mechanism: mail from other servers is neutral", `End the record with ~all. ${publishSpf}`));
  } else {
    findings.push(finding("spf.all", "PASS", domain, allExpected, all ? all.raw : `redirect=${spf.redirect}`, null));
  }

  const addresses = [service.ipv4, ...(service.ipv6 ? [service.ipv6] : [])];
  const [evaluations, count] = await Promise.all([Promise.all(addresses.map((address) => evaluateSpf(context.resolve, domain, address))), countSpfLookups(context.resolve, spf)]);
  const serviceExpected = `the service's mail server${addresses.length > 1 ? "s" : ""} ${addresses.join(", ")} pass SPF${service.spfInclude ? ` (through include:${service.spfInclude})` : ""}`;
  const outcome = addresses.map((address, index) => `${address}: ${evaluations[index]!.result}${evaluations[index]!.detail ? ` (${evaluations[index]!.detail})` : ""}`).join("; ");
  const results = evaluations.map((evaluation) => evaluation.result);
  if (results.includes("temperror")) {
    findings.push(finding("spf.service", "ERROR", domain, serviceExpected, outcome, "Part of the SPF record could not be looked up; check again later."));
  } else if (results.every((result) => result === "pass")) {
    const viaInclude =
      !service.spfInclude || spf.mechanisms.some((mechanism) => mechanism.name === "include" && mechanism.value?.toLowerCase() === service.spfInclude!.toLowerCase());
    findings.push(
      finding(
        "spf.service",
        viaInclude ? "PASS" : "WARN",
        domain,
        serviceExpected,
        viaInclude ? outcome : `${outcome}, by address rather than include:${service.spfInclude}`,
        `Use include:${service.spfInclude} instead of listing addresses, so that new mail servers of the service are covered. ${publishSpf}`,
      ),
    );
  } else {
    findings.push(
      finding(
        "spf.service",
        "FAIL",
        domain,
        serviceExpected,
        `${outcome}: the service's mail fails SPF`,
        `Add ${service.spfInclude ? `include:${service.spfInclude}` : addresses.map((address) => (address.includes(":") ? `ip6:${address}` : `ip4:${address}`)).join(" ")} before the all. ${publishSpf}`,
      ),
    );
  }

  const lookupsExpected = `at most ${SPF_LOOKUP_LIMIT} DNS lookups (RFC 7208 §4.6.4)`;
  if (count.permanentErrors.length > 0 || count.lookups > SPF_LOOKUP_LIMIT) {
    findings.push(
      finding(
        "spf.lookups",
        "FAIL",
        domain,
        lookupsExpected,
        [`${count.lookups} lookups${count.lookups > SPF_LOOKUP_LIMIT ? ": receivers stop at 10 and fail SPF (permerror)" : ""}`, ...count.permanentErrors].join("; "),
        count.lookups > SPF_LOOKUP_LIMIT
          ? "Remove includes no longer used, or replace them by the ip4:/ip6: networks they stand for."
          : "Fix or remove the includes named here: receivers treat them as a permanent error.",
      ),
    );
  } else if (count.unanswered.length > 0) {
    findings.push(finding("spf.lookups", "ERROR", domain, lookupsExpected, `${count.lookups} so far; not answered: ${count.unanswered.join("; ")}`, "Check again later."));
  } else {
    findings.push(
      finding(
        "spf.lookups",
        count.warnings.length > 0 ? "WARN" : "PASS",
        domain,
        lookupsExpected,
        [`${count.lookups} lookup${count.lookups === 1 ? "" : "s"}`, ...count.warnings].join("; "),
        "Avoid ptr and macros in SPF: receivers may ignore them.",
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
      const publish = `Publish: ${asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value }))}`;
      const role = key.state === "ACTIVE" ? "the signing key" : key.state === "PUBLISHED_PENDING" ? "the next key (rotation under way)" : "the previous key (retiring)";
      const txt = await txtAt(context, host);
      if (txt.status === "error") return finding("dkim.key", "ERROR", host, value, `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.");
      const records = txt.texts;
      if (records.length === 0) {
        if (key.state === "ACTIVE") return finding("dkim.key", "FAIL", host, value, `${role} is not published: receivers cannot verify the service's signatures`, publish);
        if (key.state === "PUBLISHED_PENDING") {
          return finding(
            "dkim.key",
            "WARN",
            host,
            value,
            `${role} is not published yet: the rotation cannot be confirmed`,
            `${publish} Then confirm the rotation (confirmDkimRotation).`,
          );
        }
        return finding(
          "dkim.key",
          "WARN",
          host,
          value,
          `${role} is no longer published: mail signed with it before the rotation and still in flight fails DKIM`,
          `Keep it published until its grace period ends. ${publish}`,
        );
      }
      if (records.length > 1)
        return finding("dkim.key", "FAIL", host, value, `${records.length} TXT records at the selector: verifiers cannot tell which key to use`, `Keep only one. ${publish}`);
      const parsed = parseDkimKey(records[0]!);
      if (!parsed.ok) return finding("dkim.key", "FAIL", host, value, `"${records[0]}" ${parsed.error}`, `Replace it. ${publish}`);
      if (parsed.value.publicKey === "") return finding("dkim.key", "FAIL", host, value, `${role} is revoked (empty p=)`, `Publish the key on file. ${publish}`);
      if (parsed.value.publicKey !== key.publicKey) {
        return finding(
          "dkim.key",
          "FAIL",
          host,
          value,
          `a different key is published at ${role === "the signing key" ? "the signing selector" : `the selector of ${role}`}: signatures with the key on file fail to verify`,
          `Replace the record. ${publish}`,
        );
      }
      return finding("dkim.key", "PASS", host, value, `${role} (${parsed.value.keyType}) is published and matches the key on file`, null);
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
          `a signing key younger than ${maxAge} days`,
          `the signing key has signed for ${key.ageDays} days`,
          "Rotate it: startDkimRotation makes a new key to publish; once the DNS check sees it, confirmDkimRotation switches signing to it.",
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
  const expected = key ? dkimRecordFor(key) : `a DKIM key record for selector ${service.dkimSelector}`;
  const publishKey = key ? `Publish: ${asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: dkimRecordFor(key) }))}` : "";
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("dkim.key", "ERROR", host, expected, `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  const records = txt.texts;
  if (records.length === 0) {
    return [
      key
        ? finding("dkim.key", "FAIL", host, expected, "no DKIM key published: receivers cannot verify the service's signatures", `${publishKey}`)
        : finding(
            "dkim.key",
            "WARN",
            host,
            expected,
            "no DKIM key published, and none is on file for the domain",
            "Support must first store the domain's DKIM public key (dkimPublicKey); the customer then publishes the record expectedDnsRecords gives.",
          ),
    ];
  }
  if (records.length > 1) {
    return [
      finding("dkim.key", "FAIL", host, expected, `${records.length} TXT records at the selector: verifiers cannot tell which key to use`, `Keep only one. ${publishKey}`.trim()),
    ];
  }
  const parsed = parseDkimKey(records[0]!);
  if (!parsed.ok) return [finding("dkim.key", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, `Replace it. ${publishKey}`.trim())];
  if (parsed.value.publicKey === "") return [finding("dkim.key", "FAIL", host, expected, "the key is revoked (empty p=)", `Publish the current key. ${publishKey}`.trim())];
  if (!key) {
    return [
      finding(
        "dkim.key",
        "WARN",
        host,
        expected,
        `a ${parsed.value.keyType} key is published, but none is on file for the domain to compare it with`,
        "Store the domain's DKIM public key (dkimPublicKey) so the check can tell whether it matches the one the mail server signs with.",
      ),
    ];
  }
  const matches = parsed.value.publicKey === key.replace(/\s+/g, "");
  return [
    finding(
      "dkim.key",
      matches ? "PASS" : "FAIL",
      host,
      expected,
      matches ? `the ${parsed.value.keyType} key on file is published` : "a different key is published: the service's signatures fail to verify",
      `Replace the record. ${publishKey}`,
    ),
  ];
}

export async function checkDmarc(context: Context): Promise<DnsFinding[]> {
  const { hosts, service } = context;
  const host = hosts.dmarc;
  const expectedRecord = context.expected.find((record) => record.name === host)!;
  const publishDmarc = `Publish: ${asText(expectedRecord.zoneLine)}`;
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("dmarc.record", "ERROR", host, "one DMARC record", `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  const records = txt.texts.filter((text) => /^v\s*=\s*DMARC1/i.test(text.trim()));
  if (records.length === 0) {
    return [
      finding(
        "dmarc.record",
        "FAIL",
        host,
        `one DMARC record: ${expectedRecord.value}`,
        txt.texts.length > 0 ? `no DMARC record (other TXT: ${txt.texts.map((text) => `"${text}"`).join(", ")})` : "no DMARC record",
        `Large mailbox providers (Gmail, Yahoo, Microsoft) require DMARC. ${publishDmarc}`,
      ),
    ];
  }
  if (records.length > 1) {
    return [
      finding(
        "dmarc.record",
        "FAIL",
        host,
        "exactly one DMARC record",
        `${records.length} DMARC records: receivers then ignore DMARC (RFC 7489 §6.6.3)`,
        `Keep one. ${publishDmarc}`,
      ),
    ];
  }
  const parsed = parseDmarc(records[0]!);
  if (!parsed.ok) return [finding("dmarc.record", "FAIL", host, "a valid DMARC record", `"${records[0]}" ${parsed.error}`, `Replace it. ${publishDmarc}`)];
  const findings = [finding("dmarc.record", "PASS", host, "one DMARC record", records[0]!, null)];
  const dmarc = parsed.value;
  const weak = DMARC_STRENGTH[dmarc.policy] < DMARC_STRENGTH[service.dmarcPolicy] || dmarc.percent < 100;
  findings.push(
    finding(
      "dmarc.policy",
      weak ? "WARN" : "PASS",
      host,
      `p=${service.dmarcPolicy} or stricter, applied to all mail (pct=100)`,
      `p=${dmarc.policy}${dmarc.percent < 100 ? `, pct=${dmarc.percent}` : ""}${dmarc.policy === "none" ? ": receivers only report failing mail, they do not act on it" : ""}`,
      `Once the reports show the service's mail passing, raise the policy. ${publishDmarc}`,
    ),
  );
  return findings;
}

export async function checkMtaSts(context: Context): Promise<DnsFinding[]> {
  const { hosts } = context;
  const host = hosts.mtaSts;
  const expected = "optional; when published: one v=STSv1 record with an id, and a policy host mta-sts.<domain>";
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("mta_sts.record", "ERROR", host, expected, `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  if (txt.texts.length === 0) return [finding("mta_sts.record", "PASS", host, expected, "not published", null)];
  // RFC 8461 §3.1: records not starting with v=STSv1 are discarded; anything but one left means no policy.
  const records = txt.texts.filter((text) => /^v=STSv1/.test(text.trim()));
  const fix = `Publish one record such as ${asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: "v=STSv1; id=20260101T000000" }))} or remove the records.`;
  if (records.length !== 1) {
    return [
      finding(
        "mta_sts.record",
        "FAIL",
        host,
        expected,
        `${records.length} v=STSv1 records among ${txt.texts.map((text) => `"${text}"`).join(", ")}: senders ignore the policy`,
        fix,
      ),
    ];
  }
  const parsed = parseMtaSts(records[0]!);
  if (!parsed.ok) return [finding("mta_sts.record", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, fix)];
  const policyHost = await context.lookup.addresses(hosts.mtaStsPolicyHost);
  if (policyHost.v4.status === "error" || policyHost.v6.status === "error") {
    return [finding("mta_sts.record", "ERROR", host, expected, `id=${parsed.value.id}; the policy host could not be looked up`, "Check again later.")];
  }
  if (addressesOf(policyHost.v4).length === 0 && addressesOf(policyHost.v6).length === 0) {
    return [
      finding(
        "mta_sts.record",
        "FAIL",
        host,
        expected,
        `id=${parsed.value.id}, but ${hosts.mtaStsPolicyHost} has no address: senders cannot fetch the policy`,
        `Publish an address for ${hosts.mtaStsPolicyHost} serving https://${hosts.mtaStsPolicyHost}/.well-known/mta-sts.txt, or remove the MTA-STS record.`,
      ),
    ];
  }
  return [finding("mta_sts.record", "PASS", host, expected, `id=${parsed.value.id}; ${hosts.mtaStsPolicyHost} resolves (the policy file itself is not fetched)`, null)];
}

export async function checkTlsRpt(context: Context): Promise<DnsFinding[]> {
  const host = context.hosts.tlsRpt;
  const expected = "optional; when published: one v=TLSRPTv1 record with a mailto: or https: rua";
  const txt = await txtAt(context, host);
  if (txt.status === "error") return [finding("tls_rpt.record", "ERROR", host, expected, `DNS did not answer: ${txt.message}`, "DNS did not answer; check again later.")];
  if (txt.texts.length === 0) return [finding("tls_rpt.record", "PASS", host, expected, "not published", null)];
  const records = txt.texts.filter((text) => /^v=TLSRPTv1/.test(text.trim()));
  const fix = `Publish one record such as ${asText(zoneLine({ name: host, type: "TXT", ttl: RECORD_TTL, preference: null, value: `v=TLSRPTv1; rua=mailto:tls-reports@${context.hosts.apex}` }))} or remove the records.`;
  if (records.length !== 1) return [finding("tls_rpt.record", "FAIL", host, expected, `${records.length} v=TLSRPTv1 records: senders ignore them`, fix)];
  const parsed = parseTlsRpt(records[0]!);
  if (!parsed.ok) return [finding("tls_rpt.record", "FAIL", host, expected, `"${records[0]}" ${parsed.error}`, fix)];
  return [finding("tls_rpt.record", "PASS", host, expected, `reports to ${parsed.value.reportAddresses.join(", ")}`, null)];
}
