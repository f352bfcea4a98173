// probeMailServer against a real MTA: Debian's Postfix, as an instance of the
// test's own (its own configuration and folders, on 127.0.0.25:2525, STARTTLS
// on a self-signed certificate), started here and stopped at the end; the
// host's Postfix is never touched. No Postfix is a failure, never a skip.
import { randomInt } from "node:crypto";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { startDnsWorld, type DnsWorld } from "../helpers/dns-world";
import { startPostfixInstance, type PostfixInstance } from "../helpers/postfix-instance";

const POSTFIX_ADDRESS = "127.0.0.25";
const POSTFIX_PORT = 2525;

describe("probeMailServer against Postfix", () => {
  let world: DnsWorld;
  let app: TestApp;
  let postfix: PostfixInstance;
  let support: string;
  const domain = `${uniqueName("postfix")}.example`;
  const myhostname = "mx.postfix-probe.test";

  beforeAll(async () => {
    postfix = await startPostfixInstance({ address: POSTFIX_ADDRESS, port: POSTFIX_PORT, hostname: myhostname });
    world = await startDnsWorld([{ name: domain, records: `@ IN MX 10 smtp\nsmtp IN A ${POSTFIX_ADDRESS}` }]);
    app = await startTestApp({ ...world.config, PROBE_PORT: String(POSTFIX_PORT), PROBE_ALLOW_PRIVATE: "true", PROBE_HELO_NAME: `probe${randomInt(1000)}.mailsvc.example` });
    support = await tokenFor(app, await supportAdmin(app));
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await world?.stop();
    await postfix?.stop();
  });

  it("reads Postfix's greeting and extensions, upgrades with STARTTLS, and quits", async () => {
    const response = await app.gql(
      `query($domain: String!) { probeMailServer(domain: $domain) { status verdict attempts {
         address port outcome failedStep error greeting { code lines } ehlo { code lines } extensions transcript
         tls { established subject trusted selfSigned } } } }`,
      { domain },
      support,
    );
    expect(response.errors).toBeUndefined();
    const result = response.data.probeMailServer;
    expect(result.status).toBe("REACHABLE");
    const [attempt] = result.attempts;
    expect(attempt).toMatchObject({
      address: POSTFIX_ADDRESS,
      port: POSTFIX_PORT,
      outcome: "GREETED",
      failedStep: null,
      error: null,
      greeting: { code: 220, lines: [`${myhostname} ESMTP Postfix`] },
    });
    expect(attempt.ehlo.lines[0]).toBe(myhostname);
    // Postfix's standard extensions, with the size limit it is configured with.
    expect(attempt.extensions).toEqual(
      expect.arrayContaining(["PIPELINING", `SIZE ${postfix.postconf("message_size_limit")}`, "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"]),
    );
    expect(attempt.transcript.at(-1)).toMatch(/^S: 221 2\.0\.0 Bye$/);
    expect(attempt.ehlo.lines).toContain("STARTTLS");
    expect(attempt.tls).toMatchObject({ established: true, subject: `CN=${myhostname}`, trusted: false, selfSigned: true });
  });
});
