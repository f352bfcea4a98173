// The development mail stack: Debian's Postfix and Dovecot started on loopback
// ports of their own, with configuration, queue, mail and logs in one folder,
// reading mailadmin's PostgreSQL through the read contract exactly as a
// production host does (config.ts writes both). It never reads or changes
// /etc/postfix or /etc/dovecot and never starts the host's services.
// `npm run mailstack -- up|down|status` and the end-to-end test use it.
import { execFile, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { Client } from "pg";
import { MAIL_SERVER_ROLE } from "../db/migrate";
import {
  dovecotSettings,
  dovecotSqlFile,
  dovecotAppPasswordsFile,
  dovecotSieveDictFile,
  dovecotUsageDictFile,
  mailServerDatabase,
  postfixMainSettings,
  postfixMapFiles,
  postfixSubmissionService,
  quotaWarningScript,
  type GeneratedFile,
  type MailServerConfigOptions,
} from "./config";
import { openDkimFiles, postfixMilterSettings } from "./opendkim";
import type { SigningKey } from "../dkim/dkim.service";

const run = promisify(execFile);

/** Debian 12 packages the stack runs on. */
export const MAIL_STACK_PACKAGES = [
  "postfix",
  "postfix-pgsql",
  "dovecot-core",
  "dovecot-imapd",
  "dovecot-pop3d",
  "dovecot-lmtpd",
  "dovecot-pgsql",
  "dovecot-sieve",
  "opendkim",
  "opendkim-tools",
];

const REQUIRED_FILES: [path: string, pkg: string][] = [
  ["/usr/sbin/postfix", "postfix"],
  ["/usr/lib/postfix/postfix-pgsql.so", "postfix-pgsql"],
  ["/usr/sbin/dovecot", "dovecot-core"],
  ["/usr/lib/dovecot/imap", "dovecot-imapd"],
  ["/usr/lib/dovecot/pop3", "dovecot-pop3d"],
  ["/usr/lib/dovecot/lmtp", "dovecot-lmtpd"],
  ["/usr/lib/dovecot/modules/libdriver_pgsql.so", "dovecot-pgsql"],
  ["/usr/lib/dovecot/modules/lib90_sieve_plugin.so", "dovecot-sieve"],
  ["/usr/sbin/opendkim", "opendkim"],
  ["/usr/sbin/opendkim-testkey", "opendkim-tools"],
];

export interface MailStackPorts {
  smtp: number;
  submission: number;
  imap: number;
  pop3: number;
  lmtp: number;
  quotaStatus: number;
  /** Where Dovecot hands the messages it writes itself (out-of-office replies) to Postfix. */
  inject: number;
  /** OpenDKIM's milter. */
  milter: number;
}

/** The stack's ports: the usual numbers above a base (MAILSTACK_PORT_BASE), so several stacks never meet. */
export function mailStackPorts(base: number): MailStackPorts {
  return { smtp: base + 25, submission: base + 587, imap: base + 143, pop3: base + 110, lmtp: base + 24, quotaStatus: base + 65, inject: base + 26, milter: base + 891 };
}

export interface MailStackSettings {
  /** The stack's own folder: configuration, queue, mail store, logs. */
  dir: string;
  /** A loopback address, 127.0.0.1 or another 127.x. */
  address: string;
  portBase: number;
  /** The PostgreSQL mailadmin runs on. */
  databaseUrl: string;
  /** The mail servers' login (a member of mailadmin_mailserver) and its password. */
  dbUser: string;
  dbPassword: string;
  hostname: string;
  quotaWarningPercents: number[];
  /** The system user owning the mail store (Debian's base system has "mail"). */
  mailUser?: string;
  /**
   * Where mail for other domains goes, as [address]:port on loopback (a test's
   * SMTP sink standing for the outside world). Unset: refused, nothing leaves.
   */
  relayhost?: string;
  /**
   * The domains' signing keys (dkim.service.ts signingKeys): when given, OpenDKIM
   * signs outgoing mail with them, as a milter of Postfix's.
   */
  dkimKeys?: SigningKey[];
  /**
   * A nameserver on loopback (a test's NSD on port 53 of a 127.x address)
   * through which Postfix's smtp client finds other domains' MX records and
   * delivers to them, as a production host does through its resolver. The smtp
   * service then runs chrooted in the stack's queue folder, whose etc/resolv.conf
   * names this server only: the host's /etc/resolv.conf is never read or
   * changed, and the client binds the stack's own loopback address, so nothing
   * leaves the machine. Not with relayhost.
   */
  nameserver?: string;
  /** Extra main.cf lines, after the stack's own (a test's short retry timings). */
  postfixSettings?: string[];
}

/** What `status` reports and the tests use. */
export interface MailStackState {
  dir: string;
  address: string;
  ports: MailStackPorts;
  hostname: string;
  mailStoreDir: string;
  postfixConfigDir: string;
  dovecotConfig: string;
  /** Postfix's own log (maillog_file): a LOG_SOURCES entry for mailadmin's collector. */
  logSource: { name: string; path: string; timeZone: string; format: "postfix" };
  dovecotLog: string;
  /** OpenDKIM's folder when the stack signs (configuration, tables, keys, log). */
  openDkimDir?: string;
}

export interface MailStackStatus {
  state: MailStackState;
  postfix: boolean;
  dovecot: boolean;
}

/** Why the stack cannot run here, or null. */
export function mailStackUnavailable(databaseUrl: string | undefined): string | null {
  if (!databaseUrl) {
    return "the mail stack needs PostgreSQL: Postfix and Dovecot read mailadmin's data from a real PostgreSQL server, not the embedded database. Set DATABASE_URL (docs/mail-stack.md).";
  }
  if (process.getuid?.() !== 0) return "the mail stack is started by root (Postfix's master and Dovecot's master run as root and drop their privileges).";
  return null;
}

/** Debian packages of the stack that are not installed. */
export function missingMailStackPackages(): string[] {
  return [...new Set(REQUIRED_FILES.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg))];
}

