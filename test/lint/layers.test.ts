// The layer rule of docs/architecture.md holds and stays held: ESLint refuses
// an import that points back up (here reintroduced as text, linted as if it
// were a file of src/; and a test importing from bench/, which imports from
// the test helpers instead), and src/ has no import cycle, type-only imports
// included (ESLint's import-x/no-cycle looks at value imports only).
import { execFile } from "node:child_process";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { projectRoot } from "../../src/shared/project-root";

const execFileAsync = promisify(execFile);

type Finding = { ruleId: string | null; message: string };

/** ESLint's findings for each text, written as the file named (a path under the project root); one ESLint process for all. */
async function lintAs(texts: { file: string; code: string }[]): Promise<Finding[][]> {
  const running = execFileAsync(process.execPath, ["test/lint/lint-texts.mjs"], { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 });
  running.child.stdin!.end(JSON.stringify(texts));
  const { stdout } = await running;
  return JSON.parse(stdout) as Finding[][];
}

describe("the layer rule", () => {
  const refused: [string, string, string][] = [
    ["a service importing the GraphQL adapter", "src/auth/back-up.ts", `import type { GraphQLContext } from "../graphql/context";\nexport type X = GraphQLContext;\n`],
    ["REST importing the GraphQL adapter", "src/rest/back-up.ts", `import { principalObject } from "../graphql/principal-object";\nexport const x = principalObject;\n`],
    ["a service importing a resolver map", "src/domains/back-up.ts", `import { domainResolvers } from "./domains.resolvers";\nexport const x = domainResolvers;\n`],
    ["the data layer importing a service", "src/db/back-up.ts", `import type { Principal } from "../auth/principal";\nexport type X = Principal;\n`],
    ["shared code importing a capability", "src/shared/back-up.ts", `import { parseDnsServerList } from "../dns/dns.transport";\nexport const x = parseDnsServerList;\n`],
    ["an adapter importing the raw SQL path", "src/graphql/back-up.ts", `import { rawRows } from "../db/raw";\nexport const x = rawRows;\n`],
    ["a non-service file of a capability importing the raw SQL path", "src/auth/back-up.ts", `import { rawRows } from "../db/raw";\nexport const x = rawRows;\n`],
    ["a test importing from bench/", "test/chaos/back-up.test.ts", `import { numberOption } from "../../bench/bench-support";\nexport const x = numberOption;\n`],
    ["a test helper importing from bench/", "test/helpers/back-up.ts", `import { numberOption } from "../../bench/bench-support";\nexport const x = numberOption;\n`],
  ];
  const allowed: [string, string, string][] = [
    [
      "a resolver importing the GraphQL context and a service",
      "src/domains/fine.resolvers.ts",
      `import type { GraphQLContext } from "../graphql/context";\nimport { lockDomain } from "./domains.service";\nexport const x: [GraphQLContext | null, typeof lockDomain] = [null, lockDomain];\n`,
    ],
    ["a service's loaders reading through the raw path", "src/domains/fine.loaders.ts", `import { rawRows } from "../db/raw";\nexport const x = rawRows;\n`],
    [
      "REST importing services and the loaders",
      "src/rest/fine.ts",
      `import { createLoaders } from "../loaders";\nimport { lockDomain } from "../domains/domains.service";\nexport const x = [createLoaders, lockDomain];\n`,
    ],
    ["a benchmark importing the test helpers", "bench/fine.ts", `import { runChaos } from "../test/helpers/chaos/run";\nexport const x = runChaos;\n`],
  ];

  it("refuses back-up imports, the raw SQL path outside the services and tests importing from bench/, and allows the imports that point down", async () => {
    const findings = await lintAs([...refused, ...allowed].map(([, file, code]) => ({ file, code })));
    refused.forEach(([what], index) => {
      const found = findings[index]!;
      expect({ what, rules: found.map((finding) => finding.ruleId) }).toEqual({ what, rules: ["no-restricted-imports"] });
      expect(found[0]!.message).toMatch(/docs\/architecture\.md|share through a service/);
    });
    allowed.forEach(([what], index) => expect({ what, findings: findings[refused.length + index] }).toEqual({ what, findings: [] }));
  }, 120_000);
});

describe("imports in src/", () => {
  it("form no cycle, type-only imports included", () => {
    const source = join(projectRoot, "src");
    const files: string[] = [];
    const walk = (directory: string) => {
      for (const entry of readdirSync(directory, { withFileTypes: true })) {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) {
          if (path !== join(source, "generated")) walk(path);
        } else if (path.endsWith(".ts")) files.push(path);
      }
    };
    walk(source);
    const edges = new Map<string, string[]>();
    for (const file of files) {
      const imported = ts
        .preProcessFile(readFileSync(file, "utf8"), true, true)
        .importedFiles.map((reference) => reference.fileName)
        .filter((name) => name.startsWith("."))
        .map((name) => resolve(dirname(file), name))
        .map((target) => (existsSync(`${target}.ts`) ? `${target}.ts` : join(target, "index.ts")))
        .filter((target) => files.includes(target));
      edges.set(file, imported);
    }
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, "visiting");
      stack.push(file);
      for (const target of edges.get(file) ?? []) {
        if (state.get(target) === "visiting") cycles.push([...stack.slice(stack.indexOf(target)), target].map((path) => relative(source, path)).join(" -> "));
        else if (!state.has(target)) visit(target);
      }
      stack.pop();
      state.set(file, "done");
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
