import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";

const MAIL_LOG = `query($address: String!, $range: MailLogRange, $direction: MailDirection, $status: DeliveryStatus,
                        $counterpart: String, $subject: String, $first: Int, $after: String) {
  mailLog(address: $address, range: $range, direction: $direction, status: $status, counterpart: $counterpart,
          subject: $subject, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { subject status direction sender recipient localAddress reason retryCount queuedForSeconds source rawLine }
  }
}`;
const INGEST = `mutation($source: String!, $lines: [String!]!) {
  ingestMailLog(source: $source, lines: $lines) { accepted duplicates rejected { lineNumber reason line } }
}`;
const DAY = 86_400_000;

describe("reading delivery records", () => {
  let app: TestApp;
  let support: string;
  beforeAll(async () => {
    app = await startTestApp();
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(() => app.close());

  async function ingest(lines: string[], token = support) {
    return app.gql(INGEST, { source: uniqueName("push"), lines }, token);
  }

  it("answers today's records by default and six months' on request, newest first, with the raw line", async () => {
    const { user } = await makeWorld(app);
    const tag = uniqueName("t");
    const today = logLine({ direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} today` });
    await ingest([
      today,
      logLine({ at: new Date(Date.now() - 40 * DAY), direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} 40 days` }),
      logLine({ at: new Date(Date.now() - 200 * DAY), direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} 200 days` }),
    ]);
    const byDefault = await app.gql(MAIL_LOG, { address: user.address }, support);
    expect(byDefault.data.mailLog.nodes).toEqual([expect.objectContaining({ subject: `${tag} today`, rawLine: today, localAddress: user.address, queuedForSeconds: 60 })]);
    const sixMonths = await app.gql(MAIL_LOG, { address: user.address, range: "LAST_6_MONTHS" }, support);
    expect(sixMonths.data.mailLog.nodes.map((node: any) => node.subject)).toEqual([`${tag} today`, `${tag} 40 days`]);
  });

  it("filters by direction, status, counterpart and subject, and pages with a cursor", async () => {
    const { user } = await makeWorld(app);
    const tag = uniqueName("f");
    const minute = 60_000;
    await ingest([
      logLine({
        at: new Date(Date.now() - 5 * minute),
        direction: "LR",
        sender: user.address,
        recipient: "boss@remote.example",
        subject: `${tag} report`,
        status: "RETRY.2 Operation timed out",
      }),
      logLine({
        at: new Date(Date.now() - 4 * minute),
        direction: "RL",
        sender: "boss@remote.example",
        recipient: user.address,
        subject: `${tag} Re: report`,
        status: "FAIL Destination mailbox exceeds quota",
      }),
      logLine({ at: new Date(Date.now() - 3 * minute), direction: "RL", sender: "news@list.example", recipient: user.address, subject: `${tag} newsletter` }),
      logLine({ at: new Date(Date.now() - 2 * minute), direction: "LR", sender: user.address, recipient: "friend@remote.example", subject: `${tag} lunch?` }),
    ]);
    // Six months, not today: minutes ago may be yesterday in Taipei when the test runs just after midnight there.
    const query = (variables: Record<string, unknown>) => app.gql(MAIL_LOG, { address: user.address, range: "LAST_6_MONTHS", ...variables }, support);
    const subjects = (response: any) => response.data.mailLog.nodes.map((node: any) => node.subject.replace(`${tag} `, ""));
    expect(subjects(await query({ direction: "INBOUND" }))).toEqual(["newsletter", "Re: report"]);
    expect(subjects(await query({ status: "FAIL" }))).toEqual(["Re: report"]);
    expect((await query({ status: "RETRY" })).data.mailLog.nodes[0]).toMatchObject({ retryCount: 2, reason: "Operation timed out" });
    expect(subjects(await query({ counterpart: "BOSS@" }))).toEqual(["Re: report", "report"]);
    expect(subjects(await query({ subject: "REPORT" }))).toEqual(["Re: report", "report"]);
    const first = await query({ first: 3 });
    expect(first.data.mailLog).toMatchObject({ totalCount: 4, pageInfo: { hasNextPage: true } });
    const second = await query({ first: 3, after: first.data.mailLog.pageInfo.endCursor });
    expect(subjects(first).concat(subjects(second))).toEqual(["lunch?", "newsletter", "Re: report", "report"]);
    expect(errorCode(await query({ after: "bm90IGEgY3Vyc29y" }))).toBe("BAD_USER_INPUT");
  });

  it("lets support read any address, the domain's administrator its domain's, a user only its own", async () => {
    const world = await makeWorld(app);
    const colleague = await makeAccount(app, world.domain);
    const tag = uniqueName("r");
    await ingest([logLine({ direction: "RL", sender: "a@remote.example", recipient: colleague.address, subject: tag })]);
    const read = async (token: string | undefined, address = colleague.address) => app.gql(MAIL_LOG, { address }, token);
    expect((await read(world.tokens.support)).data.mailLog.totalCount).toBe(1);
    expect((await read(world.tokens.admin)).data.mailLog.totalCount).toBe(1);
    expect(errorCode(await read(world.tokens.otherAdmin))).toBe("NOT_FOUND");
    expect(errorCode(await read(world.tokens.user))).toBe("NOT_FOUND");
    expect(errorCode(await read(world.tokens.anonymous))).toBe("UNAUTHENTICATED");
    expect((await read(await tokenFor(app, colleague))).data.mailLog.totalCount).toBe(1);
    // A domain that is not hosted here answers like one that is not yours.
    expect(errorCode(await read(world.tokens.admin, "someone@not-hosted.example"))).toBe("NOT_FOUND");
    const own = await app.gql(`{ me { ... on Account { mailLog { totalCount } } } }`, {}, await tokenFor(app, colleague));
    expect(own.data.me.mailLog.totalCount).toBe(1);
  });

  it("reads an account's records through Account.mailLog", async () => {
    const world = await makeWorld(app);
    await ingest([logLine({ direction: "LR", sender: world.user.address, recipient: "z@remote.example", subject: uniqueName("acct") })]);
    const response = await app.gql(
      `query($id: ID!) { account(id: $id) { mailLog(range: LAST_6_MONTHS) { totalCount nodes { direction } } } }`,
      { id: world.user.id },
      world.tokens.admin,
    );
    expect(response.data.account.mailLog).toEqual({ totalCount: 1, nodes: [{ direction: "OUTBOUND" }] });
  });

  it("answers the portal's usual selection from the brief columns with the same values, and reads every column when a field needs more", async () => {
    const { user } = await makeWorld(app);
    const tag = uniqueName("brief");
    await ingest([
      logLine({ direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} one`, status: "RETRY.1 Operation timed out" }),
      logLine({ direction: "RL", sender: "y@remote.example", recipient: user.address, subject: `${tag} two` }),
    ]);
    const briefFields = "id loggedAt queueId queuedAt queuedForSeconds direction sender recipient subject sizeBytes status retryCount reason localAddress";
    const userToken = await tokenFor(app, user);
    const read = async (fields: string) => {
      const before = app.statements.length;
      const response = await app.gql(`query($a: String!) { mailLog(address: $a) { totalCount nodes { ${fields} } } }`, { a: user.address }, userToken);
      expect(response.errors).toBeUndefined();
      return { log: response.data.mailLog, statements: app.workStatementsSince(before) };
    };
    const brief = await read(briefFields);
    const full = await read(`${briefFields} source rawLine format dsn relay delaySeconds originalRecipient`);
    expect(brief.log.totalCount).toBe(2);
    expect(brief.log.nodes.map((node: { subject: string }) => node.subject)).toEqual([`${tag} two`, `${tag} one`]);
    // The same values for the fields both ask, and the rest present in the full answer.
    expect(full.log.nodes.map((node: Record<string, unknown>) => Object.fromEntries(briefFields.split(" ").map((field) => [field, node[field]])))).toEqual(brief.log.nodes);
    expect(full.log.nodes[1]).toMatchObject({ rawLine: expect.stringContaining(`${tag} one`), format: "EZML" });
    const pageStatement = (statements: string[]) => statements.find((sql) => sql.includes('FROM "mail_log_record" r'))!;
    expect(pageStatement(brief.statements)).not.toContain("r.*");
    expect(pageStatement(full.statements)).toContain("r.*");
    // A user reading its own log: the caller and the page, no statement to find whose address it is.
    expect(brief.statements).toHaveLength(2);
  });
});

