// probeMailServer against real SMTP peers on loopback: smtp-server peers for
// the servers that speak SMTP (healthy, STARTTLS with a self-signed
// certificate, 421 and 554 greetings), raw sockets for the ones no SMTP
// library imitates (silent, one byte a second, a three-line greeting), an
// address nobody listens on (refused), with the domains' MX and A records
// served by NSD (test/helpers/dns-world.ts).
import { randomInt } from "node:crypto";
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";
import { freePort, selfSignedCertificate, startRawPeer, startSmtpPeer, type RunningPeer } from "../helpers/smtp-peers";

const PROBE = `query($domain: String!) {
  probeMailServer(domain: $domain) {
    domain mxSource status verdict durationMs
    exchangers { host preference addresses dnsError }
    attempts {
      host address port outcome connected failedStep error connectMs greetingMs durationMs transcript extensions
      greeting { code lines }
      ehlo { code lines }
      tls { established protocol subject subjectAltNames issuer validTo selfSigned trusted trustError error }
    }
  }
}`;

const block = `127.${randomInt(16, 250)}.${randomInt(0, 256)}`;
const ip = {
  healthy: `${block}.10`,
  tls: `${block}.11`,
  refused: `${block}.12`,
  silent: `${block}.13`,
  slow: `${block}.14`,
  busy: `${block}.15`,
  noService: `${block}.16`,
  multiline: `${block}.17`,
};
const name = (label: string) => `${uniqueName(label)}.example`;
const D = {
  healthy: name("healthy"),
  tls: name("tls"),
  refused: name("refused"),
  silent: name("silent"),
  slow: name("slow"),
  busy: name("busy"),
  noService: name("nosvc"),
  multiline: name("multi"),
  oneDead: name("onedead"),
  implicit: name("implicit"),
  nullMx: name("nullmx"),
  hosted: name("hosted"),
  missing: name("missing"),
  budget: name("budget"),
};
/** What smtp-server announces after EHLO (besides SIZE and STARTTLS when configured). */
const SMTP_SERVER_EXTENSIONS = ["PIPELINING", "8BITMIME", "SMTPUTF8"];

