// The mail servers' authentication milter (docs/test-domain.md): Postfix's
// smtpd hands every message that arrives from outside (port 25) to it through
// the milter protocol (version 6, as OpenDKIM speaks it), and it checks the
// message's SPF, DKIM and DMARC at receipt with mailauth (the library the
// inbound test used to check messages with when they were listed) and adds
// the results on top of the message, as RFC 8601 wants a receiving server to
// record them:
//   Received-SPF: pass (mx.example.tw: domain of bob@customer.example designates 192.0.2.25 as permitted sender) ...
//   Authentication-Results: mx.example.tw; dkim=pass header.i=@customer.example ...; spf=pass ...; dmarc=pass header.from=customer.example
// The authserv-id (mx.example.tw) is MAIL_SERVER_HOSTNAME: mailadmin reads
// only results under that name (readReceivedMessage). Results under that name
// that arrive with the message were not written by us: they are deleted
// (RFC 8601 section 5). DNS is asked through the given servers at receipt.
// Whatever goes wrong (DNS, a malformed message), the message is accepted
// without results: a check never holds up mail.
import { Resolver } from "node:dns/promises";
import { createServer, type Server, type Socket } from "node:net";
import { authenticate } from "mailauth";

export interface AuthMilterOptions {
  /** The address and port it listens on (Postfix: smtpd_milters = inet:<address>:<port>). */
  address: string;
  port: number;
  /** The name in Authentication-Results: the mail server's hostname (MAIL_SERVER_HOSTNAME). */
  authservId: string;
  /** DNS servers as host:port (or host) for SPF, DKIM and DMARC; unset: the system's. */
  dnsServers?: string[];
  /** DNS query timeout in ms (default 3000). */
  dnsTimeoutMs?: number;
  /** Where a failure is said (default stderr). */
  log?: (line: string) => void;
}

export interface RunningAuthMilter {
  server: Server;
  close(): Promise<void>;
}

// Milter protocol version 6 (libmilter/mfdef.h).
const SMFIF_ADDHDRS = 0x01;
const SMFIF_CHGHDRS = 0x10;
const SMFIP_HDR_LEADSPC = 0x100000;

/** One milter reply: a command letter and its data. */
function packet(command: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(data.length + 1, 0);
  head.write(command, 4, "latin1");
  return Buffer.concat([head, data]);
}

const cstrings = (...values: string[]) => Buffer.concat(values.map((value) => Buffer.from(`${value}\0`, "latin1")));
const uint32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32BE(value >>> 0, 0);
  return buffer;
};

/** The NUL-terminated strings of a command's data. */
function splitStrings(data: Buffer): string[] {
  const text = data.toString("latin1");
  const parts = text.split("\0");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** The headers mailauth writes ("Received-SPF: ...\r\nAuthentication-Results: ...\r\n folded"), each as [name, value on one line]. */
export function resultHeaders(text: string): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of text.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return headers;
}

/** The authserv-id of an Authentication-Results value: its first token, before the first ';' (and any version). */
export function authservIdOf(value: string): string {
  return (value.split(";")[0] ?? "").trim().split(/\s+/)[0]!.toLowerCase();
}

function dnsResolver(options: AuthMilterOptions): (name: string, type: string) => Promise<string[] | string[][]> {
  const resolver = new Resolver({ timeout: options.dnsTimeoutMs ?? 3000, tries: 2 });
  if (options.dnsServers && options.dnsServers.length > 0) resolver.setServers(options.dnsServers);
  return (name, type) => resolver.resolve(name, type) as Promise<string[] | string[][]>;
}

interface MessageState {
  sender: string;
  headers: { name: string; value: string }[];
  body: Buffer[];
}

