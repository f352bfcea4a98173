// What a delivery record says, read the way a mail administrator reads a
// bounce: the status first (OK, RETRY.n, FAIL; Postfix's status=sent,
// deferred, bounced), then the SMTP reply code and the RFC 3463 enhanced
// status code when the reason carries them, then the wording of well-known
// refusals. Works on EZML reasons ("Destination mailbox exceeds quota",
// "Operation timed out") and on Postfix's ("host mx.example[192.0.2.1] said:
// 550 5.1.1 <x@example>: Recipient address rejected: User unknown (in reply
// to RCPT TO command)", "connect to mx.example[192.0.2.1]:25: Connection
// refused"). Pure: no database, no network; diagnosis.service.ts turns a
// reading into a finding.

export type DeliveryState = "DELIVERED" | "RETRYING" | "FAILED";
export type Actor = "SENDER" | "RECIPIENT_PROVIDER" | "CUSTOMER" | "SERVICE" | "NOBODY";

/**
 * What went wrong, independent of the direction. The finding code is
 * `remote.<kind>` for outbound mail (the remote server's answer or the way to
 * it) and `local.<kind>` for inbound mail (this service's answer), except the
 * kinds that keep an older code (see findingCode).
 */
export type ReasonKind =
  | "user_unknown"
  | "mailbox_full"
  | "message_too_large"
  | "auth_rejected"
  | "blocklisted"
  | "reverse_dns"
  | "policy_rejected"
  | "greylisted"
  | "tls_required"
  | "relay_denied"
  | "no_route"
  | "dns"
  | "timeout"
  | "connection_refused"
  | "loop"
  | "expired"
  | "temporary_failure"
  | "permanent_failure";

export interface ReasonReading {
  kind: ReasonKind;
  /** What the log says happens to the message: from the status, never from a probe. */
  state: DeliveryState;
  /** The SMTP reply code (RFC 5321), when the reason carries one. */
  replyCode: number | null;
  /** The enhanced status code (RFC 3463), such as 5.1.1, when the reason carries one. */
  enhancedCode: string | null;
  /** The remote host that answered, when the reason names it (Postfix: "host mx.example[192.0.2.1] said:"). */
  host: string | null;
  /** The remote server's own words, without the host and the "(in reply to ...)" tail. */
  said: string | null;
  /** False for connection trouble (timeout, refused, no route, DNS), where a probe says more than the log; true when a server answered. */
  answered: boolean;
}

interface Rule {
  kind: ReasonKind;
  /** Enhanced status codes (class digit left out: x.1.1 matches 4.1.1 and 5.1.1). */
  enhanced?: string[];
  text?: RegExp;
}

