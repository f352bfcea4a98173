// What one GraphQL request may ask for. A document is refused after parsing and
// validation and before any resolver runs when it is too long (tokens), too
// deep, has too many aliases or directives, or would cost too much (page sizes
// multiply). Each refusal is BAD_USER_INPUT with extensions.limit (which
// limit), extensions.max and, where it is known, extensions.actual.
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { HeaderMap } from "@apollo/server";
import {
  GraphQLError,
  Kind,
  type ASTNode,
  type DocumentNode,
  type GraphQLSchema,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from "graphql";
import { getComplexity, simpleEstimator, type ComplexityEstimator } from "graphql-query-complexity";
import type { Config } from "../config";

/** The limits a refusal names in extensions.limit. */
export type LimitName = "depth" | "complexity" | "aliases" | "directives" | "tokens" | "comments" | "batchSize" | "bodySize";

/** Extension keys a limit refusal carries to the client (see formatLimitRefusal). */
const REFUSAL_EXTENSIONS = ["limit", "max", "actual", "retryAfterSeconds"] as const;

/**
 * Resolvers refuse pages above 100 (BAD_USER_INPUT on `first`), so a larger
 * `first` never costs more than 100 rows; a non-positive one is refused too.
 */
const MAX_PAGE_SIZE = 100;

/** What graphql-query-complexity throws when fragments expand beyond its node budget. */
const TOO_MANY_NODES = "Query exceeds the maximum allowed number of nodes.";

export function limitExceeded(limit: LimitName, message: string, max: number, actual?: number, nodes?: readonly ASTNode[]): GraphQLError {
  return new GraphQLError(message, {
    nodes,
    extensions: {
      code: "BAD_USER_INPUT",
      limit,
      max,
      ...(actual === undefined ? {} : { actual }),
      // Apollo sends refusals from plugins with status 500 unless told otherwise.
      http: { status: 400, headers: new HeaderMap() },
    },
  });
}

/** GRAPHQL_INTROSPECTION, or by default: on, except in production. */
export function introspectionEnabled(config: Pick<Config, "GRAPHQL_INTROSPECTION" | "NODE_ENV">): boolean {
  return config.GRAPHQL_INTROSPECTION ?? config.NODE_ENV !== "production";
}

interface OperationMeasure {
  depth: number;
  aliases: number;
  directives: number;
}

/**
 * Depth (nested fields), aliases and directives of one operation with the
 * fragments it uses. Aliases and directives are counted as written, each
 * fragment once; a fragment's depth is computed once, so fragments that
 * spread each other many times cost linear time. The introspection fields
 * (__schema, __type) add no depth: GRAPHQL_INTROSPECTION governs them, and
 * tools' introspection queries nest ofType a dozen levels.
 */
function measureOperation(operation: OperationDefinitionNode, context: ValidationContext): OperationMeasure {
  let aliases = 0;
  let directives = operation.directives?.length ?? 0;
  const fragmentDepth = new Map<string, number>();
  const inProgress = new Set<string>();

  function depthOf(selectionSet: SelectionSetNode): number {
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      directives += selection.directives?.length ?? 0;
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) aliases += 1;
        const below = selection.selectionSet ? depthOf(selection.selectionSet) : 0;
        if (!selection.name.value.startsWith("__")) deepest = Math.max(deepest, 1 + below);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet));
      } else {
        const name = selection.name.value;
        const fragment = context.getFragment(name);
        // Unknown and cyclic fragments are graphql's own validation errors.
        if (!fragment || inProgress.has(name)) continue;
        if (!fragmentDepth.has(name)) {
          inProgress.add(name);
          directives += fragment.directives?.length ?? 0;
          fragmentDepth.set(name, depthOf(fragment.selectionSet));
          inProgress.delete(name);
        }
        deepest = Math.max(deepest, fragmentDepth.get(name)!);
      }
    }
    return deepest;
  }

  const depth = depthOf(operation.selectionSet);
  return { depth, aliases, directives };
}

export interface DocumentLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
}

