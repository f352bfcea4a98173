// ESLint (npm run lint, part of npm test): typescript-eslint's type-aware
// rules, import cycles, and the layer rule of docs/architecture.md.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "dist-bench/", "data/", "coverage/", "artifacts/", "scratch/", "src/generated/", "test/lint/fixtures/"] },
  { linterOptions: { reportUnusedDisableDirectives: "error" } },

  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "import-x": importX },
    settings: { "import-x/resolver-next": [createTypeScriptImportResolver({ project: "tsconfig.json" })] },
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
  { files: ["scripts/**/*.mjs"], languageOptions: { globals: globals.node } },
  { files: ["jest.config.js"], languageOptions: { sourceType: "commonjs", globals: globals.node } },
  { files: ["src/ide/public/**/*.js"], languageOptions: { sourceType: "script", globals: globals.browser } },
);
