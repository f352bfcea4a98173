// Generates realistic delivery-log files for the benchmarks and for trying
// the collector by hand: a mix of OK / RETRY / FAIL, inbound and outbound,
// CJK subjects (a fifth of them Big5-encoded bytes, as in the old logs), and
// two log servers: each handles half of the deliveries, and the master's log
// also holds the slave's lines (it pulls them every five minutes), so half of
// all deliveries are reported twice.
//
//   npx tsx bench/maillog-generate.ts --lines 1000000 --out /tmp/maillogs
import { mkdirSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import iconv from "iconv-lite";
import type { PrismaClient } from "../src/generated/prisma/client";

export interface GeneratedLogs {
  masterPath: string;
  slavePath: string;
  lines: number;
  overlap: number;
  localAddresses: string[];
}

const SUBJECTS = [
  "Fw: Fw: 房間有螞蟻怎麼辦?",
  "RE: DRL-200 30000pcs",
  "FW: 痘痘學-有照片參考位置",
  "FW: 誰說光頭不能用髮膠",
  "會議記錄 (11/28)",
  "報價單/第2版",
  "Invoice 2026-1128 (final)",
  "",
  "週報 - 業務部",
  "Re: Re: 訂單確認 #A-2231",
];
const REASONS = { RETRY: ["Operation timed out", "Connection refused", "421 Service not available"], FAIL: ["Destination mailbox exceeds quota", "550 5.1.1 User unknown"] };

/** A small deterministic generator, so every run produces the same files. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function stamp(seconds: number): string {
  // Log servers write local time (UTC+8).
  const date = new Date((seconds + 8 * 3600) * 1000);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
}

export function localAddressesFor(domains: number, perDomain: number): string[] {
  const addresses: string[] = [];
  for (let domain = 0; domain < domains; domain++) for (let user = 0; user < perDomain; user++) addresses.push(`user${user}@bench${domain}.example`);
  return addresses;
}

/** Creates the domains and accounts of localAddressesFor, so that ingestion links records to accounts as in production. */
export async function createLogAccounts(db: PrismaClient, domains: number, perDomain: number): Promise<void> {
  for (let domain = 0; domain < domains; domain++) {
    const created = await db.domain.create({ data: { name: `bench${domain}.example`, unicodeName: `bench${domain}.example`, defaultMailboxQuotaMb: 100 } });
    await db.account.createMany({
      data: Array.from({ length: perDomain }, (_, user) => ({
        domainId: created.id,
        localPart: `user${user}`,
        address: `user${user}@bench${domain}.example`,
        displayName: "",
        passwordHash: "-",
        quotaMb: 100,
      })),
    });
  }
}

export function generateLogs(
  outDir: string,
  lines: number,
  options: {
    days?: number;
    domains?: number;
    perDomain?: number;
    seed?: number;
    /** Unix seconds of the last line (default: now); fixed for repeatable files. */ end?: number;
  } = {},
): GeneratedLogs {
  mkdirSync(outDir, { recursive: true });
  const next = random(options.seed ?? 42);
  const localAddresses = localAddressesFor(options.domains ?? 50, options.perDomain ?? 100);
  const days = options.days ?? 1;
  const end = options.end ?? Math.floor(Date.now() / 1000);
  const start = end - days * 86_400;
  const masterPath = join(outDir, "m2k-1.log");
  const slavePath = join(outDir, "m2k-2.log");
  const master = openSync(masterPath, "w");
  const slave = openSync(slavePath, "w");
  let overlap = 0;
  let chunkMaster: Buffer[] = [];
  let chunkSlave: Buffer[] = [];
  const flush = () => {
    writeSync(master, Buffer.concat(chunkMaster));
    writeSync(slave, Buffer.concat(chunkSlave));
    chunkMaster = [];
    chunkSlave = [];
  };
  for (let index = 0; index < lines; index++) {
    const at = start + Math.floor(((end - start) * index) / lines);
    const local = localAddresses[Math.floor(next() * localAddresses.length)]!;
    const remote = `contact${Math.floor(next() * 5000)}@remote${Math.floor(next() * 300)}.example`;
    const outbound = next() < 0.5;
    const roll = next();
    const status = roll < 0.85 ? "OK" : roll < 0.95 ? `RETRY.${Math.floor(next() * 5)} ${REASONS.RETRY[index % 3]}` : `FAIL ${REASONS.FAIL[index % 2]}`;
    const queued = at - Math.floor(next() * 3600);
    const queueId = `${10000 + Math.floor(next() * 89999)}-${queued.toString(16).toUpperCase()}.${index.toString(16).toUpperCase().padStart(8, "0")}`;
    const subject = SUBJECTS[index % SUBJECTS.length]!;
    const text = `${stamp(at)} ${queueId} Mail.${outbound ? "LR" : "RL"} ${outbound ? `${local} ${remote}` : `${remote} ${local}`} - (${subject}/${100 + Math.floor(next() * 2_000_000)})${status}\n`;
    const bytes = index % 5 === 0 ? iconv.encode(text, "big5") : Buffer.from(text, "utf8");
    chunkMaster.push(bytes);
    if (next() < 0.5) {
      chunkSlave.push(bytes);
      overlap++;
    }
    if (chunkMaster.length >= 10_000) flush();
  }
  flush();
  closeSync(master);
  closeSync(slave);
  return { masterPath, slavePath, lines, overlap, localAddresses };
}

if (require.main === module) {
  const argument = (name: string, fallback: string) => {
    const index = process.argv.indexOf(`--${name}`);
    return index === -1 ? fallback : process.argv[index + 1]!;
  };
  const result = generateLogs(argument("out", "/tmp/mailadmin-logs"), Number(argument("lines", "100000")), { days: Number(argument("days", "1")) });
  process.stdout.write(`${JSON.stringify({ ...result, localAddresses: result.localAddresses.length })}\n`);
}
