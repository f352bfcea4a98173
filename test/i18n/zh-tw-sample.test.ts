// Answers in zh-TW contain no English sentence: through HTTP, with
// Accept-Language: zh-TW, a sample of answers of each capability that writes
// Chinese is asked for, and every text for a person in them must have Han
// characters and no run of three English words (apart from the values the
// request put in, such as a name it gave). A capability whose texts are
// translated adds one entry to SAMPLES: its name, what to ask, and the values
// its answers may repeat.
import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeWorld, supportAdmin, tokenFor } from "../helpers/factories";

const ZH_TW = { "accept-language": "zh-TW" };
const HAN = /\p{Script=Han}/u;
const ENGLISH_RUN = /\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\s+[A-Za-z]{2,}\b/;
/** Names that stay as they are in every language: protocol and product names, units, the field programs read. */
const KEPT_AS_IS = /\b(requestId|Unicode|MiB|NUL|API|id|GraphQL|IDE|example\.com)\b/g;

interface Context {
  app: TestApp;
  /** A support admin's token. */
  support: string;
}

/** What one sample asked, and the texts for a person its answer wrote. */
interface Answer {
  texts: string[];
  /** Values the request put in (a name, an id) that the texts may repeat as they are. */
  values?: string[];
}

interface Sample {
  capability: string;
  what: string;
  ask: (context: Context) => Promise<Answer>;
}

/** The message of a GraphQL answer's first error; fails when the answer has none or when its code is not the one expected. */
async function graphqlError(context: Context, query: string, variables: Record<string, unknown>, token: string | undefined, code: string): Promise<string> {
  const answer = await context.app.gql(query, variables, token, ZH_TW);
  expect({ code: answer.errors?.[0]?.extensions.code }).toEqual({ code });
  return answer.errors![0]!.message;
}

/** A REST problem's title and detail; fails when the status is not the one expected. */
async function restProblem(context: Context, method: string, path: string, status: number, body?: unknown): Promise<string[]> {
  const response = await fetch(`${context.app.url}${path}`, {
    method,
    headers: { ...ZH_TW, authorization: `Bearer ${context.support}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const problem = (await response.json()) as { title: string; detail: string };
  expect({ path, status: response.status }).toEqual({ path, status });
  return [problem.title, problem.detail];
}

const DELETE_DOMAIN = `mutation($id: ID!) { deleteDomain(id: $id) { deletedDomainId } }`;
const MISSING_ID = "00000000-0000-0000-0000-000000000000";

/** One entry per capability and kind of answer; add a capability's own here when its texts are translated. */
const SAMPLES: Sample[] = [
  {
    capability: "auth",
    what: "a request without a token (UNAUTHENTICATED)",
    ask: async (context) => ({ texts: [await graphqlError(context, DELETE_DOMAIN, { id: MISSING_ID }, undefined, "UNAUTHENTICATED")], values: ["Authorization: Bearer <token>"] }),
  },
  {
    capability: "auth",
    what: "a token that is not one (UNAUTHENTICATED)",
    ask: async (context) => ({ texts: [await graphqlError(context, DELETE_DOMAIN, { id: MISSING_ID }, "not.a.token", "UNAUTHENTICATED")] }),
  },
  {
    capability: "input",
    what: "a domain name that is not one (BAD_USER_INPUT)",
    ask: async (context) => ({
      texts: [
        await graphqlError(
          context,
          `mutation($name: String!) { createDomain(input: { name: $name }) { domain { id } } }`,
          { name: "not a domain" },
          context.support,
          "BAD_USER_INPUT",
        ),
      ],
      values: ["not a domain"],
    }),
  },
  {
    capability: "input",
    what: "a negative quota (BAD_USER_INPUT)",
    ask: async (context) => {
      const world = await makeWorld(context.app);
      const query = `mutation($id: ID!) { updateAccount(id: $id, input: { quotaMb: -1 }) { account { id } } }`;
      return { texts: [await graphqlError(context, query, { id: world.user.id }, world.tokens.admin, "BAD_USER_INPUT")], values: ["quotaMb"] };
    },
  },
  {
    capability: "input",
    what: "a page size out of range (BAD_USER_INPUT)",
    ask: async (context) => ({ texts: [await graphqlError(context, `{ domains(first: 100000) { totalCount } }`, {}, context.support, "BAD_USER_INPUT")], values: ["first"] }),
  },
  {
    capability: "not found",
    what: "a domain by id that does not exist (NOT_FOUND)",
    ask: async (context) => ({
      texts: [await graphqlError(context, DELETE_DOMAIN, { id: MISSING_ID }, context.support, "NOT_FOUND")],
      values: [`with id ${MISSING_ID}`, MISSING_ID],
    }),
  },
  {
    capability: "REST",
    what: "a problem for a domain that does not exist (404)",
    ask: async (context) => ({ texts: await restProblem(context, "GET", "/api/v1/domains/nowhere-sample.example", 404), values: ["nowhere-sample.example"] }),
  },
  {
    capability: "REST",
    what: "a problem for a domain name that is not one (400)",
    ask: async (context) => ({ texts: await restProblem(context, "PUT", `/api/v1/domains/${encodeURIComponent("not a domain")}`, 400, {}), values: ["not a domain"] }),
  },
  {
    capability: "IDE",
    what: "the page's texts and the support tasks' titles and descriptions",
    ask: async (context) => {
      const answer = (await (await fetch(`${context.app.url}/graphql-ide/texts.json`, { headers: ZH_TW })).json()) as {
        texts: Record<string, string>;
        examples: { title: string; description: string }[];
      };
      return { texts: [...Object.values(answer.texts), ...answer.examples.flatMap((example) => [example.title, example.description])] };
    },
  },
];

/** The text with the values and the names kept as they are taken out, longest first. */
function withoutValues(text: string, values: string[]): string {
  let left = text;
  for (const value of [...values].sort((a, b) => b.length - a.length)) left = left.split(value).join(" ");
  return left.replace(KEPT_AS_IS, " ");
}

describe("answers in zh-TW, a sample of each capability", () => {
  let context: Context;
  beforeAll(async () => {
    const app = await startTestApp();
    context = { app, support: await tokenFor(app, await supportAdmin(app)) };
  });
  afterAll(() => context.app.close());

  it.each(SAMPLES.map((sample) => [sample.capability, sample.what, sample] as const))("%s: %s is written in Chinese", async (_capability, _what, sample) => {
    const answer = await sample.ask(context);
    expect(answer.texts.length).toBeGreaterThan(0);
    for (const text of answer.texts) {
      expect({ text, han: HAN.test(text) }).toEqual({ text, han: true });
      const english = withoutValues(text, answer.values ?? []).match(ENGLISH_RUN);
      expect({ text, english: english?.[0] ?? null }).toEqual({ text, english: null });
    }
  });
});
