// TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps) through the otpauth
// library, and the sealing of secrets at rest. A code is accepted for the
// current step and the ones just before and after (clock drift of a phone);
// the caller refuses a step at or before the last one accepted, so a code
// never works twice. Secrets are stored encrypted (AES-256-GCM, key derived
// from JWT_SECRET with HKDF), never logged, never shown after enrolment.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import QRCode from "qrcode";

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of the current one. */
export const TOTP_WINDOW = 1;

function totpOf(secretBase32: string, issuer = "mailadmin", label = "mailadmin"): TOTP {
  return new TOTP({ issuer, label, algorithm: "SHA1", digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });
}

/** A new random secret (160 bits, RFC 4226's recommendation), in base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The time step of an instant. */
export function totpStepAt(at: Date): number {
  return Math.floor(at.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/** The step a code belongs to (current ± TOTP_WINDOW), or null when it matches none. */
export function matchingTotpStep(secretBase32: string, code: string, at: Date): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpOf(secretBase32).validate({ token: code, timestamp: at.getTime(), window: TOTP_WINDOW });
  return delta === null ? null : totpStepAt(at) + delta;
}

/** The otpauth:// URI and its QR code (a data: URL of a PNG). */
export async function totpProvisioning(secretBase32: string, issuer: string, label: string): Promise<{ otpauthUri: string; qrCodeDataUrl: string }> {
  const otpauthUri = totpOf(secretBase32, issuer, label).toString();
  return { otpauthUri, qrCodeDataUrl: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: "M" }) };
}

function sealingKey(jwtSecret: string): Buffer {
  return Buffer.from(hkdfSync("sha256", jwtSecret, "mailadmin", "totp-secret-sealing-v1", 32));
}

/** v1.<iv>.<tag>.<ciphertext>, base64url. */
export function sealSecret(secretBase32: string, jwtSecret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealingKey(jwtSecret), iv);
  const sealed = Buffer.concat([cipher.update(secretBase32, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), sealed.toString("base64url")].join(".");
}

/** The secret, or null when it cannot be opened (JWT_SECRET changed since enrolment). */
export function openSecret(sealed: string, jwtSecret: string): string | null {
  const [version, iv, tag, data] = sealed.split(".");
  if (version !== "v1" || !iv || !tag || !data) return null;
  try {
    const decipher = createDecipheriv("aes-256-gcm", sealingKey(jwtSecret), Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    return null;
  }
}

const RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

/** Ten recovery codes of 12 characters (about 59 bits each) as xxxx-xxxx-xxxx. */
export function newRecoveryCodes(count = 10): string[] {
  return Array.from({ length: count }, () => {
    const characters = Array.from(randomBytes(12), (byte) => RECOVERY_ALPHABET[byte % RECOVERY_ALPHABET.length]).join("");
    return `${characters.slice(0, 4)}-${characters.slice(4, 8)}-${characters.slice(8)}`;
  });
}

/** A recovery code as typed (any case, with or without dashes or spaces) in its stored form, or null when it cannot be one. */
export function normaliseRecoveryCode(input: string): string | null {
  const compact = input.toLowerCase().replace(/[\s-]/g, "");
  if (compact.length !== 12 || [...compact].some((character) => !RECOVERY_ALPHABET.includes(character))) return null;
  return compact;
}

/** What is stored of a recovery code (its SHA-256: the codes are random, so a fast hash is enough). */
export function hashRecoveryCode(normalised: string): string {
  return createHash("sha256").update(`mailadmin-recovery:${normalised}`).digest("hex");
}