/** Installs the stack's packages with apt-get, without starting or enabling the host's Postfix or Dovecot service. */
export async function installMailStackPackages(packages: string[]): Promise<void> {
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !existsSync(policy);
  // invoke-rc.d asks policy-rc.d: 101 means "do not start services".
  if (ownPolicy) writeFileSync(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    // Debian's postfix package would otherwise ask how to set up the host's own Postfix: leave it unconfigured.
    const selections = spawn("debconf-set-selections", { stdio: ["pipe", "ignore", "ignore"] });
    selections.stdin.end("postfix postfix/main_mailer_type select No configuration\n");
    await new Promise((done) => selections.on("exit", done));
    await run("apt-get", ["update", "-qq"], { env, maxBuffer: 64 * 1024 * 1024 });
    await run("apt-get", ["install", "-y", "-qq", ...packages], { env, maxBuffer: 64 * 1024 * 1024 });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

/**
 * Makes (or updates) the mail servers' login: LOGIN, the given password, a
 * member of mailadmin_mailserver and nothing else. Needs a DATABASE_URL user
 * allowed to create roles.
 */
export async function ensureMailServerLogin(databaseUrl: string, user: string, password: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const role = client.escapeIdentifier(user);
    const exists = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [user]);
    const secret = client.escapeLiteral(password);
    // Concurrent runs (two test files) may both find the role missing: the loser alters it.
    if (exists.rowCount === 0) await client.query(`CREATE ROLE ${role} LOGIN PASSWORD ${secret}`).catch(() => undefined);
    await client.query(`ALTER ROLE ${role} LOGIN PASSWORD ${secret}`);
    await client.query(`GRANT "${MAIL_SERVER_ROLE}" TO ${role}`);
  } finally {
    await client.end();
  }
}

function idOf(user: string, flag: "-u" | "-g"): number {
  return Number(execFileSync("id", [flag, user], { encoding: "utf8" }).trim());
}

