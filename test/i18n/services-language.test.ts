// The capabilities' refusals and bad-input errors in zh-TW, through HTTP: a
// sample from each (the policy, domains, accounts, aliases, API tokens, DKIM,
// login and two-factor, the support team, usage and delivery-log pushes, the
// rate limits). Asked with Accept-Language zh-TW the message is Chinese (Han
// characters, no run of English words once the values are taken out) and the
// code and field are those of the English answer, whose text is unchanged.
import type { GraphQLResponse, TestApp } from "../helpers/test-app";
import { useTestApp } from "../helpers/use-test-app";
import { makeWorld, PASSWORD, tokenFor, uniqueName } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";

const ZH = { "accept-language": "zh-TW" };
const ENGLISH_RUN = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;

type Ask = (headers?: Record<string, string>) => Promise<GraphQLResponse>;

/**
 * Asks in English and in zh-TW; checks the English text, that the Chinese one
 * is Chinese once `values` (names, addresses, API names put in) are removed,
 * and that code and field (all extensions) are the same. Returns the Chinese text.
 */
async function bothLanguages(ask: Ask, english: string, code: string, values: string[] = []): Promise<string> {
  const en = (await ask()).errors?.[0];
  const zh = (await ask(ZH)).errors?.[0];
  expect(en).toMatchObject({ message: english, extensions: { code } });
  expect(zh).toBeDefined();
  const { requestId: _en, ...enExtensions } = en!.extensions;
  const { requestId: _zh, ...zhExtensions } = zh!.extensions;
  expect(zhExtensions).toEqual(enExtensions);
  let bare = zh!.message;
  for (const value of values) bare = bare.split(value).join("");
  expect({ message: zh!.message, han: /\p{Script=Han}/u.test(bare), englishRun: ENGLISH_RUN.exec(bare)?.[0] ?? null }).toEqual({
    message: zh!.message,
    han: true,
    englishRun: null,
  });
  return zh!.message;
}

