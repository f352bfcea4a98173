// The support test domain's inbound test (docs/test-domain.md): the messages a
// customer's server delivered into a test mailbox, read from the mailbox's
// Maildir in the mail store (MAIL_STORE_DIR/<domain>/<local part>/Maildir),
// each with its sender, time, size, the SMTP client Postfix's Received header
// names, and its SPF, DKIM and DMARC results as the mail server recorded them
// when the message arrived: the Authentication-Results header the
// authentication milter (src/mailstack/auth-milter.ts) adds under
// MAIL_SERVER_HOSTNAME. Nothing is checked again when the message is listed.
import { readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import iconv from "iconv-lite";
import type { Config } from "../config";
import { authservIdOf } from "../mailstack/auth-milter";

export type MailAuthResultName = "PASS" | "FAIL" | "SOFTFAIL" | "NEUTRAL" | "NONE" | "TEMPERROR" | "PERMERROR" | "POLICY";

export interface MailAuthCheckView {
  result: MailAuthResultName;
  domain: string | null;
  details: string;
}

export interface ReceivedTestMessageView {
  id: string;
  sender: string | null;
  from: string | null;
  subject: string;
  messageId: string | null;
  receivedAt: Date;
  sizeBytes: number;
  client: { helo: string | null; name: string; address: string; tls: boolean; tlsDetails: string | null } | null;
  authentication: { spf: MailAuthCheckView; dkim: MailAuthCheckView; dmarc: MailAuthCheckView; header: string; recordedBy: string | null };
}

/** One message file of a Maildir: its unique part (the id), where it is, when it was delivered. */
export interface MaildirEntry {
  id: string;
  path: string;
  deliveredAt: Date;
  sizeBytes: number | null;
}

export function maildirOf(config: Pick<Config, "MAIL_STORE_DIR">, domainName: string, localPart: string): string {
  return join(config.MAIL_STORE_DIR, domainName, localPart, "Maildir");
}

/** The messages of a Maildir's INBOX (new/ and cur/), newest first; an absent Maildir (nothing delivered yet) is empty. */
export async function listMaildir(maildir: string): Promise<MaildirEntry[]> {
  const entries: MaildirEntry[] = [];
  for (const folder of ["new", "cur"]) {
    let names: string[];
    try {
      names = await readdir(join(maildir, folder));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw error;
    }
    for (const name of names) {
      if (name.startsWith(".")) continue;
      const id = name.split(":")[0]!;
      // Dovecot's names: <seconds>.M<micros>P<pid>.<host>,S=<size>,W=<vsize>[:2,<flags>]
      const seconds = Number(/^(\d+)\./.exec(id)?.[1]);
      const size = Number(/,S=(\d+)/.exec(id)?.[1]);
      const path = join(maildir, folder, name);
      const deliveredAt = Number.isFinite(seconds) ? new Date(seconds * 1000) : (await stat(path)).mtime;
      entries.push({ id, path, deliveredAt, sizeBytes: Number.isFinite(size) ? size : null });
    }
  }
  return entries.sort((a, b) => b.deliveredAt.getTime() - a.deliveredAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Deletes every message file of a Maildir's INBOX; answers how many. Dovecot notices on its next look (the folder changed). */
export async function emptyMaildir(maildir: string): Promise<number> {
  const entries = await listMaildir(maildir);
  for (const entry of entries) await unlink(entry.path).catch((error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? undefined : Promise.reject(error)));
  return entries.length;
}

/** The header block of a message, unfolded: [name in lower case, value][] in order. */
export function parseHeaders(raw: Buffer): [string, string][] {
  const text = raw.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  const block = (end >= 0 ? text.slice(0, end) : text).replace(/\r?\n[ \t]+/g, " ");
  const headers: [string, string][] = [];
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon).trim().toLowerCase(), Buffer.from(line.slice(colon + 1).trim(), "latin1").toString("utf8")]);
  }
  return headers;
}

/** RFC 2047 encoded words (=?charset?B|Q?...?=) decoded. */
export function decodeWords(value: string): string {
  return value.replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=(\s+(?==\?))?/g, (_all, charset: string, encoding: string, text: string) => {
    const bytes =
      encoding.toUpperCase() === "B"
        ? Buffer.from(text, "base64")
        : Buffer.from(
            text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            "latin1",
          );
    const name = charset.replace(/\*.*$/, "");
    return iconv.encodingExists(name) ? iconv.decode(bytes, name) : bytes.toString("utf8");
  });
}

/**
 * The SMTP client from the Received header Postfix's smtpd added: the first
 * Received header that is not Dovecot's LMTP one, "from <helo> (<name>
 * [<address>]) by <host> (Postfix) with ESMTP[S] id ...". Null for mail
 * Postfix wrote itself (a bounce: "Received: by ...").
 */