/** Resolves once something accepts TCP connections on address:port, false after timeoutMs. */
export async function waitForPort(address: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolveOk) => {
      const socket = createConnection({ host: address, port });
      socket.once("connect", () => {
        socket.destroy();
        resolveOk(true);
      });
      socket.once("error", () => resolveOk(false));
    });
    if (ok) return true;
    await new Promise((wait) => setTimeout(wait, 100));
  }
  return false;
}

/** Postfix's internal services as Debian's master.cf has them, none chrooted (the instance's paths are absolute). */
export const POSTFIX_INTERNAL_SERVICES = [
  "pickup    unix  n       -       n       60      1       pickup",
  "cleanup   unix  n       -       n       -       0       cleanup",
  "qmgr      unix  n       -       n       300     1       qmgr",
  "rewrite   unix  -       -       n       -       -       trivial-rewrite",
  "bounce    unix  -       -       n       -       0       bounce",
  "defer     unix  -       -       n       -       0       bounce",
  "trace     unix  -       -       n       -       0       bounce",
  "verify    unix  -       -       n       -       1       verify",
  "flush     unix  n       -       n       1000?   0       flush",
  "proxymap  unix  -       -       n       -       -       proxymap",
  "smtp      unix  -       -       n       -       -       smtp",
  "lmtp      unix  -       -       n       -       -       lmtp",
  "showq     unix  n       -       n       -       -       showq",
  "error     unix  -       -       n       -       -       error",
  "retry     unix  -       -       n       -       -       error",
  "discard   unix  -       -       n       -       -       discard",
  "tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
  "anvil     unix  -       -       n       -       1       anvil",
  "scache    unix  -       -       n       -       1       scache",
  "postlog   unix-dgram n  -       n       -       1       postlogd",
];

function paths(dir: string) {
  const root = resolve(dir);
  return {
    root,
    postfix: join(root, "postfix"),
    postfixEtc: join(root, "postfix", "etc"),
    postfixQueue: join(root, "postfix", "queue"),
    postfixData: join(root, "postfix", "data"),
    postfixLog: join(root, "postfix", "maillog"),
    dovecot: join(root, "dovecot"),
    dovecotRun: join(root, "dovecot", "run"),
    dovecotConfig: join(root, "dovecot", "dovecot.conf"),
    dovecotLog: join(root, "dovecot", "dovecot.log"),
    mail: join(root, "mail"),
    openDkim: join(root, "opendkim"),
    openDkimPid: join(root, "opendkim", "opendkim.pid"),
    openDkimLog: join(root, "opendkim", "opendkim.log"),
    state: join(root, "state.json"),
  };
}

/** The options config.ts renders the stack's files from. */
function stackConfigOptions(settings: MailStackSettings): MailServerConfigOptions {
  const where = paths(settings.dir);
  const ports = mailStackPorts(settings.portBase);
  const { address } = settings;
  return {
    database: mailServerDatabase(settings.databaseUrl, settings.dbUser, settings.dbPassword),
    hostname: settings.hostname,
    postfixMapDir: where.postfixEtc,
    dovecotDir: where.dovecot,
    mailStoreDir: where.mail,
    mailUser: settings.mailUser ?? "mail",
    quotaWarningPercents: settings.quotaWarningPercents,
    lmtpTarget: `inet:${address}:${ports.lmtp}`,
    saslPath: join(where.dovecotRun, "auth-postfix"),
    quotaStatusTarget: `inet:${address}:${ports.quotaStatus}`,
    listeners: {
      lmtp: { address, port: ports.lmtp },
      saslSocket: join(where.dovecotRun, "auth-postfix"),
      quotaStatus: { address, port: ports.quotaStatus },
      imap: { address, port: ports.imap },
      pop3: { address, port: ports.pop3 },
    },
    // The stack's log file is root's: the warning's dovecot-lda (the mail user) logs to the script service's stderr, which Dovecot's master logs.
    ldaArguments: ["-c", where.dovecotConfig, "-o", "log_path=/dev/stderr"],
    submissionHost: `${address}:${ports.inject}`,
  };
}

