// Issue 17: support_admin.bootstrap was written to the audit trail but missing
// from the documented audit actions. Every action the code writes must be in
// AUDIT_ACTIONS, and every one of those in the documentation of the audit
// trail (the README, or the docs/ it is being split into).
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { AUDIT_ACTIONS } from "../../src/audit/audit.service";

const ROOT = join(__dirname, "..", "..");

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Action names the code writes: `action: "x.y"` in a writeAudit record, and the literal actions of auditLogin. */
function writtenActions(): Set<string> {
  const found = new Set<string>();
  for (const file of sourceFiles(join(ROOT, "src"))) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/\baction: "([a-z_]+\.[a-z_]+)"/g)) found.add(match[1]!);
    for (const match of text.matchAll(/auditLogin\([^)]*"([a-z_]+\.[a-z_]+)"/g)) found.add(match[1]!);
  }
  return found;
}

function documentation(): string {
  const docs = join(ROOT, "docs");
  const pages = existsSync(docs)
    ? readdirSync(docs)
        .filter((name) => name.endsWith(".md"))
        .map((name) => join(docs, name))
    : [];
  return [join(ROOT, "README.md"), ...pages].map((path) => readFileSync(path, "utf8")).join("\n");
}

describe("audit actions", () => {
  it("lists every action the code writes", () => {
    const written = writtenActions();
    expect(written).toContain("support_admin.bootstrap");
    expect(written).toContain("auth.login_failed");
    expect([...written].filter((action) => !((AUDIT_ACTIONS ?? []) as readonly string[]).includes(action))).toEqual([]);
  });

  it("documents every action, support_admin.bootstrap included", () => {
    const text = documentation();
    const undocumented = [...new Set([...(AUDIT_ACTIONS ?? []), ...writtenActions()])].filter((action) => !text.includes(`\`${action}\``));
    expect(undocumented).toEqual([]);
  });
});
