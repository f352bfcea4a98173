// Minimal SMTP and IMAP clients for tests against the mail stack: they speak
// the protocol line by line and return what the servers answered, so a test
// asserts on the real replies (550 5.1.1, NO [AUTHENTICATIONFAILED]...).
import { createConnection, type Socket } from "node:net";

/** Reads CRLF-terminated lines from a socket, one at a time. */
class LineReader {
  private buffer = "";
  private waiting: ((line: string | null) => void)[] = [];
  private lines: string[] = [];
  private closed = false;

  constructor(socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.buffer += chunk;
      let at: number;
      while ((at = this.buffer.indexOf("\r\n")) >= 0) {
        const line = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 2);
        const next = this.waiting.shift();
        if (next) next(line);
        else this.lines.push(line);
      }
    });
    socket.on("close", () => {
      this.closed = true;
      for (const next of this.waiting.splice(0)) next(null);
    });
  }

  /** The next line, or null once the connection is closed. */
  next(): Promise<string | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

async function connect(host: string, port: number, localAddress?: string): Promise<{ socket: Socket; reader: LineReader }> {
  const socket = createConnection({ host, port, ...(localAddress ? { localAddress } : {}) });
  socket.setTimeout(30_000, () => socket.destroy(new Error(`no answer from ${host}:${port} in 30 s`)));
  const reader = new LineReader(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, reader };
}

/** An SMTP reply: the code and its lines joined (multi-line replies such as EHLO's). */
async function smtpReply(reader: LineReader): Promise<string> {
  const lines: string[] = [];
  for (;;) {
    const line = await reader.next();
    if (line === null) return [...lines, "(connection closed)"].join("\n");
    lines.push(line);
    if (line.length < 4 || line[3] !== "-") return lines.join("\n");
  }
}

export interface SmtpOutcome {
  /** The reply to MAIL FROM. */
  mail: string;
  /** One reply per recipient, in order. */
  rcpt: string[];
  /** The reply after the message's end, when any recipient was accepted. */
  data?: string;
  /** The reply to AUTH, when credentials were given. */
  auth?: string;
}

/** Sends one message; never throws on a refusal (that is what tests look at). */
export async function sendMail(options: {
  host: string;
  port: number;
  from: string;
  to: string[];
  message: string;
  /** Announce the size in MAIL FROM (lets a server refuse too-large mail at RCPT). */
  announceSize?: boolean;
  auth?: { user: string; password: string };
  /** Connect from this (loopback) address: the client address Postfix sees, for SPF. */
  localAddress?: string;
  /** The name given in EHLO (default client.test). */
  helo?: string;
}): Promise<SmtpOutcome> {
  const { socket, reader } = await connect(options.host, options.port, options.localAddress);
  const command = async (line: string) => {
    socket.write(`${line}\r\n`);
    return smtpReply(reader);
  };
  try {
    await smtpReply(reader);
    await command(`EHLO ${options.helo ?? "client.test"}`);
    const outcome: SmtpOutcome = { mail: "", rcpt: [] };
    if (options.auth) {
      outcome.auth = await command(`AUTH PLAIN ${Buffer.from(`\0${options.auth.user}\0${options.auth.password}`).toString("base64")}`);
      if (!outcome.auth.startsWith("235")) return outcome;
    }
    const body = options.message.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
    outcome.mail = await command(`MAIL FROM:<${options.from}>${options.announceSize ? ` SIZE=${Buffer.byteLength(body)}` : ""}`);
    if (!outcome.mail.startsWith("250")) return outcome;
    for (const to of options.to) outcome.rcpt.push(await command(`RCPT TO:<${to}>`));
    if (outcome.rcpt.some((reply) => reply.startsWith("250"))) {
      const go = await command("DATA");
      if (go.startsWith("354")) {
        socket.write(body.endsWith("\r\n") ? body : `${body}\r\n`);
        outcome.data = await command(".");
      } else outcome.data = go;
    }
    await command("QUIT");
    return outcome;
  } finally {
    socket.destroy();
  }
}

/** A plain message with a unique marker in its subject and body. */
export function textMessage(from: string, to: string, marker: string, bodyBytes = 0): string {
  const filler = bodyBytes > 0 ? `${"x".repeat(76)}\n`.repeat(Math.ceil(bodyBytes / 77)) : "";
  return `From: <${from}>\nTo: <${to}>\nSubject: test ${marker}\nMessage-ID: <${marker}@client.test>\n\nbody ${marker}\n${filler}`;
}

export interface ImapSession {
  /** The tagged reply to LOGIN: "OK ..." or "NO [AUTHENTICATIONFAILED] ...". */
  login: string;
  /** Every message of INBOX in full, when the login succeeded. */
  messages: string[];
}

const quoted = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

/** Logs in over IMAP and reads INBOX (nothing is changed: BODY.PEEK). */
export async function readInbox(host: string, port: number, user: string, password: string): Promise<ImapSession> {
  const { socket, reader } = await connect(host, port);
  let tag = 0;
  // Sends a command; resolves with the untagged lines and the tagged status line.
  const command = async (line: string): Promise<{ untagged: string[]; status: string }> => {
    const id = `a${++tag}`;
    socket.write(`${id} ${line}\r\n`);
    const untagged: string[] = [];
    for (;;) {
      const reply = await reader.next();
      if (reply === null) return { untagged, status: "BYE connection closed" };
      if (reply.startsWith(`${id} `)) return { untagged, status: reply.slice(id.length + 1) };
      untagged.push(reply);
    }
  };
  try {
    await reader.next();
    const login = (await command(`LOGIN ${quoted(user)} ${quoted(password)}`)).status;
    if (!login.startsWith("OK")) return { login, messages: [] };
    await command("SELECT INBOX");
    const fetched = await command("FETCH 1:* (BODY.PEEK[])");
    // Each message starts with "* n FETCH (BODY[] {size}" and its literal follows on the next lines.
    const messages: string[] = [];
    for (const line of fetched.untagged) {
      if (/^\* \d+ FETCH /.test(line)) messages.push("");
      else if (messages.length > 0) messages[messages.length - 1] += `${line}\n`;
    }
    await command("LOGOUT");
    return { login, messages };
  } finally {
    socket.destroy();
  }
}

/** Asks until `accept` holds for the inbox (LMTP delivery follows SMTP's 250 by a moment). */
export async function waitForInbox(
  host: string,
  port: number,
  user: string,
  password: string,
  accept: (session: ImapSession) => boolean,
  timeoutMs = 20_000,
): Promise<ImapSession> {
  const deadline = Date.now() + timeoutMs;
  let session = await readInbox(host, port, user, password);
  while (!accept(session) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    session = await readInbox(host, port, user, password);
  }
  return session;
}

/** Logs in over POP3 (USER, PASS) and answers the reply to PASS: "+OK ..." or "-ERR ...". */
export async function pop3Login(host: string, port: number, user: string, password: string): Promise<string> {
  const { socket, reader } = await connect(host, port);
  const command = async (line: string) => {
    socket.write(`${line}\r\n`);
    return (await reader.next()) ?? "-ERR connection closed";
  };
  try {
    await reader.next();
    await command(`USER ${user}`);
    const reply = await command(`PASS ${password}`);
    await command("QUIT");
    return reply;
  } finally {
    socket.destroy();
  }
}