function writeGenerated(root: string, file: GeneratedFile, group: string): void {
  const target = join(root, file.path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.content, { mode: file.executable ? 0o755 : 0o644 });
  chmodSync(target, file.secret ? 0o640 : file.executable ? 0o755 : 0o644);
  // Secrets: root and the reading service's group only (proxymap runs as postfix, auth and dict as dovecot).
  if (file.secret) chownSync(target, 0, idOf(group, "-g"));
}

/**
 * Postfix's and Dovecot's unprivileged processes (postfix, dovecot, dovenull,
 * the mail user) must reach the stack's folder: every folder above it must
 * let others pass (x). /root, or a mkdtemp folder, does not.
 */
function assertTraversable(folder: string): void {
  for (let current = resolve(folder); ; current = dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) {
      throw new Error(
        `the mail stack's folder must be reachable by Postfix's and Dovecot's own users, but ${current} lets no other user in (mode ${(statSync(current).mode & 0o777).toString(8)}): set MAILSTACK_DIR to a folder outside it, such as /var/tmp/mailadmin-mailstack`,
      );
    }
    if (current === dirname(current)) return;
  }
}

/**
 * The files a chrooted smtp client reads in the queue folder (Debian's
 * postfix script copies the host's; the stack writes its own): resolv.conf
 * naming the loopback nameserver only, hosts and nsswitch.conf that send
 * every name to DNS, services (the port of "smtp") and the time zone of the
 * log's time stamps.
 */
function writeChrootResolver(queueDir: string, nameserver: string): void {
  const etc = join(queueDir, "etc");
  mkdirSync(etc, { recursive: true });
  chmodSync(etc, 0o755);
  writeFileSync(join(etc, "resolv.conf"), `# mailadmin's development stack: its smtp client asks this nameserver only.\nnameserver ${nameserver}\noptions timeout:1 attempts:2\n`);
  writeFileSync(join(etc, "hosts"), "127.0.0.1 localhost\n");
  writeFileSync(join(etc, "nsswitch.conf"), "hosts: dns\nservices: files\n");
  for (const file of ["services", "localtime"]) {
    if (existsSync(`/etc/${file}`)) writeFileSync(join(etc, file), readFileSync(`/etc/${file}`));
  }
}

