// The records a customer must publish, derived from the domain's set-up and
// the service's own mail endpoints, as structured records and as zone-file
// lines ready to paste. The four set-ups are those support explains to
// customers (domain notes, section 3):
//   A_ONLY (甲)        domain A <mail server>; no MX: mail falls back to the A record
//   MX (乙)            mail.domain A <mail server>; domain MX 10 mail.domain; webmail.domain A <mail server>
//   MX_WEB (丙)        as MX, plus domain A <customer's web server>; www.domain CNAME domain
//   MX_WEB_BACKUP (丁) as MX_WEB, plus domain MX 20 <backup MX host>
// Every set-up also gets SPF, DMARC and (when the domain has a key) DKIM.
import { isIPv6 } from "node:net";
import { message, type Message } from "../i18n/messages";
import type { Text } from "../i18n/text";

export type DnsSetup = "A_ONLY" | "MX" | "MX_WEB" | "MX_WEB_BACKUP";

export const DNS_SETUPS: readonly DnsSetup[] = ["A_ONLY", "MX", "MX_WEB", "MX_WEB_BACKUP"];

/** The names support uses with customers, with what each set-up is (in the reader's language). */
export const SETUP_LABELS: Record<DnsSetup, Message> = {
  A_ONLY: message("dns.setup.A_ONLY"),
  MX: message("dns.setup.MX"),
  MX_WEB: message("dns.setup.MX_WEB"),
  MX_WEB_BACKUP: message("dns.setup.MX_WEB_BACKUP"),
};

/** The set-up's letter alone, as support says it in any language. */
export const SETUP_LETTERS: Record<DnsSetup, string> = { A_ONLY: "甲", MX: "乙", MX_WEB: "丙", MX_WEB_BACKUP: "丁" };

export const PRIMARY_MX_PREFERENCE = 10;
export const BACKUP_MX_PREFERENCE = 20;
/** TTL suggested for every record: an hour, short enough for a fix to spread the same day. */
export const RECORD_TTL = 3600;

/** The service's own mail endpoints (configuration, see .env.example). */
export interface MailService {
  ipv4: string;
  ipv6?: string;
  /** The mail server's own name, which the reverse DNS of its addresses must give. */
  hostname?: string;
  /** Host name patterns; `{domain}` stands for the customer's domain. */
  mailHostPattern: string;
  webmailHostPattern: string;
  backupMxHost?: string;
  spfInclude?: string;
  dkimSelector: string;
  /** The DNS check warns (dkim.age) about signing keys older than this many days; 0 or unset: never. */
  dkimKeyMaxAgeDays?: number;
  dmarcPolicy: "none" | "quarantine" | "reject";
  dmarcReportAddress?: string;
}

/** What the validator needs to know about one domain. */
export interface DomainDnsProfile {
  /** Lower-case ASCII (punycode), without trailing dot. */
  name: string;
  setup: DnsSetup;
  webServerAddress: string | null;
  /** A key typed in by hand (its signer is elsewhere), published at DKIM_SELECTOR; used only when the domain has no keys of mailadmin's. */
  dkimPublicKey: string | null;
  /** The keys mailadmin made for the domain that are in DNS now or about to be (not retired). */
  dkimKeys?: DkimProfileKey[];
}

export type DkimPublishedState = "PUBLISHED_PENDING" | "ACTIVE" | "RETIRING";

/** A DKIM key of mailadmin's as the records and the check see it. */
export interface DkimProfileKey {
  selector: string;
  publicKey: string;
  state: DkimPublishedState;
  /** Whole days since it started signing (ACTIVE), for dkim.age. */
  ageDays: number;
}

export const DKIM_STATE_PURPOSES: Record<DkimPublishedState, Message> = {
  PUBLISHED_PENDING: message("dns.purpose.dkim_pending"),
  ACTIVE: message("dns.purpose.dkim"),
  RETIRING: message("dns.purpose.dkim_retiring"),
};

export function dkimHost(selector: string, domain: string): string {
  return `${selector}._domainkey.${domain}`;
}

export type ExpectedRecordType = "A" | "AAAA" | "CNAME" | "MX" | "TXT";

export interface ExpectedRecord {
  /** Owner name, lower-case, without trailing dot. */
  name: string;
  type: ExpectedRecordType;
  ttl: number;
  preference: number | null;
  /** An address, a host name (without trailing dot) or a TXT text (unquoted). */
  value: string;
  /** What the record is for, in words for the customer (written in the reader's language). */
  purpose: Text;
  zoneLine: string;
}

export interface DomainHosts {
  apex: string;
  mailHost: string;
  webmailHost: string;
  www: string;
  backupMxHost: string | null;
  dkim: string;
  dmarc: string;
  mtaSts: string;
  mtaStsPolicyHost: string;
  tlsRpt: string;
}

export function applyHostPattern(pattern: string, domain: string): string {
  return pattern.replaceAll("{domain}", domain).toLowerCase().replace(/\.$/, "");
}

export function hostsOf(domain: string, service: MailService): DomainHosts {
  return {
    apex: domain,
    mailHost: applyHostPattern(service.mailHostPattern, domain),
    webmailHost: applyHostPattern(service.webmailHostPattern, domain),
    www: `www.${domain}`,
    backupMxHost: service.backupMxHost ? service.backupMxHost.toLowerCase().replace(/\.$/, "") : null,
    dkim: `${service.dkimSelector}._domainkey.${domain}`,
    dmarc: `_dmarc.${domain}`,
    mtaSts: `_mta-sts.${domain}`,
    mtaStsPolicyHost: `mta-sts.${domain}`,
    tlsRpt: `_smtp._tls.${domain}`,
  };
}