// Order matters: the first rule that matches wins, so the specific refusals
// (SPF, blocklists) come before the broad ones (policy, 5.7.x) they belong to.
// An enhanced code is checked before the text of any rule: it is the server's
// own classification. Text comes next, for servers that send none (EZML).
const RULES: Rule[] = [
  {
    kind: "user_unknown",
    enhanced: ["1.1", "1.6"],
    text: /user unknown|unknown user|no such (user|mailbox|recipient)|recipient (address )?rejected: (user unknown|undeliverable|unknown)|mailbox (unavailable|not found|does not exist)|(user|mailbox|address|recipient|account)\b[^.;]{0,60}(does not|doesn't) exist|unrouteable address|invalid recipient|recipient not found|account (has been )?disabled|user not found|not our customer|bad destination mailbox/i,
  },
  { kind: "mailbox_full", enhanced: ["2.2"], text: /quota|mailbox (is )?full|mailbox full|insufficient (system )?storage|over (the )?(storage )?limit|out of storage/i },
  { kind: "message_too_large", enhanced: ["2.3", "3.4"], text: /too (large|big)|size (limit|exceeds)|exceeds (the )?(message )?size|message size|message length exceeds/i },
  {
    kind: "auth_rejected",
    enhanced: ["7.20", "7.21", "7.22", "7.23", "7.24", "7.25", "7.26", "7.27", "7.7"],
    text: /\bspf\b|\bdmarc\b|\bdkim\b|sender policy framework|not (an )?authori[sz]ed (sender|to send)|unauthenticated (email|sender)|authentication (failed|required by)/i,
  },
  { kind: "reverse_dns", text: /reverse (dns|lookup|hostname)|\bptr\b|cannot find your (reverse )?hostname|client host rejected: cannot find|no rdns|rdns/i },
  {
    kind: "blocklisted",
    text: /block(ed)? ?list|black ?list|\bdnsbl\b|\brbl\b|spamhaus|spamcop|barracuda|sorbs|listed (at|in|on|by)|blocked using|ip (address )?(is )?(blocked|banned)|poor reputation|on our block/i,
  },
  { kind: "greylisted", text: /gr[ae]y ?list|try again in \d+ (seconds|minutes)/i },
  { kind: "tls_required", enhanced: ["7.10", "7.11"], text: /starttls|\btls\b.*required|requires? (tls|encryption)|must issue a starttls|encryption required/i },
  { kind: "relay_denied", text: /relay(ing)? (access )?(denied|not permitted|prohibited)|not permitted to relay|unable to relay|we do not relay/i },
  {
    kind: "policy_rejected",
    enhanced: ["7.0", "7.1", "7.2", "7.3"],
    text: /spam|junk|content (rejected|filter)|policy|prohibited|virus|malware|blocked|rejected for security|message (was )?rejected|refused to accept|suspicious/i,
  },
  { kind: "loop", enhanced: ["4.6"], text: /loops? back to myself|mail loop|too many hops|hop count exceeded/i },
  { kind: "expired", enhanced: ["4.7"], text: /expired|queue (life)?time|too long in (the )?queue|delivery time expired|message timed out in queue/i },
  { kind: "timeout", enhanced: ["4.1", "4.2"], text: /timed out|time(d)? ?out|timeout|no response|lost connection/i },
  { kind: "connection_refused", text: /connection refused|connect failed|could not open connection|connection reset/i },
  { kind: "no_route", enhanced: ["4.0"], text: /no route to host|network is unreachable|host unreachable|host is down/i },
  {
    kind: "dns",
    enhanced: ["1.2", "4.3", "4.4"],
    text: /host (or domain name )?not found|name service error|domain not found|nxdomain|no mx|no mail exchanger|name or service not known|unresolvable|dns (lookup )?(failure|error)|null mx|does not accept mail|bad destination system/i,
  },
];

/** The reply code and enhanced code of an SMTP answer: "550 5.1.1 ...", "550-5.1.1 ...", "452 4.2.2: ...". */
const REPLY = /(?:^|[\s(:;])([245]\d\d)(?:[ -]+|$)(?:([245])\.(\d{1,3})\.(\d{1,3})\b)?/;
const ENHANCED_ONLY = /(?:^|[\s(:;=#])([245])\.(\d{1,3})\.(\d{1,3})\b/;
const POSTFIX_HOST = /\bhost ([^\s[\]]+)\[[^\]]*\] said: /i;
const CONNECT_HOST = /\bconnect to ([^\s[\]]+)\[[^\]]*\](?::\d+)?: /i;

function parseCodes(text: string): { replyCode: number | null; enhancedClass: string | null; enhancedDetail: string | null } {
  const reply = REPLY.exec(text);
  if (reply) {
    const replyCode = Number(reply[1]);
    if (reply[2]) return { replyCode, enhancedClass: reply[2], enhancedDetail: `${reply[3]}.${reply[4]}` };
    const enhanced = ENHANCED_ONLY.exec(text.slice(reply.index));
    return enhanced ? { replyCode, enhancedClass: enhanced[1]!, enhancedDetail: `${enhanced[2]}.${enhanced[3]}` } : { replyCode, enhancedClass: null, enhancedDetail: null };
  }
  const enhanced = ENHANCED_ONLY.exec(text);
  return enhanced
    ? { replyCode: null, enhancedClass: enhanced[1]!, enhancedDetail: `${enhanced[2]}.${enhanced[3]}` }
    : { replyCode: null, enhancedClass: null, enhancedDetail: null };
}

/**
 * The state of the message as the log tells it: the status of the record,
 * and a Postfix status word in the reason when the record carries one.
 * A probe never changes it.
 */
function stateOf(status: "OK" | "RETRY" | "FAIL", reason: string): DeliveryState {
  if (/\bstatus=bounced\b|\bstatus=expired\b/i.test(reason)) return "FAILED";
  if (/\bstatus=deferred\b/i.test(reason)) return "RETRYING";
  if (/\bstatus=sent\b/i.test(reason)) return "DELIVERED";
  return status === "OK" ? "DELIVERED" : status === "RETRY" ? "RETRYING" : "FAILED";
}

/** Reads the status and reason of one delivery record. Null for a delivered message. */
export function readReason(status: "OK" | "RETRY" | "FAIL", reason: string | null): ReasonReading | null {
  const text = (reason ?? "").trim();
  const state = stateOf(status, text);
  if (state === "DELIVERED") return null;
  // Postfix quotes the remote server after "host NAME[ADDRESS] said: "; its codes are read there, not in the host's address.
  const saidMatch = POSTFIX_HOST.exec(text);
  const host = saidMatch?.[1] ?? CONNECT_HOST.exec(text)?.[1] ?? null;
  const said = saidMatch
    ? text
        .slice(saidMatch.index + saidMatch[0].length)
        .replace(/\s*\(in reply to [^)]*\)\)?\s*$/i, "")
        .trim()
    : text || null;
  const { replyCode, enhancedClass, enhancedDetail } = parseCodes(said ?? "");
  const enhancedCode = enhancedClass && enhancedDetail ? `${enhancedClass}.${enhancedDetail}` : null;

  let kind: ReasonKind | null = null;
  // An enhanced code names the cause, unless the text names a more precise
  // one inside the same class (a 5.7.1 that says "SPF" is an SPF refusal).
  if (enhancedDetail) {
    const byCode = RULES.find((rule) => rule.enhanced?.includes(enhancedDetail));
    const byText = RULES.find((rule) => rule.text?.test(text));
    kind = byCode && byText && byText.kind !== byCode.kind && sameFamily(byCode.kind, byText.kind) ? byText.kind : (byCode?.kind ?? byText?.kind ?? null);
  } else {
    kind = RULES.find((rule) => rule.text?.test(text))?.kind ?? null;
  }
  // Without a known cause, the class of the codes (5 permanent, 4 temporary) and the status decide.
  const permanent = enhancedClass === "5" || (replyCode !== null && replyCode >= 500);
  if (!kind) kind = permanent || state === "FAILED" ? "permanent_failure" : "temporary_failure";
  // A 4xx "mailbox full" is the same cause as a 5xx one, only retried: the kind stays and `state` says the rest.
  const connection = kind === "timeout" || kind === "connection_refused" || kind === "no_route" || kind === "dns";
  return { kind, state, replyCode, enhancedCode, host, said, answered: !connection };
}

/** Kinds that are refinements of one another: policy (5.7.x) covers SPF, blocklists, reverse DNS, TLS, relay. */
function sameFamily(a: ReasonKind, b: ReasonKind): boolean {
  const policy: ReasonKind[] = ["policy_rejected", "auth_rejected", "blocklisted", "reverse_dns", "tls_required", "relay_denied", "greylisted"];
  const connection: ReasonKind[] = ["timeout", "connection_refused", "no_route", "dns", "expired"];
  return (policy.includes(a) && policy.includes(b)) || (connection.includes(a) && connection.includes(b));
}

/** "550 5.1.1" or "5.1.1" or "550", or null: how a finding quotes the codes. */
export function codesOf(reading: ReasonReading): string | null {
  const parts = [reading.replyCode?.toString(), reading.enhancedCode].filter(Boolean);
  return parts.length > 0 ? parts.join(" ") : null;
}
