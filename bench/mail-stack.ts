// The mail stack on mailadmin's data, measured (issue 14):
//  1. recipient lookups as Postfix makes them, at 100,000 mailboxes: the
//     virtual_mailbox_maps query exactly as the map file holds it, on one
//     connection of the mail servers' login (p50 / p99), and the whole RCPT
//     round trip through Postfix's smtpd (domain, mailbox, refusal map and
//     quota-status checks);
//  2. messages per second accepted over SMTP and delivered by LMTP into
//     Dovecot, with mailadmin's maps (PostgreSQL) against the same stack
//     with static maps of the same content (Postfix hash: maps, Dovecot
//     passwd-file), rounds interleaved, medians.
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/mailadmin_bench npm run bench:mailstack
//   options: --mailboxes 100000 --lookups 20000 --rcpts 10000 --messages 2000 --connections 8 --rounds 3
// As root, on PostgreSQL (the database's name must hold "bench": it is emptied).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import bcrypt from "bcrypt";
import { Client } from "pg";
import { emptyDatabase } from "../src/db/reset";
import { runMigrations } from "../src/db/migrate";
import { postfixMapFiles, mailServerDatabase } from "../src/mailstack/config";
import { ensureMailServerLogin, mailStackUnavailable, startMailStack, stopMailStack, type MailStackSettings, type MailStackState } from "../src/mailstack/stack";
import { sendMail, textMessage } from "../test/helpers/mail-clients";
import { machine, newWorkDir, numberOption, percentile, round, runBench } from "./bench-support";

const ADDRESS = "127.0.0.27";
const LOGIN = "mailadmin_bench_mailserver";
const DOMAINS = 1000;

