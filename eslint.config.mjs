// ESLint (npm run lint, part of npm test): typescript-eslint's type-aware
// rules, import cycles, and the layer rule of docs/architecture.md.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

// The layer rule (docs/architecture.md): HTTP adapters (src/graphql, the
// resolvers, src/rest, src/cli, src/ide, src/http) depend on services,
// services on the data layer and shared code, and nothing points back up.
// Patterns are regular expressions over the import as written (relative).
const up = (what) => `^(\\.{1,2}/)+${what}`;
const CAPABILITIES = "(accounts|apitokens|audit|auth|diagnosis|dns|domains|imports|maillog|probe|testmail|usage|observability)";
const ADAPTERS = {
  regex: `${up("(graphql|rest|cli|ide|http)(/|$)")}|\\.resolvers$|${up("(app-deps|server|app|main)$")}`,
  message:
    "Services, data and shared code do not import the HTTP adapters (src/graphql, *.resolvers.ts, src/rest, src/cli, src/ide, src/http) or the wiring: see docs/architecture.md.",
};
const SERVICES = {
  regex: `${up(`(${CAPABILITIES.slice(1, -1)})/`)}|${up("(loaders|service-deps)$")}`,
  message: "The data layer and shared code do not import services: see docs/architecture.md.",
};
const DATA = { regex: up("(db|generated)/"), message: "Shared code does not import the data layer: see docs/architecture.md." };
const GRAPHQL = { regex: `${up("graphql/")}|\\.resolvers$`, message: "REST, the CLI, the IDE and src/http do not import the GraphQL adapter: share through a service." };
const OTHER_ADAPTERS = { regex: up("(rest|cli|ide)(/|$)"), message: "The GraphQL adapter does not import REST, the CLI or the IDE: share through a service." };
// The rule for reads: raw SQL through the pg pool (src/db/raw.ts) is written in
// the capability that owns the table, in its service, loaders or SQL file.
const RAW = {
  regex: up("(db/)?raw$"),
  message:
    "Only a capability's *.service.ts, *.loaders.ts or *.sql.ts (and src/db/) import src/db/raw.ts: reads go through Prisma, or through the service that owns the table (docs/architecture.md, the rule for reads).",
};
const restrict = (...patterns) => ["error", { patterns }];
const CAPABILITY_DIRS = "src/{accounts,apitokens,audit,auth,diagnosis,dns,domains,imports,maillog,probe,testmail,usage,observability}";
const RAW_ALLOWED = [`${CAPABILITY_DIRS}/*.{service,loaders,sql}.ts`];
const SERVICE_FILES = [`${CAPABILITY_DIRS}/**/*.ts`, "src/loaders.ts", "src/service-deps.ts"];
const SHARED_FILES = ["src/shared/**/*.ts", "src/errors.ts", "src/config.ts", "src/logger.ts"];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "dist-bench/", "data/", "coverage/", "artifacts/", "scratch/", "src/generated/"] },
  { linterOptions: { reportUnusedDisableDirectives: "error" } },

  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "import-x": importX },
    settings: {
      // import-x parses the imported files itself (for no-cycle): TypeScript, with typescript-eslint's parser.
      "import-x/extensions": [".ts", ".js", ".mjs", ".cjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })],
    },
    rules: {
      // A promise nobody awaits loses its error (an unhandled rejection ends the process).
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      // Fastify plugins and hooks, Apollo plugins and the services' interfaces are async by contract, with or without an await.
      "@typescript-eslint/require-await": "off",
      // A leading underscore marks what is left out on purpose (`{ passwordHash: _passwordHash, ...rest }`).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
      // Input checks match control characters on purpose (headers, log lines, hostile input).
      "no-control-regex": "off",
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "import-x/no-self-import": "error",
      "import-x/no-duplicates": "error",
    },
  },

  // Layers (the most specific block last: a file gets the last one that matches).
  { files: ["src/**/*.ts"], rules: { "no-restricted-imports": restrict(RAW) } },
  { files: ["src/graphql/**/*.ts", "src/**/*.resolvers.ts"], rules: { "no-restricted-imports": restrict(RAW, OTHER_ADAPTERS) } },
  { files: ["src/rest/**/*.ts", "src/cli/**/*.ts", "src/ide/**/*.ts", "src/http/**/*.ts"], rules: { "no-restricted-imports": restrict(RAW, GRAPHQL) } },
  { files: SERVICE_FILES, ignores: ["src/**/*.resolvers.ts"], rules: { "no-restricted-imports": restrict(RAW, ADAPTERS) } },
  { files: RAW_ALLOWED, rules: { "no-restricted-imports": restrict(ADAPTERS) } },
  { files: ["src/db/**/*.ts"], rules: { "no-restricted-imports": restrict(ADAPTERS, SERVICES) } },
  { files: SHARED_FILES, rules: { "no-restricted-imports": restrict(ADAPTERS, SERVICES, DATA) } },

  // Tests do not import the benchmarks: what both need (the chaos model, the
  // DNS world, mail clients) lives in test/helpers, and bench/ imports it from there.
  {
    files: ["test/**/*.ts"],
    rules: {
      "no-restricted-imports": restrict({
        regex: up("bench(/|$)"),
        message: "Tests do not import from bench/: move what both need to test/helpers/ and import it from there in bench/ (docs/architecture.md).",
      }),
    },
  },

  // Tests and benchmarks read GraphQL and JSON answers, which are `any` by nature.
  {
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },

  // Plain JavaScript: no type information.
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    rules: { "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }] },
  },
  { files: ["scripts/**/*.mjs", "test/**/*.mjs"], languageOptions: { globals: globals.node } },
  { files: ["jest.config.js"], languageOptions: { sourceType: "commonjs", globals: globals.node } },
  // The PostGraphile peer of bench:peers runs from a folder of its own, with require() (see its header).
  { files: ["bench/**/*.cjs"], languageOptions: { sourceType: "commonjs", globals: globals.node }, rules: { "@typescript-eslint/no-require-imports": "off" } },
  { files: ["src/ide/public/**/*.js"], languageOptions: { sourceType: "script", globals: globals.browser } },
);
