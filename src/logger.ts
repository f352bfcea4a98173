// Structured JSON logs. Authorization headers, passwords and tokens are
// redacted wherever they would appear.
import pino, { type Logger } from "pino";

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * A request as its log lines show it (Fastify's summary), without the query
 * string: a GraphQL GET carries its operation and variables there, which may
 * hold a password or a token.
 */
function requestSummary(request: LoggedRequest) {
  return { method: request.method, url: request.url?.split("?")[0], host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort };
}

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
      serializers: { req: requestSummary },
    },
    destination,
  );
}
