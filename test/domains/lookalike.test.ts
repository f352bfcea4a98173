// Domain names that can pass for another (issue 13): a label mixing scripts,
// or a label of Cyrillic or Greek letters that all look Latin, is refused
// until support confirms it, and then carries a warning; ordinary Latin,
// Chinese and Japanese names are created as before.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { RestClient } from "../helpers/rest-client";
import { lookalikeFindings } from "../../src/shared/lookalike";

const CREATE = `mutation($input: CreateDomainInput!) { createDomain(input: $input) { domain { name unicodeName } warnings { code field } } }`;

describe("look-alike domain names", () => {
  let app: TestApp;
  let support: string;
  beforeAll(async () => {
    app = await startTestApp();
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(() => app.close());

  it("refuses a Cyrillic 'а' standing for Latin 'a', and a top-level label mixing scripts, until support confirms", async () => {
    const tag = uniqueName("x").replace(/[^a-z0-9]/g, "");
    for (const name of [`а.${tag}.tw`, `b${tag}.twа`]) {
      const refused = await app.gql(CREATE, { input: { name } }, support);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", field: "confirmLookalikeName" });
      expect(refused.errors?.[0]?.message).toMatch(/can pass for another name/);
      expect(await app.deps.db.domain.count({ where: { unicodeName: name } })).toBe(0);
      const confirmed = await app.gql(CREATE, { input: { name, confirmLookalikeName: true } }, support);
      expect(confirmed.errors).toBeUndefined();
      expect(confirmed.data.createDomain.warnings).toContainEqual({ code: "LOOKALIKE_NAME", field: "name" });
    }
  });

  it("creates ordinary Latin, Chinese and Japanese names without a word", async () => {
    const tag = uniqueName("y").replace(/[^a-z0-9]/g, "");
    for (const name of [`${tag}.example`, `郵件${tag}.tw`, `メール${tag}.jp`]) {
      const created = await app.gql(CREATE, { input: { name } }, support);
      expect(created.errors).toBeUndefined();
      expect(created.data.createDomain.warnings).toEqual([]);
    }
  });

  it("refuses the same over REST with 409 until the body confirms", async () => {
    const rest = await RestClient.connect(app);
    const name = `раураl${uniqueName("").replace(/[^a-z0-9]/g, "")}.com`;
    const refused = await rest.request("PUT", `/api/v1/domains/${encodeURIComponent(name)}`, { token: support, json: {} });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: "CONFLICT", field: "confirmLookalikeName" });
    const confirmed = await rest.request("PUT", `/api/v1/domains/${encodeURIComponent(name)}`, { token: support, json: { confirmLookalikeName: true } });
    expect(confirmed.status).toBe(201);
  });

  it.each([
    ["а.tw", 1],
    ["b.twа", 1],
    ["аррӏе.com", 1],
    ["example.tw", 0],
    ["郵件.tw", 0],
    ["café.fr", 0],
    ["москва.рф", 0],
  ])("%s: %d finding(s)", (name, count) => {
    expect(lookalikeFindings(name)).toHaveLength(count);
  });
});
