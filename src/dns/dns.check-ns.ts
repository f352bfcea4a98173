// DNS checks: NS and SOA (the validator: dns.checker.ts).
import { message } from "../i18n/messages";
import type { Text } from "../i18n/text";
import { addressesOf } from "./dns.lookup";
import { recordText, type SoaRecordData } from "./dns.transport";
import { type Context, type DnsFinding, type FindingStatus, SOA_RANGES, describeLookup, finding, joinAlso, list, sameSet, worstStatus } from "./dns.check-common";

/** The zone a name lies in: the owner of the SOA answered for it, or of the SOA in a negative answer. */
async function zoneOf(context: Context, name: string): Promise<{ zone: string } | { error: Text }> {
  const soa = await context.resolve(name, "SOA");
  if (soa.status === "error") return { error: soa.message };
  if (soa.status === "ok") return { zone: soa.records[0]!.name };
  if (soa.soa) return { zone: soa.soa.name };
  return { error: message("dns.ns.no_soa", { name }) };
}

/** IPv4 addresses when the host has any (IPv6 may not be routed from here), otherwise its IPv6 ones. */
async function serverAddresses(context: Context, host: string): Promise<{ addresses: string[]; error?: string }> {
  const { v4, v6 } = await context.lookup.addresses(host);
  const ipv4 = addressesOf(v4);
  if (ipv4.length > 0) return { addresses: ipv4 };
  const ipv6 = addressesOf(v6);
  const error = v4.status === "error" ? v4.message : v6.status === "error" ? v6.message : undefined;
  return { addresses: ipv6, ...(error ? { error } : {}) };
}

interface Delegation {
  parentZone: string;
  nameservers: string[];
}

/** Asks the parent zone's nameservers, one after the other, for the domain's delegation. */
async function parentDelegation(
  context: Context,
  domain: string,
): Promise<{ status: "ok"; delegation: Delegation } | { status: "nxdomain" | "missing" | "error"; parentZone?: string; message: Text }> {
  const parentName = domain.split(".").slice(1).join(".");
  const parent = await zoneOf(context, parentName);
  if ("error" in parent) return { status: "error", message: message("dns.ns.parent_unknown", { domain, reason: parent.error }) };
  const parentNs = await context.resolve(parent.zone, "NS");
  if (parentNs.status !== "ok") {
    return { status: "error", parentZone: parent.zone, message: message("dns.ns.parent_ns_unknown", { zone: parent.zone, found: describeLookup(parentNs, "NS") }) };
  }
  const failures: Text[] = [];
  for (const nameserver of parentNs.records.map(recordText).sort()) {
    const { addresses, error } = await serverAddresses(context, nameserver);
    if (addresses.length === 0) {
      failures.push(message("dns.ns.failure", { nameserver, reason: error ?? message("dns.ns.no_address") }));
      continue;
    }
    for (const address of addresses) {
      const asked = await context.lookup.ask({ host: address, port: context.nameserverPort }, domain, "NS");
      if (asked.status === "error") {
        failures.push(`${nameserver} (${address}): ${asked.message}`);
        continue;
      }
      const { response } = asked;
      if (response.rcode === "NXDOMAIN") return { status: "nxdomain", parentZone: parent.zone, message: message("dns.ns.parent_nxdomain", { nameserver, domain }) };
      if (response.rcode !== "NOERROR") {
        failures.push(message("dns.ns.answered_rcode", { nameserver, address, rcode: response.rcode }));
        continue;
      }
      // A referral lists the delegation in the authority section; a parent
      // server that also serves the child answers it authoritatively.
      const records = [...response.answers, ...response.authorities].filter((record) => record.type === "NS" && record.name === domain);
      if (records.length === 0) return { status: "missing", parentZone: parent.zone, message: message("dns.ns.no_delegation", { zone: parent.zone, domain }) };
      return { status: "ok", delegation: { parentZone: parent.zone, nameservers: [...new Set(records.map(recordText))].sort() } };
    }
  }
  return { status: "error", parentZone: parent.zone, message: message("dns.ns.parent_silent", { zone: parent.zone, failures: joinAlso(failures) }) };
}

interface NameserverProbe {
  nameserver: string;
  status: FindingStatus;
  found: Text;
  serials: number[];
}

