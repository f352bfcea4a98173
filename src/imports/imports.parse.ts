// Reading an import file (CSV with a header row, or JSON lines) into rows of
// raw values. A problem that makes the whole file unreadable (a quote never
// closed, an unknown column) is BAD_USER_INPUT on `content`; a problem of one
// row is reported with that row and the others are still read.
import { parse as parseCsv } from "csv-parse/sync";
import { BadInputError } from "../errors";
import { message, type Message } from "../i18n/messages";
import type { Text } from "../i18n/text";

export type ImportFormat = "CSV" | "JSONL";

// A row with destinations (and no password) is an alias row: docs/imports.md.
export const IMPORT_COLUMNS = ["address", "password", "passwordHash", "quotaMb", "displayName", "status", "destinations"] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** One problem with one row, as reported to the caller. */
export interface RowError {
  /** Data row number from 1 (a CSV header is not a row). */
  row: number;
  /** The line of the file where the row ends. */
  line: number;
  field: ImportColumn | null;
  code: string;
  /** A Message (written in the reader's language when answered), or an English string from before the catalogues. */
  message: Text;
  /** The row's address as written, when it has one. */
  address: string | null;
}

export interface RawRow {
  row: number;
  line: number;
  /** Values as found: strings from CSV (empty cells left out), JSON values from JSON lines. */
  values: Partial<Record<ImportColumn, unknown>>;
  /** Problems found while reading the row itself. */
  problems: RowError[];
  /** True when the row holds no values to check (a JSON line that is not an object). */
  unreadable?: boolean;
}

const COLUMN_LIST = IMPORT_COLUMNS.join(", ");
const JSON_LINE_EXAMPLE = '{"address":"mary@example.tw","password":"..."}';

/** Spreadsheet headers such as "Quota MB" or "password_hash" name the same columns. */
function columnNamed(name: string): ImportColumn | undefined {
  const key = name.toLowerCase().replace(/[\s_-]/g, "");
  return IMPORT_COLUMNS.find((column) => column.toLowerCase() === key);
}

function rawAddress(values: Partial<Record<ImportColumn, unknown>>): string | null {
  return typeof values.address === "string" ? values.address.slice(0, 320) : null;
}

function rowProblem(row: number, line: number, values: Partial<Record<ImportColumn, unknown>>, field: ImportColumn | null, text: Message): RowError {
  return { row, line, field, code: "BAD_USER_INPUT", message: text, address: rawAddress(values) };
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

function readCsv(content: string, maxRows: number): RawRow[] {
  let records: CsvRecord[];
  try {
    // info: true makes each record { record, info }, which the typings do not follow.
    const parsed: unknown = parseCsv(content, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      // Rows with too few or too many cells are reported with the row, not as a broken file.
      relax_column_count: true,
      // One more than allowed, to tell "too many rows" from "just enough" (the header is a record too).
      to: maxRows + 2,
    });
    records = parsed as CsvRecord[];
  } catch (error) {
    const { lines, message: reason } = error as { lines?: number; message: string };
    throw new BadInputError(
      "content",
      lines ? message("imports.file.csv_unreadable_at_line", { line: String(lines), reason }) : message("imports.file.csv_unreadable", { reason }),
    );
  }
  const [header, ...data] = records;
  if (!header) throw new BadInputError("content", message("imports.file.empty", { columns: COLUMN_LIST }));
  if (data.length > maxRows) throw new BadInputError("content", message("imports.file.too_many_rows", { max: String(maxRows) }));
  const columns = header.record.map((name) => {
    const column = columnNamed(name.trim());
    if (!column) throw new BadInputError("content", message("imports.file.unknown_column", { name: name.slice(0, 64), columns: COLUMN_LIST }));
    return column;
  });
  const repeated = columns.find((column, index) => columns.indexOf(column) !== index);
  if (repeated) throw new BadInputError("content", message("imports.file.column_twice", { column: repeated }));
  if (!columns.includes("address")) throw new BadInputError("content", message("imports.file.no_address_column", { columns: COLUMN_LIST }));
  if (!columns.includes("password") && !columns.includes("passwordHash") && !columns.includes("destinations")) {
    throw new BadInputError("content", message("imports.file.no_password_column"));
  }
  return data.map(({ record, info }, index) => {
    const values: Partial<Record<ImportColumn, unknown>> = {};
    columns.forEach((column, position) => {
      const cell = record[position];
      if (cell !== undefined && cell !== "") values[column] = cell;
    });
    const problems =
      record.length === columns.length
        ? []
        : [rowProblem(index + 1, info.lines, values, null, message("imports.row.cell_count", { cells: String(record.length), columns: String(columns.length) }))];
    return { row: index + 1, line: info.lines, values, problems };
  });
}

function readJsonLines(content: string, maxRows: number): RawRow[] {
  const rows: RawRow[] = [];
  const lines = content.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!.trim();
    if (text === "") continue;
    if (rows.length === maxRows) throw new BadInputError("content", message("imports.file.too_many_rows", { max: String(maxRows) }));
    const row = rows.length + 1;
    const line = index + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      rows.push({
        row,
        line,
        values: {},
        problems: [rowProblem(row, line, {}, null, message("imports.row.line_not_json", { line: String(line), example: JSON_LINE_EXAMPLE }))],
        unreadable: true,
      });
      continue;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      rows.push({ row, line, values: {}, problems: [rowProblem(row, line, {}, null, message("imports.row.line_not_object", { line: String(line) }))], unreadable: true });
      continue;
    }
    const values: Partial<Record<ImportColumn, unknown>> = {};
    const problems: RowError[] = [];
    for (const [key, value] of Object.entries(parsed)) {
      const column = IMPORT_COLUMNS.find((name) => name === key);
      if (!column) {
        problems.push(rowProblem(row, line, parsed, null, message("imports.row.unknown_field", { name: key.slice(0, 64), columns: COLUMN_LIST })));
      } else if (value !== null) {
        values[column] = value;
      }
    }
    for (const problem of problems) problem.address = rawAddress(values);
    rows.push({ row, line, values, problems });
  }
  if (rows.length === 0) throw new BadInputError("content", message("imports.file.no_rows"));
  return rows;
}

export function readImportFile(content: string, format: ImportFormat, maxRows: number): RawRow[] {
  return format === "CSV" ? readCsv(content, maxRows) : readJsonLines(content, maxRows);
}
