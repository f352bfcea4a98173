// Issue 17: a line dated 2005 was accepted although records older than the
// retention are pruned. Such a line is now read, counted as tooOld in the
// ingest answer (GraphQL and REST) and in the audit entry, and not stored:
// it is not rejected either, since nothing is wrong with it.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { logLine } from "../helpers/log-lines";
import { RestClient } from "../helpers/rest-client";

const INGEST = `mutation($source: String!, $lines: [String!]!) {
  ingestMailLog(source: $source, lines: $lines) { accepted duplicates tooOld rejected { lineNumber reason line } }
}`;
const DAY = 86_400_000;

describe("ingesting lines older than the retention", () => {
  let app: TestApp;
  let support: string;
  let rest: RestClient;
  beforeAll(async () => {
    app = await startTestApp({ MAIL_LOG_RETENTION_DAYS: "183" });
    support = await tokenFor(app, await supportAdmin(app));
    rest = await RestClient.connect(app);
  });
  afterAll(() => app.close());

  it("counts a line from 2005 as tooOld, stores none of it, and audits the count", async () => {
    const { user } = await makeWorld(app);
    const source = uniqueName("old");
    const tag = uniqueName("r");
    const lines = [
      `2005/06/01 16:35:10 19581-429D733B.0008B021 Mail.RL boss@partner.example ${user.address} - (${tag} FW: 痘痘學/719433)FAIL Destination mailbox exceeds quota`,
      logLine({ at: new Date(Date.now() - 184 * DAY), direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} 184 days` }),
      logLine({ at: new Date(Date.now() - 182 * DAY), direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} 182 days` }),
      logLine({ direction: "LR", sender: user.address, recipient: "x@remote.example", subject: `${tag} today` }),
    ];
    const response = await app.gql(INGEST, { source, lines }, support);
    expect(response.errors).toBeUndefined();
    expect(response.data.ingestMailLog).toEqual({ accepted: 2, duplicates: 0, tooOld: 2, rejected: [] });

    const stored = await app.deps.db.mailLogRecord.findMany({ where: { subject: { startsWith: tag } }, orderBy: { loggedAt: "asc" } });
    expect(stored.map((record) => record.subject)).toEqual([`${tag} 182 days`, `${tag} today`]);
    expect(await app.deps.db.rejectedLogLine.count({ where: { sourceName: source } })).toBe(0);

    const audit = await app.gql(`query($id: ID!) { auditLog(objectId: $id, action: "maillog.ingest") { nodes { changes { field after } } } }`, { id: source }, support);
    expect(audit.data.auditLog.nodes[0].changes).toContainEqual({ field: "tooOld", after: 2 });

    // Over REST the answer is the same.
    const again = await rest.request("POST", `/api/v1/mail-log/${source}`, { token: support, json: { lines } });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ accepted: 0, duplicates: 2, rejected: [], otherLines: 0, tooOld: 2 });
  });
});
