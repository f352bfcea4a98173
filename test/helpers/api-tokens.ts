// API tokens for tests, made through the service the API uses (so they obey
// its rules and are audited), by a support admin or a domain administrator.
import type { Account, SupportAdmin } from "../../src/generated/prisma/client";
import type { Principal } from "../../src/auth/principal";
import type { ApiTokenScope } from "../../src/auth/api-tokens";
import { actorOf } from "../../src/audit/audit.service";
import { createApiToken } from "../../src/apitokens/api-tokens.service";
import { supportPrincipal, uniqueName } from "./factories";
import type { TestApp } from "./test-app";

function principalOf(subject: SupportAdmin | Account): Principal {
  if ("username" in subject) return supportPrincipal(subject);
  return { kind: "account", id: subject.id, role: "DOMAIN_ADMIN", name: subject.address, domainId: subject.domainId, tokenVersion: subject.tokenVersion };
}

/** A new API token of `creator` (a support admin, or a domain's administrator) with these scopes. */
export async function apiTokenOf(app: TestApp, creator: SupportAdmin | Account, scopes: ApiTokenScope[], expiresAt?: Date) {
  const principal = principalOf(creator);
  const result = await createApiToken(app.deps, { principal, actor: actorOf(principal, { requestId: "factory" }) }, { name: uniqueName("token"), scopes, expiresAt });
  return { token: result.token, row: result.apiToken };
}
