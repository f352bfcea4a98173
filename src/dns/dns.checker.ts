// The DNS-config validator: looks a customer's domain up in real DNS and says,
// check by check, what is right, what is wrong and what to publish instead.
// It knows nothing of GraphQL or the database: the transport, resolvers,
// clock and the service's endpoints come in as arguments. Everything DNS can
// do wrong (no answer, a lame server, a wrong record) comes back as a finding,
// never as an exception. The checks themselves are in dns.check-*.ts, one
// file per group: ns, address, mx, mailauth (SPF, DKIM, DMARC, MTA-STS,
// TLS-RPT), ptr, setup; what they share in dns.check-common.ts.
import { message } from "../i18n/messages";
import { DnsLookup } from "./dns.lookup";
import { expectedRecords, hostsOf, type DnsSetup, type DomainDnsProfile } from "./dns.records";
import { type Context, type DnsCheckResult, type DnsCheckerOptions, type DnsFinding, finding, worstStatus } from "./dns.check-common";
import { checkNameservers } from "./dns.check-ns";
import { checkAddresses } from "./dns.check-address";
import { checkMx } from "./dns.check-mx";
import { checkDkim, checkDmarc, checkMtaSts, checkSpf, checkTlsRpt } from "./dns.check-mailauth";
import { checkReverseDns } from "./dns.check-ptr";
import { detectSetup, setupFinding } from "./dns.check-setup";

export { type FindingStatus, type DnsFinding, type DnsCheckResult, type DnsCheckerOptions, worstStatus, SOA_RANGES, reverseName } from "./dns.check-common";

const SECTIONS: [string, (context: Context) => Promise<DnsFinding[]>][] = [
  ["ns", checkNameservers],
  ["address", checkAddresses],
  ["mx", checkMx],
  ["spf", checkSpf],
  ["dkim", checkDkim],
  ["dmarc", checkDmarc],
  ["mta_sts", checkMtaSts],
  ["tls_rpt", checkTlsRpt],
  ["ptr", checkReverseDns],
];

/** Slack after the deadline for answers already on their way, before a section is given up as unfinished. */
const DEADLINE_GRACE_MS = 250;

export interface DnsChecker {
  check(profile: DomainDnsProfile): Promise<DnsCheckResult & { queries: DnsLookup["sent"] }>;
  /** Checks many domains, at most `concurrency` at a time; results in the order given. */
  checkMany(profiles: DomainDnsProfile[], concurrency: number, onResult?: (result: DnsCheckResult) => Promise<void> | void): Promise<DnsCheckResult[]>;
}

export function createDnsChecker(options: DnsCheckerOptions): DnsChecker {
  const monotonicNow = options.monotonicNow ?? (() => performance.now());

  async function runSection(name: string, section: (context: Context) => Promise<DnsFinding[]>, context: Context, deadline: number): Promise<DnsFinding[]> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DnsFinding[]>((resolve) => {
      timer = setTimeout(
        () =>
          resolve([
            finding(`${name}.unfinished`, "ERROR", context.hosts.apex, null, message("dns.unfinished.found", { ms: options.checkTimeoutMs }), message("dns.unfinished.fix")),
          ]),
        Math.max(0, deadline - monotonicNow()) + DEADLINE_GRACE_MS,
      );
    });
    try {
      return await Promise.race([section(context), late]);
    } catch (error) {
      // A bug in a rule must not cost the customer the other findings.
      return [
        finding(
          `${name}.internal`,
          "ERROR",
          context.hosts.apex,
          null,
          message("dns.internal.found", { reason: error instanceof Error ? error.message : String(error) }),
          message("dns.internal.fix"),
        ),
      ];
    } finally {
      clearTimeout(timer);
    }
  }

  async function check(profile: DomainDnsProfile) {
    const started = monotonicNow();
    const checkedAt = options.clock();
    const deadline = started + options.checkTimeoutMs;
    const lookup = new DnsLookup({
      transport: options.transport,
      resolvers: options.resolvers,
      queryTimeoutMs: options.queryTimeoutMs,
      attempts: options.queryAttempts,
      deadline,
      monotonicNow,
      allowPrivate: options.allowPrivate ?? false,
    });
    const context: Context = {
      profile,
      service: options.service,
      hosts: hostsOf(profile.name, options.service),
      expected: expectedRecords(profile, options.service),
      lookup,
      resolve: (name, type) => lookup.resolve(name, type),
      nameserverPort: options.nameserverPort ?? 53,
    };
    let detectedSetup: DnsSetup | null = null;
    const [sections, detection] = await Promise.all([
      Promise.all(SECTIONS.map(([name, section]) => runSection(name, section, context, deadline))),
      runSection(
        "setup",
        async (inner) => {
          const detected = await detectSetup(inner);
          detectedSetup = detected.setup;
          return [setupFinding(inner, detected)];
        },
        context,
        deadline,
      ),
    ]);
    const all = [...sections.flat(), ...detection];
    // A domain that does not exist fails every rule about its records; one
    // finding says so, and the service's own reverse DNS is still reported.
    const findings = context.domainMissing ? all.filter((item) => item.check === "ns.delegation" || item.check === "ptr.mail_server") : all;
    return {
      domain: profile.name,
      setup: profile.setup,
      detectedSetup,
      status: worstStatus(findings.map((item) => item.status)),
      findings,
      checkedAt,
      durationMs: Math.round(monotonicNow() - started),
      queries: lookup.sent,
    };
  }

  return {
    check,
    async checkMany(profiles, concurrency, onResult) {
      const results = new Array<DnsCheckResult>(profiles.length);
      let next = 0;
      const worker = async () => {
        while (next < profiles.length) {
          const index = next++;
          const { queries: _queries, ...result } = await check(profiles[index]!);
          results[index] = result;
          await onResult?.(result);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, profiles.length)) }, worker));
      return results;
    },
  };
}