async function probeNameserver(context: Context, domain: string, nameserver: string): Promise<NameserverProbe> {
  const { addresses, error } = await serverAddresses(context, nameserver);
  if (addresses.length === 0) {
    return error
      ? { nameserver, status: "ERROR", found: message("dns.ns.address_error", { reason: error }), serials: [] }
      : { nameserver, status: "FAIL", found: message("dns.ns.server_no_address", { nameserver }), serials: [] };
  }
  const outcomes = await Promise.all(
    addresses.map(async (address): Promise<{ status: FindingStatus; text: Text; serial?: number }> => {
      const asked = await context.lookup.ask({ host: address, port: context.nameserverPort }, domain, "SOA");
      if (asked.status === "error") return { status: "ERROR", text: `${address}: ${asked.message}` };
      const { response } = asked;
      if (response.rcode !== "NOERROR") return { status: "FAIL", text: message("dns.ns.lame_rcode", { address, rcode: response.rcode }) };
      if (!response.authoritative) return { status: "FAIL", text: message("dns.ns.lame_referral", { address }) };
      const soa = response.answers.find((record) => record.type === "SOA" && record.name === domain);
      if (!soa) return { status: "FAIL", text: message("dns.ns.no_zone_soa", { address }) };
      const serial = (soa.data as SoaRecordData).serial;
      return { status: "PASS", text: message("dns.ns.authoritative", { address, serial: String(serial) }), serial };
    }),
  );
  return {
    nameserver,
    status: worstStatus(outcomes.map((outcome) => outcome.status)),
    found: joinAlso(outcomes.map((outcome) => outcome.text)),
    serials: outcomes.flatMap((outcome) => (outcome.serial === undefined ? [] : [outcome.serial])),
  };
}

function soaTimerProblems(soa: SoaRecordData): Text[] {
  const problems: Text[] = [];
  for (const [field, [low, high]] of Object.entries(SOA_RANGES) as [keyof typeof SOA_RANGES, readonly [number, number]][]) {
    const value = soa[field];
    if (value < low || value > high) problems.push(message("dns.soa.timer_outside", { field, value: String(value), low: String(low), high: String(high) }));
  }
  if (soa.retry >= soa.refresh) problems.push(message("dns.soa.retry_not_shorter", { retry: String(soa.retry), refresh: String(soa.refresh) }));
  return problems;
}

/** The zone's timers as found (values). */
function soaTimers(soa: SoaRecordData): string {
  return `refresh ${soa.refresh}, retry ${soa.retry}, expire ${soa.expire}, minimum ${soa.minimum}`;
}

