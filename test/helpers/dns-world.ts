// A small DNS internet on loopback for the DNS tests: real NSD servers on
// port 53 of six addresses in one random 127.x.y.0/24 (the whole 127/8 is
// loopback on Linux, and a random block keeps two test runs on one machine
// apart). Nothing is ever sent anywhere else.
//
//   .1 resolver  what DNS_SERVERS points at: serves every zone, as a
//                recursive resolver would see them (parent, children, the
//                service's own zone, reverse zones)
//   .2 parent    the parent zone "example." only, with the delegations
//   .3 ns1       the children that list ns1
//   .4 ns2       the children that list ns2 (with their own serial if asked)
//   .5 lame      NSD serving nothing: answers REFUSED (a lame nameserver)
//   .6 silent    a UDP socket that never answers (a dead nameserver)
import { randomInt } from "node:crypto";
import { startNsd, startSilentServer, type RunningNsd, type ZoneFile } from "./nsd";

export type NameserverRole = "ns1" | "ns2" | "lame" | "silent";

export interface ChildZone {
  /** The customer's domain, ending in ".example". */
  name: string;
  /** Records besides SOA, NS and the nameservers' addresses, in zone-file syntax ($ORIGIN is the domain). */
  records: string;
  /** NS records in the zone (default ns1 and ns2). */
  nameservers?: NameserverRole[];
  /** NS records of the delegation in the parent zone (default: as in the zone). */
  parentNameservers?: NameserverRole[];
  serial?: number;
  /** Serial served by one nameserver instead (a secondary that missed an update). */
  serials?: Partial<Record<"ns1" | "ns2", number>>;
  /** refresh retry expire minimum */
  soaTimers?: string;
}

/** The service's mail endpoints in the tests (documentation addresses: never contacted, only published). */
export const TEST_SERVICE = {
  ipv4: "198.51.100.25",
  ipv6: "2001:db8::25",
  hostname: "mx.mailsvc.example",
  backupMx: "backup.mailsvc.example",
  backupMxIpv4: "198.51.100.26",
  spfInclude: "_spf.mailsvc.example",
  dkimSelector: "mail",
  dmarcReportAddress: "dmarc@mailsvc.example",
} as const;

const ROLES = ["resolver", "parent", "ns1", "ns2", "lame", "silent"] as const;
type Role = (typeof ROLES)[number];

