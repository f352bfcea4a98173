// The project's ESLint configuration without the rules that need type
// information, for linting text that is not a file of the project
// (test/lint/layers.test.ts lints imports as if written in src/).
import tseslint from "typescript-eslint";
import config from "../../eslint.config.mjs";

export default [...config, { files: ["**/*.ts"], ...tseslint.configs.disableTypeChecked }];