export function smtpClientOf(headers: [string, string][]): ReceivedTestMessageView["client"] {
  const received = headers.filter(([name]) => name === "received").map(([, value]) => value);
  const ours = received.find((value) => !/\bwith LMTPS?A?\b/i.test(value));
  if (!ours) return null;
  const match = /^from\s+(\S+)\s+\((?:([^\s[()]+)\s+)?\[([0-9A-Fa-f.:]+)\]\)/i.exec(ours);
  if (!match) return null;
  const tlsDetails = /\(using\s+(TLS[^()]*(?:\([^()]*\)[^()]*)*)\)/i.exec(ours)?.[1]?.trim() ?? null;
  const address = match[3]!.replace(/^IPv6:/i, "");
  return { helo: match[1] ?? null, name: match[2] ?? "unknown", address, tls: tlsDetails !== null || /\bwith E?SMTPS/i.test(ours), tlsDetails };
}

function resultName(result: string | undefined): MailAuthResultName {
  switch ((result ?? "none").toLowerCase()) {
    case "pass":
      return "PASS";
    case "fail":
      return "FAIL";
    case "softfail":
      return "SOFTFAIL";
    case "neutral":
      return "NEUTRAL";
    case "temperror":
    case "temperr":
      return "TEMPERROR";
    case "permerror":
      return "PERMERROR";
    case "policy":
      return "POLICY";
    default:
      return "NONE";
  }
}

/** The resinfo parts of an Authentication-Results value (after the authserv-id), split at the ';' outside comments and quotes. */
function resinfoParts(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = "";
  for (const character of value) {
    if (character === '"' && depth === 0) quoted = !quoted;
    else if (!quoted && character === "(") depth++;
    else if (!quoted && character === ")" && depth > 0) depth--;
    if (character === ";" && depth === 0 && !quoted) {
      parts.push(current.trim());
      current = "";
    } else current += character;
  }
  parts.push(current.trim());
  return parts.filter((part) => part !== "");
}

/** One method's result of an Authentication-Results header: "spf=pass (comment) smtp.mailfrom=a@b.example". */
function checkOf(part: string): { method: string; result: MailAuthResultName; properties: Map<string, string> } {
  const method = /^([a-z0-9-]+)\s*=\s*([a-z]+)/i.exec(part);
  const properties = new Map<string, string>();
  // Properties outside comments: ptype.property=value
  for (const match of part.replace(/\([^()]*\)/g, " ").matchAll(/([a-z]+\.[a-z0-9-]+)=("[^"]*"|\S+)/gi)) properties.set(match[1]!.toLowerCase(), match[2]!.replace(/^"|"$/g, ""));
  return { method: (method?.[1] ?? "").toLowerCase(), result: resultName(method?.[2]), properties };
}

const domainOfAddress = (value: string | undefined) => (value ? (value.includes("@") ? value.slice(value.lastIndexOf("@") + 1) : value).toLowerCase() || null : null);

/**
 * The SPF, DKIM and DMARC results the mail server recorded when the message
 * arrived: the topmost Authentication-Results header whose authserv-id is
 * this service's mail server (MAIL_SERVER_HOSTNAME), written by the
 * authentication milter (src/mailstack/auth-milter.ts), which deletes any
 * header under that name the message came with. A message without one (it
 * arrived before the milter ran, or it came from inside) has NONE everywhere
 * and recordedBy null: nothing is checked afterwards.
 */
export function recordedAuthentication(headers: [string, string][], authservId: string): ReceivedTestMessageView["authentication"] {
  const ownId = authservId.toLowerCase();
  const recorded = headers.find(([name, value]) => name === "authentication-results" && authservIdOf(value) === ownId)?.[1];
  const missing = (method: string): MailAuthCheckView => ({ result: "NONE", domain: null, details: `${method}=none (no result recorded by ${authservId} at receipt)` });
  if (recorded === undefined) return { spf: missing("spf"), dkim: missing("dkim"), dmarc: missing("dmarc"), header: "", recordedBy: null };
  const checks = resinfoParts(recorded)
    .slice(1)
    .map((part) => ({ part, ...checkOf(part) }));
  const of = (method: string) => checks.filter((check) => check.method === method);
  const spfCheck = of("spf")[0];
  const spf: MailAuthCheckView = spfCheck
    ? { result: spfCheck.result, domain: domainOfAddress(spfCheck.properties.get("smtp.mailfrom") ?? spfCheck.properties.get("smtp.helo")), details: spfCheck.part }
    : missing("spf");
  const signatures = of("dkim");
  const dkimCheck = signatures.find((check) => check.result === "PASS") ?? signatures[0];
  const dkim: MailAuthCheckView = dkimCheck
    ? {
        result: dkimCheck.result,
        domain: dkimCheck.properties.get("header.d")?.toLowerCase() ?? domainOfAddress(dkimCheck.properties.get("header.i")),
        details: dkimCheck.part,
      }
    : missing("dkim");
  const dmarcCheck = of("dmarc")[0];
  const dmarc: MailAuthCheckView = dmarcCheck
    ? { result: dmarcCheck.result, domain: dmarcCheck.properties.get("header.from")?.toLowerCase() ?? null, details: dmarcCheck.part }
    : missing("dmarc");
  return { spf, dkim, dmarc, header: `Authentication-Results: ${recorded}`, recordedBy: authservIdOf(recorded) };
}

/** Reads one message file with the results the mail server (MAIL_SERVER_HOSTNAME) recorded at receipt. */
export async function readReceivedMessage(entry: MaildirEntry, config: Pick<Config, "MAIL_SERVER_HOSTNAME">): Promise<ReceivedTestMessageView> {
  const raw = await readFile(entry.path);
  const headers = parseHeaders(raw);
  const header = (name: string) => headers.find(([key]) => key === name)?.[1];
  const returnPath = header("return-path");
  const sender = returnPath === undefined ? null : returnPath.replace(/^<|>$/g, "").trim() || null;
  return {
    id: entry.id,
    sender,
    from: header("from") === undefined ? null : decodeWords(header("from")!),
    subject: decodeWords(header("subject") ?? ""),
    messageId: header("message-id")?.replace(/^<|>$/g, "") ?? null,
    receivedAt: entry.deliveredAt,
    sizeBytes: entry.sizeBytes ?? raw.length,
    client: smtpClientOf(headers),
    authentication: recordedAuthentication(headers, config.MAIL_SERVER_HOSTNAME ?? "mailadmin.invalid"),
  };
}
