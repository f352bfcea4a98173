// GET /graphql from something that is not a browser and sends no query: an
// explanation of how to call the API, not Apollo's CSRF refusal; a GET with a
// query stays GraphQL over GET (and its CSRF rule).
import { startTestApp, type TestApp } from "../helpers/test-app";

describe("GET /graphql", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it("explains how to call the API when asked without a query and without a browser's Accept header", async () => {
    const variants: Record<string, string>[] = [{}, { accept: "application/json" }, { accept: "*/*" }];
    for (const headers of variants) {
      const response = await fetch(`${app.url}/graphql`, { headers });
      expect(response.status).toBe(400);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).toContain("POST /graphql with a JSON body");
      expect(text).not.toMatch(/CSRF|x-apollo-operation-name/i);
    }
  });

  it("leaves a GET with a query to GraphQL over GET, with its CSRF rule", async () => {
    const withoutPreflight = await fetch(`${app.url}/graphql?query=${encodeURIComponent("{ __typename }")}`);
    expect(withoutPreflight.status).toBe(400);
    expect(await withoutPreflight.text()).toMatch(/CSRF|x-apollo-operation-name|apollo-require-preflight/i);
    const withPreflight = await fetch(`${app.url}/graphql?query=${encodeURIComponent("{ __typename }")}`, { headers: { "apollo-require-preflight": "1" } });
    expect(await withPreflight.json()).toEqual({ data: { __typename: "Query" } });
  });
});