export interface DnsWorld {
  addresses: Record<Role, string>;
  /** Settings for startTestApp: the service above, DNS_SERVERS at the resolver, short timeouts. */
  config: Record<string, string>;
  /**
   * Serves new contents for these zones (matched by name; a new name is
   * added to what the resolver and nameservers serve, not to the parent):
   * the resolver and both nameservers are restarted on their addresses.
   */
  republish(zones: ChildZone[]): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_SERIAL = 2026112801;
const DEFAULT_TIMERS = "3600 900 1209600 300";

function childZoneText(zone: ChildZone, addresses: Record<Role, string>, serial: number): string {
  const nameservers = zone.nameservers ?? ["ns1", "ns2"];
  const glue = [...new Set([...nameservers, ...(zone.parentNameservers ?? [])])];
  return [
    `$ORIGIN ${zone.name}.`,
    "$TTL 300",
    `@ IN SOA ns1.${zone.name}. hostmaster.${zone.name}. ${serial} ${zone.soaTimers ?? DEFAULT_TIMERS}`,
    ...nameservers.map((role) => `@ IN NS ${role}.${zone.name}.`),
    ...glue.map((role) => `${role} IN A ${addresses[role]}`),
    zone.records,
    "",
  ].join("\n");
}

function parentZoneText(children: ChildZone[], addresses: Record<Role, string>): string {
  const lines = [
    "$ORIGIN example.",
    "$TTL 300",
    "@ IN SOA a.nic.example. hostmaster.nic.example. 1 3600 900 1209600 300",
    "@ IN NS a.nic.example.",
    `a.nic IN A ${addresses.parent}`,
  ];
  for (const child of children) {
    const label = child.name.slice(0, -".example".length);
    for (const role of child.parentNameservers ?? child.nameservers ?? ["ns1", "ns2"]) {
      lines.push(`${label} IN NS ${role}.${label}.example.`, `${role}.${label} IN A ${addresses[role]}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The service's own names: the mail server, the backup MX, the SPF include. */
function serviceZoneText(): string {
  return `$ORIGIN mailsvc.example.
$TTL 300
@ IN SOA a.nic.example. hostmaster.mailsvc.example. 1 3600 900 1209600 300
@ IN NS a.nic.example.
mx IN A ${TEST_SERVICE.ipv4}
mx IN AAAA ${TEST_SERVICE.ipv6}
backup IN A ${TEST_SERVICE.backupMxIpv4}
_spf IN TXT "v=spf1 ip4:${TEST_SERVICE.ipv4} ip6:${TEST_SERVICE.ipv6} -all"
`;
}

function reverseZones(): ZoneFile[] {
  const [a, b, c, d] = TEST_SERVICE.ipv4.split(".");
  // 2001:db8::25 -> nibbles of 2001:0db8:0000:...:0025
  const nibbles = "20010db8000000000000000000000025".split("").reverse().join(".");
  return [
    {
      name: `${c}.${b}.${a}.in-addr.arpa`,
      text: `$TTL 300\n@ IN SOA a.nic.example. hostmaster.mailsvc.example. 1 3600 900 1209600 300\n@ IN NS a.nic.example.\n${d} IN PTR ${TEST_SERVICE.hostname}.\n`,
    },
    {
      name: "8.b.d.0.1.0.0.2.ip6.arpa",
      text: `$TTL 300\n@ IN SOA a.nic.example. hostmaster.mailsvc.example. 1 3600 900 1209600 300\n@ IN NS a.nic.example.\n${nibbles}.ip6.arpa. IN PTR ${TEST_SERVICE.hostname}.\n`,
    },
  ];
}

function randomBlock(): string {
  return `127.${randomInt(16, 250)}.${randomInt(0, 256)}`;
}

export async function startDnsWorld(initialChildren: ChildZone[]): Promise<DnsWorld> {
  const children = [...initialChildren];
  for (const child of children) {
    if (!child.name.endsWith(".example") || child.name.split(".").length !== 2) throw new Error(`test zone ${child.name} must be <label>.example`);
  }
  let lastError: unknown;
  // A taken address (another run on this machine) is retried in another block.
  for (let attempt = 0; attempt < 3; attempt++) {
    const block = randomBlock();
    const addresses = Object.fromEntries(ROLES.map((role, index) => [role, `${block}.${index + 1}`])) as Record<Role, string>;
    const started: { stop(): Promise<void> }[] = [];
    try {
      const parent: ZoneFile = { name: "example", text: parentZoneText(children, addresses) };
      const served = (role: "ns1" | "ns2") =>
        children
          .filter((child) => [...(child.nameservers ?? ["ns1", "ns2"]), ...(child.parentNameservers ?? [])].includes(role))
          .map((child) => ({ name: child.name, text: childZoneText(child, addresses, child.serials?.[role] ?? child.serial ?? DEFAULT_SERIAL) }));
      const resolverZones = () => [
        parent,
        { name: "mailsvc.example", text: serviceZoneText() },
        ...reverseZones(),
        ...children.map((child) => ({ name: child.name, text: childZoneText(child, addresses, child.serial ?? DEFAULT_SERIAL) })),
      ];
      const servers: Promise<RunningNsd | { stop(): Promise<void> }>[] = [
        startNsd({ address: addresses.resolver, zones: resolverZones() }),
        startNsd({ address: addresses.parent, zones: [parent] }),
        startNsd({ address: addresses.ns1, zones: served("ns1") }),
        startNsd({ address: addresses.ns2, zones: served("ns2") }),
        startNsd({ address: addresses.lame, zones: [] }),
        startSilentServer(addresses.silent),
      ];
      const results = await Promise.allSettled(servers);
      for (const result of results) if (result.status === "fulfilled") started.push(result.value);
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
      return {
        addresses,
        config: {
          MAIL_SERVER_IPV4: TEST_SERVICE.ipv4,
          MAIL_SERVER_IPV6: TEST_SERVICE.ipv6,
          MAIL_SERVER_HOSTNAME: TEST_SERVICE.hostname,
          BACKUP_MX_HOST: TEST_SERVICE.backupMx,
          SPF_INCLUDE: TEST_SERVICE.spfInclude,
          DKIM_SELECTOR: TEST_SERVICE.dkimSelector,
          DMARC_POLICY: "quarantine",
          DMARC_REPORT_ADDRESS: TEST_SERVICE.dmarcReportAddress,
          DNS_SERVERS: `${addresses.resolver}:53`,
          // The test's nameservers are on loopback addresses: allowed here, refused by default.
          DNS_ALLOW_PRIVATE: "true",
          // Loopback answers in well under a millisecond: short timeouts keep
          // the dead-server tests fast without making healthy ones flaky.
          DNS_QUERY_TIMEOUT_MS: "400",
          DNS_QUERY_ATTEMPTS: "2",
          DNS_CHECK_TIMEOUT_MS: "5000",
        },
        async republish(zones: ChildZone[]) {
          for (const zone of zones) {
            const index = children.findIndex((child) => child.name === zone.name);
            if (index >= 0) children[index] = zone;
            else children.push(zone);
          }
          // started[0], [2] and [3] are the resolver, ns1 and ns2 (in the order above).
          await Promise.all([started[0]!, started[2]!, started[3]!].map((server) => server.stop()));
          const [resolver, ns1, ns2] = await Promise.all([
            startNsd({ address: addresses.resolver, zones: resolverZones() }),
            startNsd({ address: addresses.ns1, zones: served("ns1") }),
            startNsd({ address: addresses.ns2, zones: served("ns2") }),
          ]);
          started[0] = resolver;
          started[2] = ns1;
          started[3] = ns2;
        },
        async stop() {
          await Promise.all(started.map((server) => server.stop()));
        },
      };
    } catch (error) {
      lastError = error;
      await Promise.all(started.map((server) => server.stop()));
    }
  }
  throw lastError;
}