/** Writes the stack's configuration; returns its state (ports, paths) without starting anything. */
export function writeMailStackConfig(settings: MailStackSettings): MailStackState {
  const where = paths(settings.dir);
  assertTraversable(dirname(where.root));
  if (settings.relayhost !== undefined && !/^\[127\.\d{1,3}\.\d{1,3}\.\d{1,3}\]:\d{1,5}$/.test(settings.relayhost)) {
    throw new Error(`the development stack relays only to loopback, as [127.x.y.z]:port (got ${settings.relayhost})`);
  }
  if (settings.nameserver !== undefined) {
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(settings.nameserver))
      throw new Error(`the development stack asks only a nameserver on loopback, 127.x.y.z (got ${settings.nameserver})`);
    if (settings.relayhost !== undefined) throw new Error("the development stack takes a relayhost or a nameserver, not both");
  }
  const ports = mailStackPorts(settings.portBase);
  const options = stackConfigOptions(settings);
  const mailUser = options.mailUser;
  for (const folder of [where.root, where.postfix, where.postfixEtc, where.postfixQueue, where.postfixData, where.dovecot, where.dovecotRun]) {
    mkdirSync(folder, { recursive: true });
    chmodSync(folder, 0o755);
  }
  chownSync(where.postfixData, idOf("postfix", "-u"), 0);
  mkdirSync(where.mail, { recursive: true });
  chownSync(where.mail, idOf(mailUser, "-u"), idOf(mailUser, "-g"));
  chmodSync(where.mail, 0o700);

  // The maps live in the instance's etc folder, the path postfixMainSettings names.
  for (const file of postfixMapFiles(options)) writeGenerated(where.postfix, { ...file, path: join("etc", file.path.replace(/^postfix\//, "")) }, "postfix");
  writeFileSync(
    join(where.postfixEtc, "main.cf"),
    [
      "# mailadmin's development mail stack (npm run mailstack). Not the host's Postfix.",
      "compatibility_level = 3.6",
      `queue_directory = ${where.postfixQueue}`,
      `data_directory = ${where.postfixData}`,
      `maillog_file = ${where.postfixLog}`,
      `maillog_file_prefixes = ${where.postfix}`,
      "smtpd_banner = $myhostname ESMTP mailadmin development stack",
      "mydestination =",
      // Postfix needs an interface it finds; the smtpd services bind their own address (master.cf).
      "inet_interfaces = 127.0.0.1",
      "inet_protocols = ipv4",
      `mynetworks = ${settings.address}/32`,
      "alias_maps =",
      "alias_database =",
      "biff = no",
      // Loopback clients: no reverse lookup (it would ask the host's resolver about 127.x).
      "smtpd_peername_lookup = no",
      // The stack delivers into its own mailboxes only: nothing leaves this machine,
      // unless a test gives it a loopback relay standing for the outside world.
      ...(settings.relayhost
        ? [`relayhost = ${settings.relayhost}`, "smtp_tls_security_level = none", `smtp_bind_address = ${settings.address}`]
        : settings.nameserver
          ? // MX lookups through the chroot's resolv.conf (writeChrootResolver); the client speaks from the stack's loopback address.
            [`smtp_bind_address = ${settings.address}`, "smtp_tls_security_level = none", "smtp_host_lookup = dns"]
          : ["default_transport = error:5.7.0 the mailadmin development stack sends no mail off this machine"]),
      ...(settings.dkimKeys ? postfixMilterSettings(`inet:${settings.address}:${ports.milter}`) : []),
      ...postfixMainSettings(options),
      ...(settings.postfixSettings ?? []),
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(where.postfixEtc, "master.cf"),
    [
      `${settings.address}:${ports.smtp} inet n - n - - smtpd`,
      ...postfixSubmissionService(`${settings.address}:${ports.submission}`),
      // Dovecot's own messages (out-of-office replies) come in here, from loopback only, and may leave.
      `${settings.address}:${ports.inject} inet n - n - - smtpd`,
      "  -o syslog_name=postfix/inject",
      "  -o mynetworks=127.0.0.0/8",
      "  -o smtpd_client_restrictions=permit_mynetworks,reject",
      "  -o smtpd_relay_restrictions=permit_mynetworks,reject",
      "  -o smtpd_recipient_restrictions=permit_mynetworks,reject",
      ...(settings.nameserver
        ? POSTFIX_INTERNAL_SERVICES.map((line) => (line.startsWith("smtp ") ? "smtp      unix  -       -       y       -       -       smtp" : line))
        : POSTFIX_INTERNAL_SERVICES),
      "",
    ].join("\n"),
  );
  if (settings.nameserver) writeChrootResolver(where.postfixQueue, settings.nameserver);

  for (const file of [dovecotSqlFile(options), dovecotAppPasswordsFile(options), dovecotUsageDictFile(options), dovecotSieveDictFile(options)]) {
    writeGenerated(where.root, file, "dovecot");
  }
  writeGenerated(where.root, quotaWarningScript(options), "dovecot");
  writeFileSync(
    where.dovecotConfig,
    [
      "# mailadmin's development mail stack (npm run mailstack). Not the host's Dovecot.",
      `base_dir = ${where.dovecotRun}`,
      `state_dir = ${join(where.dovecot, "state")}`,
      `log_path = ${where.dovecotLog}`,
      "protocols = imap pop3 lmtp",
      `listen = ${settings.address}`,
      // Loopback only, for development and tests: no TLS, plain passwords allowed.
      "ssl = no",
      "disable_plaintext_auth = no",
      `first_valid_uid = ${idOf(mailUser, "-u")}`,
      `first_valid_gid = ${idOf(mailUser, "-g")}`,
      ...dovecotSettings(options),
    ].join("\n"),
  );

  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const state: MailStackState = {
    dir: where.root,
    address: settings.address,
    ports,
    hostname: settings.hostname,
    mailStoreDir: where.mail,
    postfixConfigDir: where.postfixEtc,
    dovecotConfig: where.dovecotConfig,
    logSource: { name: "mailstack", path: where.postfixLog, timeZone, format: "postfix" },
    dovecotLog: where.dovecotLog,
    ...(settings.dkimKeys ? { openDkimDir: where.openDkim } : {}),
  };
  if (settings.dkimKeys) writeOpenDkimFiles(where.root, settings.address, ports.milter, settings.dkimKeys);
  writeFileSync(where.state, `${JSON.stringify(state, null, 2)}\n`);
  return state;
}

/**
 * Writes OpenDKIM's configuration, tables and keys into the stack's folder:
 * the folder and keys belong to Debian's opendkim user (mode 0700 and 0600,
 * as OpenDKIM's RequireSafeKeys wants); keys no longer signing are removed.
 */
function writeOpenDkimFiles(root: string, address: string, port: number, keys: SigningKey[]): void {
  const where = paths(root);
  const uid = idOf("opendkim", "-u");
  const gid = idOf("opendkim", "-g");
  rmSync(join(where.openDkim, "keys"), { recursive: true, force: true });
  mkdirSync(where.openDkim, { recursive: true });
  chmodSync(where.openDkim, 0o755);
  const files = openDkimFiles(keys, {
    dir: where.openDkim,
    socket: `inet:${port}@${address}`,
    userId: "opendkim",
    // Only authenticated submission is signed: mail from the stack's own address
    // over port 25 plays the part of the internet's.
    internalHosts: ["127.0.0.1"],
    requireSafeKeys: false,
  });
  for (const file of files) {
    const target = join(where.openDkim, file.path);
    if (file.secret) {
      for (const folder of [join(where.openDkim, "keys"), dirname(target)]) {
        mkdirSync(folder, { recursive: true });
        chownSync(folder, uid, gid);
        chmodSync(folder, 0o700);
      }
    }
    writeFileSync(target, file.content, { mode: file.secret ? 0o600 : 0o644 });
    if (file.secret) chownSync(target, uid, gid);
  }
}

/** The process id a pid file names, when that process is alive. */
function livePid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").trim());
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function openDkimPid(root: string): number | undefined {
  return livePid(paths(root).openDkimPid);
}

async function stopOpenDkim(root: string): Promise<void> {
  const pid = openDkimPid(root);
  if (pid === undefined) return;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }
  rmSync(paths(root).openDkimPid, { force: true });
}

/** Starts OpenDKIM in the foreground of a process of its own (its output in opendkim.log); resolves when its milter listens. */
async function startOpenDkim(root: string, address: string, port: number): Promise<void> {
  const where = paths(root);
  const log = openSync(where.openDkimLog, "a");
  const child = spawn("/usr/sbin/opendkim", ["-f", "-x", join(where.openDkim, "opendkim.conf")], { stdio: ["ignore", log, log], detached: true });
  closeSync(log);
  child.unref();
  writeFileSync(where.openDkimPid, `${child.pid}\n`);
  if (!(await waitForPort(address, port, 15_000))) {
    throw new Error(`OpenDKIM does not listen on ${address}:${port}: see ${where.openDkimLog}`);
  }
}

/**
 * Gives the running stack's signer new keys (after a domain was created or a
 * rotation confirmed): rewrites its tables and keys and restarts it. Mail
 * submitted while it restarts leaves unsigned (milter_default_action = accept).
 */
export async function refreshMailStackDkim(dir: string, keys: SigningKey[]): Promise<void> {
  const state = readState(dir);
  if (!state?.openDkimDir) throw new Error(`the mail stack in ${dir} was started without DKIM signing`);
  writeOpenDkimFiles(state.dir, state.address, state.ports.milter, keys);
  await stopOpenDkim(state.dir);
  await startOpenDkim(state.dir, state.address, state.ports.milter);
}

function readState(dir: string): MailStackState | undefined {
  const file = paths(dir).state;
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as MailStackState) : undefined;
}

function dovecotPid(state: MailStackState): number | undefined {
  return livePid(join(dirname(state.dovecotConfig), "run", "master.pid"));
}

async function postfixRunning(state: MailStackState): Promise<boolean> {
  return run("/usr/sbin/postfix", ["-c", state.postfixConfigDir, "status"]).then(
    () => true,
    () => false,
  );
}

export async function mailStackStatus(dir: string): Promise<MailStackStatus | undefined> {
  const state = readState(dir);
  if (!state) return undefined;
  return { state, postfix: await postfixRunning(state), dovecot: dovecotPid(state) !== undefined };
}

/**
 * Writes the configuration and starts Postfix and Dovecot (those not already
 * running; those running reload it); resolves when they listen. The database must have mailadmin's
 * migrations and the login of settings.dbUser (ensureMailServerLogin).
 */
export async function startMailStack(settings: MailStackSettings, adjust?: (state: MailStackState) => void | Promise<void>): Promise<MailStackState> {
  const unavailable = mailStackUnavailable(settings.databaseUrl);
  if (unavailable) throw new Error(unavailable);
  const missing = missingMailStackPackages();
  if (missing.length > 0) throw new Error(`Debian packages missing: ${missing.join(" ")} (npm run mailstack -- up installs them as root)`);
  const before = await mailStackStatus(settings.dir);
  const state = writeMailStackConfig(settings);
  // A benchmark's variant of the written configuration (bench/mail-stack.ts).
  await adjust?.(state);
  const { address, ports } = state;
  try {
    if (state.openDkimDir) {
      await stopOpenDkim(state.dir);
      await startOpenDkim(state.dir, address, ports.milter);
    }
    if (before?.dovecot) await run("doveadm", ["-c", state.dovecotConfig, "reload"]);
    else {
      // Dovecot forks into the background; stdio ignored so that no pipe of ours stays open.
      const started = spawn("/usr/sbin/dovecot", ["-c", state.dovecotConfig], { stdio: "ignore" });
      const code = await new Promise<number | null>((done) => started.on("exit", done));
      if (code !== 0) throw new Error(`Dovecot did not start (exit ${code}): see ${state.dovecotLog}`);
    }
    await run("/usr/sbin/postfix", ["-c", state.postfixConfigDir, before?.postfix ? "reload" : "start"]).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`Postfix did not start: ${(error.stderr || error.message).trim()}`);
    });
    for (const [name, port] of [
      ["Postfix SMTP", ports.smtp],
      ["Postfix submission", ports.submission],
      ["Dovecot IMAP", ports.imap],
      ["Dovecot LMTP", ports.lmtp],
    ] as const) {
      if (!(await waitForPort(address, port, 15_000))) throw new Error(`${name} does not listen on ${address}:${port}: see ${state.logSource.path} and ${state.dovecotLog}`);
    }
  } catch (error) {
    await stopMailStack(settings.dir);
    throw error;
  }
  return state;
}

/** Stops whatever the stack in dir runs (nothing running is fine). Keeps the folder: mail and logs stay. */
export async function stopMailStack(dir: string): Promise<void> {
  const state = readState(dir);
  if (!state) return;
  await stopOpenDkim(state.dir);
  await run("/usr/sbin/postfix", ["-c", state.postfixConfigDir, "stop"]).catch(() => undefined);
  const masterPid = join(dirname(state.postfixConfigDir), "queue", "pid", "master.pid");
  // master exits a moment after "stop" returns; its pid file goes with it.
  for (let i = 0; i < 100 && existsSync(masterPid); i++) await new Promise((wait) => setTimeout(wait, 100));
  const pid = dovecotPid(state);
  if (pid !== undefined) await terminateAndWait(pid);
}

/** Sends SIGTERM and waits (up to 10 s) until the process is gone: Dovecot's master takes its children with it. */
export async function terminateAndWait(pid: number): Promise<void> {
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }
}
