// DNS checks: A / AAAA / CNAME (the validator: dns.checker.ts).
import ipaddr from "ipaddr.js";
import { addressesOf } from "./dns.lookup";
import { usesMx, usesWebServer } from "./dns.records";
import { type Context, type DnsFinding, type FindingStatus, canonicalAddress, describeAddresses, finding, publish, sameSet, worstStatus } from "./dns.check-common";

interface AddressRule {
  check: string;
  host: string;
  /** IPv4 addresses the name must have exactly; [] means none; null means not checked. */
  v4: string[] | null;
  v6: string[] | null;
  /** Status when the wanted AAAA is missing (an IPv4 fallback exists). */
  missingV6: FindingStatus;
  allowCname: boolean;
  cnameReason?: string;
  fix: string;
}

async function addressFinding(context: Context, rule: AddressRule): Promise<DnsFinding> {
  const { v4, v6 } = await context.lookup.addresses(rule.host);
  const expectedText = [
    rule.v4 === null ? null : rule.v4.length > 0 ? `A ${rule.v4.join(", ")}` : "no A record",
    rule.v6 === null ? null : rule.v6.length > 0 ? `AAAA ${rule.v6.join(", ")}` : "no AAAA record",
    rule.allowCname ? null : "no CNAME",
  ]
    .filter((part) => part !== null)
    .join(", ");
  const found = describeAddresses(v4, v6);
  if (v4.status === "error" || v6.status === "error") {
    return finding(rule.check, "ERROR", rule.host, expectedText, found, "DNS did not answer; check again later.");
  }
  const statuses: FindingStatus[] = [];
  if (!rule.allowCname && (v4.cnames.length > 0 || v6.cnames.length > 0)) statuses.push("FAIL");
  const foundV4 = addressesOf(v4).map(canonicalAddress);
  const foundV6 = addressesOf(v6).map(canonicalAddress);
  if (rule.v4 !== null && !sameSet(foundV4, rule.v4.map(canonicalAddress))) statuses.push("FAIL");
  if (rule.v6 !== null) {
    const wanted = rule.v6.map(canonicalAddress);
    if (wanted.length > 0 && foundV6.length === 0) statuses.push(rule.missingV6);
    else if (!sameSet(foundV6, wanted)) statuses.push("FAIL");
  }
  const status = worstStatus(statuses);
  const cnameNote = !rule.allowCname && (v4.cnames.length > 0 || v6.cnames.length > 0) && rule.cnameReason ? ` (${rule.cnameReason})` : "";
  return finding(rule.check, status, rule.host, expectedText, `${found}${cnameNote}`, rule.fix);
}

function mailAddressRule(context: Context, check: string, host: string, allowCname: boolean, cnameReason?: string): AddressRule {
  const { service } = context;
  const extra = allowCname ? "" : `, and remove any CNAME of ${host}`;
  return {
    check,
    host,
    v4: [service.ipv4],
    v6: service.ipv6 ? [service.ipv6] : [],
    missingV6: "WARN",
    allowCname,
    ...(cnameReason ? { cnameReason } : {}),
    fix: `${publish(context, host, ["A", "AAAA"]) || `${host} must have the address ${[service.ipv4, service.ipv6].filter(Boolean).join(" and ")}`}${extra}; remove other A/AAAA records of ${host}.`,
  };
}

export async function checkAddresses(context: Context): Promise<DnsFinding[]> {
  const { profile, hosts } = context;
  const rules: AddressRule[] = [];
  if (profile.setup === "A_ONLY") {
    rules.push(mailAddressRule(context, "address.apex", hosts.apex, false, "a zone apex cannot be a CNAME, RFC 1034 §3.6.2"));
  }
  if (usesWebServer(profile.setup) && profile.webServerAddress) {
    const web = profile.webServerAddress;
    const isV6 = ipaddr.parse(web).kind() === "ipv6";
    rules.push({
      check: "address.apex",
      host: hosts.apex,
      v4: isV6 ? null : [web],
      v6: isV6 ? [web] : null,
      missingV6: "FAIL",
      allowCname: false,
      cnameReason: "a zone apex cannot be a CNAME, RFC 1034 §3.6.2",
      fix: `${publish(context, hosts.apex, [isV6 ? "AAAA" : "A"])}, the customer's web server, instead of any other ${isV6 ? "AAAA" : "A"} record of ${hosts.apex}.`,
    });
    rules.push({
      check: "address.www",
      host: hosts.www,
      v4: isV6 ? null : [web],
      v6: isV6 ? [web] : null,
      missingV6: "FAIL",
      allowCname: true,
      fix: `${publish(context, hosts.www, ["CNAME"])}, so that www shows the web site at ${web}.`,
    });
  }
  const unknown: DnsFinding[] = [];
  if (usesWebServer(profile.setup) && !profile.webServerAddress) {
    unknown.push(
      finding(
        "address.apex",
        "ERROR",
        hosts.apex,
        "the customer's web server address",
        "no web server address is on file for the domain",
        "Support: set the domain's webServerAddress.",
      ),
    );
  }
  if (usesMx(profile.setup)) {
    rules.push(mailAddressRule(context, "address.mail_host", hosts.mailHost, false, "an MX target must not be an alias, RFC 2181 §10.3"));
    rules.push(mailAddressRule(context, "address.webmail", hosts.webmailHost, true));
  }
  return [...unknown, ...(await Promise.all(rules.map((rule) => addressFinding(context, rule))))];
}
