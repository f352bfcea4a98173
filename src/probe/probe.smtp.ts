// One SMTP conversation with one address: connect, read the greeting, EHLO,
// optionally STARTTLS and EHLO again, QUIT. Never MAIL FROM, never DATA.
//
// Hand-written over net/tls rather than an SMTP client library: a probe must
// put its own deadline on every step (a peer that connects and never speaks,
// or speaks one byte a second, is a timeout, not a hang), keep the raw
// multi-line replies for support to read, and stop before anything that could
// send mail. Client libraries (nodemailer's SMTPConnection) hide the replies
// and bundle the steps under their own timers.
import { connect as connectTcp, type Socket } from "node:net";
import { connect as connectTls, type DetailedPeerCertificate, type TLSSocket } from "node:tls";

export interface SmtpReply {
  code: number;
  /** The reply's lines without their code and separator ("250-SIZE 1000" -> "SIZE 1000"). */
  lines: string[];
}

export type ProbeStep = "CONNECT" | "GREETING" | "EHLO" | "STARTTLS" | "TLS_HANDSHAKE" | "EHLO_AFTER_TLS" | "QUIT";

export type AttemptOutcome =
  /** Greeted with 220 and answered EHLO: the server accepts connections. */
  | "GREETED"
  /** Connected but the greeting was not 220 (421 busy, 554 no service). */
  | "GREETING_REJECTED"
  | "REFUSED"
  | "TIMEOUT"
  | "UNREACHABLE"
  /** The peer said something that is not SMTP, or closed the connection midway. */
  | "PROTOCOL_ERROR"
  /** A private, loopback or link-local address, not probed (PROBE_ALLOW_PRIVATE). */
  | "NOT_ALLOWED"
  /** Not tried: the probe's total budget was spent on earlier addresses. */
  | "SKIPPED";

export interface TlsFacts {
  established: boolean;
  protocol: string | null;
  cipher: string | null;
  subject: string | null;
  subjectAltNames: string[];
  issuer: string | null;
  validFrom: Date | null;
  validTo: Date | null;
  selfSigned: boolean | null;
  /** Whether the certificate chains to a trusted root and names the host. */
  trusted: boolean;
  trustError: string | null;
  /** Why the upgrade failed, when it did. */
  error: string | null;
}

export interface DialogueResult {
  outcome: AttemptOutcome;
  connected: boolean;
  /** The step that failed, or null when the conversation ended with QUIT. */
  failedStep: ProbeStep | null;
  error: string | null;
  connectMs: number | null;
  greetingMs: number | null;
  greeting: SmtpReply | null;
  ehlo: SmtpReply | null;
  extensions: string[];
  tls: TlsFacts | null;
  /** What was said, as "C: EHLO x" and "S: 250-..." lines. */
  transcript: string[];
}

export interface DialogueTimeouts {
  connectMs: number;
  greetingMs: number;
  commandMs: number;
}

/** How sockets are opened: the real network, or anything a test wants. */
export interface SocketFactory {
  connect(address: string, port: number): Socket;
  startTls(socket: Socket, serverName: string | undefined): TLSSocket;
}

export const networkSockets: SocketFactory = {
  connect: (address, port) => connectTcp({ host: address, port }),
  // The certificate is reported, not enforced: an untrusted one is a fact for
  // support to read, and most MTAs deliver over it anyway (opportunistic TLS).
  startTls: (socket, serverName) => connectTls({ socket, rejectUnauthorized: false, ...(serverName ? { servername: serverName } : {}) }),
};

export interface DialogueOptions {
  address: string;
  port: number;
  /** The exchanger's name, for TLS SNI. */
  hostName?: string;
  /** What to say after EHLO. */
  heloName: string;
  startTls: boolean;
  timeouts: DialogueTimeouts;
  /** Monotonic milliseconds by which everything must be over (the probe's total budget). */
  deadline: number;
  sockets: SocketFactory;
  monotonicNow: () => number;
}

class StepError extends Error {
  constructor(
    readonly outcome: AttemptOutcome,
    readonly step: ProbeStep,
    message: string,
  ) {
    super(message);
  }
}

/** A reply longer than this is not an SMTP server talking. */
const MAX_REPLY_BYTES = 64 * 1024;

function describeSocketError(error: NodeJS.ErrnoException): { outcome: AttemptOutcome; message: string } {
  switch (error.code) {
    case "ECONNREFUSED":
      return { outcome: "REFUSED", message: "connection refused (nothing listens on that port, or a firewall rejects it)" };
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EADDRNOTAVAIL":
      return { outcome: "UNREACHABLE", message: `no route to the host (${error.code})` };
    case "ECONNRESET":
    case "EPIPE":
      return { outcome: "PROTOCOL_ERROR", message: `the server closed the connection (${error.code})` };
    default:
      return { outcome: "UNREACHABLE", message: error.message };
  }
}

