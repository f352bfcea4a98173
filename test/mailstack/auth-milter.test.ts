// The authentication milter's side of the milter protocol, spoken to it as
// Postfix's smtpd does (version 6 option negotiation, connect, HELO, MAIL,
// headers, body, end of message): it records SPF, DKIM and DMARC on top of
// the message, and deletes results forged under its own name. No mail stack
// (test/testmail/test-domain.test.ts has it with Postfix): DNS is a
// nameserver that is not there (127.0.0.1, port 9), so every DNS check ends
// in a temporary error or none, which is what the milter then records.
import { connect, type Socket } from "node:net";
import { startAuthMilter, type RunningAuthMilter } from "../../src/mailstack/auth-milter";

function packet(command: string, data: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(data.length + 1, 0);
  head.write(command, 4, "latin1");
  return Buffer.concat([head, data]);
}
const strings = (...values: string[]) => Buffer.from(values.map((value) => `${value}\0`).join(""), "latin1");
const u32 = (...values: number[]) => Buffer.concat(values.map((value) => Buffer.from([value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255])));

/** Postfix's side: sends a command and reads replies until one of `until` (or none expected). */
class MtaSide {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiting?.();
    });
  }
  private async next(): Promise<{ command: string; data: Buffer }> {
    for (;;) {
      if (this.buffer.length >= 4 && this.buffer.length >= 4 + this.buffer.readUInt32BE(0)) {
        const length = this.buffer.readUInt32BE(0);
        const reply = { command: String.fromCharCode(this.buffer[4]!), data: Buffer.from(this.buffer.subarray(5, 4 + length)) };
        this.buffer = this.buffer.subarray(4 + length);
        return reply;
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
  async ask(command: string, data?: Buffer): Promise<{ command: string; data: Buffer }[]> {
    this.socket.write(packet(command, data));
    const replies = [];
    for (;;) {
      const reply = await this.next();
      replies.push(reply);
      if (["c", "a", "O", "r", "t", "d"].includes(reply.command)) return replies;
    }
  }
  tell(command: string, data?: Buffer): void {
    this.socket.write(packet(command, data));
  }
}

describe("the authentication milter", () => {
  jest.setTimeout(30_000);
  let milter: RunningAuthMilter;
  let port: number;
  beforeAll(async () => {
    milter = await startAuthMilter({ address: "127.0.0.1", port: 0, authservId: "mx.mailsvc.example", dnsServers: ["127.0.0.1:9"], dnsTimeoutMs: 200 });
    port = (milter.server.address() as { port: number }).port;
  });
  afterAll(() => milter.close());

  it("negotiates version 6, records SPF, DKIM and DMARC on top of each message, and deletes results forged under its name", async () => {
    const socket = connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    const mta = new MtaSide(socket);
    try {
      // Postfix offers every action and protocol step, header values with their leading space included.
      const [options] = await mta.ask("O", u32(6, 0x1ff, 0x1fffff));
      expect(options!.command).toBe("O");
      expect([options!.data.readUInt32BE(0), options!.data.readUInt32BE(4) & 0x11, options!.data.readUInt32BE(8)]).toEqual([6, 0x11, 0x100000]);
      mta.tell("D", Buffer.concat([Buffer.from("C"), strings("j", "mx.mailsvc.example")]));
      expect((await mta.ask("C", Buffer.concat([strings("unknown"), Buffer.from("4"), Buffer.from([0, 25]), strings("192.0.2.7")])))[0]!.command).toBe("c");
      expect((await mta.ask("H", strings("mail.customer.example")))[0]!.command).toBe("c");
      for (let round = 0; round < 2; round++) {
        expect((await mta.ask("M", strings("<bob@customer.example>", "SIZE=100")))[0]!.command).toBe("c");
        expect((await mta.ask("R", strings("<test1@support-test.example>")))[0]!.command).toBe("c");
        await mta.ask("T");
        await mta.ask("L", strings("Authentication-Results", " relay.elsewhere.example; spf=pass smtp.mailfrom=bob@customer.example"));
        await mta.ask("L", strings("Authentication-Results", " MX.mailsvc.example; dkim=pass header.d=customer.example"));
        await mta.ask("L", strings("From", " Bob <bob@customer.example>"));
        await mta.ask("L", strings("Subject", ` round ${round}`));
        await mta.ask("N");
        await mta.ask("B", Buffer.from("Hello.\r\n"));
        const replies = await mta.ask("E");
        expect(replies[replies.length - 1]!.command).toBe("c");
        // The forged one (the second Authentication-Results) deleted: change header, index 2, empty value.
        const deleted = replies.filter((reply) => reply.command === "m");
        expect(deleted.map((reply) => [reply.data.readUInt32BE(0), reply.data.subarray(4).toString("latin1")])).toEqual([[2, "Authentication-Results\0\0"]]);
        const inserted = replies
          .filter((reply) => reply.command === "i")
          .map((reply) => [reply.data.readUInt32BE(0), ...reply.data.subarray(4).toString("latin1").split("\0").slice(0, 2)]);
        // Inserted at the top, last first: Received-SPF ends up above Authentication-Results.
        expect(inserted.map(([index, name]) => [index, name])).toEqual([
          [0, "Authentication-Results"],
          [0, "Received-SPF"],
        ]);
        const results = inserted[0]![2] as string;
        expect(results).toMatch(
          /^ mx\.mailsvc\.example; dkim=none \(message not signed\); spf=temperror .*smtp\.mailfrom=bob@customer\.example smtp\.helo=mail\.customer\.example; dmarc=(temperror|none) .*header\.from=customer\.example$/,
        );
        expect(results).not.toMatch(/[\r\n]/);
      }
      mta.tell("Q");
    } finally {
      socket.destroy();
    }
  });
});
