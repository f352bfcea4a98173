// Input rules for a domain's DNS fields (createDomain, updateDomain, what-if
// checks): each returns the normalised value or throws BadInputError naming
// the field.
import { createPublicKey } from "node:crypto";
import ipaddr from "ipaddr.js";
import { BadInputError } from "../errors";
import { message } from "../i18n/messages";
import type { Config } from "../config";
import { SETUP_LABELS, usesBackupMx, usesWebServer, type DnsSetup } from "./dns.records";

/** Ranges no public web server can be in. */
const UNUSABLE_RANGES = new Set(["unspecified", "loopback", "multicast", "broadcast", "linkLocal"]);

export function parseWebServerAddress(input: string, field = "webServerAddress"): string {
  const value = input.trim();
  const looksValid = value.length <= 64 && (ipaddr.IPv4.isValidFourPartDecimal(value) || ipaddr.IPv6.isValid(value));
  if (!looksValid) {
    throw new BadInputError(field, message("dns.input.web_address", { input: value.slice(0, 64) }));
  }
  // An IPv4-mapped IPv6 address (::ffff:192.0.2.80) is the IPv4 address.
  const address = ipaddr.process(value);
  if (UNUSABLE_RANGES.has(address.range())) {
    throw new BadInputError(field, message("dns.input.web_unreachable", { input: value, range: address.range() }));
  }
  return address.toString();
}

/** Largest DKIM key accepted: an RSA 8192-bit SubjectPublicKeyInfo is about 1.4 kB of base64. */
const MAX_DKIM_KEY_LENGTH = 2048;

/**
 * A DKIM public key as published in p= (RFC 6376 §3.6.1): the base64 of an RSA
 * SubjectPublicKeyInfo, or of the 32 raw bytes of an Ed25519 key (RFC 8463).
 * PEM armour and whitespace are accepted and removed; an Ed25519 key given as
 * SubjectPublicKeyInfo is reduced to its raw bytes, as DKIM wants.
 */
export function parseDkimPublicKey(input: string, field = "dkimPublicKey"): string {
  const compact = input.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  if (compact.length === 0 || compact.length > MAX_DKIM_KEY_LENGTH || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new BadInputError(field, message("dns.input.dkim_base64"));
  }
  const bytes = Buffer.from(compact, "base64");
  if (bytes.length === 32) return bytes.toString("base64");
  let key;
  try {
    key = createPublicKey({ key: bytes, format: "der", type: "spki" });
  } catch {
    throw new BadInputError(field, message("dns.input.dkim_not_key"));
  }
  if (key.asymmetricKeyType === "ed25519") {
    return Buffer.from(key.export({ format: "jwk" }).x!, "base64url").toString("base64");
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new BadInputError(field, message("dns.input.dkim_key_type", { type: String(key.asymmetricKeyType) }));
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  // RFC 8301 §3.2: verifiers must not accept RSA keys below 1024 bits.
  if (bits < 1024) throw new BadInputError(field, message("dns.input.dkim_short", { bits: String(bits) }));
  return bytes.toString("base64");
}

/**
 * The rules that tie a set-up to the data it needs: a web server address for
 * 丙 and 丁, a configured backup MX host for 丁.
 */
export function checkSetupRequirements(
  config: Pick<Config, "BACKUP_MX_HOST">,
  setup: DnsSetup,
  webServerAddress: string | null,
  fields: { setup: string; webServerAddress: string },
  rules: { backupMxHost: boolean } = { backupMxHost: true },
): void {
  if (usesWebServer(setup) && !webServerAddress) {
    throw new BadInputError(fields.webServerAddress, message("dns.input.setup_needs_web", { setup: SETUP_LABELS[setup] }));
  }
  if (rules.backupMxHost && usesBackupMx(setup) && !config.BACKUP_MX_HOST) {
    throw new BadInputError(fields.setup, message("dns.input.setup_needs_backup", { setup: SETUP_LABELS[setup] }));
  }
}
