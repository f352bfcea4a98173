// The authentication milter of the mail servers (docs/test-domain.md): checks
// SPF, DKIM and DMARC of the mail that arrives and records the results in the
// message (Authentication-Results under MAIL_SERVER_HOSTNAME), for Postfix's
// port-25 smtpd:
//   npm run mailserver:auth-milter -- [--listen 127.0.0.1:8893] [--authserv-id mx.example.tw] [--dns 192.0.2.53:53,...]
// Defaults: --authserv-id MAIL_SERVER_HOSTNAME, --dns DNS_SERVERS (else the
// system's resolvers). Runs until stopped (SIGTERM).
import { existsSync } from "node:fs";
import { loadConfig } from "../config";
import { resolversOf } from "../dns/dns.service";
import { startAuthMilter } from "../mailstack/auth-milter";
import { option, usageError } from "./args";
import { cliMessages } from "./language";

const { text } = cliMessages();
function usage(reason: string): never {
  return usageError("npm run mailserver:auth-milter -- [--listen 127.0.0.1:8893] [--authserv-id HOSTNAME] [--dns HOST:PORT,...]", reason);
}

async function main(): Promise<void> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const args = process.argv.slice(2);
  const config = loadConfig();
  const listen = option(args, "--listen") ?? "127.0.0.1:8893";
  const match = /^(.+):(\d+)$/.exec(listen);
  if (!match) usage(text("cli.auth_milter.bad_listen", { listen }));
  const authservId = option(args, "--authserv-id") ?? config.MAIL_SERVER_HOSTNAME;
  if (!authservId) usage(text("cli.auth_milter.no_authserv_id"));
  const dns = option(args, "--dns");
  const dnsServers = dns
    ? dns.split(",").map((server) => server.trim())
    : resolversOf(config).map((server) => (server.host.includes(":") ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`));
  const milter = await startAuthMilter({ address: match[1]!.replace(/^\[|\]$/g, ""), port: Number(match[2]), authservId, dnsServers, dnsTimeoutMs: config.DNS_QUERY_TIMEOUT_MS });
  process.stdout.write(`${text("cli.auth_milter.listening", { listen, authservId, dns: dnsServers.join(", ") })}\n`);
  const stop = () => void milter.close().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((error: Error) => {
  process.stderr.write(`${text("cli.auth_milter.failed", { error: error.message })}\n`);
  process.exit(1);
});
