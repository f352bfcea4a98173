// DNS checks: NS and SOA (the validator: dns.checker.ts).
import { addressesOf } from "./dns.lookup";
import { recordText, type SoaRecordData } from "./dns.transport";
import { type Context, type DnsFinding, type FindingStatus, SOA_RANGES, describeLookup, finding, list, sameSet, worstStatus } from "./dns.check-common";

/** The zone a name lies in: the owner of the SOA answered for it, or of the SOA in a negative answer. */
async function zoneOf(context: Context, name: string): Promise<{ zone: string } | { error: string }> {
  const soa = await context.resolve(name, "SOA");
  if (soa.status === "error") return { error: soa.message };
  if (soa.status === "ok") return { zone: soa.records[0]!.name };
  if (soa.soa) return { zone: soa.soa.name };
  return { error: `no SOA found for ${name}` };
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
): Promise<{ status: "ok"; delegation: Delegation } | { status: "nxdomain" | "missing" | "error"; parentZone?: string; message: string }> {
  const parentName = domain.split(".").slice(1).join(".");
  const parent = await zoneOf(context, parentName);
  if ("error" in parent) return { status: "error", message: `the parent zone of ${domain} could not be found: ${parent.error}` };
  const parentNs = await context.resolve(parent.zone, "NS");
  if (parentNs.status !== "ok") {
    return { status: "error", parentZone: parent.zone, message: `the nameservers of ${parent.zone} could not be found (${describeLookup(parentNs, "NS")})` };
  }
  const failures: string[] = [];
  for (const nameserver of parentNs.records.map(recordText).sort()) {
    const { addresses, error } = await serverAddresses(context, nameserver);
    if (addresses.length === 0) {
      failures.push(`${nameserver}: ${error ?? "no address"}`);
      continue;
    }
    for (const address of addresses) {
      const asked = await context.lookup.ask({ host: address, port: context.nameserverPort }, domain, "NS");
      if (asked.status === "error") {
        failures.push(`${nameserver} (${address}): ${asked.message}`);
        continue;
      }
      const { response } = asked;
      if (response.rcode === "NXDOMAIN") return { status: "nxdomain", parentZone: parent.zone, message: `${nameserver} says ${domain} does not exist` };
      if (response.rcode !== "NOERROR") {
        failures.push(`${nameserver} (${address}) answered ${response.rcode}`);
        continue;
      }
      // A referral lists the delegation in the authority section; a parent
      // server that also serves the child answers it authoritatively.
      const records = [...response.answers, ...response.authorities].filter((record) => record.type === "NS" && record.name === domain);
      if (records.length === 0) return { status: "missing", parentZone: parent.zone, message: `${parent.zone} has no delegation (NS records) for ${domain}` };
      return { status: "ok", delegation: { parentZone: parent.zone, nameservers: [...new Set(records.map(recordText))].sort() } };
    }
  }
  return { status: "error", parentZone: parent.zone, message: `no nameserver of ${parent.zone} answered: ${failures.join("; ")}` };
}

interface NameserverProbe {
  nameserver: string;
  status: FindingStatus;
  found: string;
  serials: number[];
}

async function probeNameserver(context: Context, domain: string, nameserver: string): Promise<NameserverProbe> {
  const { addresses, error } = await serverAddresses(context, nameserver);
  if (addresses.length === 0) {
    return error
      ? { nameserver, status: "ERROR", found: `its address could not be looked up: ${error}`, serials: [] }
      : { nameserver, status: "FAIL", found: `${nameserver} has no address (A or AAAA record)`, serials: [] };
  }
  const outcomes = await Promise.all(
    addresses.map(async (address): Promise<{ status: FindingStatus; text: string; serial?: number }> => {
      const asked = await context.lookup.ask({ host: address, port: context.nameserverPort }, domain, "SOA");
      if (asked.status === "error") return { status: "ERROR", text: `${address}: ${asked.message}` };
      const { response } = asked;
      if (response.rcode !== "NOERROR") return { status: "FAIL", text: `${address} answers ${response.rcode}: it does not serve the zone (lame delegation)` };
      if (!response.authoritative)
        return { status: "FAIL", text: `${address} answers without authority (a referral or cached data): it does not serve the zone (lame delegation)` };
      const soa = response.answers.find((record) => record.type === "SOA" && record.name === domain);
      if (!soa) return { status: "FAIL", text: `${address} answers authoritatively but without the zone's SOA record` };
      const serial = (soa.data as SoaRecordData).serial;
      return { status: "PASS", text: `${address} answers authoritatively, serial ${serial}`, serial };
    }),
  );
  return {
    nameserver,
    status: worstStatus(outcomes.map((outcome) => outcome.status)),
    found: outcomes.map((outcome) => outcome.text).join("; "),
    serials: outcomes.flatMap((outcome) => (outcome.serial === undefined ? [] : [outcome.serial])),
  };
}

function soaTimerProblems(soa: SoaRecordData): string[] {
  const problems: string[] = [];
  for (const [field, [low, high]] of Object.entries(SOA_RANGES) as [keyof typeof SOA_RANGES, readonly [number, number]][]) {
    const value = soa[field];
    if (value < low || value > high) problems.push(`${field} ${value} s is outside ${low}–${high} s`);
  }
  if (soa.retry >= soa.refresh) problems.push(`retry ${soa.retry} s is not shorter than refresh ${soa.refresh} s`);
  return problems;
}

