// Imports accounts from a CSV or JSON-lines file into a running server,
// through its GraphQL API (so the server's rules, authorization and audit
// apply as to any other caller):
//
//   MAILADMIN_URL=http://127.0.0.1:4000 MAILADMIN_TOKEN=... \
//     npm run import -- accounts.csv [--dry-run] [--mode per-row|all-or-nothing] [--format csv|jsonl] [--json]
//
// Prints progress on stderr and the report on stdout. Exit code: 0 when every
// row passed, 1 when rows were refused, 2 when the import could not run, 64
// for a wrong command line. Written in MAILADMIN_LANGUAGE, else the shell's
// locale (LANG=zh_TW.UTF-8: Traditional Chinese), else DEFAULT_LANGUAGE; the
// server is asked for the same language (Accept-Language), so the row errors
// come in it too. --json is for programs: its codes and fields never change.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { AccountImport } from "../generated/graphql";
import { message } from "../i18n/messages";
import { cliMessages } from "./language";

const { language, text } = cliMessages();
const DEFAULT_URL = "http://127.0.0.1:4000";
const usage = () => text("cli.import.usage", { command: "npm run import -- FILE [--dry-run] [--mode per-row|all-or-nothing] [--format csv|jsonl] [--json]", url: DEFAULT_URL });

/** Characters per request: well inside the server's request size limit even for CJK text (3 bytes a character). */
const PART_CHARACTERS = 256 * 1024;
const POLL_INTERVAL_MS = 500;

const REPORT = "id phase rowsTotal phaseDone phaseTotal validCount createdCount failedCount failure errors { row line field code message address }";

/** The fields REPORT asks for, typed from schema.graphql (generated). */
type Report = Pick<AccountImport, "id" | "phase" | "rowsTotal" | "phaseDone" | "phaseTotal" | "validCount" | "createdCount" | "failedCount" | "failure" | "errors">;

class UsageError extends Error {}

/** A refusal by the server (a GraphQL error), with its code. */
class ServerError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      "dry-run": { type: "boolean", default: false },
      mode: { type: "string", default: "all-or-nothing" },
      format: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  if (positionals.length !== 1) throw new UsageError(text("cli.import.one_file"));
  const mode = { "per-row": "PER_ROW", "all-or-nothing": "ALL_OR_NOTHING" }[values.mode];
  if (!mode) throw new UsageError(text("cli.import.bad_mode", { value: values.mode }));
  // npm run changes to the package's directory; a relative path means where the command was typed.
  const file = resolve(process.env.INIT_CWD ?? process.cwd(), positionals[0]!);
  const formatName = values.format ?? (/\.(jsonl|ndjson)$/i.test(file) ? "jsonl" : "csv");
  const format = { csv: "CSV", jsonl: "JSONL" }[formatName];
  if (!format) throw new UsageError(text("cli.import.bad_format", { value: formatName }));
  const token = process.env.MAILADMIN_TOKEN;
  if (!token) throw new UsageError(text("cli.import.no_token"));
  const url = `${(process.env.MAILADMIN_URL ?? DEFAULT_URL).replace(/\/+$/, "")}/graphql`;
  return { file, format, mode, dryRun: values["dry-run"], json: values.json, token, url };
}

function graphqlClient(url: string, token: string) {
  return async function request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "accept-language": language(), authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json().catch(() => ({}))) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    const error = body.errors?.[0];
    if (error) throw new ServerError(error.message, error.extensions?.code ?? "ERROR");
    if (!response.ok || !body.data) throw new ServerError(text("cli.import.http_status", { status: String(response.status) }), "HTTP_ERROR");
    return body.data;
  };
}

/** Cuts the file after a line end where it can (the server joins the parts as they are, so any cut would do). */
function splitIntoParts(content: string, size: number): string[] {
  const parts: string[] = [];
  let start = 0;
  while (content.length - start > size) {
    let end = content.lastIndexOf("\n", start + size - 1) + 1;
    if (end <= start) end = start + size - (/[\uD800-\uDBFF]/.test(content[start + size - 1]!) ? 1 : 0);
    parts.push(content.slice(start, end));
    start = end;
  }
  parts.push(content.slice(start));
  return parts;
}

function progressLine(report: Report): string {
  if (report.phase === "UPLOADING") return text("cli.import.uploading");
  const values = { phase: message(`cli.import.phase.${report.phase}`), done: String(report.phaseDone), total: String(report.phaseTotal), rows: String(report.rowsTotal) };
  if (report.phaseTotal === 0) return text("cli.import.progress", values);
  return text("cli.import.progress_percent", { ...values, percent: String(Math.floor((report.phaseDone / report.phaseTotal) * 100)) });
}

function printReport(report: Report, dryRun: boolean): void {
  const lines: string[] = [];
  for (const error of report.errors) {
    const values = { row: String(error.row), line: String(error.line), code: error.code, message: error.message };
    lines.push(error.field ? text("cli.import.row_error_field", { ...values, field: error.field }) : text("cli.import.row_error", values));
  }
  if (report.phase === "FAILED") lines.push(text("cli.import.failed", { reason: String(report.failure) }));
  lines.push(
    dryRun
      ? text("cli.import.dry_run_summary", { rows: String(report.rowsTotal), valid: String(report.validCount), failed: String(report.failedCount) })
      : text("cli.import.summary", { rows: String(report.rowsTotal), created: String(report.createdCount), failed: String(report.failedCount) }),
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function main(): Promise<number> {
  const settings = options();
  const content = readFileSync(settings.file, "utf8");
  const request = graphqlClient(settings.url, settings.token);
  const parts = splitIntoParts(content, PART_CHARACTERS);

  let report = (
    await request<{ startAccountImport: Report }>(`mutation($input: StartAccountImportInput!) { startAccountImport(input: $input) { ${REPORT} } }`, {
      input: { format: settings.format, mode: settings.mode, dryRun: settings.dryRun, content: parts[0], more: parts.length > 1 },
    })
  ).startAccountImport;
  for (let index = 1; index < parts.length; index++) {
    report = (
      await request<{ appendAccountImportContent: Report }>(
        `mutation($id: ID!, $content: String!, $more: Boolean) { appendAccountImportContent(id: $id, content: $content, more: $more) { ${REPORT} } }`,
        { id: report.id, content: parts[index], more: index < parts.length - 1 },
      )
    ).appendAccountImportContent;
    process.stderr.write(`${text("cli.import.uploaded_part", { part: String(index + 1), parts: String(parts.length) })}\n`);
  }

  let shown = "";
  while (report.phase !== "DONE" && report.phase !== "FAILED") {
    const line = progressLine(report);
    if (line !== shown) process.stderr.write(`${line}\n`);
    shown = line;
    await new Promise((done) => setTimeout(done, POLL_INTERVAL_MS));
    try {
      report = (await request<{ accountImport: Report }>(`query($id: ID!) { accountImport(id: $id) { ${REPORT} } }`, { id: report.id })).accountImport;
    } catch (error) {
      // The embedded database serves one request at a time: while a large
      // ALL_OR_NOTHING import writes, the server cannot even check the token.
      if (!(error instanceof ServerError && error.code === "SERVICE_UNAVAILABLE")) throw error;
    }
  }

  if (settings.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else printReport(report, settings.dryRun);
  if (report.phase === "FAILED") return 2;
  return report.failedCount > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${text("cli.import.usage_error", { error: error.message })}\n${usage()}\n`);
      process.exit(64);
    }
    const detail = error instanceof ServerError ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`${text("cli.import.failed", { reason: detail })}\n`);
    process.exit(2);
  },
);
