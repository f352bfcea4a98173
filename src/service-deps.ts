// What services need, passed in explicitly (no ambient globals), so tests and
// tools can build them with any database or clock.
import type { PrismaClient } from "./generated/prisma/client";
import type { Config } from "./config";
import type { PasswordHasher } from "./auth/passwords";
import type { TokenService } from "./auth/tokens";
import type { Principal } from "./auth/principal";
import type { Actor } from "./audit/audit.service";
import type { Text } from "./i18n/text";

export interface ServiceDeps {
  db: PrismaClient;
  config: Config;
  passwords: PasswordHasher;
  tokens: TokenService;
  now: () => Date;
}

/** The authenticated caller of a service, and how its changes are audited. */
export interface Caller {
  principal: Principal;
  actor: Actor;
}

/** A warning returned with a change; its message is written in the answer's language (GraphQL's Warning.message, the REST routes). */
export interface Warning {
  code: string;
  field: string;
  message: Text;
}
