// A Postfix instance of the test's own: Debian's postfix binaries with their
// own configuration, queue and data directories in a temporary folder,
// listening on one loopback address and port, with STARTTLS on a self-signed
// certificate. It never reads or changes /etc/postfix and never touches the
// host's Postfix service; stop() stops it and removes its folder.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync, chownSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { POSTFIX_INTERNAL_SERVICES, waitForPort } from "../../src/mailstack/stack";

const POSTFIX = "/usr/sbin/postfix";

export interface PostfixInstance {
  address: string;
  port: number;
  hostname: string;
  messageSizeLimit: number;
  dir: string;
  /** postconf -c DIR -h PARAMETER: what this instance is configured with. */
  postconf(parameter: string): string;
  stop(): Promise<void>;
}

export function postfixMissing(): string | null {
  if (!existsSync(POSTFIX)) return "Postfix is not installed: install the test servers with npm run test:deps (as root; Debian's postfix package).";
  if (process.getuid?.() !== 0) return "Postfix's master runs as root: run the probe tests as root.";
  return null;
}

function idOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}

export async function startPostfixInstance(options: { address: string; port: number; hostname: string; messageSizeLimit?: number }): Promise<PostfixInstance> {
  const missing = postfixMissing();
  if (missing) throw new Error(missing);
  const { address, port, hostname } = options;
  const messageSizeLimit = options.messageSizeLimit ?? 10_240_000;
  const dir = mkdtempSync(join(tmpdir(), "mailadmin-test-postfix-"));
  const etc = join(dir, "etc");
  for (const sub of ["etc", "queue", "data"]) mkdirSync(join(dir, sub));
  chmodSync(dir, 0o755);
  chownSync(join(dir, "data"), idOf("postfix"), 0);
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", `/CN=${hostname}`, "-keyout", join(etc, "key.pem"), "-out", join(etc, "cert.pem")],
    {
      stdio: "ignore",
    },
  );
  chmodSync(join(etc, "key.pem"), 0o600);
  writeFileSync(
    join(etc, "main.cf"),
    [
      "compatibility_level = 3.6",
      `queue_directory = ${join(dir, "queue")}`,
      `data_directory = ${join(dir, "data")}`,
      `maillog_file = ${join(dir, "maillog")}`,
      "maillog_file_prefixes = /tmp",
      `myhostname = ${hostname}`,
      "smtpd_banner = $myhostname ESMTP $mail_name",
      "mydestination =",
      // The smtpd service below binds to its own address; Postfix itself needs an interface it can find.
      "inet_interfaces = 127.0.0.1",
      "inet_protocols = ipv4",
      "mynetworks = 127.0.0.0/8",
      "alias_maps =",
      "alias_database =",
      "biff = no",
      `message_size_limit = ${messageSizeLimit}`,
      `smtpd_tls_cert_file = ${join(etc, "cert.pem")}`,
      `smtpd_tls_key_file = ${join(etc, "key.pem")}`,
      "smtpd_tls_security_level = may",
      "smtpd_recipient_restrictions = reject_unauth_destination",
      "",
    ].join("\n"),
  );
  writeFileSync(join(etc, "master.cf"), [`${address}:${port} inet n - n - - smtpd`, ...POSTFIX_INTERNAL_SERVICES, ""].join("\n"));
  execFileSync(POSTFIX, ["-c", etc, "start"], { stdio: "pipe" });
  const stop = async () => {
    await promisify(execFile)(POSTFIX, ["-c", etc, "stop"]).catch(() => undefined);
    // master exits a moment after "stop" returns; its pid file goes with it.
    for (let i = 0; i < 50 && existsSync(join(dir, "queue", "pid", "master.pid")); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    rmSync(dir, { recursive: true, force: true });
  };
  if (!(await waitForPort(address, port, 10_000))) {
    await stop();
    throw new Error(`the test's Postfix did not listen on ${address}:${port}`);
  }
  return {
    address,
    port,
    hostname,
    messageSizeLimit,
    dir,
    postconf: (parameter) => execFileSync("postconf", ["-c", etc, "-h", parameter], { encoding: "utf8" }).trim(),
    stop,
  };
}