/** Reads SMTP replies off a socket: "250-a", "250-b", "250 c" is one reply. */
class ReplyReader {
  private buffer = "";
  private waiter: { resolve: () => void } | undefined;
  private failure: Error | undefined;

  constructor(private readonly socket: Socket) {
    this.attach(socket);
  }

  private readonly onData = (chunk: string) => {
    this.buffer += chunk;
    if (this.buffer.length > MAX_REPLY_BYTES) this.fail(new Error(`the reply is longer than ${MAX_REPLY_BYTES} bytes`));
    this.wake();
  };
  private readonly onClose = () => this.fail(Object.assign(new Error("the server closed the connection"), { code: "CLOSED" }));

  private attach(socket: Socket): void {
    socket.setEncoding("latin1");
    socket.on("data", this.onData);
    // Stays attached after detach(): an error on a socket without a listener would crash the process.
    socket.on("error", (error) => this.fail(error));
    socket.on("close", this.onClose);
  }

  /** Stops reading (before STARTTLS hands the socket to TLS, which then reads it). */
  detach(): void {
    this.socket.off("data", this.onData);
    this.socket.off("close", this.onClose);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve();
  }

  /** The next complete reply, or throws after timeoutMs (for the whole reply, however slowly it trickles in). */
  async next(step: ProbeStep, timeoutMs: number): Promise<SmtpReply> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.take(step);
      if (reply) return reply;
      if (this.failure) {
        if ((this.failure as NodeJS.ErrnoException).code === "CLOSED") throw new StepError("PROTOCOL_ERROR", step, "the server closed the connection without a complete reply");
        const { outcome, message } = describeSocketError(this.failure);
        throw new StepError(outcome, step, message);
      }
      const left = until - Date.now();
      if (left <= 0) throw new StepError("TIMEOUT", step, `no complete reply within ${timeoutMs} ms`);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiter = { resolve };
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  private take(step: ProbeStep): SmtpReply | undefined {
    const lines: string[] = [];
    let offset = 0;
    let code: number | undefined;
    for (;;) {
      const end = this.buffer.indexOf("\n", offset);
      if (end < 0) return undefined;
      const line = this.buffer.slice(offset, end).replace(/\r$/, "");
      offset = end + 1;
      const match = /^(\d{3})([ -]|$)(.*)$/.exec(line);
      if (!match) throw new StepError("PROTOCOL_ERROR", step, `not an SMTP reply: ${JSON.stringify(line.slice(0, 200))}`);
      const lineCode = Number(match[1]);
      if (code !== undefined && lineCode !== code) throw new StepError("PROTOCOL_ERROR", step, `a multi-line reply changed its code from ${code} to ${lineCode}`);
      code = lineCode;
      lines.push(match[3]!);
      if (match[2] !== "-") {
        this.buffer = this.buffer.slice(offset);
        return { code, lines };
      }
    }
  }
}

function formatReply(reply: SmtpReply): string[] {
  return reply.lines.map((line, index) => `S: ${reply.code}${index === reply.lines.length - 1 ? " " : "-"}${line}`);
}

