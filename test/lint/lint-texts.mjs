// Lints texts as if they were files of the project, in one ESLint process:
// reads [{ file, code }] as JSON on stdin, writes each text's findings
// ([{ ruleId, message }]) as JSON on stdout. With the project's rules but
// without type information (eslint.without-types.config.mjs): the texts are
// not files of the TypeScript project. Used by test/lint/layers.test.ts.
import { ESLint } from "eslint";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const eslint = new ESLint({ overrideConfigFile: "test/lint/eslint.without-types.config.mjs" });
const findings = [];
for (const { file, code } of JSON.parse(input)) {
  const [result] = await eslint.lintText(code, { filePath: file });
  findings.push(result.messages.map(({ ruleId, message }) => ({ ruleId, message })));
}
process.stdout.write(JSON.stringify(findings));
