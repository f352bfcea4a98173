// Collects delivery logs from the configured sources: reads what is new in
// each file since the last pass, and stores the records together with the new
// offset in one transaction per batch, so that a restart resumes exactly where
// the last committed batch ended, never re-reading or skipping a line.
//
// Files are tracked by identity (device:inode), not by name: when rotation
// renames maillog to maillog.1, the rest of it is read under its new name and
// the new maillog starts from 0. A file that shrank, or whose first bytes
// changed, was truncated or replaced and is read again from the start
// (ingestion is idempotent, so nothing is stored twice).
import { createHash } from "node:crypto";
import { open, readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "pino";
import { parseSourceBatch, storeBatch, type LogFormatName, type LogLineInput } from "./ingest";
import type { LogStore, SqlExecutor } from "./sql";
import { splitLines } from "./parse";

export interface LogSource {
  name: string;
  /** A log file (its rotated siblings name.1, name-20260101 ... are read too) or a directory of log files. */
  path: string;
  timeZone: string;
  /** How the source writes its log (default ezml). */
  format?: LogFormatName;
  /** Lines dated before this (the retention) are counted as tooOld, not stored. */
  notBefore?: Date;
}

export interface CollectionReport {
  source: string;
  files: number;
  linesRead: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  /** Postfix: lines that are no record themselves (joined into later records, connections, other programs). */
  otherLines: number;
  /** Lines dated before the retention: counted, not stored. */
  tooOld: number;
  errors: string[];
}

const HEAD_BYTES = 256;
// About 1,800 lines: a transaction of some 50 milliseconds. Larger batches
// save little on round trips and cost more in garbage collection: their
// records outlive the young generation while the database stores them.
const BATCH_BYTES = 256 * 1024;
const SKIPPED_SUFFIXES = [".gz", ".bz2", ".xz", ".zst", ".zip"];

/** The files of a source, oldest first, so that rotated files are finished before the live one is started. */
async function filesOf(source: LogSource): Promise<{ path: string; fileId: string; size: number }[]> {
  const info = await stat(source.path);
  let candidates: string[];
  if (info.isDirectory()) {
    candidates = (await readdir(source.path)).map((name) => join(source.path, name));
  } else {
    const directory = dirname(source.path);
    const base = basename(source.path);
    candidates = (await readdir(directory)).filter((name) => name === base || name.startsWith(`${base}.`) || name.startsWith(`${base}-`)).map((name) => join(directory, name));
  }
  const files = [];
  for (const path of candidates) {
    if (SKIPPED_SUFFIXES.some((suffix) => path.endsWith(suffix))) continue;
    const fileInfo = await stat(path).catch(() => null);
    if (!fileInfo?.isFile()) continue;
    files.push({ path, fileId: `${fileInfo.dev}:${fileInfo.ino}`, size: fileInfo.size, mtime: fileInfo.mtimeMs });
  }
  files.sort((a, b) => a.mtime - b.mtime || b.path.localeCompare(a.path));
  return files.map(({ path, fileId, size }) => ({ path, fileId, size }));
}

async function headHash(handle: import("node:fs/promises").FileHandle, size: number): Promise<string> {
  const length = Math.min(HEAD_BYTES, size);
  const buffer = Buffer.alloc(length);
  await handle.read(buffer, 0, length, 0);
  return createHash("sha256").update(buffer).digest("base64url");
}

export async function collectSource(store: LogStore, source: LogSource, logger?: Logger): Promise<CollectionReport> {
  const report: CollectionReport = { source: source.name, files: 0, linesRead: 0, accepted: 0, duplicates: 0, rejected: 0, otherLines: 0, tooOld: 0, errors: [] };
  let files;
  try {
    files = await filesOf(source);
  } catch (error) {
    report.errors.push(`cannot list ${source.path}: ${(error as Error).message}`);
    return report;
  }
  for (const file of files) {
    report.files++;
    try {
      await collectFile(store, source, file, report);
    } catch (error) {
      report.errors.push(`${file.path}: ${(error as Error).message}`);
      logger?.error({ err: error, source: source.name, path: file.path }, "log collection failed for a file");
    }
  }
  return report;
}

interface StoredOffset {
  path: string;
  offset: string;
  lineNumber: number;
  headHash: string;
}

async function saveOffset(sql: SqlExecutor, sourceName: string, fileId: string, position: { path: string; offset: number; lineNumber: number; headHash: string }) {
  await sql.execute(
    `INSERT INTO "log_file_offset" ("sourceName", "fileId", "path", "offset", "lineNumber", "headHash", "updatedAt")
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT ("sourceName", "fileId") DO UPDATE SET
       "path" = EXCLUDED."path", "offset" = EXCLUDED."offset", "lineNumber" = EXCLUDED."lineNumber",
       "headHash" = EXCLUDED."headHash", "updatedAt" = EXCLUDED."updatedAt"`,
    [sourceName, fileId, position.path, position.offset, position.lineNumber, position.headHash],
  );
}

/** Another collector stored lines of the file since this pass read its offset. */
class OffsetMoved extends Error {
  constructor(path: string) {
    super(`${path}: another collector stored lines of this file during this pass; left to it (nothing stored twice)`);
  }
}

async function collectFile(store: LogStore, source: LogSource, file: { path: string; fileId: string; size: number }, report: CollectionReport) {
  const handle = await open(file.path, "r");
  try {
    const [stored] = await store.transaction((sql) =>
      sql.query<StoredOffset>(`SELECT "path", "offset"::text AS "offset", "lineNumber", "headHash" FROM "log_file_offset" WHERE "sourceName" = $1 AND "fileId" = $2`, [
        source.name,
        file.fileId,
      ]),
    );
    let offset = stored ? Number(stored.offset) : 0;
    // What the database holds as this file's offset, as far as this pass knows: each batch checks it is still so.
    let expectedStored: number | null = stored ? Number(stored.offset) : null;
    let lineNumber = stored?.lineNumber ?? 0;
    // The head is compared once it is complete, so a file still shorter than HEAD_BYTES is not mistaken for a new one.
    const head = await headHash(handle, file.size);
    const headComplete = file.size >= HEAD_BYTES && offset >= HEAD_BYTES;
    if (stored && (file.size < offset || (headComplete && stored.headHash !== head))) {
      offset = 0;
      lineNumber = 0;
    }
    if (stored && stored.path !== file.path && offset === file.size) {
      await store.transaction((sql) => saveOffset(sql, source.name, file.fileId, { path: file.path, offset, lineNumber, headHash: head }));
      expectedStored = offset;
    }
    const copy = await store.supportsCopy();
    // Postfix's year-less time stamps are dated relative to this pass.
    const reference = Date.now();
    // Batches are read and parsed one ahead: the next batch is parsed while
    // the database stores the current one, so parsing and storing overlap.
    const readBatch = async (from: number, firstLine: number) => {
      if (from >= file.size) return null;
      const length = Math.min(BATCH_BYTES, file.size - from);
      // Not zero-filled: only the bytes read are used.
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, from);
      const { lines, rest } = splitLines(buffer.subarray(0, bytesRead));
      if (lines.length === 0) {
        // An unfinished last line stays for the next pass, unless it alone fills a whole batch.
        if (rest.length < BATCH_BYTES) return null;
        lines.push(rest);
      }
      const consumed = lines.reduce((total, line) => total + line.length + 1, 0);
      const inputs: LogLineInput[] = lines.map((content, index) => ({ content, lineNumber: firstLine + index + 1 }));
      return {
        parsed: parseSourceBatch(inputs, source, { copy, reference, notBefore: source.notBefore }),
        lines: lines.length,
        endOffset: Math.min(from + consumed, file.size),
        endLine: firstLine + lines.length,
      };
    };
    const headNow = await headHash(handle, file.size);
    let batch = await readBatch(offset, lineNumber);
    while (batch) {
      const current = batch;
      // The records and the new offset commit together: a crash between batches resumes exactly here.
      const stored = store.transaction(async (sql) => {
        // Not waiting for the WAL flush at commit is safe here: a commit the
        // server loses in a crash loses the offset with the records, so the
        // next pass reads those lines again, and storing them is idempotent.
        // (Not for lines pushed through the API: their sender is told they are stored.)
        await sql.execute("SET LOCAL synchronous_commit = off", []);
        // The offset row, locked to the commit: should another collector have
        // stored lines of this file meanwhile (two servers each believing it
        // collects, for a moment), this pass leaves the file to it.
        const [row] = await sql.query<{ offset: string }>(`SELECT "offset"::text AS "offset" FROM "log_file_offset" WHERE "sourceName" = $1 AND "fileId" = $2 FOR UPDATE`, [
          source.name,
          file.fileId,
        ]);
        if ((row ? Number(row.offset) : null) !== expectedStored) throw new OffsetMoved(file.path);
        const result = await storeBatch(sql, { name: source.name, path: file.path }, current.parsed);
        await saveOffset(sql, source.name, file.fileId, { path: file.path, offset: current.endOffset, lineNumber: current.endLine, headHash: headNow });
        return result;
      });
      const next = readBatch(current.endOffset, current.endLine);
      const [result] = await Promise.all([stored, next.catch(() => null)]);
      expectedStored = current.endOffset;
      report.linesRead += current.lines;
      report.accepted += result.accepted;
      report.duplicates += result.duplicates;
      report.rejected += result.rejected.length;
      report.otherLines += result.otherLines;
      report.tooOld += result.tooOld;
      offset = current.endOffset;
      lineNumber = current.endLine;
      batch = await next;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Collects every source, `concurrency` sources at a time: each on its own
 * connection, so that PostgreSQL inserts for several log servers at once.
 * Within a file, batches stay in order (an offset never passes a batch not yet committed).
 */
export async function collectAll(store: LogStore, sources: LogSource[], logger?: Logger, concurrency = 1): Promise<CollectionReport[]> {
  const reports = new Array<CollectionReport>(sources.length);
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < sources.length; index = next++) reports[index] = await collectSource(store, sources[index]!, logger);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, sources.length)) }, worker));
  return reports;
}