describe("ingestMailLog", () => {
  let app: TestApp;
  let support: string;
  beforeAll(async () => {
    app = await startTestApp();
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(() => app.close());

  it("stores new lines, counts duplicates and reports rejected lines with their number and reason", async () => {
    const tag = uniqueName("i");
    const lines = [logLine({ subject: `${tag} 1` }), logLine({ subject: `${tag} 2` }), "not a log line"];
    const first = await app.gql(INGEST, { source: "m2k-1", lines }, support);
    expect(first.data.ingestMailLog).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [{ lineNumber: 3, line: "not a log line", reason: expect.stringContaining("does not start with a date") }],
    });
    const again = await app.gql(INGEST, { source: "m2k-2", lines: [lines[1], lines[0], logLine({ subject: `${tag} 3` })] }, support);
    expect(again.data.ingestMailLog).toMatchObject({ accepted: 1, duplicates: 2, rejected: [] });
    const audit = await app.deps.db.auditEntry.findFirst({ where: { action: "maillog.ingest", objectId: "m2k-2" }, orderBy: { id: "desc" } });
    expect(audit?.changes).toEqual([
      { field: "accepted", before: null, after: 1 },
      { field: "duplicates", before: null, after: 2 },
      { field: "rejected", before: null, after: 0 },
      { field: "tooOld", before: null, after: 0 },
      { field: "format", before: null, after: "ezml" },
    ]);
  });

  it("lets support staff read the rejected lines, newest first, and nobody else", async () => {
    const source = uniqueName("rej");
    await app.gql(INGEST, { source, lines: ["garbage one", logLine(), "garbage two"] }, support);
    const query = `query($s: String) { rejectedLogLines(source: $s) { totalCount nodes { source path lineNumber line reason } } }`;
    const response = await app.gql(query, { s: source }, support);
    expect(response.data.rejectedLogLines).toEqual({
      totalCount: 2,
      nodes: [
        { source, path: null, lineNumber: 3, line: "garbage two", reason: expect.stringContaining("date and time") },
        { source, path: null, lineNumber: 1, line: "garbage one", reason: expect.stringContaining("date and time") },
      ],
    });
    const world = await makeWorld(app);
    expect(errorCode(await app.gql(query, { s: source }, world.tokens.admin))).toBe("FORBIDDEN");
  });

  it("is for support staff only", async () => {
    const world = await makeWorld(app);
    const lines = [logLine({ subject: uniqueName("deny") })];
    expect(errorCode(await app.gql(INGEST, { source: "m2k-1", lines }, world.tokens.admin))).toBe("FORBIDDEN");
    expect(errorCode(await app.gql(INGEST, { source: "m2k-1", lines }, world.tokens.user))).toBe("FORBIDDEN");
    expect(errorCode(await app.gql(INGEST, { source: "m2k-1", lines }))).toBe("UNAUTHENTICATED");
  });

  it("refuses a bad source name, time zone or oversized batch, naming the field", async () => {
    const line = [logLine()];
    expect((await app.gql(INGEST, { source: "bad source!", lines: line }, support)).errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "source" });
    const zone = await app.gql(`mutation($l: [String!]!) { ingestMailLog(source: "x", lines: $l, timeZone: "Mars/Olympus") { accepted } }`, { l: line }, support);
    expect(zone.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "timeZone" });
    const many = await app.gql(INGEST, { source: "x", lines: Array.from({ length: 10_001 }, () => "x") }, support);
    expect(many.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "lines" });
    const broken = await app.gql(INGEST, { source: "x", lines: ["2005/06/01 15:20:56 - (\ud800/1)OK"] }, support);
    expect(broken.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "lines" });
  });
});
