// Builds delivery-log lines as the log servers write them.
import { wallClockAt } from "../../src/maillog/parse";
export function logStamp(instant: Date, timeZone = "Asia/Taipei"): string {
  const [year, month, day, hour, minute, second] = wallClockAt(instant, timeZone);
  const pad = (value: number) => String(value).padStart(2, "0");
  return `${year}/${pad(month)}/${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}`;
}

let sequence = 0;

export interface LineSpec {
  at?: Date;
  direction?: "LR" | "RL";
  sender?: string;
  recipient?: string;
  subject?: string;
  size?: number;
  status?: string;
}

/** A full line with a queue id dated a minute before the line. */
export function logLine(spec: LineSpec = {}): string {
  const at = spec.at ?? new Date();
  const queued = Math.floor(at.getTime() / 1000) - 60;
  sequence += 1;
  const queueId = `${10000 + (sequence % 50000)}-${queued.toString(16).toUpperCase().padStart(8, "0")}.${sequence.toString(16).toUpperCase().padStart(8, "0")}`;
  const addresses = [spec.sender, spec.recipient].filter(Boolean).join(" ");
  return `${logStamp(at)} ${queueId} Mail.${spec.direction ?? "LR"}${addresses ? ` ${addresses}` : ""} - (${spec.subject ?? `subject ${sequence}`}/${spec.size ?? 1000 + sequence})${spec.status ?? "OK"}`;
}
