// Every setting the server reads is documented where operators look for it:
// .env.example (as NAME= or a commented # NAME= line) and the configuration
// page of the manual (docs/configuration.md).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, SETTING_NAMES } from "../../src/config";
import { projectRoot } from "../../src/shared/project-root";

const envExample = readFileSync(join(projectRoot, ".env.example"), "utf8");
const configurationPage = readFileSync(join(projectRoot, "docs", "configuration.md"), "utf8");

describe("settings are documented", () => {
  it("knows the settings (the list is read from the configuration schema)", () => {
    expect(SETTING_NAMES).toEqual(expect.arrayContaining(["DATABASE_URL", "JWT_SECRET", "RATE_LIMIT_ENABLED", "GRAPHQL_IDE", "METRICS_TOKEN"]));
  });

  it.each(SETTING_NAMES.map((name) => [name]))("%s is in .env.example and docs/configuration.md", (name) => {
    expect(envExample).toMatch(new RegExp(`^#? ?${name}=`, "m"));
    expect(configurationPage).toContain(`\`${name}\``);
  });

  it(".env.example names no setting the server does not read", () => {
    const named = [...envExample.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    expect(named.filter((name) => !SETTING_NAMES.includes(name))).toEqual([]);
  });

  it(".env.example's uncommented values are valid settings", () => {
    const values = Object.fromEntries([...envExample.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((match) => [match[1]!, match[2]!.trim()]));
    expect(() => loadConfig(values)).not.toThrow();
  });
});
