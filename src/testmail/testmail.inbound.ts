// The support test domain's inbound test (docs/test-domain.md): the messages a
// customer's server delivered into a test mailbox, read from the mailbox's
// Maildir in the mail store (MAIL_STORE_DIR/<domain>/<local part>/Maildir),
// each with its sender, time, size, the SMTP client Postfix's Received header
// names, and its SPF, DKIM and DMARC results. The mail stack has no verifying
// milter, so mailadmin checks them itself with mailauth (the library of
// Nodemailer's author, used by WildDuck and Forward Email) when it lists the
// message: DKIM and DMARC from the message as stored, SPF for the client
// address and envelope sender Postfix recorded, all against DNS as it is at
// the time of reading (DNS_SERVERS).
import { Resolver } from "node:dns/promises";
import { readdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import iconv from "iconv-lite";
import { authenticate, type AuthenticateResult } from "mailauth";
import type { Config } from "../config";
import { resolversOf } from "../dns/dns.service";

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
  authentication: { spf: MailAuthCheckView; dkim: MailAuthCheckView; dmarc: MailAuthCheckView; header: string };
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

/** mailauth's DNS lookups through DNS_SERVERS, as the DNS checks ask them. */
export function mailAuthResolver(config: Config): (name: string, type: string) => Promise<string[] | string[][]> {
  const resolver = new Resolver({ timeout: config.DNS_QUERY_TIMEOUT_MS, tries: config.DNS_QUERY_ATTEMPTS });
  resolver.setServers(resolversOf(config).map((server) => (server.host.includes(":") ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`)));
  return (name, type) => resolver.resolve(name, type) as Promise<string[] | string[][]>;
}

/** SPF, DKIM and DMARC of one message, mailauth's answer mapped to the API's words. */
export function authenticationOf(result: AuthenticateResult): ReceivedTestMessageView["authentication"] {
  const spf: MailAuthCheckView = result.spf
    ? { result: resultName(result.spf.status.result), domain: result.spf.domain || null, details: result.spf.info || result.spf.header }
    : { result: "NONE", domain: null, details: "spf=none (no SMTP client to check: the message did not come in over SMTP)" };
  const signatures = result.dkim.results;
  const chosen = signatures.find((signature) => signature.status.result === "pass") ?? signatures[0];
  const dkim: MailAuthCheckView = chosen
    ? { result: resultName(chosen.status.result), domain: chosen.signingDomain || null, details: (chosen as { info?: string }).info ?? `dkim=${chosen.status.result}` }
    : { result: "NONE", domain: null, details: "dkim=none (message not signed)" };
  const dmarc: MailAuthCheckView = result.dmarc
    ? { result: resultName(result.dmarc.status.result), domain: result.dmarc.domain || null, details: result.dmarc.info }
    : { result: "NONE", domain: null, details: "dmarc=none" };
  return { spf, dkim, dmarc, header: result.headers.trim() };
}

/** Reads one message file and checks it; `mta` is the name in Authentication-Results (the mail server's hostname). */
export async function readReceivedMessage(entry: MaildirEntry, config: Config): Promise<ReceivedTestMessageView> {
  const raw = await readFile(entry.path);
  const headers = parseHeaders(raw);
  const header = (name: string) => headers.find(([key]) => key === name)?.[1];
  const returnPath = header("return-path");
  const sender = returnPath === undefined ? null : returnPath.replace(/^<|>$/g, "").trim() || null;
  const client = smtpClientOf(headers);
  const result = await authenticate(raw, {
    ip: client?.address,
    helo: client?.helo ?? undefined,
    sender: sender ?? "",
    mta: config.MAIL_SERVER_HOSTNAME ?? "mailadmin.invalid",
    resolver: mailAuthResolver(config),
    disableArc: true,
    disableBimi: true,
  });
  return {
    id: entry.id,
    sender,
    from: header("from") === undefined ? null : decodeWords(header("from")!),
    subject: decodeWords(header("subject") ?? ""),
    messageId: header("message-id")?.replace(/^<|>$/g, "") ?? null,
    receivedAt: entry.deliveredAt,
    sizeBytes: entry.sizeBytes ?? raw.length,
    client,
    authentication: authenticationOf(result),
  };
}
