// DNS checks: MX (the validator: dns.checker.ts).
import { message } from "../i18n/messages";
import { addressesOf } from "./dns.lookup";
import { BACKUP_MX_PREFERENCE, PRIMARY_MX_PREFERENCE, SETUP_LETTERS, usesBackupMx, usesMx } from "./dns.records";
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
  const expected = message("dns.mx.target.expected");
  const fixTarget = publish(context, context.hosts.apex, ["MX"]) || message("dns.mx.target.point_at", { host: context.hosts.mailHost });
  if (isIpLiteral(exchange)) {
    return finding("mx.target", "FAIL", exchange, expected, message("dns.mx.target.ip.found", { exchange }), message("dns.mx.target.ip.fix", { publish: fixTarget }));
  }
  const { v4, v6 } = await context.lookup.addresses(exchange);
  const found = describeAddresses(v4, v6);
  if (v4.status === "error" || v6.status === "error") return finding("mx.target", "ERROR", exchange, expected, found, message("dns.no_answer.fix"));
  if (v4.cnames.length > 0 || v6.cnames.length > 0) {
    const target = (v4.cnames[0] ?? v6.cnames[0])!.to;
    return finding(
      "mx.target",
      "FAIL",
      exchange,
      expected,
      message("dns.mx.target.cname.found", { exchange, target }),
      message("dns.mx.target.cname.fix", { exchange, target, publish: fixTarget }),
    );
  }
  if (addressesOf(v4).length === 0 && addressesOf(v6).length === 0) {
    return finding(
      "mx.target",
      "FAIL",
      exchange,
      expected,
      message("dns.mx.target.no_address.found", { found }),
      message("dns.mx.target.no_address.fix", { exchange, publish: fixTarget }),
    );
  }
  return finding("mx.target", "PASS", exchange, expected, found, null);
}

export async function checkMx(context: Context): Promise<DnsFinding[]> {
  const { profile, hosts, service } = context;
  const domain = hosts.apex;
  const findings: DnsFinding[] = [];
  const mx = await mxEntries(context);
  if (mx.status === "error") return [finding("mx.present", "ERROR", domain, null, message("dns.no_answer.found", { reason: mx.message }), message("dns.no_answer.fix"))];
  const entries = mx.entries;
  const publishMx = publish(context, domain, ["MX"]);

  if (entries.length === 1 && entries[0]!.exchange === "") {
    return [
      finding(
        "mx.present",
        "FAIL",
        domain,
        usesMx(profile.setup) ? `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}` : message("dns.mx.none"),
        message("dns.mx.null.found"),
        message("dns.mx.null.fix", { publish: publishMx }),
      ),
    ];
  }

  if (!usesMx(profile.setup)) {
    if (entries.length === 0) {
      findings.push(finding("mx.present", "PASS", domain, message("dns.mx.a_only.expected"), message("dns.mx.a_only.found", { domain }), null));
    } else {
      // With an MX, senders no longer use the domain's own address.
      const first = entries[0]!;
      const reaches = addressesOf((await context.lookup.addresses(first.exchange)).v4).includes(service.ipv4);
      findings.push(
        finding(
          "mx.present",
          reaches ? "WARN" : "FAIL",
          domain,
          message("dns.mx.a_only_mx.expected"),
          message("dns.mx.a_only_mx.found", { mx: describeMx(entries), reaches: reaches ? "yes" : "no", address: service.ipv4 }),
          message("dns.mx.a_only_mx.fix"),
        ),
      );
    }
  } else if (entries.length === 0) {
    findings.push(finding("mx.present", "FAIL", domain, `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}`, message("dns.mx.none"), publishMx));
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
          message("dns.mx.primary.missing.found", { mx: describeMx(entries), host: hosts.mailHost }),
          message("dns.mx.primary.missing.fix", { publish: publishMx }),
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
          message("dns.mx.primary.expected", { mx: `MX ${PRIMARY_MX_PREFERENCE} ${hosts.mailHost}` }),
          before.length > 0
            ? message("dns.mx.primary.first.found", { mx: describeMx(entries), hosts: before.map((entry) => entry.exchange).join(", ") })
            : `MX ${primaryPreference} ${hosts.mailHost}`,
          before.length > 0 ? message("dns.mx.primary.first.fix", { hosts: before.map((entry) => entry.exchange).join(", "), publish: publishMx }) : publishMx,
        ),
      );
    }
    if (usesBackupMx(profile.setup) && !hosts.backupMxHost) {
      findings.push(finding("mx.backup", "ERROR", domain, message("dns.mx.backup.unset.expected"), message("dns.mx.backup.unset.found"), message("dns.mx.backup.unset.fix")));
    } else if (usesBackupMx(profile.setup)) {
      const backup = entries.filter((entry) => entry.exchange === hosts.backupMxHost);
      const expectedBackup = message("dns.mx.backup.expected", { mx: `MX ${BACKUP_MX_PREFERENCE} ${hosts.backupMxHost}`, primary: PRIMARY_MX_PREFERENCE });
      if (backup.length === 0) {
        findings.push(
          finding("mx.backup", "FAIL", domain, expectedBackup, message("dns.mx.backup.missing.found", { mx: describeMx(entries), host: hosts.backupMxHost! }), publishMx),
        );
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
              : message("dns.mx.backup.order.found", { mx: `MX ${lowest} ${hosts.backupMxHost}`, primary: reference, order: lowest < reference ? "backup_first" : "split" }),
            message("dns.mx.backup.order.fix", { publish: publishMx }),
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
          message("dns.mx.extra.expected", { setup: SETUP_LETTERS[profile.setup] }),
          `MX ${entry.preference} ${entry.exchange}`,
          message("dns.mx.extra.fix", { exchange: entry.exchange }),
        ),
      );
    }
  }
  const exchanges = [...new Set(entries.map((entry) => entry.exchange))];
  findings.push(...(await Promise.all(exchanges.map((exchange) => mxTargetFinding(context, exchange)))));
  return findings;
}
