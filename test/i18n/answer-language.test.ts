// Which language an answer is written in, through HTTP: Accept-Language, else
// the caller's saved preference (setPreferredLanguage), else DEFAULT_LANGUAGE.
// Codes, fields and the JSON shape stay the same in every language.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor } from "../helpers/factories";

const CREATE_DOMAIN = `mutation($name: String!) { createDomain(input: { name: $name }) { domain { id } } }`;
const SET = `mutation($language: Language) { setPreferredLanguage(language: $language) { preferredLanguage } }`;
const ANSWER = `{ answerLanguage me { preferredLanguage } }`;
const BAD_NAME = "not a domain";

describe("the language of answers", () => {
  let app: TestApp;
  let support: string;
  beforeAll(async () => {
    app = await startTestApp();
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(() => app.close());

  it("writes an error in zh-TW for Accept-Language zh-TW (and zh-Hant, zh), with the same code, field and shape", async () => {
    const english = await app.gql(CREATE_DOMAIN, { name: BAD_NAME }, support);
    expect(english.errors![0]!.message).toBe(`"${BAD_NAME}" is not a valid domain name: use letters, digits and hyphens in dot-separated labels, such as example.com.`);
    for (const header of ["zh-TW", "zh-Hant-TW,en;q=0.5", "zh", "fr, zh-TW;q=0.8"]) {
      const chinese = await app.gql(CREATE_DOMAIN, { name: BAD_NAME }, support, { "accept-language": header });
      expect(chinese.errors![0]!.message).toBe(`「${BAD_NAME}」不是有效的網域名稱：請用英文字母、數字與連字號，以點分隔各段，例如 example.com。`);
      expect(chinese.errors![0]!.extensions).toEqual({ ...english.errors![0]!.extensions, requestId: chinese.errors![0]!.extensions.requestId });
      expect(Object.keys(chinese.errors![0]!)).toEqual(Object.keys(english.errors![0]!));
    }
    // Simplified Chinese only: no catalogue fits, so the service's default.
    const simplified = await app.gql(CREATE_DOMAIN, { name: BAD_NAME }, support, { "accept-language": "zh-CN" });
    expect(simplified.errors![0]!.message).toBe(english.errors![0]!.message);
  });

  it("translates NOT_FOUND's noun and UNAUTHENTICATED", async () => {
    const missing = await app.gql(`{ domain(name: "nowhere-i18n.example") { id } account(address: "x@nowhere-i18n.example") { id } }`, {}, support, { "accept-language": "zh-TW" });
    expect(missing.data).toEqual({ domain: null, account: null });
    const update = await app.gql(`mutation { deleteDomain(id: "00000000-0000-0000-0000-000000000000") { deletedDomainId } }`, {}, support, { "accept-language": "zh-TW" });
    expect(update.errors![0]!).toMatchObject({ message: "找不到網域 with id 00000000-0000-0000-0000-000000000000，或您沒有權限查看。", extensions: { code: "NOT_FOUND" } });
    const anonymous = await app.gql(`mutation { deleteDomain(id: "00000000-0000-0000-0000-000000000000") { deletedDomainId } }`, {}, undefined, { "accept-language": "zh-TW" });
    expect(anonymous.errors![0]!).toMatchObject({
      message: "您尚未登入：請先呼叫 login，再以 'Authorization: Bearer <token>' 送出取得的權杖。",
      extensions: { code: "UNAUTHENTICATED" },
    });
  });

  it("uses the caller's saved language when the request names none; the header still wins; audited", async () => {
    const w = await makeWorld(app);
    expect((await app.gql(ANSWER, {}, w.tokens.admin)).data).toEqual({ answerLanguage: "EN", me: { preferredLanguage: null } });

    expect((await app.gql(SET, { language: "ZH_TW" }, w.tokens.admin)).data).toEqual({ setPreferredLanguage: { preferredLanguage: "ZH_TW" } });

    expect((await app.gql(ANSWER, {}, w.tokens.admin)).data).toEqual({ answerLanguage: "ZH_TW", me: { preferredLanguage: "ZH_TW" } });
    const refused = await app.gql(CREATE_DOMAIN, { name: BAD_NAME }, w.tokens.admin);
    expect(refused.errors![0]!.extensions.code).toBe("FORBIDDEN");
    const bad = await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { quotaMb: -1 }) { account { id } } }`, { id: w.user.id }, w.tokens.admin);
    expect(bad.errors![0]!).toMatchObject({ message: "quotaMb 必須是 0 以上的整數，單位 MiB（收到的是 -1）。", extensions: { code: "BAD_USER_INPUT", field: "quotaMb" } });
    const asked = await app.gql(`mutation($id: ID!) { updateAccount(id: $id, input: { quotaMb: -1 }) { account { id } } }`, { id: w.user.id }, w.tokens.admin, {
      "accept-language": "en",
    });
    expect(asked.errors![0]!.message).toBe("quotaMb must be a whole number of MiB, 0 or more (got -1).");

    const audit = await app.deps.db.auditEntry.findFirstOrThrow({ where: { action: "auth.set_language", actorId: w.admin.id } });
    expect(audit.changes).toEqual([{ field: "language", before: null, after: "zh-TW" }]);

    // Support staff save theirs too; null forgets it.
    expect((await app.gql(SET, { language: "ZH_TW" }, support)).data.setPreferredLanguage.preferredLanguage).toBe("ZH_TW");
    expect((await app.gql(ANSWER, {}, support)).data.answerLanguage).toBe("ZH_TW");
    expect((await app.gql(SET, { language: null }, support)).data.setPreferredLanguage.preferredLanguage).toBeNull();
    expect((await app.gql(ANSWER, {}, support)).data.answerLanguage).toBe("EN");
  });

  it("writes REST problems' title and detail in the request's language, code and field unchanged", async () => {
    const headers = { authorization: `Bearer ${support}`, "content-type": "application/json" };
    const english = (await (await fetch(`${app.url}/api/v1/domains/${encodeURIComponent("nowhere-rest.example")}`, { headers })).json()) as Record<string, unknown>;
    const chinese = (await (
      await fetch(`${app.url}/api/v1/domains/${encodeURIComponent("nowhere-rest.example")}`, { headers: { ...headers, "accept-language": "zh-TW" } })
    ).json()) as Record<string, unknown>;
    expect(english).toMatchObject({ code: "NOT_FOUND", title: "Not found", status: 404 });
    expect(chinese).toMatchObject({ code: "NOT_FOUND", title: "找不到", status: 404 });
    expect(chinese.detail).toMatch(/^找不到網域 .*nowhere-rest\.example，或您沒有權限查看。$/);
    expect(Object.keys(chinese).sort()).toEqual(Object.keys(english).sort());
  });

  it("answers in DEFAULT_LANGUAGE when neither the request nor the caller names one", async () => {
    const zhDefault = await startTestApp({ DEFAULT_LANGUAGE: "zh-TW" });
    try {
      const token = await tokenFor(zhDefault, await supportAdmin(zhDefault));
      const answer = await zhDefault.gql(CREATE_DOMAIN, { name: BAD_NAME }, token);
      expect(answer.errors![0]!.message).toContain("不是有效的網域名稱");
      const english = await zhDefault.gql(CREATE_DOMAIN, { name: BAD_NAME }, token, { "accept-language": "en-US" });
      expect(english.errors![0]!.message).toContain("is not a valid domain name");
    } finally {
      await zhDefault.close();
    }
  });
});
