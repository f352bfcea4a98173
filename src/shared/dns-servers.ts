// The resolvers the DNS checks ask, as the DNS_SERVERS setting names them
// (read by config.ts, used by src/dns/).
import { isIPv6 } from "node:net";

export interface DnsServer {
  host: string;
  port: number;
}

/**
 * Reads a resolver list such as "127.0.0.1:5353, [::1]:53, 192.0.2.53" (the
 * DNS_SERVERS setting, or what dns.getServers() reports). Resolvers are
 * addresses, not names: a resolver cannot be looked up without a resolver.
 * Throws with a message naming the bad entry.
 */
export function parseDnsServerList(text: string): DnsServer[] {
  return text
    .split(/[\s,]+/)
    .filter((entry) => entry !== "")
    .map((entry) => {
      const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(entry);
      const plainV4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(entry);
      const host = bracketed?.[1] ?? plainV4?.[1] ?? (isIPv6(entry) ? entry : undefined);
      const port = Number(bracketed?.[2] ?? plainV4?.[2] ?? 53);
      if (host === undefined || (!isIPv6(host) && !/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(host)) || port < 1 || port > 65535) {
        throw new Error(`"${entry}" is not a resolver address such as 127.0.0.1:53 or [::1]:53`);
      }
      return { host, port };
    });
}
