// An independent DKIM verifier for the tests (RFC 6376 §3.4 and §6.1.3, RFC
// 8463 for ed25519-sha256): parses the DKIM-Signature headers of a message,
// canonicalises headers and body (simple or relaxed), fetches the key record
// through DNS (the test's NSD) and checks body hash and signature with
// node:crypto. Written from the RFCs, not from mailadmin's code, so that it
// proves what a receiver would see.
import { createHash, createPublicKey, verify } from "node:crypto";
import { createUdpTransport } from "../../src/dns/dns.transport";

export interface DkimVerdict {
  domain: string;
  selector: string;
  algorithm: string;
  result: "pass" | "fail";
  reason?: string;
}

function splitMessage(raw: string): { headers: string[]; body: string } {
  const text = raw.replace(/\r?\n/g, "\r\n");
  const end = text.indexOf("\r\n\r\n");
  const head = end >= 0 ? text.slice(0, end + 2) : text;
  const body = end >= 0 ? text.slice(end + 4) : "";
  const headers: string[] = [];
  for (const line of head.split("\r\n")) {
    if (line === "") continue;
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += `\r\n${line}`;
    else headers.push(line);
  }
  return { headers, body };
}

function tags(value: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of value.split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    map.set(part.slice(0, at).trim(), part.slice(at + 1).replace(/\s+/g, ""));
  }
  return map;
}

function canonicalHeader(header: string, relaxed: boolean): string {
  if (!relaxed) return `${header}\r\n`;
  const at = header.indexOf(":");
  const name = header.slice(0, at).trim().toLowerCase();
  const value = header
    .slice(at + 1)
    .replace(/\r\n/g, "")
    .replace(/[ \t]+/g, " ")
    .trim();
  return `${name}:${value}\r\n`;
}

function canonicalBody(body: string, relaxed: boolean, length?: number): string {
  let text = body;
  if (relaxed)
    text = text
      .split("\r\n")
      .map((line) => line.replace(/[ \t]+/g, " ").replace(/ $/, ""))
      .join("\r\n");
  text = text.replace(/(\r\n)*$/, "");
  text = text === "" ? (relaxed ? "" : "\r\n") : `${text}\r\n`;
  return length === undefined ? text : text.slice(0, length);
}

/** The p= key of selector._domainkey.domain, asked of the nameserver at `dns` (host:port). */
async function publishedKey(domain: string, selector: string, dns: { host: string; port: number }): Promise<Map<string, string>> {
  const answer = await createUdpTransport().query(dns, { name: `${selector}._domainkey.${domain}`, type: "TXT", recursionDesired: true }, 2000);
  // The transport joins a record's strings, as RFC 6376 §3.6.2.2 says a verifier does.
  const texts = answer.answers.flatMap((record) => (record.type === "TXT" ? [record.data] : []));
  if (texts.length !== 1) throw new Error(`${texts.length} TXT records at ${selector}._domainkey.${domain}`);
  return tags(texts[0]!);
}

export async function verifyDkim(raw: string, dns: { host: string; port: number }): Promise<DkimVerdict[]> {
  const { headers, body } = splitMessage(raw);
  const verdicts: DkimVerdict[] = [];
  for (const [index, header] of headers.entries()) {
    if (!/^dkim-signature:/i.test(header)) continue;
    const signature = tags(header.slice(header.indexOf(":") + 1));
    const domain = signature.get("d")!;
    const selector = signature.get("s")!;
    const algorithm = signature.get("a")!;
    const verdict = (result: "pass" | "fail", reason?: string): DkimVerdict => ({ domain, selector, algorithm, result, ...(reason ? { reason } : {}) });
    const [headerCanon, bodyCanon = "simple"] = (signature.get("c") ?? "simple/simple").split("/");
    const bodyHash = createHash("sha256")
      .update(canonicalBody(body, bodyCanon === "relaxed", signature.has("l") ? Number(signature.get("l")) : undefined))
      .digest("base64");
    if (bodyHash !== signature.get("bh")) {
      verdicts.push(verdict("fail", "body hash"));
      continue;
    }
    // Signed headers, each taken from the bottom up (RFC 6376 §5.4.2); a name listed more often than present signs "nothing".
    const used = new Set<number>();
    let signed = "";
    for (const name of signature.get("h")!.split(":")) {
      for (let at = headers.length - 1; at >= 0; at--) {
        if (used.has(at) || at === index) continue;
        if (headers[at]!.slice(0, headers[at]!.indexOf(":")).trim().toLowerCase() === name.toLowerCase()) {
          used.add(at);
          signed += canonicalHeader(headers[at]!, headerCanon === "relaxed");
          break;
        }
      }
    }
    // The signature header itself, with b= emptied, without its final CRLF.
    const own = canonicalHeader(header.replace(/(\bb=)[^;]*/, "$1"), headerCanon === "relaxed").replace(/\r\n$/, "");
    const data = Buffer.from(signed + own);
    const key = await publishedKey(domain, selector, dns);
    const p = key.get("p")!;
    const b = Buffer.from(signature.get("b")!, "base64");
    let ok: boolean;
    if (algorithm === "rsa-sha256") {
      ok = verify("sha256", data, createPublicKey({ key: Buffer.from(p, "base64"), format: "der", type: "spki" }), b);
    } else if (algorithm === "ed25519-sha256") {
      // RFC 8463: Ed25519 over the SHA-256 of the canonicalised data.
      const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(p, "base64")]);
      ok = verify(null, createHash("sha256").update(data).digest(), createPublicKey({ key: spki, format: "der", type: "spki" }), b);
    } else {
      verdicts.push(verdict("fail", `algorithm ${algorithm}`));
      continue;
    }
    verdicts.push(ok ? verdict("pass") : verdict("fail", "signature"));
  }
  return verdicts;
}
