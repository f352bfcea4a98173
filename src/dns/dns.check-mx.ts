// DNS checks: MX (the validator: dns.checker.ts).
import { addressesOf } from "./dns.lookup";
import { BACKUP_MX_PREFERENCE, PRIMARY_MX_PREFERENCE, SETUP_LABELS, usesBackupMx, usesMx } from "./dns.records";
import { type Context, type DnsFinding, type FindingStatus, describeAddresses, finding, isIpLiteral, publish } from "./dns.check-common";

interface MxEntry {
  preference: number;
  exchange: string;
}

export async function mxEntries(context: Context): Promise<{ status: "ok"; entries: MxEntry[] } | { status: "error"; message: string }> {
  const mx = await context.resolve(context.hosts.apex, "MX");
  if (mx.status === "error") return { status: "error", message: mx.message };
  const entries = mx.status === "ok" ? mx.records.map((record) => record.data as MxEntry) : [];
  return { status: "ok", entries: [...entries].sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange)) };
}

function describeMx(entries: MxEntry[]): string {
  return entries.map((entry) => `${entry.preference} ${entry.exchange || "."}`).join(", ");
}

async function mxTargetFinding(context: Context, exchange: string): Promise<DnsFinding> {
  const expected = "a host name with its own A or AAAA record (not an IP address, not a CNAME)";
  const fixTarget = publish(context, context.hosts.apex, ["MX"]) || `Point the MX at ${context.hosts.mailHost}.`;
  if (isIpLiteral(exchange)) {
    return finding(
      "mx.target",
      "FAIL",
      exchange,
      expected,
      `${exchange} is an IP address: an MX record names a host, and senders look ${exchange} up as a name and find nothing (RFC 1035 §3.3.9, RFC 5321 §5.1)`,
      `Point the MX at a host name instead. ${fixTarget}`,
    );
  }
  const { v4, v6 } = await context.lookup.addresses(exchange);
  const found = describeAddresses(v4, v6);
  if (v4.status === "error" || v6.status === "error") return finding("mx.target", "ERROR", exchange, expected, found, "DNS did not answer; check again later.");
  if (v4.cnames.length > 0 || v6.cnames.length > 0) {
    const target = (v4.cnames[0] ?? v6.cnames[0])!.to;
    return finding(
      "mx.target",
      "FAIL",
      exchange,
      expected,
      `${exchange} is an alias (CNAME for ${target}); an MX target must have its own address records (RFC 2181 §10.3, RFC 5321 §5.1)`,
      `Replace the CNAME of ${exchange} by A/AAAA records, or point the MX at ${target} directly. ${fixTarget}`,
    );
  }
  if (addressesOf(v4).length === 0 && addressesOf(v6).length === 0) {
    return finding("mx.target", "FAIL", exchange, expected, `${found}: senders cannot deliver to it`, `Give ${exchange} an A record, or point the MX elsewhere. ${fixTarget}`);
  }
  return finding("mx.target", "PASS", exchange, expected, found, null);
}

