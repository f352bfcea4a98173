// Structured JSON logs. Authorization headers, passwords and tokens are
// redacted wherever they would appear.
import pino, { type Logger } from "pino";

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          "req.headers.authorization",
          "req.headers.cookie",
          "headers.authorization",
          "*.password",
          "*.currentPassword",
          "*.newPassword",
          "*.adminPassword",
          "*.token",
          "*.passwordHash",
          "*.JWT_SECRET",
          "*.BOOTSTRAP_ADMIN_PASSWORD",
        ],
        censor: "[redacted]",
      },
    },
    destination,
  );
}
