// probeMailServer against a real MTA: Debian's Postfix, which .ci/run installs
// and starts on 127.0.0.1:25 (loopback only) with STARTTLS on a self-signed
// certificate. No Postfix is a failure of this test, never a skip.
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";

const POSTFIX_PORT = Number(process.env.POSTFIX_PORT ?? 25);

function postconf(parameter: string): string {
  try {
    return execFileSync("postconf", ["-h", parameter], { encoding: "utf8" }).trim();
  } catch (error) {
    throw new Error(`Postfix is not installed (postconf failed: ${(error as Error).message}). .ci/run installs and starts it; by hand: apt-get install -y postfix && postfix start`);
  }
}

describe("probeMailServer against Postfix", () => {
  let world: DnsWorld;
  let app: TestApp;
  let support: string;
  const domain = `${uniqueName("postfix")}.example`;
  const myhostname = postconf("myhostname");
  const tlsEnabled = postconf("smtpd_tls_security_level") !== "";

  beforeAll(async () => {
    world = await startDnsWorld([{ name: domain, records: `@ IN MX 10 smtp\nsmtp IN A 127.0.0.1` }]);
    app = await startTestApp({ ...world.config, PROBE_PORT: String(POSTFIX_PORT), PROBE_ALLOW_PRIVATE: "true", PROBE_HELO_NAME: `probe${randomInt(1000)}.mailsvc.example` });
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(async () => {
    await app?.close();
    await world?.stop();
  });

  it("reads Postfix's greeting and extensions, upgrades with STARTTLS, and quits", async () => {
    const response = await app.gql(
      `query($domain: String!) { probeMailServer(domain: $domain) { status verdict attempts {
         address port outcome failedStep error greeting { code lines } ehlo { code lines } extensions transcript
         tls { established subject trusted selfSigned } } } }`,
      { domain },
      support,
    );
    if (!tlsEnabled) throw new Error("Postfix runs without TLS (smtpd_tls_security_level is empty): scripts/test-postfix.sh --configure sets it up as .ci/run does.");
    expect(response.errors).toBeUndefined();
    const result = response.data.probeMailServer;
    if (result.attempts[0]?.outcome === "REFUSED") throw new Error(`Postfix does not listen on 127.0.0.1:${POSTFIX_PORT}: start it (postfix start); .ci/run does.`);
    expect(result.status).toBe("REACHABLE");
    const [attempt] = result.attempts;
    expect(attempt).toMatchObject({
      address: "127.0.0.1",
      port: POSTFIX_PORT,
      outcome: "GREETED",
      failedStep: null,
      error: null,
      greeting: { code: 220, lines: [`${myhostname} ESMTP Postfix (Debian/GNU)`] },
    });
    expect(attempt.ehlo.lines[0]).toBe(myhostname);
    // Postfix's standard extensions, with the size limit it is configured with.
    expect(attempt.extensions).toEqual(expect.arrayContaining(["PIPELINING", `SIZE ${postconf("message_size_limit")}`, "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"]));
    expect(attempt.transcript.at(-1)).toMatch(/^S: 221 2\.0\.0 Bye$/);
    expect(attempt.ehlo.lines).toContain("STARTTLS");
    expect(attempt.tls).toMatchObject({ established: true, subject: `CN=${myhostname}`, trusted: false, selfSigned: true });
  });
});