export async function checkMx(context: Context): Promise<DnsFinding[]> {
  const { profile, hosts, service } = context;
  const domain = hosts.apex;
  const findings: DnsFinding[] = [];
  const mx = await mxEntries(context);
  if (mx.status === "error") return [finding("mx.present", "ERROR", domain, null, `DNS did not answer: ${mx.message}`, "DNS did not answer; check again later.")];
  const entries = mx.entries;
  const publishMx = publish(context, domain, ["MX"]);

  if (entries.length === 1 && entries[0]!.exchange === "") {
    return [
      finding(
        "mx.present",
        "FAIL",
        domain,
        usesMx(profile.setup) ? `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}` : "no MX record",
        "a null MX (MX 0 .): the domain declares that it accepts no mail (RFC 7505)",
        `Remove the null MX. ${publishMx}`,
      ),
    ];
  }

  if (!usesMx(profile.setup)) {
    if (entries.length === 0) {
      findings.push(
        finding("mx.present", "PASS", domain, "no MX record (set-up 甲)", `no MX record: mail falls back to the address of ${domain} (RFC 5321 §5.1 implicit MX)`, null),
      );
    } else {
      // With an MX, senders no longer use the domain's own address.
      const first = entries[0]!;
      const reaches = addressesOf((await context.lookup.addresses(first.exchange)).v4).includes(service.ipv4);
      findings.push(
        finding(
          "mx.present",
          reaches ? "WARN" : "FAIL",
          domain,
          "no MX record (set-up 甲): mail goes to the domain's own address",
          `MX ${describeMx(entries)}${reaches ? " (it does reach the mail server)" : `: mail goes there, not to ${service.ipv4}`}`,
          "Set-up 甲 publishes no MX record: remove the MX records, or move the domain to set-up 乙 (MX).",
        ),
      );
    }
  } else if (entries.length === 0) {
    findings.push(finding("mx.present", "FAIL", domain, `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}`, "no MX record", `${publishMx}`));
    return findings;
  } else {
    findings.push(finding("mx.present", "PASS", domain, `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}`, `MX ${describeMx(entries)}`, null));
    const primary = entries.filter((entry) => entry.exchange === hosts.mailHost);
    const primaryPreference = primary.length > 0 ? Math.min(...primary.map((entry) => entry.preference)) : undefined;
    const isBackup = (entry: MxEntry) => usesBackupMx(profile.setup) && entry.exchange === hosts.backupMxHost;
    if (primaryPreference === undefined) {
      findings.push(
        finding(
          "mx.primary",
          "FAIL",
          domain,
          `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}`,
          `MX ${describeMx(entries)}: none points at ${hosts.mailHost}`,
          `${publishMx}, and remove MX records pointing elsewhere.`,
        ),
      );
    } else {
      const before = entries.filter((entry) => entry.exchange !== hosts.mailHost && !isBackup(entry) && entry.preference <= primaryPreference);
      const status: FindingStatus = before.length > 0 ? "FAIL" : primaryPreference !== PRIMARY_MX_PREFERENCE ? "WARN" : "PASS";
      findings.push(
        finding(
          "mx.primary",
          status,
          domain,
          `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}, before any other MX`,
          before.length > 0
            ? `MX ${describeMx(entries)}: ${before.map((entry) => entry.exchange).join(", ")} comes first, so senders deliver there`
            : `MX ${primaryPreference} ${hosts.mailHost}`,
          before.length > 0 ? `Remove the MX records of ${before.map((entry) => entry.exchange).join(", ")}, or give them a higher number. ${publishMx}` : `${publishMx}`,
        ),
      );
    }
    if (usesBackupMx(profile.setup) && !hosts.backupMxHost) {
      findings.push(
        finding("mx.backup", "ERROR", domain, "the service's backup MX", "no backup MX host is configured (BACKUP_MX_HOST)", "The service's operators must set BACKUP_MX_HOST."),
      );
    } else if (usesBackupMx(profile.setup)) {
      const backup = entries.filter((entry) => entry.exchange === hosts.backupMxHost);
      const expectedBackup = `MX ${BACKUP_MX_PREFERENCE} ${hosts.backupMxHost}, a higher number than the main MX's ${PRIMARY_MX_PREFERENCE}`;
      if (backup.length === 0) {
        findings.push(finding("mx.backup", "FAIL", domain, expectedBackup, `MX ${describeMx(entries)}: no backup MX ${hosts.backupMxHost}`, `${publishMx}`));
      } else {
        const lowest = Math.min(...backup.map((entry) => entry.preference));
        const reference = primaryPreference ?? PRIMARY_MX_PREFERENCE;
        findings.push(
          finding(
            "mx.backup",
            lowest > reference ? "PASS" : "FAIL",
            domain,
            expectedBackup,
            lowest > reference
              ? `MX ${lowest} ${hosts.backupMxHost}`
              : `MX ${lowest} ${hosts.backupMxHost}: not a higher number than the main MX's ${reference}, so senders ${lowest < reference ? "use the backup first" : "split mail between the two"}`,
            `Give the backup MX a higher preference number than the main one. ${publishMx}`,
          ),
        );
      }
    }
    const known = new Set([hosts.mailHost, ...(usesBackupMx(profile.setup) && hosts.backupMxHost ? [hosts.backupMxHost] : [])]);
    for (const entry of entries) {
      if (known.has(entry.exchange) || primaryPreference === undefined || entry.preference <= primaryPreference) continue;
      findings.push(
        finding(
          "mx.extra",
          "WARN",
          entry.exchange,
          `only the MX records of set-up ${SETUP_LABELS[profile.setup].slice(0, 1)}`,
          `MX ${entry.preference} ${entry.exchange}`,
          `${entry.exchange} is not one of the service's mail hosts: mail it accepts when ours is busy may never reach the mailboxes. Remove it unless it relays to us.`,
        ),
      );
    }
  }
  const exchanges = [...new Set(entries.map((entry) => entry.exchange))];
  findings.push(...(await Promise.all(exchanges.map((exchange) => mxTargetFinding(context, exchange)))));
  return findings;
}