function tlsFactsOf(socket: TLSSocket): TlsFacts {
  const certificate: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const has = certificate && Object.keys(certificate).length > 0;
  const name = (entries: Record<string, string | string[]> | undefined) =>
    entries
      ? Object.entries(entries)
          .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join("+") : value}`)
          .join(", ")
      : null;
  const cipher = socket.getCipher();
  const trustError = socket.authorizationError ? String(socket.authorizationError) : null;
  return {
    established: true,
    protocol: socket.getProtocol() ?? null,
    cipher: cipher?.name ?? null,
    subject: has ? name(certificate.subject as unknown as Record<string, string>) : null,
    subjectAltNames: has && certificate.subjectaltname ? certificate.subjectaltname.split(", ").map((entry) => entry.replace(/^DNS:/, "")) : [],
    issuer: has ? name(certificate.issuer as unknown as Record<string, string>) : null,
    validFrom: has ? new Date(certificate.valid_from) : null,
    validTo: has ? new Date(certificate.valid_to) : null,
    // A self-signed certificate is its own issuer: Node links it to itself.
    selfSigned: has ? certificate.issuerCertificate?.fingerprint256 === certificate.fingerprint256 : null,
    trusted: socket.authorized,
    trustError,
    error: null,
  };
}

/** Runs the conversation. Every outcome is a value; nothing here throws. */
export async function smtpDialogue(options: DialogueOptions): Promise<DialogueResult> {
  const transcript: string[] = [];
  const result: DialogueResult = {
    outcome: "GREETED",
    connected: false,
    failedStep: null,
    error: null,
    connectMs: null,
    greetingMs: null,
    greeting: null,
    ehlo: null,
    extensions: [],
    tls: null,
    transcript,
  };
  const started = options.monotonicNow();
  /** A step's own timeout, cut short by the total budget. */
  const budget = (stepMs: number) => Math.max(0, Math.floor(Math.min(stepMs, options.deadline - options.monotonicNow())));
  let socket: Socket | undefined;
  let reader: ReplyReader | undefined;
  const send = (line: string) => {
    transcript.push(`C: ${line}`);
    socket!.write(`${line}\r\n`);
  };
  const command = async (line: string, step: ProbeStep) => {
    send(line);
    const reply = await reader!.next(step, budget(options.timeouts.commandMs));
    transcript.push(...formatReply(reply));
    return reply;
  };
  try {
    // CONNECT
    socket = options.sockets.connect(options.address, options.port);
    const connectTimeout = budget(options.timeouts.connectMs);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StepError("TIMEOUT", "CONNECT", `no connection within ${connectTimeout} ms (the host drops packets, or is down)`)), connectTimeout);
      socket!.once("connect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket!.once("error", (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const { outcome, message } = describeSocketError(error);
        reject(new StepError(outcome, "CONNECT", message));
      });
    });
    result.connected = true;
    result.connectMs = Math.round(options.monotonicNow() - started);
    reader = new ReplyReader(socket);

    // GREETING
    const greeting = await reader.next("GREETING", budget(options.timeouts.greetingMs));
    result.greetingMs = Math.round(options.monotonicNow() - started);
    result.greeting = greeting;
    transcript.push(...formatReply(greeting));
    if (greeting.code !== 220) {
      result.outcome = "GREETING_REJECTED";
      result.failedStep = "GREETING";
      result.error = `the server greeted with ${greeting.code} instead of 220: ${greeting.lines.join(" ")}`;
      await command("QUIT", "QUIT").catch(() => undefined);
      return result;
    }

    // EHLO
    const ehlo = await command(`EHLO ${options.heloName}`, "EHLO");
    if (ehlo.code !== 250) throw new StepError("PROTOCOL_ERROR", "EHLO", `EHLO was answered with ${ehlo.code}: ${ehlo.lines.join(" ")}`);
    result.ehlo = ehlo;
    result.extensions = ehlo.lines.slice(1);

    // STARTTLS, then EHLO again over TLS
    if (options.startTls && result.extensions.some((extension) => extension.toUpperCase() === "STARTTLS")) {
      const answer = await command("STARTTLS", "STARTTLS");
      if (answer.code !== 220) {
        result.tls = { ...emptyTls(), error: `STARTTLS was answered with ${answer.code}: ${answer.lines.join(" ")}` };
      } else {
        reader.detach();
        const tlsSocket = options.sockets.startTls(socket, options.hostName);
        socket = tlsSocket;
        const handshakeTimeout = budget(options.timeouts.commandMs);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new StepError("TIMEOUT", "TLS_HANDSHAKE", `no TLS handshake within ${handshakeTimeout} ms`)), handshakeTimeout);
          tlsSocket.once("secureConnect", () => {
            clearTimeout(timer);
            resolve();
          });
          tlsSocket.once("error", (error: Error) => {
            clearTimeout(timer);
            reject(new StepError("PROTOCOL_ERROR", "TLS_HANDSHAKE", `the TLS handshake failed: ${error.message}`));
          });
        });
        result.tls = tlsFactsOf(tlsSocket);
        transcript.push(`-- TLS ${result.tls.protocol ?? ""} ${result.tls.cipher ?? ""}`.trimEnd());
        reader = new ReplyReader(tlsSocket);
        const secured = await command(`EHLO ${options.heloName}`, "EHLO_AFTER_TLS");
        if (secured.code === 250) result.extensions = secured.lines.slice(1);
      }
    }

    // QUIT politely; a server that does not answer QUIT has still been probed.
    await command("QUIT", "QUIT").catch(() => undefined);
    return result;
  } catch (error) {
    const failure = error instanceof StepError ? error : new StepError("PROTOCOL_ERROR", "CONNECT", String(error));
    result.outcome = failure.outcome;
    result.failedStep = failure.step;
    result.error = failure.message;
    if (failure.step === "TLS_HANDSHAKE" && result.tls === null) result.tls = { ...emptyTls(), error: failure.message };
    return result;
  } finally {
    socket?.destroy();
  }
}

function emptyTls(): TlsFacts {
  return {
    established: false,
    protocol: null,
    cipher: null,
    subject: null,
    subjectAltNames: [],
    issuer: null,
    validFrom: null,
    validTo: null,
    selfSigned: null,
    trusted: false,
    trustError: null,
    error: null,
  };
}
