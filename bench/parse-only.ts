// Parse-only driver: the parser's cost per line on a fixed input, without a
// database. For before/after decisions on a shared machine, where wall-clock
// rates are noisy, run it under callgrind twice with different --parse counts
// and divide the difference in instructions by the difference in lines
// (start-up, file reading and JIT warm-up cancel out):
//
//   npx tsc -p tsconfig.bench.json
//   node dist-bench/bench/parse-only.js --lines 200000 --passes 5        # wall clock, best pass
//   valgrind --tool=callgrind --callgrind-out-file=20k.out \
//     node --single-threaded dist-bench/bench/parse-only.js --passes 1 --distinct 10000 --parse 20000
//   (the same with --parse 120000 into 120k.out; then (total of 120k - total of 20k) / 100000)
//
// --single-threaded makes V8 optimize on the main thread, where callgrind
// counts it, instead of at times that vary. What still varies between two
// identical runs is full garbage collection (a few hundred instructions a
// line); `callgrind_annotate` shows it apart (Marking..., Sweeper..., Scavenger...).
//
// The input is the benchmark's master log (generated once into --dir, with a
// fixed end time so that every run parses the same bytes).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { generateLogs } from "./maillog-generate";
import { parseLogLine, splitLines } from "../src/maillog/parse";

const argument = (name: string, fallback: number) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : Number(process.argv[index + 1]);
};
const textArgument = (name: string, fallback: string) => {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1]!;
};

const lines = argument("lines", 200_000);
const passes = argument("passes", 5);
const directory = textArgument("dir", `/tmp/mailadmin-parse-input-${lines}`);
const masterPath = join(directory, "m2k-1.log");
// 2026-11-28 00:00:00 UTC: a fixed end, so the file is the same on every run.
if (!existsSync(masterPath)) generateLogs(directory, lines, { end: 1_795_824_000 });
const { lines: all } = splitLines(readFileSync(masterPath));
// --distinct N: parse the first N lines over and over (--parse counts every
// line parsed). Fewer lines kept alive make fewer, shorter full garbage
// collections, whose timing varies from run to run and blurs instruction counts.
const raw = all.slice(0, Math.min(argument("distinct", all.length), all.length));
const parse = argument("parse", raw.length);

let best = Infinity;
let checksum = 0;
for (let pass = 0; pass < passes; pass++) {
  const started = process.hrtime.bigint();
  let parsed = 0;
  for (let index = 0; index < parse; index++) {
    const result = parseLogLine(raw[index % raw.length]!);
    if (result.ok) {
      parsed++;
      // Touches the result so that no work can be skipped.
      checksum = (checksum + result.record.sizeBytes + result.record.fingerprint.charCodeAt(7)) % 1_000_000_007;
    }
  }
  best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  if (parsed !== parse) throw new Error(`only ${parsed} of ${parse} lines parsed`);
}
process.stdout.write(`${JSON.stringify({ lines: parse, passes, bestSeconds: Number(best.toFixed(4)), linesPerSecond: Math.round(parse / best), checksum })}\n`);
