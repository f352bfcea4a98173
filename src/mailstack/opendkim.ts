// The signer's files: OpenDKIM (Debian's opendkim) reads a KeyTable, a
// SigningTable and one private key file per selector. mailadmin writes them
// from its decrypted signing keys (dkim.service.ts signingKeys): the database
// holds the private keys encrypted under DKIM_KEY_ENCRYPTION_KEY, which the
// mail servers' login never has, so the signer cannot read them from a view.
// `npm run mailserver:dkim -- --out DIR` writes them for a Debian host; the
// development stack (stack.ts) writes the same text at `up` and on refresh.
import type { SigningKey } from "../dkim/dkim.service";
import type { GeneratedFile } from "./config";

export interface OpenDkimOptions {
  /** Where KeyTable, SigningTable and keys/ live on the signer's host. */
  dir: string;
  /** OpenDKIM's milter socket, e.g. inet:8891@127.0.0.1 (Postfix: inet:127.0.0.1:8891). */
  socket: string;
  /** The user OpenDKIM drops to (Debian's package makes "opendkim"). */
  userId: string;
  /** Its pid file; unset on a Debian host (the service's own). */
  pidFile?: string;
  /** Hosts whose mail is signed without authentication, besides authenticated submission (default 127.0.0.1). */
  internalHosts?: string[];
  /**
   * OpenDKIM refuses keys whose file or any folder above it others may write
   * (RequireSafeKeys, on by default). The development stack turns it off: its
   * folder may sit under /tmp, which everyone may write.
   */
  requireSafeKeys?: boolean;
}

/** A key file's path relative to the signer's folder. */
export function keyFilePath(key: Pick<SigningKey, "domain" | "selector">): string {
  return `keys/${key.domain}/${key.selector}.private`;
}

/**
 * KeyTable: one key per line, named <selector>._domainkey.<domain>, as
 * <domain>:<selector>:<file>. SigningTable (refile, wildcards): every address
 * of the domain signs with each of its ACTIVE keys (RSA, and Ed25519 when it
 * has one: MultipleSignatures).
 */
export function openDkimTables(keys: SigningKey[], dir: string): { keyTable: string; signingTable: string } {
  const name = (key: SigningKey) => `${key.selector}._domainkey.${key.domain}`;
  return {
    keyTable: keys.map((key) => `${name(key)} ${key.domain}:${key.selector}:${dir}/${keyFilePath(key)}\n`).join(""),
    signingTable: keys.map((key) => `*@${key.domain} ${name(key)}\n`).join(""),
  };
}

export function openDkimConf(options: OpenDkimOptions): string {
  return [
    "# OpenDKIM signing for mailadmin's domains (docs/dkim.md). Written by mailadmin.",
    "Mode s",
    `Socket ${options.socket}`,
    `UserID ${options.userId}`,
    ...(options.pidFile ? [`PidFile ${options.pidFile}`] : []),
    "Syslog yes",
    "SyslogSuccess yes",
    "LogWhy yes",
    "Canonicalization relaxed/relaxed",
    // Mail of authenticated users (submission) is signed; so is mail from these hosts.
    `InternalHosts ${(options.internalHosts ?? ["127.0.0.1"]).join(",")}`,
    `KeyTable file:${options.dir}/KeyTable`,
    `SigningTable refile:${options.dir}/SigningTable`,
    "MultipleSignatures yes",
    ...(options.requireSafeKeys === false ? ["RequireSafeKeys no"] : []),
    // A second From added on the way would not verify.
    "OversignHeaders From",
    "",
  ].join("\n");
}

/**
 * The keys OpenDKIM signs with: the RSA ones. Debian 12's OpenDKIM 2.11 lists
 * ed25519-sha256 but answered every message signed with an Ed25519 key
 * 451 4.7.0 in the end-to-end test (PKCS#8 PEM and raw key alike), which would
 * hold back all of the domain's mail; Ed25519 keys stay published (RFC 8463
 * verifiers find them) until a signer that uses them is wired in (docs/dkim.md).
 */
export function openDkimSigningKeys(keys: SigningKey[]): SigningKey[] {
  return keys.filter((key) => key.algorithm === "RSA_SHA256");
}

/** The signer's files; key files are secrets (the signer's user only). */
export function openDkimFiles(keys: SigningKey[], options: OpenDkimOptions): GeneratedFile[] {
  const signed = openDkimSigningKeys(keys);
  const tables = openDkimTables(signed, options.dir);
  return [
    { path: "opendkim.conf", content: openDkimConf(options), secret: false },
    { path: "KeyTable", content: tables.keyTable, secret: false },
    { path: "SigningTable", content: tables.signingTable, secret: false },
    ...signed.map((key) => ({ path: keyFilePath(key), content: key.privateKeyPem, secret: true })),
  ];
}

/** Postfix's main.cf lines that pass mail through the signer. */
export function postfixMilterSettings(milter: string): string[] {
  return [
    `smtpd_milters = ${milter}`,
    "non_smtpd_milters = $smtpd_milters",
    // A signer that is down must not stop mail: it leaves unsigned instead.
    "milter_default_action = accept",
    "milter_protocol = 6",
  ];
}
