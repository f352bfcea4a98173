// Reading a 32-byte key from a setting: shared by the configuration (which
// validates DKIM_KEY_ENCRYPTION_KEY at start) and the DKIM key store.
/** DKIM_KEY_ENCRYPTION_KEY as 32 bytes: base64 (44 characters) or hex (64). Undefined when it is neither. */
export function parseEncryptionKey(text: string): Buffer | undefined {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}
