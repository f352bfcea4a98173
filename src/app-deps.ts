// What the HTTP adapters (GraphQL, REST, the IDE) are built with: the
// services' dependencies (ServiceDeps) and the process's logger, login
// throttle and metrics. server.ts and app.ts make them; nothing below the
// adapters imports this file.
import type { Logger } from "pino";
import type { LoginThrottle } from "./auth/auth.service";
import type { Metrics } from "./observability/metrics";
import type { ServiceDeps } from "./service-deps";

export interface AppDeps extends ServiceDeps {
  logger: Logger;
  throttle: LoginThrottle;
  /** The server's metrics; createServer makes its own when absent (main passes one that the log collector reports to too). */
  metrics?: Metrics;
}