/** A validation rule refusing operations deeper, or with more aliases or directives, than allowed. */
export function documentLimitsRule(limits: DocumentLimits): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const { depth, aliases, directives } = measureOperation(operation, context);
      if (depth > limits.maxDepth) {
        context.reportError(
          limitExceeded(
            "depth",
            `This query nests fields ${depth} levels deep; the server allows at most ${limits.maxDepth}. Ask for less in one request.`,
            limits.maxDepth,
            depth,
            [operation],
          ),
        );
      }
      if (aliases > limits.maxAliases) {
        context.reportError(
          limitExceeded(
            "aliases",
            `This query uses ${aliases} aliases; the server allows at most ${limits.maxAliases}. Split it into several requests.`,
            limits.maxAliases,
            aliases,
            [operation],
          ),
        );
      }
      if (directives > limits.maxDirectives) {
        context.reportError(
          limitExceeded("directives", `This query uses ${directives} directives; the server allows at most ${limits.maxDirectives}.`, limits.maxDirectives, directives, [
            operation,
          ]),
        );
      }
      // The measure covered the whole operation; the rule need not walk it again.
      return false;
    },
  });
}

/**
 * A field with a page size costs its selection times the page size, plus one:
 * `domains(first: 100) { nodes { name } }` costs 1 + 100 × 2 = 201. Other
 * fields cost one plus their selection (simpleEstimator).
 */
/** Variable sets whose cost is remembered per document (the oldest forgotten first). */
const COSTS_KEPT_PER_DOCUMENT = 100;

/**
 * The page a field will really return. `first` given as a number is that
 * number (at most MAX_PAGE_SIZE: above it the resolver refuses); given as
 * null, or left out, the resolver uses its default page size, which is the
 * argument's default in schema.graphql (`first: Int = 50`), so that default
 * is what the estimate takes, and MAX_PAGE_SIZE where the schema gives none.
 * (Treating null as "no page" let `first: null` through at any depth.)
 */
export function pageSizeOf(field: { args: readonly { name: string; defaultValue?: unknown }[] }, args: Record<string, unknown>): number | undefined {
  const argument = field.args.find((candidate) => candidate.name === "first");
  if (!argument) return undefined;
  const given = args.first;
  if (typeof given === "number") return Math.min(MAX_PAGE_SIZE, Math.max(1, given));
  return typeof argument.defaultValue === "number" ? Math.min(MAX_PAGE_SIZE, argument.defaultValue) : MAX_PAGE_SIZE;
}

const pageSizeEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const pageSize = pageSizeOf(field, args);
  return pageSize === undefined ? undefined : 1 + childComplexity * pageSize;
};

/**
 * Refuses an operation whose cost exceeds maxComplexity. It runs once the
 * operation is resolved (not as a validation rule) because the cost depends
 * on the variables: `first: $n` costs what $n says.
 */
export function complexityLimitPlugin<TContext extends BaseContext>(maxComplexity: number): ApolloServerPlugin<TContext> {
  const estimators = [pageSizeEstimator, simpleEstimator({ defaultComplexity: 1 })];
  const refusal = (actual?: number) =>
    limitExceeded(
      "complexity",
      actual === undefined
        ? `This query expands to too many fields; the server allows a cost of at most ${maxComplexity}. Ask for less in one request.`
        : `This query would cost ${actual} (each field 1, a list field its selection times its page size); the server allows at most ${maxComplexity}. Ask for smaller pages or fewer fields.`,
      maxComplexity,
      actual,
    );
  // The cost of a document with given variables, remembered: Apollo keeps
  // parsed documents and hands the same object to every request that sends the
  // same query text, and a portal sends the same few queries all day.
  const costs = new WeakMap<DocumentNode, Map<string, number | "too many nodes" | "bad variables">>();
  const costOf = (document: DocumentNode, schema: GraphQLSchema, variables: Record<string, unknown>, operationName: string | undefined) => {
    let known = costs.get(document);
    if (!known) costs.set(document, (known = new Map<string, number | "too many nodes" | "bad variables">()));
    const key = `${operationName ?? ""}\u0000${JSON.stringify(variables)}`;
    let cost = known.get(key);
    if (cost === undefined) {
      try {
        cost = getComplexity({ schema, query: document, variables, operationName, estimators });
      } catch (error) {
        // Variables of the wrong type: execution refuses them (BAD_USER_INPUT) before any resolver runs.
        cost = error instanceof GraphQLError && error.message === TOO_MANY_NODES ? "too many nodes" : "bad variables";
      }
      // Large variables (an import's rows) are not worth keeping.
      if (key.length <= 2_048) {
        if (known.size >= COSTS_KEPT_PER_DOCUMENT) known.delete(known.keys().next().value!);
        known.set(key, cost);
      }
    }
    return cost;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema, operation }) {
          if (!operation) return;
          const actual = costOf(document, schema, request.variables ?? {}, operation.name?.value);
          if (actual === "too many nodes") throw refusal();
          if (typeof actual === "number" && actual > maxComplexity) throw refusal(actual);
        },
      };
    },
  };
}

