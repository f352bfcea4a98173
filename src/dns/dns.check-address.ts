// DNS checks: A / AAAA / CNAME (the validator: dns.checker.ts).
import ipaddr from "ipaddr.js";
import { message } from "../i18n/messages";
import type { Text } from "../i18n/text";
import { addressesOf } from "./dns.lookup";
import { usesMx, usesWebServer } from "./dns.records";
import { type Context, type DnsFinding, type FindingStatus, canonicalAddress, describeAddresses, finding, joinAnd, publish, sameSet, worstStatus } from "./dns.check-common";

interface AddressRule {
  check: string;
  host: string;
  /** IPv4 addresses the name must have exactly; [] means none; null means not checked. */
  v4: string[] | null;
  v6: string[] | null;
  /** Status when the wanted AAAA is missing (an IPv4 fallback exists). */
  missingV6: FindingStatus;
  allowCname: boolean;
  cnameReason?: Text;
  fix: Text;
}

async function addressFinding(context: Context, rule: AddressRule): Promise<DnsFinding> {
  const { v4, v6 } = await context.lookup.addresses(rule.host);
  // The records wanted are values; "no AAAA record" and "no CNAME" are words, written in the reader's language.
  const records = [rule.v4 && rule.v4.length > 0 ? `A ${rule.v4.join(", ")}` : null, rule.v6 && rule.v6.length > 0 ? `AAAA ${rule.v6.join(", ")}` : null]
    .filter((part) => part !== null)
    .join(", ");
  const expectedText = message("dns.address.expected", {
    records,
    v6: rule.v6 !== null && rule.v6.length === 0 ? "none" : "any",
    cname: rule.allowCname ? "allowed" : "none",
  });
  const found = describeAddresses(v4, v6);
  if (v4.status === "error" || v6.status === "error") {
    return finding(rule.check, "ERROR", rule.host, expectedText, found, message("dns.no_answer.fix"));
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
  const cnameFound = !rule.allowCname && (v4.cnames.length > 0 || v6.cnames.length > 0) && rule.cnameReason;
  return finding(rule.check, status, rule.host, expectedText, cnameFound ? message("dns.address.found_cname", { found, reason: rule.cnameReason! }) : found, rule.fix);
}

function mailAddressRule(context: Context, check: string, host: string, allowCname: boolean, cnameReason?: Text): AddressRule {
  const { service } = context;
  const addresses = [service.ipv4, service.ipv6].filter((address): address is string => Boolean(address));
  return {
    check,
    host,
    v4: [service.ipv4],
    v6: service.ipv6 ? [service.ipv6] : [],
    missingV6: "WARN",
    allowCname,
    ...(cnameReason ? { cnameReason } : {}),
    fix: message("dns.address.mail.fix", {
      publish: publish(context, host, ["A", "AAAA"]) || message("dns.address.must_have", { host, addresses: joinAnd(addresses) }),
      cname: allowCname ? "keep" : "remove",
      host,
    }),
  };
}

export async function checkAddresses(context: Context): Promise<DnsFinding[]> {
  const { profile, hosts } = context;
  const rules: AddressRule[] = [];
  if (profile.setup === "A_ONLY") {
    rules.push(mailAddressRule(context, "address.apex", hosts.apex, false, message("dns.reason.apex_cname")));
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
      cnameReason: message("dns.reason.apex_cname"),
      fix: message("dns.address.apex.fix", { publish: publish(context, hosts.apex, [isV6 ? "AAAA" : "A"]), type: isV6 ? "AAAA" : "A", host: hosts.apex }),
    });
    rules.push({
      check: "address.www",
      host: hosts.www,
      v4: isV6 ? null : [web],
      v6: isV6 ? [web] : null,
      missingV6: "FAIL",
      allowCname: true,
      fix: message("dns.address.www.fix", { publish: publish(context, hosts.www, ["CNAME"]), web }),
    });
  }
  const unknown: DnsFinding[] = [];
  if (usesWebServer(profile.setup) && !profile.webServerAddress) {
    unknown.push(
      finding("address.apex", "ERROR", hosts.apex, message("dns.address.web_unknown.expected"), message("dns.address.web_unknown.found"), message("dns.address.web_unknown.fix")),
    );
  }
  if (usesMx(profile.setup)) {
    rules.push(mailAddressRule(context, "address.mail_host", hosts.mailHost, false, message("dns.reason.mx_alias")));
    rules.push(mailAddressRule(context, "address.webmail", hosts.webmailHost, true));
  }
  return [...unknown, ...(await Promise.all(rules.map((rule) => addressFinding(context, rule))))];
}
