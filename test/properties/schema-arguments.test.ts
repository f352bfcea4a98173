// Every id, cursor and date argument of every operation, found by walking the
// schema (so that a new operation is covered without a line here), is sent
// out-of-range and malformed values by support staff: the answer is a result
// or a proper refusal, never an internal error or an HTTP 5xx (issue 13, F5).
import fc from "fast-check";
import {
  buildSchema,
  getNamedType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from "graphql";
import { typeDefs } from "../../src/graphql/schema";
import { startTestApp, type TestApp } from "../helpers/test-app";
import { supportAdmin, tokenFor } from "../helpers/factories";

const schema = buildSchema(typeDefs);
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");

/** Values that broke the server once, and their neighbours: past bigint, past JavaScript's dates, negative, malformed. */
const HOSTILE_IDS = fc.oneof(
  fc.constantFrom("9999999999999999999", "99999999999999999999999999", "-1", "0", "9223372036854775808", "1e400", "NaN", " 1", "01"),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
);
const HOSTILE_CURSORS = fc.oneof(
  fc.constantFrom(
    b64("999999999999999|1"),
    b64("9999999999999999999"),
    b64("1|99999999999999999999"),
    b64("-1|-1"),
    b64("9999999999999999|9"),
    "9999999999999999999",
    "=",
    "x".repeat(600),
  ),
  fc.tuple(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n })).map(([a, b]) => b64(`${a}|${b}`)),
);
const HOSTILE_DATES = fc.oneof(
  fc.constantFrom(
    "+275760-09-13T00:00:00Z",
    "-271821-04-20T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "10000-01-01T00:00:00Z",
    "1969-12-31T23:59:59Z",
    "2026-02-30T00:00:00Z",
    "",
  ),
  fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }).map((ms) => new Date(ms).toISOString()),
);

type Kind = "id" | "cursor" | "date";

/** What kind of hostile value an argument takes: ids (ID, or a String named like an id), cursors (after), dates (DateTime). */
function kindOf(name: string, type: GraphQLInputType): Kind | null {
  const named = getNamedType(type);
  if (named.name === "DateTime") return "date";
  if (name === "after" || name === "before") return "cursor";
  if (named.name === "ID" || /(^id$|Id$)/.test(name)) return "id";
  return null;
}

/** A plausible value for an argument that is not the one under test (null when none can be made). */
function plausible(type: GraphQLInputType, depth = 0): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (!isNonNullType(type)) return undefined;
  const named = getNamedType(inner);
  if (isEnumType(named)) return named.getValues()[0]!.name;
  if (isScalarType(named)) {
    return { ID: "1", String: "someone@example.tw", Int: 1, Float: 1, Boolean: false, DateTime: "2027-01-01T00:00:00Z" }[named.name] ?? "x";
  }
  if (isInputObjectType(named) && depth < 2) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(named.getFields())) {
      const made = plausible(field.type, depth + 1);
      if (made !== undefined) value[field.name] = made;
    }
    return value;
  }
  return undefined;
}

interface Target {
  operation: "query" | "mutation";
  field: GraphQLField<unknown, unknown>;
  /** The argument, or the input object argument and its field, that gets the hostile value. */
  argument: GraphQLArgument;
  inputField?: string;
  kind: Kind;
}

function targets(): Target[] {
  const found: Target[] = [];
  for (const operation of ["query", "mutation"] as const) {
    const root = operation === "query" ? schema.getQueryType()! : schema.getMutationType()!;
    // login is throttled per client: hostile ids cannot reach it anyway (it takes none).
    for (const field of Object.values(root.getFields())) {
      for (const argument of field.args) {
        const kind = kindOf(argument.name, argument.type);
        if (kind) found.push({ operation, field, argument, kind });
        const named = getNamedType(argument.type);
        if (isInputObjectType(named)) {
          for (const inputField of Object.values(named.getFields())) {
            const inner = kindOf(inputField.name, inputField.type);
            if (inner) found.push({ operation, field, argument, inputField: inputField.name, kind: inner });
          }
        }
      }
    }
  }
  return found;
}

function request(target: Target, value: string): { query: string; variables: Record<string, unknown> } {
  const variables: Record<string, unknown> = {};
  const declarations: string[] = [];
  const passed: string[] = [];
  for (const argument of target.field.args) {
    let argumentValue: unknown;
    if (argument === target.argument) {
      argumentValue = target.inputField ? { ...(plausible(argument.type) as object | undefined), [target.inputField]: value } : value;
    } else {
      argumentValue = plausible(argument.type);
      if (argumentValue === undefined) continue;
    }
    variables[argument.name] = argumentValue;
    declarations.push(`$${argument.name}: ${argument.type.toString()}`);
    passed.push(`${argument.name}: $${argument.name}`);
  }
  const selection = isCompositeType(getNamedType(target.field.type)) ? " { __typename }" : "";
  const args = passed.length > 0 ? `(${passed.join(", ")})` : "";
  const vars = declarations.length > 0 ? `(${declarations.join(", ")})` : "";
  return { query: `${target.operation}${vars} { ${target.field.name}${args}${selection} }`, variables };
}

describe("every id, cursor and date argument, out of range", () => {
  let app: TestApp;
  let support: string;
  beforeAll(async () => {
    app = await startTestApp({ RATE_LIMIT_ENABLED: "false" });
    support = await tokenFor(app, await supportAdmin(app));
  });
  afterAll(() => app.close());

  const all = targets();

  it("finds the arguments the review broke, so the walk covers them", () => {
    const names = all.map((target) => `${target.field.name}.${target.inputField ? `${target.argument.name}.${target.inputField}` : target.argument.name}`);
    expect(names).toEqual(expect.arrayContaining(["diagnoseDelivery.logRecordId", "mailLog.after", "auditLog.after", "rejectedLogLines.after", "createApiToken.input.expiresAt"]));
  });

  it.each(
    all.map(
      (target) =>
        [`${target.operation} ${target.field.name} ${target.inputField ? `${target.argument.name}.${target.inputField}` : target.argument.name} (${target.kind})`, target] as const,
    ),
  )("%s never answers with an internal error", async (_title, target) => {
    const values = { id: HOSTILE_IDS, cursor: HOSTILE_CURSORS, date: HOSTILE_DATES }[target.kind];
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        const sent = request(target, value);
        const response = await app.gql(sent.query, sent.variables, support);
        const codes = (response.errors ?? []).map((error) => error.extensions?.code);
        if (response.status >= 500 || codes.includes("INTERNAL_SERVER_ERROR")) {
          throw new Error(`HTTP ${response.status}, ${JSON.stringify(response.errors)}\n  sent: ${JSON.stringify(sent)}`);
        }
      }),
      { numRuns: 12 },
    );
  });
});
