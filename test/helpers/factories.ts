// Factories: build what a test needs, with unique names, through the same
// services the API uses (so every fixture obeys the rules), and hand out
// tokens for each role without spending a bcrypt login on every test.
import { randomUUID } from "node:crypto";
import type { Account, Domain, SupportAdmin } from "../../src/generated/prisma/client";
import type { Principal } from "../../src/auth/principal";
import { actorOf } from "../../src/audit/audit.service";
import { createDomain, type CreateDomainInput } from "../../src/domains/domains.service";
import { createAccount, type CreateAccountInput } from "../../src/accounts/accounts.service";
import type { TestApp } from "./test-app";

export const PASSWORD = "correct horse battery";

export function uniqueName(prefix = "t"): string {
  return `${prefix}${randomUUID().replace(/-/g, "").slice(0, 12)}`;
}

export async function supportAdmin(app: TestApp, username = uniqueName("support")): Promise<SupportAdmin> {
  return app.deps.db.supportAdmin.create({
    data: { username, displayName: "Test support", passwordHash: await app.deps.passwords.hash(PASSWORD) },
  });
}

export function supportPrincipal(admin: SupportAdmin): Principal {
  return { kind: "support", id: admin.id, role: "SUPPORT_ADMIN", name: admin.username, tokenVersion: admin.tokenVersion };
}

export async function tokenFor(app: TestApp, subject: SupportAdmin | Account): Promise<string> {
  if ("username" in subject) {
    const fresh = await app.deps.db.supportAdmin.findUniqueOrThrow({ where: { id: subject.id } });
    return app.deps.tokens.issue({ sub: fresh.id, kind: "support", ver: fresh.tokenVersion }).token;
  }
  const fresh = await app.deps.db.account.findUniqueOrThrow({ where: { id: subject.id } });
  return app.deps.tokens.issue({ sub: fresh.id, kind: "account", ver: fresh.tokenVersion }).token;
}

export interface DomainFixture {
  domain: Domain;
  admin: Account;
}

let fixtureSupport: SupportAdmin | undefined;

async function fixtureCaller(app: TestApp) {
  fixtureSupport ??= await supportAdmin(app, uniqueName("factory"));
  const principal = supportPrincipal(fixtureSupport);
  return { principal, actor: actorOf(principal, { requestId: "factory" }) };
}

export async function makeDomain(app: TestApp, overrides: Partial<CreateDomainInput> = {}): Promise<DomainFixture> {
  const result = await createDomain(app.deps, await fixtureCaller(app), {
    name: `${uniqueName("d")}.example`,
    adminPassword: PASSWORD,
    ...overrides,
  });
  return { domain: result.domain, admin: result.admin };
}

export async function makeAccount(app: TestApp, domain: Domain, overrides: Partial<CreateAccountInput> = {}): Promise<Account> {
  const result = await createAccount(app.deps, await fixtureCaller(app), {
    domainId: domain.id,
    localPart: uniqueName("u"),
    password: PASSWORD,
    ...overrides,
  });
  return result.account;
}

/** A domain with its administrator, one ordinary user, and a token for each role that matters to it. */
export async function makeWorld(app: TestApp, overrides: Partial<CreateDomainInput> = {}) {
  const support = await supportAdmin(app);
  const { domain, admin } = await makeDomain(app, overrides);
  const user = await makeAccount(app, domain, { quotaMb: 0 });
  const other = await makeDomain(app);
  return {
    domain,
    admin,
    user,
    otherDomain: other.domain,
    otherAdmin: other.admin,
    tokens: {
      support: await tokenFor(app, support),
      admin: await tokenFor(app, admin),
      otherAdmin: await tokenFor(app, other.admin),
      user: await tokenFor(app, user),
      anonymous: undefined as string | undefined,
    },
  };
}