describe("the services' messages in zh-TW", () => {
  let app: TestApp;
  let support: string;
  let world: Awaited<ReturnType<typeof makeWorld>>;
  useTestApp((started) => ({ app, support } = started));
  beforeAll(async () => {
    world = await makeWorld(app);
  });

  it("the policy's refusals: a domain administrator, a user, read-only support", async () => {
    const createDomain = `mutation($name: String!) { createDomain(input: { name: $name }) { domain { id } } }`;
    const name = `${uniqueName("zh")}.example`;
    expect(await bothLanguages((h) => app.gql(createDomain, { name }, world.tokens.admin, h), "Only support staff may create domains.", "FORBIDDEN")).toBe(
      "只有客服人員可以建立網域。",
    );

    const createAccount = `mutation($d: ID!) { createAccount(input: { domainId: $d, localPart: "zh-user", password: "${PASSWORD}" }) { account { id } } }`;
    await bothLanguages(
      (h) => app.gql(createAccount, { d: world.domain.id }, world.tokens.user, h),
      "Only support staff and the domain's administrator may create accounts.",
      "FORBIDDEN",
    );

    const readOnly = await app.deps.db.supportAdmin.create({
      data: { username: uniqueName("ro"), displayName: "Read-only", level: "READ_ONLY", passwordHash: await app.deps.passwords.hash(PASSWORD) },
    });
    await bothLanguages(
      async (h) => app.gql(createDomain, { name }, await tokenFor(app, readOnly), h),
      "Your support account is read-only: it may read, check DNS, probe and diagnose, but not change anything. Ask a full support administrator.",
      "FORBIDDEN",
      ["DNS"],
    );
  });

  it("domains and accounts: bad input, conflicts, limits", async () => {
    const updateDomain = `mutation($id: ID!) { updateDomain(id: $id, input: { maxDestinations: 0 }) { domain { id } } }`;
    await bothLanguages((h) => app.gql(updateDomain, { id: world.domain.id }, support, h), "maxDestinations must be a whole number from 1 to 1000.", "BAD_USER_INPUT", [
      "maxDestinations",
    ]);
    const lower = `mutation($id: ID!) { updateDomain(id: $id, input: { maxAccounts: 1 }) { domain { id } } }`;
    expect(
      await bothLanguages(
        (h) => app.gql(lower, { id: world.domain.id }, support, h),
        "The domain already has 2 accounts; maxAccounts cannot be lowered to 1. Delete accounts first.",
        "CONFLICT",
        ["maxAccounts"],
      ),
    ).toBe("此網域已有 2 個帳號，maxAccounts 不能調降為 1。請先刪除帳號。");

    const duplicate = `mutation($d: ID!, $l: String!) { createAccount(input: { domainId: $d, localPart: $l, password: "${PASSWORD}" }) { account { id } } }`;
    const localPart = world.user.address.split("@")[0]!;
    await bothLanguages(
      (h) => app.gql(duplicate, { d: world.domain.id, l: localPart }, world.tokens.admin, h),
      `An account ${localPart} already exists in that domain.`,
      "CONFLICT",
      [localPart],
    );

    const suspendSelf = `mutation($id: ID!) { updateAccount(id: $id, input: { status: SUSPENDED }) { account { id } } }`;
    await bothLanguages((h) => app.gql(suspendSelf, { id: world.admin.id }, world.tokens.admin, h), "You cannot suspend your own account.", "FORBIDDEN");

    const quota = `mutation($id: ID!) { updateAccount(id: $id, input: { quotaMb: 900000000 }) { account { id } } }`;
    const capped = await makeWorld(app, { quotaMb: 100 });
    const text = await bothLanguages(
      (h) => app.gql(quota, { id: capped.user.id }, support, h),
      `A mailbox quota of 900000000 MiB is above the domain ${capped.domain.name}'s quota of 100 MiB.`,
      "QUOTA_EXCEEDED",
      [capped.domain.name, "MiB"],
    );
    expect(text).toBe(`信箱配額 900000000 MiB 高於網域 ${capped.domain.name} 的配額 100 MiB。`);
  });

  it("aliases, auto-replies and alias domains", async () => {
    const createAlias = `mutation($d: ID!, $dest: [String!]!) { createAlias(input: { domainId: $d, localPart: "zh-alias", destinations: $dest }) { alias { id } } }`;
    await bothLanguages((h) => app.gql(createAlias, { d: world.domain.id, dest: [] }, world.tokens.admin, h), "Give at least one destination address.", "BAD_USER_INPUT");
    const nowhere = `nobody-zh@${world.domain.name}`;
    await bothLanguages(
      (h) => app.gql(createAlias, { d: world.domain.id, dest: [nowhere] }, world.tokens.admin, h),
      `${nowhere} is an address of a domain hosted here, but no mailbox, forwarding or alias receives mail there: create it first.`,
      "BAD_USER_INPUT",
      [nowhere],
    );
    const autoReply = `mutation($id: ID!) { setAutoReply(accountId: $id, input: { subject: "Away", body: "Back soon", daysBetweenReplies: 99 }) { account { id } } }`;
    await bothLanguages((h) => app.gql(autoReply, { id: world.user.id }, world.tokens.user, h), "daysBetweenReplies is a whole number of days from 1 to 30.", "BAD_USER_INPUT", [
      "daysBetweenReplies",
    ]);
    const addAliasDomain = `mutation($d: ID!, $n: String!) { addAliasDomain(domainId: $d, name: $n) { domain { id } } }`;
    await bothLanguages(
      (h) => app.gql(addAliasDomain, { d: world.domain.id, n: world.otherDomain.name }, support, h),
      `${world.otherDomain.name} is a domain hosted here; it cannot also be an alias domain.`,
      "CONFLICT",
      [world.otherDomain.name],
    );
  });

  it("API tokens, their scopes, and DKIM rotations", async () => {
    const createToken = `mutation { createApiToken(input: { name: "zh", scopes: [] }) { token } }`;
    await bothLanguages((h) => app.gql(createToken, {}, world.tokens.admin, h), "Give at least one scope: READ, WRITE, LOGS, USAGE.", "BAD_USER_INPUT", [
      "READ, WRITE, LOGS, USAGE",
    ]);
    // A token's scopes are checked before execution (a plugin): its refusal is written in the answer's language too.
    const { token, row } = await apiTokenOf(app, world.admin, ["READ"]);
    const prefix = `mat_${row.publicId}`;
    const createAccount = `mutation($d: ID!) { createAccount(input: { domainId: $d, localPart: "zh-by-token", password: "${PASSWORD}" }) { account { id } } }`;
    await bothLanguages(
      (h) => app.gql(createAccount, { d: world.domain.id }, token, h),
      `The API token ${prefix} ("${row.name}") has the scopes READ; createAccount needs the WRITE scope.`,
      "FORBIDDEN",
      [prefix, row.name, "createAccount"],
    );

    const cancel = `mutation($d: ID!) { cancelDkimRotation(domainId: $d) { keys { state } } }`;
    await bothLanguages(
      (h) => app.gql(cancel, { d: world.domain.id }, world.tokens.admin, h),
      `No rotation of ${world.domain.name}'s DKIM keys is under way: there is nothing to cancel.`,
      "CONFLICT",
      [world.domain.name, "DKIM"],
    );
  });

  it("login, password change, two-factor and the support team", async () => {
    const login = `mutation($u: String!) { login(identifier: $u, password: "wrong password!") { token } }`;
    await bothLanguages((h) => app.gql(login, { u: world.user.address }, undefined, h), "Wrong username, address or password.", "UNAUTHENTICATED");
    const change = `mutation { changePassword(currentPassword: "not the password", newPassword: "another good password") { expiresAt } }`;
    await bothLanguages((h) => app.gql(change, {}, world.tokens.user, h), "The current password is wrong.", "BAD_USER_INPUT");
    const confirm = `mutation { confirmTotpEnrollment(code: "123456") { recoveryCodes } }`;
    await bothLanguages((h) => app.gql(confirm, {}, world.tokens.user, h), "No enrolment is waiting: call startTotpEnrollment first.", "CONFLICT", ["startTotpEnrollment"]);
    const createSupport = `mutation { createSupportAdmin(input: { username: "Bad Name@", displayName: "X", level: FULL }) { supportAdmin { id } } }`;
    await bothLanguages(
      (h) => app.gql(createSupport, {}, support, h),
      "username must be 2 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit (no @: addresses are for mailbox accounts).",
      "BAD_USER_INPUT",
      ["username"],
    );
  });

  it("writes a change's warnings in the answer's language, through GraphQL and REST, code and field unchanged", async () => {
    const w = await makeWorld(app, { quotaMb: 1000, adminQuotaMb: 100 });
    await app.deps.db.account.update({ where: { id: w.admin.id }, data: { usedMb: 300 } });
    const lower = `mutation($id: ID!) { updateAccount(id: $id, input: { quotaMb: 100 }) { warnings { code field message } } }`;
    const english = await app.gql(lower, { id: w.admin.id }, support);
    expect(english.data.updateAccount.warnings).toEqual([
      {
        code: "QUOTA_BELOW_USAGE",
        field: "quotaMb",
        message: `${w.admin.address} already uses 300 MiB, more than its quota of 100 MiB: new mail will bounce with "Destination mailbox exceeds quota" until it is cleaned up.`,
      },
    ]);
    const chinese = await app.gql(lower, { id: w.admin.id }, support, ZH);
    expect(chinese.data.updateAccount.warnings).toEqual([
      { code: "QUOTA_BELOW_USAGE", field: "quotaMb", message: `${w.admin.address} 已使用 300 MiB，超過其配額 100 MiB：在清出空間之前，新郵件會因信箱超過配額而被退回。` },
    ]);

    await app.deps.db.account.update({ where: { id: w.user.id }, data: { usedMb: 300 } });
    const quota = `${app.url}/api/v1/domains/${encodeURIComponent(w.domain.name)}/accounts/${encodeURIComponent(w.user.localPart)}/quota`;
    const put = async (headers: Record<string, string> = {}) =>
      (await (
        await fetch(quota, {
          method: "PUT",
          headers: { authorization: `Bearer ${w.tokens.admin}`, "content-type": "application/json", ...headers },
          body: JSON.stringify({ quotaMb: 100 }),
        })
      ).json()) as { warnings: unknown[] };
    expect((await put()).warnings).toEqual([
      {
        code: "QUOTA_BELOW_USAGE",
        field: "quotaMb",
        message: `${w.user.address} already uses 300 MiB, more than its quota of 100 MiB: new mail will bounce with "Destination mailbox exceeds quota" until it is cleaned up.`,
      },
    ]);
    expect((await put(ZH)).warnings).toEqual([
      { code: "QUOTA_BELOW_USAGE", field: "quotaMb", message: `${w.user.address} 已使用 300 MiB，超過其配額 100 MiB：在清出空間之前，新郵件會因信箱超過配額而被退回。` },
    ]);
  });

  it("usage and delivery-log pushes", async () => {
    const report = `mutation { reportMailboxUsage(input: []) { accepted } }`;
    await bothLanguages((h) => app.gql(report, {}, support, h), "Give the usage of at least one mailbox.", "BAD_USER_INPUT");
    const ingest = `mutation { ingestMailLog(source: "m2k-1", lines: [], timeZone: "Mars/Olympus") { accepted } }`;
    await bothLanguages((h) => app.gql(ingest, {}, support, h), "Mars/Olympus is not an IANA time zone such as Asia/Taipei.", "BAD_USER_INPUT", ["Mars/Olympus", "Asia/Taipei"]);
  });
});