export interface GraphQLLimits {
  introspection: boolean;
  allowBatchedHttpRequests: boolean;
  parseOptions: ParseOptions;
  validationRules: ValidationRule[];
  complexityPlugin: ApolloServerPlugin<BaseContext>;
}

/** The Apollo Server options that enforce the configured limits. */
export function graphqlLimits(config: Config): GraphQLLimits {
  return {
    introspection: introspectionEnabled(config),
    // GRAPHQL_MAX_BATCH_SIZE=0 turns batching off; the size itself is checked by src/http/security.ts.
    allowBatchedHttpRequests: config.GRAPHQL_MAX_BATCH_SIZE > 0,
    // Comments are not tokens, yet each costs the lexer an object: they get the same bound.
    parseOptions: { maxLexicalTokens: config.GRAPHQL_MAX_TOKENS, maxComments: config.GRAPHQL_MAX_TOKENS },
    validationRules: [documentLimitsRule({ maxDepth: config.GRAPHQL_MAX_DEPTH, maxAliases: config.GRAPHQL_MAX_ALIASES, maxDirectives: config.GRAPHQL_MAX_DIRECTIVES })],
    complexityPlugin: complexityLimitPlugin(config.GRAPHQL_MAX_COMPLEXITY),
  };
}

/**
 * The client's view of a refusal by one of the limits (or a rate limit), or
 * undefined for any other error. Apollo files validation refusals under
 * GRAPHQL_VALIDATION_FAILED and the parser's token bound under
 * GRAPHQL_PARSE_FAILED; both become BAD_USER_INPUT naming the limit.
 */
export function formatLimitRefusal(formatted: GraphQLFormattedError): GraphQLFormattedError | undefined {
  const extensions = formatted.extensions ?? {};
  const { locations, path } = formatted;
  if (typeof extensions.limit === "string") {
    const code = extensions.code === "RATE_LIMITED" ? "RATE_LIMITED" : "BAD_USER_INPUT";
    const kept = Object.fromEntries(REFUSAL_EXTENSIONS.filter((key) => extensions[key] !== undefined).map((key) => [key, extensions[key]]));
    return { message: formatted.message, locations, path, extensions: { code, ...kept } };
  }
  if (extensions.code === "GRAPHQL_PARSE_FAILED") {
    // graphql 16 words it "more that N tokens"; later versions "more than".
    const match = /Document contains more tha[nt] (\d+) (tokens|comments)\b/.exec(formatted.message);
    if (match) {
      const max = Number(match[1]);
      const what = match[2] as "tokens" | "comments";
      const message =
        what === "tokens"
          ? `This query has more than ${max} tokens (names, punctuation, values); the server allows at most ${max}. Pass values as variables, or ask for less in one request.`
          : `This query has more than ${max} comments; the server allows at most ${max}.`;
      return { message, locations, extensions: { code: "BAD_USER_INPUT", limit: what, max } };
    }
  }
  return undefined;
}