export async function checkNameservers(context: Context): Promise<DnsFinding[]> {
  const domain = context.hosts.apex;
  const findings: DnsFinding[] = [];
  const soa = await context.resolve(domain, "SOA");
  const delegationExpected = message("dns.ns.delegation.expected");
  if (soa.status === "error") {
    return [finding("ns.delegation", "ERROR", domain, delegationExpected, message("dns.no_answer.found", { reason: soa.message }), message("dns.ns.delegation.no_answer.fix"))];
  }
  if (soa.status === "nxdomain") {
    context.domainMissing = true;
    return [finding("ns.delegation", "FAIL", domain, delegationExpected, message("dns.ns.delegation.nxdomain.found"), message("dns.ns.delegation.nxdomain.fix"))];
  }
  if (soa.status === "ok" && soa.cnames.length > 0) {
    return [
      finding("ns.delegation", "FAIL", domain, delegationExpected, message("dns.ns.delegation.cname.found", { target: soa.cnames[0]!.to }), message("dns.ns.delegation.cname.fix")),
    ];
  }
  const zoneSoa = soa.status === "ok" ? soa.records[0]! : soa.soa;
  if (!zoneSoa || zoneSoa.name !== domain) {
    return [
      finding(
        "ns.delegation",
        "WARN",
        domain,
        delegationExpected,
        message("dns.ns.delegation.no_zone.found", { zone: zoneSoa?.name ?? message("dns.ns.zone_unknown") }),
        message("dns.ns.delegation.no_zone.fix", { domain, zone: zoneSoa?.name ?? "", known: zoneSoa ? "yes" : "no" }),
      ),
    ];
  }

  const [parent, child] = await Promise.all([parentDelegation(context, domain), context.resolve(domain, "NS")]);
  const childNs = child.status === "ok" ? [...new Set(child.records.map(recordText))].sort() : [];
  if (parent.status === "ok") {
    findings.push(
      finding(
        "ns.delegation",
        "PASS",
        domain,
        delegationExpected,
        message("dns.ns.delegation.found", { zone: parent.delegation.parentZone, nameservers: list(parent.delegation.nameservers) }),
        null,
      ),
    );
  } else if (parent.status === "error") {
    findings.push(finding("ns.delegation", "ERROR", domain, delegationExpected, parent.message, message("dns.ns.delegation.parent_silent.fix")));
  } else {
    findings.push(
      finding(
        "ns.delegation",
        "FAIL",
        domain,
        delegationExpected,
        parent.message,
        childNs.length > 0 ? message("dns.ns.delegation.missing.fix_named", { domain, nameservers: list(childNs) }) : message("dns.ns.delegation.missing.fix", { domain }),
      ),
    );
  }
  const parentNs = parent.status === "ok" ? parent.delegation.nameservers : [];

  if (child.status === "error") {
    findings.push(finding("ns.parent_child_match", "ERROR", domain, message("dns.ns.match.expected"), child.message, message("dns.no_answer.fix")));
  } else if (parent.status === "ok") {
    const agree = sameSet(parentNs, childNs);
    findings.push(
      finding(
        "ns.parent_child_match",
        agree ? "PASS" : "WARN",
        domain,
        message("dns.ns.match.expected"),
        agree ? list(childNs) : message("dns.ns.match.found", { parent: list(parentNs), child: list(childNs) }),
        message("dns.ns.match.fix"),
      ),
    );
  }

  const nameservers = [...new Set([...parentNs, ...childNs])].sort();
  if (nameservers.length > 0) {
    findings.push(
      finding(
        "ns.count",
        nameservers.length >= 2 ? "PASS" : "WARN",
        domain,
        message("dns.ns.count.expected"),
        `${nameservers.length}: ${nameservers.join(", ")}`,
        message("dns.ns.count.fix"),
      ),
    );
  }

  const probes = await Promise.all(nameservers.map((nameserver) => probeNameserver(context, domain, nameserver)));
  for (const probe of probes) {
    findings.push(
      finding(
        "ns.authoritative",
        probe.status,
        probe.nameserver,
        message("dns.ns.authoritative.expected", { nameserver: probe.nameserver, domain }),
        probe.found,
        probe.status === "ERROR"
          ? message("dns.ns.authoritative.silent.fix", { nameserver: probe.nameserver })
          : message("dns.ns.authoritative.lame.fix", { nameserver: probe.nameserver, domain }),
      ),
    );
  }

  const soaData = zoneSoa.data as SoaRecordData;
  findings.push(
    finding(
      "soa.present",
      "PASS",
      domain,
      message("dns.soa.present.expected"),
      message("dns.soa.present.found", { mname: soaData.mname, rname: soaData.rname, serial: String(soaData.serial) }),
      null,
    ),
  );

  const serials = probes.filter((probe) => probe.serials.length > 0);
  if (serials.length === 0) {
    findings.push(finding("soa.serial", "ERROR", domain, message("dns.soa.serial.expected"), message("dns.soa.serial.none.found"), message("dns.soa.serial.none.fix")));
  } else {
    const distinct = new Set(serials.flatMap((probe) => probe.serials));
    findings.push(
      finding(
        "soa.serial",
        distinct.size === 1 ? "PASS" : "FAIL",
        domain,
        message("dns.soa.serial.expected"),
        distinct.size === 1
          ? message("dns.soa.serial.same.found", { serial: String([...distinct][0]), nameservers: list(serials.map((probe) => probe.nameserver)) })
          : serials.map((probe) => `${probe.nameserver}: ${[...new Set(probe.serials)].join("/")}`).join("; "),
        message("dns.soa.serial.fix"),
      ),
    );
  }

  const problems = soaTimerProblems(soaData);
  findings.push(
    finding(
      "soa.timers",
      problems.length === 0 ? "PASS" : "WARN",
      domain,
      message("dns.soa.timers.expected", {
        refresh: SOA_RANGES.refresh.join("–"),
        retry: String(SOA_RANGES.retry[0]),
        expire: SOA_RANGES.expire.join("–"),
        minimum: SOA_RANGES.minimum.join("–"),
      }),
      problems.length > 0 ? message("dns.soa.timers.found_problems", { timers: soaTimers(soaData), problems: joinAlso(problems) }) : soaTimers(soaData),
      message("dns.soa.timers.fix"),
    ),
  );
  return findings;
}