describe("probeMailServer", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;
  let port: number;
  const peers: Record<string, RunningPeer> = {};
  const certificate = selfSignedCertificate(`mx.${D.tls}`);

  beforeAll(async () => {
    const mx = (address: string) => `@ IN MX 10 mx\nmx IN A ${address}`;
    world = await startDnsWorld([
      { name: D.healthy, records: mx(ip.healthy) },
      { name: D.tls, records: mx(ip.tls) },
      { name: D.refused, records: mx(ip.refused) },
      { name: D.silent, records: mx(ip.silent) },
      { name: D.slow, records: mx(ip.slow) },
      { name: D.busy, records: mx(ip.busy) },
      { name: D.noService, records: mx(ip.noService) },
      { name: D.multiline, records: mx(ip.multiline) },
      { name: D.oneDead, records: `@ IN MX 10 mx1\n@ IN MX 20 mx2\nmx1 IN A ${ip.refused}\nmx2 IN A ${ip.healthy}` },
      { name: D.implicit, records: `@ IN A ${ip.healthy}` },
      { name: D.nullMx, records: "@ IN MX 0 ." },
      { name: D.hosted, records: mx(ip.healthy) },
      { name: D.budget, records: `@ IN MX 10 a\n@ IN MX 20 b\n@ IN MX 30 c\na IN A ${ip.silent}\nb IN A ${ip.silent}\nc IN A ${ip.silent}` },
    ]);
    port = await freePort(ip.healthy);
    peers.healthy = await startSmtpPeer(ip.healthy, port, { name: "mx.healthy.test", banner: "ready", size: 10_485_760 });
    peers.tls = await startSmtpPeer(ip.tls, port, { name: "mx.tls.test", banner: "ready", tls: certificate });
    peers.busy = await startSmtpPeer(ip.busy, port, { name: "busy.test", greetingError: { code: 421, message: "busy.test Service not available, too many connections" } });
    peers.noService = await startSmtpPeer(ip.noService, port, { name: "nosvc.test", greetingError: { code: 554, message: "nosvc.test No SMTP service here" } });
    peers.silent = await startRawPeer(ip.silent, port, "silent");
    peers.slow = await startRawPeer(ip.slow, port, "slow");
    peers.multiline = await startRawPeer(ip.multiline, port, "multiline");
    app = await startTestApp({
      ...world.config,
      PROBE_PORT: String(port),
      PROBE_ALLOW_PRIVATE: "true",
      PROBE_CONNECT_TIMEOUT_MS: "1000",
      PROBE_GREETING_TIMEOUT_MS: "1500",
      PROBE_COMMAND_TIMEOUT_MS: "1500",
      PROBE_TOTAL_TIMEOUT_MS: "6000",
      PROBE_HELO_NAME: "probe.mailsvc.example",
      PROBE_RATE_LIMIT_PER_TARGET: "1000",
      PROBE_RATE_LIMIT_PER_USER: "1000",
    });
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all(Object.values(peers).map((peer) => peer.stop()));
    await world?.stop();
  });

  const probe = async (domain: string, token = support) => {
    const response = await app.gql(PROBE, { domain }, token);
    expect(response.errors).toBeUndefined();
    return response.data.probeMailServer;
  };

  it("reports a healthy server: greeting, EHLO extensions, latency, and QUIT without sending mail", async () => {
    const result = await probe(D.healthy);
    expect(result).toMatchObject({
      domain: D.healthy,
      mxSource: "MX",
      status: "REACHABLE",
      exchangers: [{ host: `mx.${D.healthy}`, preference: 10, addresses: [ip.healthy], dnsError: null }],
    });
    expect(result.attempts).toHaveLength(1);
    const [attempt] = result.attempts;
    expect(attempt).toMatchObject({
      host: `mx.${D.healthy}`,
      address: ip.healthy,
      port,
      outcome: "GREETED",
      connected: true,
      failedStep: null,
      error: null,
      greeting: { code: 220, lines: ["mx.healthy.test ESMTP ready"] },
      tls: null,
      extensions: [...SMTP_SERVER_EXTENSIONS, "SIZE 10485760"],
    });
    expect(attempt.ehlo.lines[0]).toMatch(/^mx\.healthy\.test Nice to meet you, \[127\.\d+\.\d+\.\d+\]$/);
    expect(attempt.connectMs).toBeGreaterThanOrEqual(0);
    expect(attempt.greetingMs).toBeGreaterThanOrEqual(attempt.connectMs);
    expect(attempt.greetingMs).toBeLessThan(1000);
    expect(attempt.transcript.filter((line: string) => line.startsWith("C:"))).toEqual(["C: EHLO probe.mailsvc.example", "C: QUIT"]);
    expect(attempt.transcript.at(-1)).toMatch(/^S: 221 /);
    expect(result.verdict).toBe(`mx.${D.healthy} (${ip.healthy}) greeted in ${attempt.greetingMs} ms: the remote side is up and accepts connections.`);
    expect(peers.healthy!.commands).toEqual([]); // no MAIL FROM ever reached it
  });

  it("upgrades with STARTTLS and reports the self-signed certificate's names, issuer and expiry", async () => {
    const result = await probe(D.tls);
    const [attempt] = result.attempts;
    expect(attempt).toMatchObject({ outcome: "GREETED", failedStep: null, error: null });
    expect(attempt.transcript.filter((line: string) => line.startsWith("C:"))).toEqual([
      "C: EHLO probe.mailsvc.example",
      "C: STARTTLS",
      "C: EHLO probe.mailsvc.example",
      "C: QUIT",
    ]);
    expect(attempt.ehlo.lines).toContain("STARTTLS");
    // After the upgrade the server no longer offers STARTTLS.
    expect(attempt.extensions).toEqual(SMTP_SERVER_EXTENSIONS);
    expect(attempt.tls).toMatchObject({
      established: true,
      subject: `CN=mx.${D.tls}`,
      issuer: `CN=mx.${D.tls}`,
      subjectAltNames: [`mx.${D.tls}`],
      selfSigned: true,
      trusted: false,
      trustError: "DEPTH_ZERO_SELF_SIGNED_CERT",
      error: null,
    });
    expect(attempt.tls.protocol).toMatch(/^TLSv1\.[23]$/);
    const daysLeft = (new Date(attempt.tls.validTo).getTime() - Date.now()) / 86_400_000;
    expect(Math.round(daysLeft)).toBe(30);
  });

  it("reports a refused port as REFUSED at CONNECT, with the verdict that the remote side is down", async () => {
    const result = await probe(D.refused);
    expect(result.status).toBe("UNREACHABLE");
    expect(result.attempts).toEqual([
      expect.objectContaining({
        address: ip.refused,
        outcome: "REFUSED",
        connected: false,
        failedStep: "CONNECT",
        error: "connection refused (nothing listens on that port, or a firewall rejects it)",
        greeting: null,
        transcript: [],
      }),
    ]);
    expect(result.verdict).toBe(
      `mx.${D.refused} (${ip.refused}) refused the connection: the remote side is down or unreachable from here; mail waits in the queue and the recipient's administrator must bring the server back.`,
    );
  });

  it("gives up on a peer that connects and never speaks after the greeting timeout", async () => {
    const started = Date.now();
    const result = await probe(D.silent);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.status).toBe("UNREACHABLE");
    expect(result.attempts[0]).toMatchObject({ outcome: "TIMEOUT", connected: true, failedStep: "GREETING", error: "no complete reply within 1500 ms", greeting: null });
    expect(result.attempts[0].durationMs).toBeGreaterThanOrEqual(1490);
    expect(result.verdict).toMatch(
      new RegExp(`^mx\\.${D.silent.replace(".", "\\.")} \\(${ip.silent.replaceAll(".", "\\.")}\\) accepted the connection but timed out at greeting: the remote side is down`),
    );
    expect(peers.silent!.connections).toBe(1);
  });

  it("counts a greeting trickling in one byte a second as a timeout, not a hang", async () => {
    const started = Date.now();
    const result = await probe(D.slow);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.attempts[0]).toMatchObject({ outcome: "TIMEOUT", connected: true, failedStep: "GREETING", error: "no complete reply within 1500 ms", greeting: null });
  });

  it("reports a 421 greeting as a temporary refusal and a 554 greeting as a permanent one", async () => {
    const busy = await probe(D.busy);
    expect(busy.status).toBe("REJECTING");
    expect(busy.attempts[0]).toMatchObject({
      outcome: "GREETING_REJECTED",
      connected: true,
      failedStep: "GREETING",
      greeting: { code: 421, lines: ["busy.test Service not available, too many connections"] },
      error: "the server greeted with 421 instead of 220: busy.test Service not available, too many connections",
    });
    expect(busy.verdict).toBe(
      `mx.${D.busy} (${ip.busy}) answered 421 "busy.test Service not available, too many connections": the remote side is up but turning connections away for now (4xx): the queue retries and should get through later.`,
    );
    const refusing = await probe(D.noService);
    expect(refusing.status).toBe("REJECTING");
    expect(refusing.attempts[0]).toMatchObject({ outcome: "GREETING_REJECTED", greeting: { code: 554, lines: ["nosvc.test No SMTP service here"] } });
    expect(refusing.verdict).toMatch(/refuses to accept mail from us \(5xx\): ask the recipient's administrator\.$/);
  });

  it("reads a multi-line greeting whole, and the extensions of a multi-line EHLO reply", async () => {
    const result = await probe(D.multiline);
    expect(result.attempts[0]).toMatchObject({
      outcome: "GREETED",
      greeting: { code: 220, lines: ["multi.example ESMTP first line", "second line of the greeting", "third and last line"] },
      ehlo: { code: 250, lines: ["multi.example hello", "SIZE 1000000", "8BITMIME"] },
      extensions: ["SIZE 1000000", "8BITMIME"],
    });
    expect(result.attempts[0].transcript.slice(0, 3)).toEqual(["S: 220-multi.example ESMTP first line", "S: 220-second line of the greeting", "S: 220 third and last line"]);
    expect(peers.multiline!.commands).toEqual(["EHLO probe.mailsvc.example", "QUIT"]);
  });

  it("tries every exchanger by preference: one dead MX and one live gives PARTIAL and says a retry will succeed", async () => {
    const result = await probe(D.oneDead);
    expect(result.exchangers).toEqual([
      { host: `mx1.${D.oneDead}`, preference: 10, addresses: [ip.refused], dnsError: null },
      { host: `mx2.${D.oneDead}`, preference: 20, addresses: [ip.healthy], dnsError: null },
    ]);
    expect(result.attempts.map((attempt: { host: string; outcome: string }) => [attempt.host, attempt.outcome])).toEqual([
      [`mx1.${D.oneDead}`, "REFUSED"],
      [`mx2.${D.oneDead}`, "GREETED"],
    ]);
    expect(result.status).toBe("PARTIAL");
    expect(result.verdict).toBe(
      `mx1.${D.oneDead} (${ip.refused}) refused the connection; mx2.${D.oneDead} (${ip.healthy}) greeted in ${result.attempts[1].greetingMs} ms: the remote side is up, a retry will succeed.`,
    );
  });

  it("falls back to the domain's own address when it has no MX (implicit MX)", async () => {
    const result = await probe(D.implicit);
    expect(result).toMatchObject({ mxSource: "IMPLICIT", status: "REACHABLE", exchangers: [{ host: D.implicit, preference: null, addresses: [ip.healthy], dnsError: null }] });
    expect(result.attempts[0]).toMatchObject({ host: D.implicit, address: ip.healthy, outcome: "GREETED" });
  });

  it("reports a null MX and a domain that does not exist as answers, not errors", async () => {
    const nullMx = await probe(D.nullMx);
    expect(nullMx).toMatchObject({ mxSource: "NULL_MX", status: "NO_MAIL_SERVER", exchangers: [], attempts: [] });
    expect(nullMx.verdict).toBe(`${D.nullMx} publishes a null MX (RFC 7505): it accepts no mail at all. Mail to it will bounce; the sender should use another address.`);
    const missing = await probe(D.missing);
    expect(missing).toMatchObject({ mxSource: "NONE", status: "DNS_FAILURE", exchangers: [], attempts: [] });
    expect(missing.verdict).toBe(
      `The mail servers of ${D.missing} could not be found: ${D.missing} does not exist in DNS (NXDOMAIN). Mail to ${D.missing} waits until its DNS answers.`,
    );
  });

  it("writes verdicts and DNS reasons in Traditional Chinese for Accept-Language zh-TW; status, outcomes and values unchanged", async () => {
    const zh = async (domain: string) => {
      const response = await app.gql(PROBE, { domain }, support, { "accept-language": "zh-TW" });
      expect(response.errors).toBeUndefined();
      return response.data.probeMailServer;
    };
    const english = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;
    for (const domain of [D.healthy, D.refused, D.nullMx, D.missing]) {
      const [en, chinese] = [await probe(domain), await zh(domain)];
      // The same answer apart from the sentences (timings differ from probe to probe).
      const shape = (result: { status: string; mxSource: string; exchangers: { host: string }[]; attempts: { outcome: string; failedStep: string | null }[] }) => ({
        status: result.status,
        mxSource: result.mxSource,
        hosts: result.exchangers.map((exchanger) => exchanger.host),
        attempts: result.attempts.map((attempt) => [attempt.outcome, attempt.failedStep]),
      });
      expect(shape(chinese)).toEqual(shape(en));
      expect({ domain, han: /\p{Script=Han}/u.test(chinese.verdict) }).toEqual({ domain, han: true });
      expect({ domain, english: english.exec(chinese.verdict)?.[0] ?? null }).toEqual({ domain, english: null });
    }
    expect((await zh(D.refused)).verdict).toBe(
      `mx.${D.refused} (${ip.refused}) 拒絕連線：對方伺服器已停止運作，或從這裡無法連線；郵件在佇列中等候，須由收件者的管理者讓伺服器恢復運作。`,
    );
    expect((await zh(D.missing)).verdict).toBe(`找不到 ${D.missing} 的郵件伺服器：DNS 中沒有 ${D.missing}（NXDOMAIN）。寄往 ${D.missing} 的郵件會等到它的 DNS 有回應為止。`);
    const healthy = await zh(D.healthy);
    expect(healthy.verdict).toBe(`mx.${D.healthy} (${ip.healthy}) 在 ${healthy.attempts[0].greetingMs} 毫秒內送出問候：對方伺服器正常運作，接受連線。`);
  });

  it("lets support probe any domain, a domain administrator its own hosted domain only", async () => {
    const f = await makeWorld(app, { name: D.hosted });
    expect((await probe(D.hosted, f.tokens.admin)).status).toBe("REACHABLE");
    const outcomes: Record<string, string | undefined> = {};
    for (const role of ["otherAdmin", "user", "anonymous"] as const) outcomes[role] = errorCode(await app.gql(PROBE, { domain: D.hosted }, f.tokens[role]));
    expect(outcomes).toEqual({ otherAdmin: "NOT_FOUND", user: "FORBIDDEN", anonymous: "UNAUTHENTICATED" });
    // A domain not hosted here: support only.
    const remote = await app.gql(PROBE, { domain: D.healthy }, f.tokens.admin);
    expect(remote.errors?.[0]).toMatchObject({ message: "Only support staff may probe the mail servers of a domain not hosted here.", extensions: { code: "FORBIDDEN" } });
  });

  it("refuses a malformed domain naming the field", async () => {
    const response = await app.gql(PROBE, { domain: "not a domain" }, support);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "domain" });
  });

  it("stops at the total budget: a step is cut to what is left, and addresses not reached are SKIPPED", async () => {
    const hurried = await startTestApp({
      ...world.config,
      PROBE_PORT: String(port),
      PROBE_ALLOW_PRIVATE: "true",
      PROBE_GREETING_TIMEOUT_MS: "1500",
      PROBE_TOTAL_TIMEOUT_MS: "2000",
    });
    try {
      const started = Date.now();
      const response = await hurried.gql(PROBE, { domain: D.budget }, await tokenFor(hurried, await supportAdmin(hurried)));
      expect(Date.now() - started).toBeLessThan(2500);
      const result = response.data.probeMailServer;
      expect(result.attempts.map((attempt: { host: string; outcome: string; failedStep: string | null }) => [attempt.host, attempt.outcome, attempt.failedStep])).toEqual([
        [`a.${D.budget}`, "TIMEOUT", "GREETING"],
        [`b.${D.budget}`, "TIMEOUT", "GREETING"],
        [`c.${D.budget}`, "SKIPPED", null],
      ]);
      expect(result.attempts[0].error).toBe("no complete reply within 1500 ms");
      // The second greeting gets what is left of the 2000 ms, not its own 1500.
      const secondLimit = Number(/^no complete reply within (\d+) ms$/.exec(result.attempts[1].error)?.[1]);
      expect(secondLimit).toBeGreaterThan(300);
      expect(secondLimit).toBeLessThan(500);
      expect(result.attempts[2]).toMatchObject({ connected: false, error: "the probe's total budget (2000 ms) was spent before this address" });
      expect(result.durationMs).toBeLessThan(2100);
    } finally {
      await hurried.close();
    }
  });

  describe("limits", () => {
    let strict: TestApp;
    let strictSupport: string;
    beforeAll(async () => {
      strict = await startTestApp({
        ...world.config,
        PROBE_PORT: String(port),
        PROBE_ALLOW_PRIVATE: "false",
        PROBE_RATE_LIMIT_PER_TARGET: "2",
        PROBE_RATE_LIMIT_PER_USER: "3",
        PROBE_RATE_WINDOW_SECONDS: "600",
      });
      strictSupport = await tokenFor(strict, await supportAdmin(strict));
    });
    afterAll(async () => strict?.close());

    it("does not connect to loopback or private addresses unless PROBE_ALLOW_PRIVATE=true", async () => {
      const before = peers.healthy!.connections;
      const response = await strict.gql(PROBE, { domain: D.implicit }, strictSupport);
      const result = response.data.probeMailServer;
      expect(result.attempts).toEqual([
        expect.objectContaining({
          address: ip.healthy,
          outcome: "NOT_ALLOWED",
          connected: false,
          error: `${ip.healthy} is a private, loopback or link-local address; probing it is refused (PROBE_ALLOW_PRIVATE=false)`,
        }),
      ]);
      expect(result.status).toBe("UNREACHABLE");
      expect(peers.healthy!.connections).toBe(before);
    });

    it("rate-limits probes per target and per user (RATE_LIMITED with retryAfterSeconds)", async () => {
      const token = await tokenFor(strict, await supportAdmin(strict));
      // Null-MX domains cost no connection: only the counting is tested here.
      for (let probeNumber = 1; probeNumber <= 2; probeNumber++) expect(errorCode(await strict.gql(PROBE, { domain: D.nullMx }, token))).toBeUndefined();
      const perTarget = await strict.gql(PROBE, { domain: D.nullMx }, token);
      expect(perTarget.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED" });
      expect(perTarget.errors?.[0]?.extensions.retryAfterSeconds).toBeGreaterThan(590);
      expect(perTarget.errors?.[0]?.message).toMatch(new RegExp(`^${D.nullMx.replace(".", "\\.")} has been probed 2 times recently; try again in \\d+ s\\.$`));
      // The refused probe was not counted: this is the caller's third, within its limit of 3; the fourth is over it.
      expect(errorCode(await strict.gql(PROBE, { domain: D.missing }, token))).toBeUndefined();
      const perUser = await strict.gql(PROBE, { domain: D.missing }, token);
      expect(perUser.errors?.[0]).toMatchObject({ extensions: { code: "RATE_LIMITED" } });
      expect(perUser.errors?.[0]?.message).toMatch(/^You have probed 3 times recently; try again in \d+ s\.$/);
    });
  });
});
