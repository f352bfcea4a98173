// DKIM key pairs: made with node:crypto, the private half kept encrypted at
// rest with AES-256-GCM under DKIM_KEY_ENCRYPTION_KEY (outside production, a
// key made once and kept in DATA_DIR, as the development JWT secret is). The
// plaintext private key exists only in memory while the signer's files are
// written (npm run mailserver:dkim); it is never logged, audited or answered.
import { createCipheriv, createDecipheriv, createHash, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Config } from "../config";
import { parseEncryptionKey } from "../shared/encryption-key";

export { parseEncryptionKey };

const generateKeyPairAsync = promisify(generateKeyPair);

export type DkimAlgorithm = "RSA_SHA256" | "ED25519_SHA256";

export interface DkimKeyPair {
  algorithm: DkimAlgorithm;
  /** The p= value of the DKIM record. */
  publicKey: string;
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

/** The p= value of a public key: base64 of the RSA SubjectPublicKeyInfo, or of the 32 raw Ed25519 bytes (RFC 8463 §4.2). */
export function dkimPublicValue(key: KeyObject): string {
  const der = key.export({ format: "der", type: "spki" });
  // An Ed25519 SubjectPublicKeyInfo is a 12-byte header and the 32 key bytes.
  return (key.asymmetricKeyType === "ed25519" ? der.subarray(der.length - 32) : der).toString("base64");
}

/** A new key pair, made off the event loop (an RSA 2048 key takes a few hundred milliseconds of CPU). */
export async function generateDkimKeyPair(algorithm: DkimAlgorithm, rsaBits: number): Promise<DkimKeyPair> {
  const pair = algorithm === "RSA_SHA256" ? await generateKeyPairAsync("rsa", { modulusLength: rsaBits, publicExponent: 0x10001 }) : await generateKeyPairAsync("ed25519");
  return {
    algorithm,
    publicKey: dkimPublicValue(pair.publicKey),
    privateKeyPem: pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
  };
}

/** The public half of a stored private key, as published: used to check that a decrypted key is the one on file. */
export function publicValueOfPrivate(privateKeyPem: string): string {
  return dkimPublicValue(createPublicKey(privateKeyPem));
}

export const DEVELOPMENT_DKIM_KEY_FILE = "dkim-key-encryption-key";

const developmentKeys = new Map<string, Buffer>();

/**
 * The key encrypting DKIM private keys: DKIM_KEY_ENCRYPTION_KEY, or outside
 * production one made on first use and kept in DATA_DIR (mode 0600), so that
 * the keys of a developer's database stay readable across restarts.
 */
export function dkimEncryptionKey(config: Pick<Config, "DKIM_KEY_ENCRYPTION_KEY" | "DATA_DIR" | "NODE_ENV">): Buffer {
  if (config.DKIM_KEY_ENCRYPTION_KEY) return config.DKIM_KEY_ENCRYPTION_KEY;
  if (config.NODE_ENV === "production") throw new Error("DKIM_KEY_ENCRYPTION_KEY is required when NODE_ENV=production");
  const path = resolve(join(config.DATA_DIR, DEVELOPMENT_DKIM_KEY_FILE));
  const known = developmentKeys.get(path);
  if (known) return known;
  mkdirSync(config.DATA_DIR, { recursive: true });
  try {
    // "wx": only the first writer makes it, even if two processes start at once.
    writeFileSync(path, `${randomBytes(32).toString("base64")}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const key = parseEncryptionKey(readFileSync(path, "utf8"));
  if (!key) throw new Error(`${path} holds no usable DKIM key-encryption key (32 bytes in base64): restore it, or set DKIM_KEY_ENCRYPTION_KEY.`);
  developmentKeys.set(path, key);
  return key;
}

/** A short, public name of an encryption key, stored with each ciphertext so that a wrong key is named, not guessed at. */
export function encryptionKeyId(key: Buffer): string {
  return createHash("sha256").update("mailadmin dkim key id").update(key).digest("hex").slice(0, 8);
}

function associatedData(domainId: string, selector: string): Buffer {
  return Buffer.from(`mailadmin-dkim:${domainId}:${selector}`);
}

/** v1.<key id>.<base64 of 12-byte IV, 16-byte tag, ciphertext>; bound to the domain and selector. */
export function encryptPrivateKey(key: Buffer, domainId: string, selector: string, privateKeyPem: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(associatedData(domainId, selector));
  const ciphertext = Buffer.concat([cipher.update(privateKeyPem, "utf8"), cipher.final()]);
  return `v1.${encryptionKeyId(key)}.${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString("base64")}`;
}

export class DkimDecryptionError extends Error {}

export function decryptPrivateKey(key: Buffer, domainId: string, selector: string, stored: string): string {
  const [version, keyId, body] = stored.split(".");
  if (version !== "v1" || !keyId || !body) throw new DkimDecryptionError(`the private key of selector ${selector} is not in a format this version reads`);
  if (keyId !== encryptionKeyId(key)) {
    throw new DkimDecryptionError(
      `the private key of selector ${selector} was encrypted with another DKIM_KEY_ENCRYPTION_KEY (key id ${keyId}; the configured one is ${encryptionKeyId(key)})`,
    );
  }
  const bytes = Buffer.from(body, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, 12));
  decipher.setAAD(associatedData(domainId, selector));
  decipher.setAuthTag(bytes.subarray(12, 28));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    throw new DkimDecryptionError(`the private key of selector ${selector} does not decrypt: it was altered, or belongs to another domain or selector`);
  }
}