/** 100 mailboxes per domain by default: user00000@bench-0000.example ... */
async function seedMailboxes(url: string, mailboxes: number): Promise<string[]> {
  const perDomain = Math.ceil(mailboxes / DOMAINS);
  const hash = await bcrypt.hash("bench password 0123", 12);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO "domain" ("id", "name", "unicodeName", "defaultMailboxQuotaMb", "updatedAt")
       SELECT gen_random_uuid(), 'bench-' || lpad(n::text, 4, '0') || '.example', 'bench-' || lpad(n::text, 4, '0') || '.example', 1024, now()
       FROM generate_series(0, $1 - 1) AS n`,
      [DOMAINS],
    );
    await client.query(
      `INSERT INTO "account" ("id", "domainId", "localPart", "address", "displayName", "passwordHash", "quotaMb", "updatedAt")
       SELECT gen_random_uuid(), d."id", 'user' || lpad(n::text, 5, '0'), 'user' || lpad(n::text, 5, '0') || '@' || d."name", 'Bench user', $2, 1024, now()
       FROM "domain" d, generate_series(0, $1 - 1) AS n
       WHERE (substring(d."name" from 7 for 4)::int) * $1 + n < $3`,
      [perDomain, hash, mailboxes],
    );
    await client.query("ANALYZE");
    const rows = await client.query<{ address: string }>(`SELECT "address" FROM "account" ORDER BY "address"`);
    return rows.rows.map((row) => row.address);
  } finally {
    await client.end();
  }
}

const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)]!;

/** The virtual_mailbox_maps query as Postfix runs it (its map file's text, %s escaped as Postfix escapes it). */
async function sqlLookups(url: string, password: string, addresses: string[], count: number) {
  const map = postfixMapFiles({ database: mailServerDatabase(url, LOGIN, password) }).find((file) => file.path.endsWith("pgsql-mailboxes.cf"))!;
  const query = /^query = (.*)$/m.exec(map.content)![1]!;
  const login = new URL(url);
  login.username = LOGIN;
  login.password = password;
  const client = new Client({ connectionString: login.toString() });
  await client.connect();
  const times: number[] = [];
  let found = 0;
  try {
    for (let i = 0; i < count; i++) {
      // One in ten asks for an address that does not exist, as spam to made-up users does.
      const key = i % 10 === 9 ? `nobody${i}@${pick(addresses).split("@")[1]}` : pick(addresses);
      const text = query.replace("%s", key.replace(/'/g, "''"));
      const start = process.hrtime.bigint();
      const result = await client.query(text);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (result.rowCount) found++;
    }
  } finally {
    await client.end();
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), found };
}

/** RCPT round trips through Postfix's smtpd: every recipient check it makes, PostgreSQL maps included. */
async function rcptRoundTrips(state: MailStackState, addresses: string[], count: number) {
  const { createConnection } = await import("node:net");
  const socket = createConnection({ host: state.address, port: state.ports.smtp });
  socket.setEncoding("utf8");
  let buffer = "";
  const waiters: ((line: string) => void)[] = [];
  socket.on("data", (chunk: string) => {
    buffer += chunk;
    let at: number;
    while ((at = buffer.indexOf("\r\n")) >= 0) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      if (line[3] !== "-") waiters.shift()?.(line);
    }
  });
  const reply = () => new Promise<string>((resolve) => waiters.push(resolve));
  const command = (line: string) => {
    const answer = reply();
    socket.write(`${line}\r\n`);
    return answer;
  };
  await reply();
  await command("EHLO bench.test");
  const times: number[] = [];
  try {
    for (let sent = 0; sent < count;) {
      await command("MAIL FROM:<bench@remote.test>");
      // smtpd_recipient_limit is 1000 per message.
      for (let i = 0; i < 500 && sent < count; i++, sent++) {
        const start = process.hrtime.bigint();
        const answer = await command(`RCPT TO:<${pick(addresses)}>`);
        times.push(Number(process.hrtime.bigint() - start) / 1e6);
        if (!answer.startsWith("250")) throw new Error(`RCPT refused: ${answer}`);
      }
      await command("RSET");
    }
    await command("QUIT");
  } finally {
    socket.destroy();
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

function deliveredCount(state: MailStackState): number {
  const log = readFileSync(state.logSource.path, "utf8");
  return log.split("\n").filter((line) => line.includes("postfix/lmtp[") && line.includes("status=sent")).length;
}

/** Messages sent over `connections` SMTP sessions; the time runs until Postfix's log shows each delivered into Dovecot. */
async function throughput(state: MailStackState, addresses: string[], messages: number, connections: number) {
  const before = deliveredCount(state);
  const start = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < messages) {
      next++;
      const to = pick(addresses);
      const outcome = await sendMail({
        host: state.address,
        port: state.ports.smtp,
        from: "bench@remote.test",
        to: [to],
        message: textMessage("bench@remote.test", to, randomBytes(6).toString("hex"), 2000),
      });
      if (!outcome.data?.startsWith("250")) throw new Error(`message refused: ${JSON.stringify(outcome)}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  const accepted = (Date.now() - start) / 1000;
  while (deliveredCount(state) - before < messages) {
    if (Date.now() - start > 600_000) throw new Error("deliveries did not finish in 10 minutes");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const delivered = (Date.now() - start) / 1000;
  return { acceptedPerSecond: messages / accepted, deliveredPerSecond: messages / delivered };
}

/** The same content as static maps: Postfix hash: tables and a Dovecot passwd-file, written from the views. */
async function staticVariant(url: string, state: MailStackState): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const etc = state.postfixConfigDir;
  try {
    const domains = await client.query<{ domain: string }>(`SELECT domain FROM mailserver_v1.domains`);
    const boxes = await client.query<{ address: string; maildir: string; password: string; quota_bytes: string; can_login: boolean; accepts_mail: boolean }>(
      `SELECT address, maildir, password, quota_bytes, can_login, accepts_mail FROM mailserver_v1.mailboxes`,
    );
    const senders = await client.query<{ sender: string; login: string }>(`SELECT sender, login FROM mailserver_v1.sender_logins`);
    const write = (name: string, lines: string[]) => {
      writeFileSync(join(etc, name), `${lines.join("\n")}\n`);
      execFileSync("postmap", ["-c", etc, `hash:${join(etc, name)}`]);
    };
    write(
      "static-domains",
      domains.rows.map((row) => `${row.domain} OK`),
    );
    write(
      "static-mailboxes",
      boxes.rows.filter((row) => row.accepts_mail).map((row) => `${row.address} ${row.maildir}`),
    );
    write(
      "static-refusals",
      boxes.rows.filter((row) => !row.accepts_mail).map((row) => `${row.address} 550 5.2.1 no mailbox`),
    );
    write(
      "static-senders",
      senders.rows.map((row) => `${row.sender} ${row.login}`),
    );
    const aliases = await client.query<{ address: string; destinations: string }>(
      `SELECT address, string_agg(destination, ',') AS destinations FROM mailserver_v1.virtual_aliases GROUP BY address`,
    );
    write(
      "static-aliases",
      aliases.rows.map((row) => `${row.address} ${row.destinations}`),
    );
    const aliasDomainAddresses = await client.query<{ key: string; destination: string }>(
      `SELECT local_part || '@' || alias_domain AS key, destination FROM mailserver_v1.alias_domain_addresses`,
    );
    write(
      "static-alias-domain-addresses",
      aliasDomainAddresses.rows.map((row) => `${row.key} ${row.destination}`),
    );
    const aliasDomains = await client.query<{ domain: string }>(`SELECT domain FROM mailserver_v1.alias_domains`);
    write(
      "static-alias-domains",
      aliasDomains.rows.map((row) => `${row.domain} OK`),
    );
    const mainCf = join(etc, "main.cf");
    let main = readFileSync(mainCf, "utf8");
    for (const [pgsql, hash] of [
      ["pgsql-domains.cf", "static-domains"],
      ["pgsql-mailboxes.cf", "static-mailboxes"],
      ["pgsql-recipient-refusals.cf", "static-refusals"],
      ["pgsql-sender-logins.cf", "static-senders"],
      ["pgsql-virtual-aliases.cf", "static-aliases"],
      ["pgsql-alias-domain-addresses.cf", "static-alias-domain-addresses"],
      ["pgsql-alias-domains.cf", "static-alias-domains"],
    ]) {
      main = main.replaceAll(`proxy:pgsql:${join(etc, pgsql!)}`, `hash:${join(etc, hash!)}`);
    }
    writeFileSync(mainCf, main);
    const store = state.mailStoreDir;
    const users = join(state.dir, "dovecot", "users");
    writeFileSync(
      users,
      boxes.rows
        .filter((row) => row.accepts_mail)
        .map((row) => `${row.address}:${row.password}::::${store}/${row.maildir}::userdb_quota_rule=*:bytes=${row.quota_bytes}`)
        .join("\n") + "\n",
    );
    let dovecot = readFileSync(state.dovecotConfig, "utf8");
    dovecot = dovecot.replace(/passdb \{\n {2}driver = sql\n {2}args = [^\n]+\n\}/, `passdb {\n  driver = passwd-file\n  args = scheme=BLF-CRYPT username_format=%Lu ${users}\n}`);
    dovecot = dovecot.replace(/userdb \{\n {2}driver = sql\n {2}args = [^\n]+\n\}/, `userdb {\n  driver = passwd-file\n  args = username_format=%Lu ${users}\n}`);
    writeFileSync(state.dovecotConfig, dovecot);
  } finally {
    await client.end();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const unavailable = mailStackUnavailable(url);
  if (unavailable) throw new Error(unavailable);
  const mailboxes = numberOption("mailboxes", 100_000);
  const lookups = numberOption("lookups", 20_000);
  const rcpts = numberOption("rcpts", 10_000);
  const messages = numberOption("messages", 2000);
  const connections = numberOption("connections", 8);
  const rounds = numberOption("rounds", 3);
  await emptyDatabase(url!, "bench");
  await runMigrations(url!);
  const seedStart = Date.now();
  const addresses = await seedMailboxes(url!, mailboxes);
  process.stdout.write(`${machine()}\nseeded ${addresses.length} mailboxes in ${DOMAINS} domains in ${round((Date.now() - seedStart) / 1000)} s\n`);
  const password = randomBytes(18).toString("base64url");
  await ensureMailServerLogin(url!, LOGIN, password);

  const sql = await sqlLookups(url!, password, addresses, lookups);
  process.stdout.write(`virtual_mailbox_maps query (one connection, ${lookups} lookups, 10 % unknown): p50 ${round(sql.p50, 3)} ms, p99 ${round(sql.p99, 3)} ms\n`);

  const work = newWorkDir("bench-mailstack");
  // Postfix's and Dovecot's own users must pass through it (mkdtemp makes it 0700).
  chmodSync(work, 0o755);
  const settings = (name: string): MailStackSettings => ({
    dir: join(work, name),
    address: ADDRESS,
    portBase: 30_000,
    databaseUrl: url!,
    dbUser: LOGIN,
    dbPassword: password,
    hostname: "mx.bench.test",
    quotaWarningPercents: [80, 95],
  });
  // Deliveries go to a tenth of the mailboxes (fewer new maildirs, the same in both variants).
  const targets = addresses.filter((_, index) => index % 10 === 0);
  const results: Record<"postgresql" | "static", { accepted: number; delivered: number }[]> = { postgresql: [], static: [] };
  try {
    for (let roundNo = 0; roundNo < rounds; roundNo++) {
      for (const variant of ["postgresql", "static"] as const) {
        const name = `${variant}-${roundNo}`;
        const state = await startMailStack(settings(name), variant === "static" ? (written) => staticVariant(url!, written) : undefined);
        try {
          if (variant === "postgresql" && roundNo === 0) {
            const rcpt = await rcptRoundTrips(state, addresses, rcpts);
            process.stdout.write(
              `RCPT round trip through Postfix's smtpd (${rcpts} recipients, all its recipient checks): p50 ${round(rcpt.p50, 3)} ms, p99 ${round(rcpt.p99, 3)} ms\n`,
            );
          }
          const run = await throughput(state, targets, messages, connections);
          results[variant].push({ accepted: run.acceptedPerSecond, delivered: run.deliveredPerSecond });
          process.stdout.write(`round ${roundNo + 1} ${variant}: ${round(run.acceptedPerSecond)} msg/s accepted, ${round(run.deliveredPerSecond)} msg/s delivered into Dovecot\n`);
        } finally {
          await stopMailStack(state.dir);
          rmSync(state.dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const pg = median(results.postgresql.map((r) => r.delivered));
  const fixed = median(results.static.map((r) => r.delivered));
  process.stdout.write(
    `medians of ${rounds} rounds, ${messages} messages over ${connections} connections: mailadmin's maps ${round(pg)} msg/s, static maps ${round(fixed)} msg/s, ratio ${round(pg / fixed, 2)}\n`,
  );
}

runBench(main);
