// Postfix log lines for tests: the real lines captured from Debian's Postfix
// 3.7 (test/maillog/fixtures/postfix-*.log, scripts/postfix-capture), moved
// to another time, time-stamp form or domain without changing anything else.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { wallClockAt } from "../../src/maillog/parse";

const FIXTURES = join(__dirname, "..", "maillog", "fixtures");
/** The year of the capture (Postfix's maillog_file writes none). */
export const CAPTURE_YEAR = 2026;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A fixture's lines, as captured (UTC). */
export function postfixFixture(name: "maillog_file" | "long-queue-ids" | "mailstack"): string[] {
  return readFileSync(join(FIXTURES, `postfix-${name}.log`), "utf8")
    .split("\n")
    .filter((line) => line.length > 0);
}

/** The instant of a captured line's "Mmm dd hh:mm:ss" (the capture ran in UTC in CAPTURE_YEAR). */
export function capturedAt(line: string): Date {
  const match = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d) /.exec(line);
  if (!match) throw new Error(`not a captured line: ${line}`);
  return new Date(Date.UTC(CAPTURE_YEAR, MONTHS.indexOf(match[1]!), Number(match[2]), Number(match[3]), Number(match[4]), Number(match[5])));
}

export type StampStyle = "maillog_file" | "syslog" | "rfc3339" | "short-iso";

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}

/** A time stamp as each writer writes it: Postfix's maillog_file "Dec 05", syslog "Dec  5", rsyslog's RFC 3339, journalctl -o short-iso. */
export function stamp(instant: Date, style: StampStyle, timeZone = "UTC"): string {
  if (style === "rfc3339") return `${instant.toISOString().slice(0, 19)}.${pad(instant.getUTCMilliseconds(), 3)}123+00:00`;
  const [year, month, day, hour, minute, second] = wallClockAt(instant, timeZone);
  if (style === "short-iso") {
    const offsetMinutes = Math.round((Date.UTC(year, month - 1, day, hour, minute, second) - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
    const sign = offsetMinutes < 0 ? "-" : "+";
    return `${year}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${sign}${pad(Math.floor(Math.abs(offsetMinutes) / 60))}${pad(Math.abs(offsetMinutes) % 60)}`;
  }
  const dayText = style === "syslog" ? String(day).padStart(2, " ") : pad(day);
  return `${MONTHS[month - 1]} ${dayText} ${pad(hour)}:${pad(minute)}:${pad(second)}`;
}

export interface Restamp {
  /** Where the first line lands; the others keep their distance to it. */
  start?: Date;
  style?: StampStyle;
  timeZone?: string;
  /** Replaces the capture's domains (hosted.test ...) by others. */
  domains?: Record<string, string>;
  /** Replaces the capture's host name (mx): lines of another host are other lines, with other fingerprints. */
  host?: string;
}

/** The captured lines moved in time, written in another time-stamp form, with other domains. */
export function restamp(lines: string[], options: Restamp = {}): string[] {
  const first = capturedAt(lines[0]!).getTime();
  const start = options.start?.getTime() ?? first;
  return lines.map((line) => {
    const at = new Date(start + (capturedAt(line).getTime() - first));
    let rest = line.slice(15);
    if (options.host) rest = rest.replace(/^ mx /, ` ${options.host} `);
    for (const [from, to] of Object.entries(options.domains ?? {})) rest = rest.replaceAll(`@${from}>`, `@${to}>`);
    return `${stamp(at, options.style ?? "maillog_file", options.timeZone)}${rest}`;
  });
}
