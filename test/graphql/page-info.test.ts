// PageInfo follows the Relay spec: besides hasNextPage and endCursor, every
// connection answers hasPreviousPage (true when the page was asked for with
// `after`: it continues an earlier page) and startCursor (the first edge's
// cursor), page after page, for each kind of list.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeWorld, uniqueName, makeDomain } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";

const PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor }";

interface Page {
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  edges: { cursor: string }[];
}

describe("PageInfo", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  /** Reads a list two at a time to its end, checking each page's PageInfo against its edges. */
  async function walk(read: (after: string | null) => Promise<Page>): Promise<Page[]> {
    const pages: Page[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await read(after);
      expect(page.pageInfo).toEqual({
        hasNextPage: page.pageInfo.hasNextPage,
        hasPreviousPage: after !== null,
        startCursor: page.edges[0]?.cursor ?? null,
        endCursor: page.edges.at(-1)?.cursor ?? null,
      });
      pages.push(page);
      if (!page.pageInfo.hasNextPage) return pages;
      after = page.pageInfo.endCursor;
    }
  }

  function summary(pages: Page[]) {
    return pages.map((page) => ({ size: page.edges.length, hasPreviousPage: page.pageInfo.hasPreviousPage, hasNextPage: page.pageInfo.hasNextPage }));
  }

  const threePagesOfFive = [
    { size: 2, hasPreviousPage: false, hasNextPage: true },
    { size: 2, hasPreviousPage: true, hasNextPage: true },
    { size: 1, hasPreviousPage: true, hasNextPage: false },
  ];

  it("pages of domains, of a domain's accounts, of the audit trail and of API tokens", async () => {
    const world = await makeWorld(app);
    const support = world.tokens.support;

    const prefix = uniqueName("pi");
    for (let index = 0; index < 5; index += 1) await makeDomain(app, { name: `${prefix}-${index}.example` });
    const domains = await walk(async (after) => {
      const answer = await app.gql(`query($a: String) { domains(search: "${prefix}", first: 2, after: $a) { ${PAGE_INFO} } }`, { a: after }, support);
      expect(answer.errors).toBeUndefined();
      return answer.data.domains;
    });
    expect(summary(domains)).toEqual(threePagesOfFive);

    for (let index = 0; index < 3; index += 1) await makeAccount(app, world.domain);
    const accounts = await walk(async (after) => {
      const answer = await app.gql(
        `query($n: String!, $a: String) { domain(name: $n) { accounts(first: 2, after: $a) { ${PAGE_INFO} } } }`,
        { n: world.domain.name, a: after },
        support,
      );
      expect(answer.errors).toBeUndefined();
      return answer.data.domain.accounts;
    });
    expect(summary(accounts)).toEqual(threePagesOfFive); // the administrator, the user of makeWorld and three more

    for (let quota = 1; quota <= 4; quota += 1) {
      const updated = await app.gql(
        `mutation($id: ID!, $q: Int) { updateDomain(id: $id, input: { quotaMb: $q }) { domain { id } } }`,
        { id: world.domain.id, q: 100_000 + quota },
        support,
      );
      expect(updated.errors).toBeUndefined();
    }
    const audit = await walk(async (after) => {
      const answer = await app.gql(
        `query($o: ID, $a: String) { auditLog(objectId: $o, action: "domain.update", first: 2, after: $a) { ${PAGE_INFO} } }`,
        { o: world.domain.id, a: after },
        support,
      );
      expect(answer.errors).toBeUndefined();
      return answer.data.auditLog;
    });
    expect(summary(audit).map((page) => page.size)).toEqual([2, 2]);
    expect(summary(audit).map((page) => page.hasPreviousPage)).toEqual([false, true]);

    for (let index = 0; index < 5; index += 1) await apiTokenOf(app, world.admin, ["READ"]);
    const tokens = await walk(async (after) => {
      const answer = await app.gql(`query($d: ID, $a: String) { apiTokens(domainId: $d, first: 2, after: $a) { ${PAGE_INFO} } }`, { d: world.domain.id, a: after }, support);
      expect(answer.errors).toBeUndefined();
      return answer.data.apiTokens;
    });
    expect(summary(tokens)).toEqual(threePagesOfFive);

    // Mailboxes above quota: five full mailboxes of a domain of their own.
    const full = await makeDomain(app);
    const mailboxes = [];
    for (let index = 0; index < 5; index += 1) mailboxes.push(await makeAccount(app, full.domain, { quotaMb: 1 }));
    const reported = await app.gql(
      `mutation($input: [MailboxUsageInput!]!) { reportMailboxUsage(input: $input) { accepted } }`,
      { input: mailboxes.map((mailbox) => ({ address: mailbox.address, bytes: 2 * 1024 * 1024, messages: 1 })) },
      support,
    );
    expect(reported.data.reportMailboxUsage.accepted).toBe(5);
    const aboveQuota = await walk(async (after) => {
      const answer = await app.gql(
        `query($d: ID, $a: String) { mailboxesAboveQuota(percent: 100, domainId: $d, first: 2, after: $a) { ${PAGE_INFO} } }`,
        { d: full.domain.id, a: after },
        support,
      );
      expect(answer.errors).toBeUndefined();
      return answer.data.mailboxesAboveQuota;
    });
    expect(summary(aboveQuota)).toEqual(threePagesOfFive);
  });

  it("answers an empty page with no cursors", async () => {
    const world = await makeWorld(app);
    const answer = await app.gql(`{ domains(search: "${uniqueName("none")}", first: 2) { ${PAGE_INFO} } }`, {}, world.tokens.support);
    expect(answer.data.domains.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null });
  });
});
