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
import type { PrismaClient } from "../generated/prisma/client";
import { ingestLines, type IngestResult, type LogLineInput } from "./ingest";
import { splitLines } from "./parse";

export interface LogSource {
  name: string;
  /** A log file (its rotated siblings name.1, name-20260101 ... are read too) or a directory of log files. */
  path: string;
  timeZone: string;
}

export interface CollectionReport {
  source: string;
  files: number;
  linesRead: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: string[];
}

const HEAD_BYTES = 256;
const BATCH_BYTES = 4 * 1024 * 1024;
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
    candidates = (await readdir(directory))
      .filter((name) => name === base || name.startsWith(`${base}.`) || name.startsWith(`${base}-`))
      .map((name) => join(directory, name));
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

export async function collectSource(db: PrismaClient, source: LogSource, logger?: Logger): Promise<CollectionReport> {
  const report: CollectionReport = { source: source.name, files: 0, linesRead: 0, accepted: 0, duplicates: 0, rejected: 0, errors: [] };
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
      await collectFile(db, source, file, report);
    } catch (error) {
      report.errors.push(`${file.path}: ${(error as Error).message}`);
      logger?.error({ err: error, source: source.name, path: file.path }, "log collection failed for a file");
    }
  }
  return report;
}

async function collectFile(db: PrismaClient, source: LogSource, file: { path: string; fileId: string; size: number }, report: CollectionReport) {
  const handle = await open(file.path, "r");
  try {
    const stored = await db.logFileOffset.findUnique({ where: { sourceName_fileId: { sourceName: source.name, fileId: file.fileId } } });
    let offset = stored ? Number(stored.offset) : 0;
    let lineNumber = stored?.lineNumber ?? 0;
    // The head is compared once it is complete, so a file still shorter than HEAD_BYTES is not mistaken for a new one.
    const head = await headHash(handle, file.size);
    const headComplete = file.size >= HEAD_BYTES && (stored?.offset ?? 0n) >= BigInt(HEAD_BYTES);
    if (stored && (file.size < offset || (headComplete && stored.headHash !== head))) {
      offset = 0;
      lineNumber = 0;
    }
    if (stored && stored.path !== file.path && offset === file.size) {
      await db.logFileOffset.update({ where: { sourceName_fileId: { sourceName: source.name, fileId: file.fileId } }, data: { path: file.path } });
    }
    while (offset < file.size) {
      const length = Math.min(BATCH_BYTES, file.size - offset);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      const { lines, rest } = splitLines(buffer.subarray(0, bytesRead));
      if (lines.length === 0) {
        // An unfinished last line stays for the next pass, unless it alone fills a whole batch.
        if (rest.length < BATCH_BYTES) break;
        lines.push(rest);
      }
      const consumed = lines.reduce((total, line) => total + line.length + 1, 0);
      const inputs: LogLineInput[] = lines.map((content, index) => ({ content, lineNumber: lineNumber + index + 1 }));
      const nextOffset = Math.min(offset + consumed, file.size);
      const nextLineNumber = lineNumber + lines.length;
      const result: IngestResult = await db.$transaction(async (tx) => {
        const ingested = await ingestLines(tx, { name: source.name, timeZone: source.timeZone, path: file.path }, inputs);
        const position = { path: file.path, offset: BigInt(nextOffset), lineNumber: nextLineNumber, headHash: await headHash(handle, file.size) };
        await tx.logFileOffset.upsert({
          where: { sourceName_fileId: { sourceName: source.name, fileId: file.fileId } },
          create: { sourceName: source.name, fileId: file.fileId, ...position },
          update: position,
        });
        return ingested;
      });
      report.linesRead += lines.length;
      report.accepted += result.accepted;
      report.duplicates += result.duplicates;
      report.rejected += result.rejected.length;
      offset = nextOffset;
      lineNumber = nextLineNumber;
    }
  } finally {
    await handle.close();
  }
}

export async function collectAll(db: PrismaClient, sources: LogSource[], logger?: Logger): Promise<CollectionReport[]> {
  const reports = [];
  for (const source of sources) reports.push(await collectSource(db, source, logger));
  return reports;
}