/** Whether the customer publishes this name (it lies in their zone) or the service does. */
export function isInDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

export function usesMx(setup: DnsSetup): boolean {
  return setup !== "A_ONLY";
}

export function usesWebServer(setup: DnsSetup): boolean {
  return setup === "MX_WEB" || setup === "MX_WEB_BACKUP";
}

export function usesBackupMx(setup: DnsSetup): boolean {
  return setup === "MX_WEB_BACKUP";
}

export function spfRecordFor(service: MailService): string {
  const authorize = service.spfInclude ? [`include:${service.spfInclude}`] : [`ip4:${service.ipv4}`, ...(service.ipv6 ? [`ip6:${service.ipv6}`] : [])];
  // ~all (soft fail) rather than -all: with DMARC at quarantine or reject the
  // receiver acts on the DMARC result anyway, and a forwarded message is not
  // rejected outright on SPF alone.
  return ["v=spf1", ...authorize, "~all"].join(" ");
}

export function dmarcRecordFor(service: MailService): string {
  return ["v=DMARC1", `p=${service.dmarcPolicy}`, ...(service.dmarcReportAddress ? [`rua=mailto:${service.dmarcReportAddress}`] : [])].join("; ");
}

/** Ed25519 keys (RFC 8463) are 32 raw bytes; anything else stored here is an RSA SubjectPublicKeyInfo. */
export function dkimKeyType(publicKey: string): "rsa" | "ed25519" {
  return Buffer.from(publicKey, "base64").length === 32 ? "ed25519" : "rsa";
}

export function dkimRecordFor(publicKey: string): string {
  return `v=DKIM1; k=${dkimKeyType(publicKey)}; p=${publicKey}`;
}

/** TXT data as zone-file text: quoted, in strings of at most 255 bytes (RFC 1035 §3.3.14). */
export function quoteTxt(text: string): string {
  const chunks: string[] = [];
  for (let index = 0; index < text.length; index += 255) chunks.push(text.slice(index, index + 255));
  return (chunks.length > 0 ? chunks : [""]).map((chunk) => `"${chunk.replace(/["\\]/g, (character) => `\\${character}`)}"`).join(" ");
}

export function zoneLine(record: Omit<ExpectedRecord, "zoneLine" | "purpose">): string {
  const rdata =
    record.type === "MX" ? `${record.preference} ${record.value}.` : record.type === "CNAME" ? `${record.value}.` : record.type === "TXT" ? quoteTxt(record.value) : record.value;
  return `${record.name}.\t${record.ttl}\tIN\t${record.type}\t${rdata}`;
}

function record(name: string, type: ExpectedRecordType, value: string, purpose: Text, preference: number | null = null): ExpectedRecord {
  const base = { name, type, ttl: RECORD_TTL, preference, value };
  return { ...base, purpose, zoneLine: zoneLine(base) };
}

/** A and (when the service has IPv6) AAAA records pointing a name at the mail server. */
function mailServerAddresses(name: string, service: MailService, purpose: Text): ExpectedRecord[] {
  return [record(name, "A", service.ipv4, purpose), ...(service.ipv6 ? [record(name, "AAAA", service.ipv6, purpose)] : [])];
}

/**
 * The records for a domain's set-up. Names outside the customer's domain
 * (a shared mail host, the backup MX host) are the service's to publish and
 * are not listed, only pointed at.
 */
export function expectedRecords(profile: DomainDnsProfile, service: MailService): ExpectedRecord[] {
  const hosts = hostsOf(profile.name, service);
  const { setup } = profile;
  const records: ExpectedRecord[] = [];
  if (setup === "A_ONLY") {
    records.push(...mailServerAddresses(hosts.apex, service, message("dns.purpose.a_only")));
  }
  if (usesWebServer(setup) && profile.webServerAddress) {
    const type = isIPv6(profile.webServerAddress) ? "AAAA" : "A";
    records.push(record(hosts.apex, type, profile.webServerAddress, message("dns.purpose.web_server")));
    records.push(record(hosts.www, "CNAME", hosts.apex, message("dns.purpose.www")));
  }
  if (usesMx(setup)) {
    if (isInDomain(hosts.mailHost, profile.name)) {
      records.push(...mailServerAddresses(hosts.mailHost, service, message("dns.purpose.mail_host")));
    }
    records.push(record(hosts.apex, "MX", hosts.mailHost, message("dns.purpose.mx"), PRIMARY_MX_PREFERENCE));
    if (usesBackupMx(setup) && hosts.backupMxHost) {
      records.push(record(hosts.apex, "MX", hosts.backupMxHost, message("dns.purpose.backup_mx"), BACKUP_MX_PREFERENCE));
    }
    if (isInDomain(hosts.webmailHost, profile.name)) {
      records.push(...mailServerAddresses(hosts.webmailHost, service, message("dns.purpose.webmail")));
    }
  }
  records.push(record(hosts.apex, "TXT", spfRecordFor(service), message("dns.purpose.spf")));
  if (profile.dkimKeys && profile.dkimKeys.length > 0) {
    for (const key of profile.dkimKeys) records.push(record(dkimHost(key.selector, profile.name), "TXT", dkimRecordFor(key.publicKey), DKIM_STATE_PURPOSES[key.state]));
  } else if (profile.dkimPublicKey) {
    records.push(record(hosts.dkim, "TXT", dkimRecordFor(profile.dkimPublicKey), message("dns.purpose.dkim")));
  }
  records.push(record(hosts.dmarc, "TXT", dmarcRecordFor(service), message("dns.purpose.dmarc")));
  return records;
}

export function zoneFile(records: ExpectedRecord[]): string {
  return records.map((entry) => entry.zoneLine).join("\n");
}
