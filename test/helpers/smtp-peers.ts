// SMTP peers on loopback for the probe tests: real SMTP servers (smtp-server)
// for the ones that speak SMTP, and raw sockets for the ones an SMTP server
// library cannot imitate (silent, one byte a second, a hand-made multi-line
// greeting). Every peer listens on one 127.x.y.z address (all of 127/8 is
// loopback on Linux) so that many peers share one port, which is what the
// probe connects to (PROBE_PORT). Nothing is sent off the machine.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";

export interface RunningPeer {
  address: string;
  port: number;
  /** Connections the peer accepted. */
  connections: number;
  /** Commands the peer received, in order (raw peers only record lines). */
  commands: string[];
  stop(): Promise<void>;
}

/** A self-signed certificate for `name`, made with openssl (Debian's openssl package). */
export function selfSignedCertificate(name: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "mailadmin-cert-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-subj",
        `/CN=${name}`,
        "-addext",
        `subjectAltName=DNS:${name}`,
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface SmtpPeerOptions {
  /** The name in the 220 greeting. */
  name: string;
  banner?: string;
  /** Offer STARTTLS with this certificate; without it STARTTLS is not offered. */
  tls?: { key: string; cert: string };
  /** Greet with this code and text instead of 220 (smtp-server then closes). */
  greetingError?: { code: number; message: string };
  size?: number;
}

/** A real SMTP server (smtp-server) that accepts connections and never takes a message. */
export async function startSmtpPeer(address: string, port: number, options: SmtpPeerOptions): Promise<RunningPeer> {
  const peer: RunningPeer = { address, port, connections: 0, commands: [], stop: async () => undefined };
  const settings: SMTPServerOptions = {
    name: options.name,
    banner: options.banner ?? "test peer ready",
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ["AUTH"],
    hideSTARTTLS: options.tls === undefined,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    ...(options.size ? { size: options.size } : {}),
    onConnect(_session, callback) {
      peer.connections += 1;
      if (options.greetingError) return callback(Object.assign(new Error(options.greetingError.message), { responseCode: options.greetingError.code }));
      return callback();
    },
    onMailFrom(from, _session, callback) {
      peer.commands.push(`MAIL FROM:${from.address}`);
      callback(new Error("this test peer takes no mail"));
    },
  };
  const server = new SMTPServer(settings);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  peer.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return peer;
}

export type RawBehaviour =
  /** Accepts the connection and never says anything. */
  | "silent"
  /** Sends its greeting one byte a second. */
  | "slow"
  /** Greets over three lines (220-, 220-, 220 ), then answers EHLO and QUIT. */
  | "multiline";

export async function startRawPeer(address: string, port: number, behaviour: RawBehaviour): Promise<RunningPeer> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const peer: RunningPeer = { address, port, connections: 0, commands: [], stop: async () => undefined };
  const server: Server = createServer((socket) => {
    peer.connections += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    if (behaviour === "silent") return;
    if (behaviour === "slow") {
      const greeting = "220 slow.example ESMTP one byte a second\r\n";
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= greeting.length || socket.destroyed) return clearInterval(timer);
        socket.write(greeting[sent++]!);
      }, 1000);
      timers.add(timer);
      return;
    }
    socket.write("220-multi.example ESMTP first line\r\n220-second line of the greeting\r\n220 third and last line\r\n");
    let buffer = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        peer.commands.push(line);
        if (/^EHLO /i.test(line)) socket.write("250-multi.example hello\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n");
        else if (/^QUIT/i.test(line)) socket.end("221 bye\r\n");
        else socket.write("502 not here\r\n");
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, () => resolve());
  });
  peer.stop = () =>
    new Promise<void>((resolve) => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return peer;
}

/** A port free on `address` now (bound, then released). */
export async function freePort(address: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