describe("rate limits in zh-TW", () => {
  let app: TestApp;
  useTestApp((started) => ({ app } = started), { RATE_LIMIT_LOGIN_PER_MINUTE: "1", RATE_LIMIT_PER_CLIENT_PER_MINUTE: "4" });

  it("writes the login and client limits in the request's language, with the same extensions", async () => {
    const login = `mutation { login(identifier: "nobody@zh-limit.example", password: "wrong password!") { token } }`;
    await app.gql(login, {}, undefined, ZH);
    const refused = await app.gql(login, {}, undefined, ZH);
    expect(refused.errors![0]!).toMatchObject({ extensions: { code: "RATE_LIMITED", limit: "login", max: 1 } });
    expect(refused.errors![0]!.message).toMatch(/^從您的位址登入的次數過多：每分鐘最多 1 次。請在 \d+ 秒後再試。$/);
    const english = await app.gql(login, {}, undefined);
    expect(english.errors![0]!.message).toMatch(/^Too many requests to log in from your address: at most 1 a minute\. Try again in \d+ s\.$/);

    // The fourth request is the client's last of the minute; the fifth is refused before GraphQL.
    expect((await app.gql(`{ __typename }`, {}, undefined)).data).toEqual({ __typename: "Query" });
    const limited = await app.gql(`{ __typename }`, {}, undefined, ZH);
    expect(limited.errors![0]!).toMatchObject({ extensions: { code: "RATE_LIMITED", limit: "client", max: 4 } });
    expect(limited.errors![0]!.message).toMatch(/^來自您位址的要求過多：每分鐘最多 4 次。請在 \d+ 秒後再試。$/);
    const limitedEnglish = await app.gql(`{ __typename }`, {}, undefined);
    expect(limitedEnglish.errors![0]!.message).toMatch(/^Too many requests from your address: at most 4 a minute\. Try again in \d+ s\.$/);
  });
});