/** Serves one Postfix connection: any number of SMTP sessions and messages, one after another. */
function serveConnection(socket: Socket, options: AuthMilterOptions, resolve: (name: string, type: string) => Promise<string[] | string[][]>): void {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const ownId = options.authservId.toLowerCase();
  let pending = Buffer.alloc(0);
  let leadingSpace = false;
  let client: { ip?: string; helo?: string } = {};
  let message: MessageState = { sender: "", headers: [], body: [] };
  // Commands are handled one at a time, in order (the end of a message waits for its checks).
  let queue: Promise<void> = Promise.resolve();
  const send = (command: string, data?: Buffer) => {
    if (!socket.destroyed) socket.write(packet(command, data));
  };

  async function handle(command: string, data: Buffer): Promise<void> {
    switch (command) {
      case "O": {
        const offeredProtocol = data.length >= 12 ? data.readUInt32BE(8) : 0;
        leadingSpace = (offeredProtocol & SMFIP_HDR_LEADSPC) !== 0;
        send("O", Buffer.concat([uint32(6), uint32(SMFIF_ADDHDRS | SMFIF_CHGHDRS), uint32(leadingSpace ? SMFIP_HDR_LEADSPC : 0)]));
        return;
      }
      case "D": // macros: nothing to answer
        return;
      case "C": {
        // hostname \0, family, port (2 bytes), address \0
        const end = data.indexOf(0);
        const family = String.fromCharCode(data[end + 1] ?? 0);
        const address =
          family === "4" || family === "6"
            ? data
                .subarray(end + 4)
                .toString("latin1")
                .replace(/\0$/, "")
            : undefined;
        client = { ip: address?.replace(/^IPv6:/i, "") };
        send("c");
        return;
      }
      case "H":
        client.helo = splitStrings(data)[0];
        send("c");
        return;
      case "M":
        message = { sender: (splitStrings(data)[0] ?? "").replace(/^<|>$/g, ""), headers: [], body: [] };
        send("c");
        return;
      case "L": {
        const [name = "", value = ""] = splitStrings(data);
        message.headers.push({ name, value });
        send("c");
        return;
      }
      case "B":
        message.body.push(Buffer.from(data));
        send("c");
        return;
      case "E":
        if (data.length > 0) message.body.push(Buffer.from(data));
        await endOfMessage();
        return;
      case "A": // the message was given up: forget it, keep the connection's client
        message = { sender: "", headers: [], body: [] };
        return;
      case "K": // a new SMTP session on this connection
        client = {};
        message = { sender: "", headers: [], body: [] };
        return;
      case "Q":
        socket.end();
        return;
      default: // R (RCPT), T (DATA), N (end of headers), U (unknown command)
        send("c");
    }
  }

  async function endOfMessage(): Promise<void> {
    const current = message;
    message = { sender: "", headers: [], body: [] };
    try {
      const headerText = current.headers.map(({ name, value }) => `${name}:${leadingSpace ? "" : " "}${value}`.replace(/\r?\n/g, "\r\n")).join("\r\n");
      const body = Buffer.concat(current.body).toString("latin1").replace(/\r?\n/g, "\r\n");
      const raw = Buffer.from(`${headerText}\r\n\r\n${body}`, "latin1");
      const result = await authenticate(raw, {
        ip: client.ip,
        helo: client.helo,
        sender: current.sender,
        mta: options.authservId,
        resolver: resolve,
        disableArc: true,
        disableBimi: true,
      });
      // Results under our name that came with the message are forged: delete them (index: their place among headers of that name, from 1).
      let occurrence = 0;
      for (const { name, value } of current.headers) {
        if (name.toLowerCase() !== "authentication-results") continue;
        occurrence++;
        if (authservIdOf(value) === ownId) send("m", Buffer.concat([uint32(occurrence), cstrings(name, "")]));
      }
      // On top, in the order mailauth wrote them (Received-SPF, then Authentication-Results).
      const added = resultHeaders(result.headers);
      for (let index = added.length - 1; index >= 0; index--) {
        const [name, value] = added[index]!;
        send("i", Buffer.concat([uint32(0), cstrings(name, `${leadingSpace ? " " : ""}${value}`)]));
      }
    } catch (error) {
      log(`auth-milter: message from <${current.sender}> accepted without results: ${(error as Error).message}`);
    }
    send("c");
  }

  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const length = pending.readUInt32BE(0);
      if (length < 1 || length > 64 * 1024 * 1024) {
        log(`auth-milter: a packet of ${length} bytes: closing the connection`);
        socket.destroy();
        return;
      }
      if (pending.length < 4 + length) break;
      const command = String.fromCharCode(pending[4]!);
      const data = Buffer.from(pending.subarray(5, 4 + length));
      pending = pending.subarray(4 + length);
      queue = queue.then(() => handle(command, data)).catch((error: Error) => log(`auth-milter: ${error.message}`));
    }
  });
  socket.on("error", () => socket.destroy());
}

/** Starts the milter; resolves when it listens. */
export async function startAuthMilter(options: AuthMilterOptions): Promise<RunningAuthMilter> {
  const resolve = dnsResolver(options);
  const server = createServer((socket) => serveConnection(socket, options, resolve));
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(options.port, options.address, () => done());
  });
  return { server, close: () => new Promise<void>((done) => server.close(() => done())) };
}
