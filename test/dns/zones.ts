// Zone contents for the DNS tests, written by hand from the domain notes
// (section 3), not derived from the validator's own expected records: a test
// of the validator against its own output would prove nothing.
import { generateKeyPairSync } from "node:crypto";
import { TEST_SERVICE } from "../helpers/dns-world";

export type Setup = "A_ONLY" | "MX" | "MX_WEB" | "MX_WEB_BACKUP";

/** A DKIM key pair's public half, as DKIM publishes it (base64 SubjectPublicKeyInfo). */
export function newDkimKey(): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return publicKey.export({ format: "der", type: "spki" }).toString("base64");
}

/** TXT data in zone-file syntax: strings of at most 255 characters. */
export function txt(text: string): string {
  const chunks: string[] = [];
  for (let index = 0; index < text.length; index += 255) chunks.push(`"${text.slice(index, index + 255)}"`);
  return chunks.join(" ");
}

/** The zone of a customer's domain, part by part, so a mistake replaces one part. */
export interface ZoneParts {
  apex: string[];
  mx: string[];
  mailHost: string[];
  webmail: string[];
  www: string[];
  spf: string[];
  dkim: string[];
  dmarc: string[];
  extra: string[];
}

const MAIL = TEST_SERVICE.ipv4;
const MAIL6 = TEST_SERVICE.ipv6;

/** The records each set-up needs, as support tells customers. $ORIGIN is the domain. */
export function rightParts(setup: Setup, options: { web?: string; dkimKey?: string } = {}): ZoneParts {
  const web = options.web ?? "192.0.2.80";
  const withMx = setup !== "A_ONLY";
  const withWeb = setup === "MX_WEB" || setup === "MX_WEB_BACKUP";
  return {
    // 甲: the domain's own address is the mail server; 丙/丁: the customer's web server.
    apex: setup === "A_ONLY" ? [`@ IN A ${MAIL}`, `@ IN AAAA ${MAIL6}`] : withWeb ? [`@ IN A ${web}`] : [],
    mx: withMx ? ["@ IN MX 10 mail", ...(setup === "MX_WEB_BACKUP" ? [`@ IN MX 20 ${TEST_SERVICE.backupMx}.`] : [])] : [],
    mailHost: withMx ? [`mail IN A ${MAIL}`, `mail IN AAAA ${MAIL6}`] : [],
    webmail: withMx ? [`webmail IN A ${MAIL}`, `webmail IN AAAA ${MAIL6}`] : [],
    www: withWeb ? ["www IN CNAME @"] : [],
    spf: [`@ IN TXT "v=spf1 include:${TEST_SERVICE.spfInclude} ~all"`],
    dkim: options.dkimKey ? [`${TEST_SERVICE.dkimSelector}._domainkey IN TXT ${txt(`v=DKIM1; k=rsa; p=${options.dkimKey}`)}`] : [],
    dmarc: [`_dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:${TEST_SERVICE.dmarcReportAddress}"`],
    extra: [],
  };
}

export function zoneBody(parts: ZoneParts): string {
  return Object.values(parts).flat().join("\n");
}
