// The peers the throw-away Postfix talks to while its log is captured
// (capture.sh): an LMTP server standing in for Dovecot's (full@lmtp.test's
// mailbox is over quota, as Dovecot answers) and a remote SMTP server that
// refuses one recipient. Loopback only.
import { SMTPServer } from "smtp-server";

const host = process.argv[2] ?? "127.0.0.47";
const lmtpPort = Number(process.argv[3] ?? 24241);
const remotePort = Number(process.argv[4] ?? 25251);

function drain(stream, _session, callback) {
  stream.on("data", () => {});
  stream.on("end", () => callback());
}

const lmtp = new SMTPServer({
  lmtp: true,
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  onRcptTo(address, _session, callback) {
    if (address.address === "full@lmtp.test") {
      const error = new Error("5.2.2 <full@lmtp.test> Quota exceeded (mailbox for user is full)");
      error.responseCode = 552;
      return callback(error);
    }
    callback();
  },
  onData: drain,
});
const remote = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS", "AUTH"],
  onRcptTo(address, _session, callback) {
    if (address.address.startsWith("nobody@")) {
      const error = new Error("5.1.1 <" + address.address + ">: Recipient address rejected: User unknown in virtual mailbox table");
      error.responseCode = 550;
      return callback(error);
    }
    callback();
  },
  onData: drain,
});
lmtp.listen(lmtpPort, host);
remote.listen(remotePort, host);
process.on("SIGTERM", () => {
  lmtp.close();
  remote.close();
  process.exit(0);
});
