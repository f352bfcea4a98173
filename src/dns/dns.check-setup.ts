// DNS checks: Which set-up do the records match? (the validator: dns.checker.ts).
import { addressesOf } from "./dns.lookup";
import { message } from "../i18n/messages";
import { SETUP_LABELS, SETUP_LETTERS, type DnsSetup } from "./dns.records";
import { type Context, type DnsFinding, canonicalAddress, finding } from "./dns.check-common";
import { mxEntries } from "./dns.check-mx";

export async function detectSetup(context: Context): Promise<{ setup: DnsSetup | null; error?: string }> {
  const { hosts, service, profile } = context;
  const mx = await mxEntries(context);
  const apex = await context.lookup.addresses(hosts.apex);
  if (mx.status === "error") return { setup: null, error: mx.message };
  if (apex.v4.status === "error") return { setup: null, error: apex.v4.message };
  const mailAddresses = new Set([service.ipv4, ...(service.ipv6 ? [service.ipv6] : [])].map(canonicalAddress));
  const apexAddresses = [...addressesOf(apex.v4), ...addressesOf(apex.v6)].map(canonicalAddress);
  const apexIsMail = addressesOf(apex.v4).map(canonicalAddress).includes(canonicalAddress(service.ipv4));
  const web = profile.webServerAddress ? canonicalAddress(profile.webServerAddress) : undefined;
  const hasWeb = web ? apexAddresses.includes(web) : apexAddresses.some((address) => !mailAddresses.has(address));
  const entries = mx.entries.filter((entry) => entry.exchange !== "");
  if (entries.length === 0) return { setup: apexIsMail ? "A_ONLY" : null };
  const first = entries[0]!;
  const firstTarget = await context.lookup.addresses(first.exchange);
  if (firstTarget.v4.status === "error") return { setup: null, error: firstTarget.v4.message };
  const primaryReachesUs = addressesOf(firstTarget.v4).map(canonicalAddress).includes(canonicalAddress(service.ipv4));
  if (!primaryReachesUs) return { setup: null };
  const hasBackup = entries.some((entry) => entry.exchange !== first.exchange && entry.preference > first.preference);
  if (hasBackup) return { setup: hasWeb ? "MX_WEB_BACKUP" : null };
  return { setup: hasWeb ? "MX_WEB" : "MX" };
}

export function setupFinding(context: Context, detected: { setup: DnsSetup | null; error?: string }): DnsFinding {
  const { profile, hosts } = context;
  const expected = message("dns.setup.named", { setup: SETUP_LABELS[profile.setup] });
  if (detected.error) return finding("setup.detected", "ERROR", hosts.apex, expected, message("dns.no_answer.found", { reason: detected.error }), message("dns.check_again"));
  if (detected.setup === profile.setup) return finding("setup.detected", "PASS", hosts.apex, expected, message("dns.setup.named", { setup: SETUP_LABELS[detected.setup] }), null);
  if (detected.setup === null) {
    return finding("setup.detected", "FAIL", hosts.apex, expected, message("dns.setup.none.found"), message("dns.setup.none.fix", { setup: SETUP_LETTERS[profile.setup] }));
  }
  return finding(
    "setup.detected",
    "WARN",
    hosts.apex,
    expected,
    message("dns.setup.named", { setup: SETUP_LABELS[detected.setup] }),
    message("dns.setup.other.fix", { detected: SETUP_LETTERS[detected.setup], contract: SETUP_LETTERS[profile.setup] }),
  );
}