export async function checkNameservers(context: Context): Promise<DnsFinding[]> {
  const domain = context.hosts.apex;
  const findings: DnsFinding[] = [];
  const soa = await context.resolve(domain, "SOA");
  const delegationExpected = "the parent zone delegates the domain (NS records) to nameservers that serve it";
  if (soa.status === "error") {
    return [
      finding(
        "ns.delegation",
        "ERROR",
        domain,
        delegationExpected,
        `DNS did not answer: ${soa.message}`,
        "DNS did not answer in time; check again later. If it persists, the domain's nameservers are down.",
      ),
    ];
  }
  if (soa.status === "nxdomain") {
    context.domainMissing = true;
    return [
      finding(
        "ns.delegation",
        "FAIL",
        domain,
        delegationExpected,
        "the domain does not exist in DNS (NXDOMAIN)",
        "Register the domain, or ask the registrar to delegate it (NS records) to the DNS provider that hosts its zone.",
      ),
    ];
  }
  if (soa.status === "ok" && soa.cnames.length > 0) {
    return [
      finding(
        "ns.delegation",
        "FAIL",
        domain,
        delegationExpected,
        `the domain itself is an alias (CNAME for ${soa.cnames[0]!.to}), which a zone apex cannot be (RFC 1034 §3.6.2)`,
        "Remove the CNAME at the domain and give the domain its own zone with NS, SOA, A and MX records.",
      ),
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
        `the domain has no zone of its own: it lies inside the zone ${zoneSoa?.name ?? "(unknown)"}, so nameserver checks were skipped`,
        `Records for ${domain} are managed in the zone ${zoneSoa?.name ?? "above it"}; ask whoever runs that zone to publish them.`,
      ),
    ];
  }

  const [parent, child] = await Promise.all([parentDelegation(context, domain), context.resolve(domain, "NS")]);
  const childNs = child.status === "ok" ? [...new Set(child.records.map(recordText))].sort() : [];
  if (parent.status === "ok") {
    findings.push(finding("ns.delegation", "PASS", domain, delegationExpected, `${parent.delegation.parentZone} delegates to ${list(parent.delegation.nameservers)}`, null));
  } else if (parent.status === "error") {
    findings.push(finding("ns.delegation", "ERROR", domain, delegationExpected, parent.message, "The parent zone's nameservers did not answer; check again later."));
  } else {
    findings.push(
      finding(
        "ns.delegation",
        "FAIL",
        domain,
        delegationExpected,
        parent.message,
        `Ask the registrar to delegate ${domain} to its nameservers${childNs.length > 0 ? ` (${list(childNs)})` : ""}.`,
      ),
    );
  }
  const parentNs = parent.status === "ok" ? parent.delegation.nameservers : [];

  if (child.status === "error") {
    findings.push(
      finding("ns.parent_child_match", "ERROR", domain, "the same nameservers in the parent zone and in the zone", child.message, "DNS did not answer; check again later."),
    );
  } else if (parent.status === "ok") {
    const agree = sameSet(parentNs, childNs);
    findings.push(
      finding(
        "ns.parent_child_match",
        agree ? "PASS" : "WARN",
        domain,
        "the same nameservers in the parent zone and in the zone",
        agree ? list(childNs) : `parent zone: ${list(parentNs)}; the zone itself: ${list(childNs)}`,
        "Make the nameservers listed at the registrar and the NS records in the zone the same set.",
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
        "at least two nameservers (RFC 2182 §5)",
        `${nameservers.length}: ${list(nameservers)}`,
        "Add a second nameserver, on another network: with one, the domain disappears whenever it is down.",
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
        `${probe.nameserver} answers authoritatively for ${domain}`,
        probe.found,
        probe.status === "ERROR"
          ? `${probe.nameserver} did not answer: check that it is running and reachable on UDP and TCP port 53.`
          : `Configure ${probe.nameserver} to serve the zone ${domain}, or remove it from the NS records at the registrar and in the zone.`,
      ),
    );
  }

  const soaData = zoneSoa.data as SoaRecordData;
  findings.push(finding("soa.present", "PASS", domain, "an SOA record at the zone apex", `primary ${soaData.mname}, contact ${soaData.rname}, serial ${soaData.serial}`, null));

  const serials = probes.filter((probe) => probe.serials.length > 0);
  if (serials.length === 0) {
    findings.push(
      finding("soa.serial", "ERROR", domain, "the same SOA serial on every nameserver", "no nameserver answered with the zone's SOA", "Check again once the nameservers answer."),
    );
  } else {
    const distinct = new Set(serials.flatMap((probe) => probe.serials));
    findings.push(
      finding(
        "soa.serial",
        distinct.size === 1 ? "PASS" : "FAIL",
        domain,
        "the same SOA serial on every nameserver",
        distinct.size === 1
          ? `serial ${[...distinct][0]} on ${list(serials.map((probe) => probe.nameserver))}`
          : serials.map((probe) => `${probe.nameserver}: ${[...new Set(probe.serials)].join("/")}`).join("; "),
        "The nameservers serve different versions of the zone: the one with the lower serial missed an update. Make it transfer the zone from the primary again (check NOTIFY and zone transfers), or load the same zone file on every nameserver.",
      ),
    );
  }

  const problems = soaTimerProblems(soaData);
  findings.push(
    finding(
      "soa.timers",
      problems.length === 0 ? "PASS" : "WARN",
      domain,
      `refresh ${SOA_RANGES.refresh.join("–")} s, retry ${SOA_RANGES.retry[0]} s up to refresh, expire ${SOA_RANGES.expire.join("–")} s, negative TTL (minimum) ${SOA_RANGES.minimum.join("–")} s`,
      `refresh ${soaData.refresh}, retry ${soaData.retry}, expire ${soaData.expire}, minimum ${soaData.minimum}${problems.length > 0 ? ` (${problems.join("; ")})` : ""}`,
      "Ask the DNS provider to set the SOA timers within these ranges, for example refresh 3600, retry 900, expire 1209600, minimum 3600: a long negative TTL keeps a missing record missing for that long after it is fixed.",
    ),
  );
  return findings;
}
