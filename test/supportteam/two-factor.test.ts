// Two-factor login (TOTP, RFC 6238) through HTTP, with the codes computed by
// an independent implementation: Debian's oathtool. A code is valid for its
// step and the ones just before and after, never twice; recovery codes work
// once; wrong codes lock like wrong passwords; secrets and codes never reach
// the logs or the audit trail.
import { execFileSync } from "node:child_process";
import { errorCode, startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeWorld, PASSWORD, supportAdmin, tokenFor } from "../helpers/factories";
import { apiTokenOf } from "../helpers/api-tokens";

const STEP_MS = 30_000;

/** The code oathtool computes for a base32 secret at an instant. */
function oathtool(secret: string, at: number): string {
  return execFileSync("oathtool", ["--totp", "-b", "-N", `@${Math.floor(at / 1000)}`, secret], { encoding: "utf8" }).trim();
}

/** Waits until the current step has at least 4 seconds left, so that "now" means one step for the test and the server. */
async function awayFromStepEdge(): Promise<number> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < 4000) await new Promise((resolve) => setTimeout(resolve, left + 100));
  return Date.now();
}

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const LOGIN = `mutation($i: String!, $p: String!) { login(identifier: $i, password: $p) { token expiresAt enrollmentRequired principal { id } challenge { challenge expiresAt method } } }`;
const COMPLETE = `mutation($c: String!, $code: String!) { completeLogin(challenge: $c, code: $code) { token recoveryCodesLeft principal { id loginName } } }`;

async function enrol(token: string, at: (now: number) => number = (now) => now) {
  const started = await app.gql(`mutation { startTotpEnrollment { secret otpauthUri qrCodeDataUrl } }`, {}, token);
  expect(started.errors).toBeUndefined();
  const { secret } = started.data.startTotpEnrollment;
  const now = await awayFromStepEdge();
  const confirmed = await app.gql(
    `mutation($code: String!) { confirmTotpEnrollment(code: $code) { recoveryCodes principal { totpEnabled } } }`,
    { code: oathtool(secret, at(now)) },
    token,
  );
  expect(confirmed.errors).toBeUndefined();
  return { ...started.data.startTotpEnrollment, recoveryCodes: confirmed.data.confirmTotpEnrollment.recoveryCodes as string[], confirmedAt: now };
}

async function challengeFor(identifier: string): Promise<string> {
  const first = await app.gql(LOGIN, { i: identifier, p: PASSWORD });
  expect(first.errors).toBeUndefined();
  expect(first.data.login).toMatchObject({ token: null, principal: null, challenge: { method: "TOTP" } });
  return first.data.login.challenge.challenge;
}

describe("two-factor login", () => {
  it("enrols with a secret shown as otpauth:// URI and QR code, confirmed by oathtool's code; login then takes two steps", async () => {
    const world = await makeWorld(app);
    const started = await app.gql(`mutation { startTotpEnrollment { secret otpauthUri qrCodeDataUrl } }`, {}, world.tokens.user);
    const { secret, otpauthUri, qrCodeDataUrl } = started.data.startTotpEnrollment;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauthUri);
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.searchParams.get("secret")).toBe(secret);
    expect(uri.searchParams.get("issuer")).toBe("mailadmin");
    expect(uri.searchParams.get("period")).toBe("30");
    expect(qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    // Not enrolled until confirmed: login still takes one step.
    expect((await app.gql(LOGIN, { i: world.user.address, p: PASSWORD })).data.login.token).toEqual(expect.any(String));

    const wrong = await app.gql(`mutation { confirmTotpEnrollment(code: "000000") { recoveryCodes } }`, {}, world.tokens.user);
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "code" });
    const now = await awayFromStepEdge();
    const confirmed = await app.gql(
      `mutation($code: String!) { confirmTotpEnrollment(code: $code) { recoveryCodes principal { totpEnabled } } }`,
      { code: oathtool(secret, now) },
      world.tokens.user,
    );
    expect(confirmed.errors).toBeUndefined();
    const { recoveryCodes } = confirmed.data.confirmTotpEnrollment;
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(confirmed.data.confirmTotpEnrollment.principal.totpEnabled).toBe(true);

    const challenge = await challengeFor(world.user.address);
    // The challenge is not a login token.
    expect(errorCode(await app.gql(`{ me { id } }`, {}, challenge))).toBe("UNAUTHENTICATED");
    const next = await awayFromStepEdge();
    const done = await app.gql(COMPLETE, { c: challenge, code: oathtool(secret, next + STEP_MS) });
    expect(done.errors).toBeUndefined();
    expect(done.data.completeLogin).toMatchObject({ principal: { id: world.user.id, loginName: world.user.address }, recoveryCodesLeft: 10 });
    expect((await app.gql(`{ me { id } }`, {}, done.data.completeLogin.token)).data.me.id).toBe(world.user.id);
    const audit = await app.deps.db.auditEntry.findMany({ where: { objectId: world.user.id, action: { in: ["auth.totp_enroll", "auth.login"] } }, orderBy: { id: "asc" } });
    expect(audit.map((entry) => [entry.action, entry.changes])).toEqual([
      ["auth.login", []],
      ["auth.totp_enroll", [{ field: "totpEnabled", before: false, after: true }]],
      ["auth.login", [{ field: "secondFactor", before: null, after: "totp" }]],
    ]);
    // Neither the secret nor any code reached the logs or the audit trail.
    const everything = app.logLines.join("\n") + JSON.stringify((await app.deps.db.auditEntry.findMany({ where: { objectId: world.user.id } })).map((entry) => entry.changes));
    for (const secretText of [secret, ...recoveryCodes]) expect(everything).not.toContain(secretText);
    const stored = await app.deps.db.totpFactor.findUniqueOrThrow({ where: { principalId: world.user.id } });
    expect(stored.secretSealed).not.toContain(secret);
  });

  it("accepts the codes of the step before and after, refuses those further off, and never accepts a code twice", async () => {
    const world = await makeWorld(app);
    // Confirmed with the code of the step before: the window's lower edge.
    const { secret, confirmedAt } = await enrol(world.tokens.admin, (now) => now - STEP_MS);
    const stepOf = (at: number) => Math.floor(at / STEP_MS);
    expect(stepOf(confirmedAt)).toBe(stepOf(Date.now()));

    const now = await awayFromStepEdge();
    for (const off of [-2 * STEP_MS, 2 * STEP_MS]) {
      const refused = await app.gql(COMPLETE, { c: await challengeFor(world.admin.address), code: oathtool(secret, now + off) });
      expect(errorCode(refused)).toBe("UNAUTHENTICATED");
    }
    const current = oathtool(secret, now);
    const first = await app.gql(COMPLETE, { c: await challengeFor(world.admin.address), code: current });
    expect(first.errors).toBeUndefined();
    // The same code again, even with a fresh challenge: refused.
    const again = await app.gql(COMPLETE, { c: await challengeFor(world.admin.address), code: current });
    expect(again.errors?.[0]).toMatchObject({ extensions: { code: "UNAUTHENTICATED" }, message: expect.stringContaining("already used") });
    // A code of an earlier step than the last one accepted: refused too (the step before is in the window, but spent).
    expect(errorCode(await app.gql(COMPLETE, { c: await challengeFor(world.admin.address), code: oathtool(secret, now - STEP_MS) }))).toBe("UNAUTHENTICATED");
    // The next step's code still works once.
    expect((await app.gql(COMPLETE, { c: await challengeFor(world.admin.address), code: oathtool(secret, now + STEP_MS) })).errors).toBeUndefined();
    const failures = await app.deps.db.auditEntry.count({ where: { objectId: world.admin.id, action: "auth.second_factor_failed" } });
    expect(failures).toBe(4);
  });

  it("accepts each recovery code once, in any case and with or without dashes", async () => {
    const world = await makeWorld(app);
    const { recoveryCodes } = await enrol(world.tokens.user);
    const code = recoveryCodes[3]!;
    const used = await app.gql(COMPLETE, { c: await challengeFor(world.user.address), code: code.toUpperCase().replaceAll("-", "") });
    expect(used.errors).toBeUndefined();
    expect(used.data.completeLogin.recoveryCodesLeft).toBe(9);
    expect(errorCode(await app.gql(COMPLETE, { c: await challengeFor(world.user.address), code }))).toBe("UNAUTHENTICATED");
    expect(await app.deps.db.auditEntry.count({ where: { objectId: world.user.id, action: "auth.recovery_code_used" } })).toBe(1);
    expect(JSON.stringify(await app.deps.db.recoveryCode.findMany({ where: { principalId: world.user.id } }))).not.toContain(code.replaceAll("-", ""));
  });

  it("locks the second step after repeated wrong codes, like wrong passwords, even for the right code", async () => {
    const world = await makeWorld(app);
    const { secret } = await enrol(world.tokens.user);
    const challenge = await challengeFor(world.user.address);
    for (let attempt = 0; attempt < app.config.LOGIN_MAX_FAILURES; attempt++) {
      expect(errorCode(await app.gql(COMPLETE, { c: challenge, code: "123456" }))).toBe("UNAUTHENTICATED");
    }
    const now = await awayFromStepEdge();
    const locked = await app.gql(COMPLETE, { c: challenge, code: oathtool(secret, now + STEP_MS) });
    expect(errorCode(locked)).toBe("RATE_LIMITED");
    // The password step is locked as well: the counter is the identifier's.
    expect(errorCode(await app.gql(LOGIN, { i: world.user.address, p: PASSWORD }))).toBe("RATE_LIMITED");
  });

  it("turns two-factor login off with a code; support resets a locked-out person's second factor (audited); others may not", async () => {
    const world = await makeWorld(app);
    const { secret } = await enrol(world.tokens.user);
    const now = await awayFromStepEdge();
    const off = await app.gql(`mutation($code: String!) { disableTotp(code: $code) { principalId totpEnabled } }`, { code: oathtool(secret, now + STEP_MS) }, world.tokens.user);
    expect(off.data.disableTotp).toEqual({ principalId: world.user.id, totpEnabled: false });
    expect((await app.gql(LOGIN, { i: world.user.address, p: PASSWORD })).data.login.token).toEqual(expect.any(String));

    // A colleague of support lost the phone.
    const colleague = await supportAdmin(app);
    const colleagueToken = await tokenFor(app, colleague);
    await enrol(colleagueToken);
    await challengeFor(colleague.username);
    expect(errorCode(await app.gql(`mutation($id: ID!) { resetTotp(principalId: $id) { totpEnabled } }`, { id: colleague.id }, world.tokens.admin))).toBe("NOT_FOUND");
    const reset = await app.gql(`mutation($id: ID!) { resetTotp(principalId: $id) { principalId totpEnabled } }`, { id: colleague.id }, world.tokens.support);
    expect(reset.data.resetTotp).toEqual({ principalId: colleague.id, totpEnabled: false });
    expect((await app.gql(LOGIN, { i: colleague.username, p: PASSWORD })).data.login.token).toEqual(expect.any(String));
    expect(await app.deps.db.auditEntry.count({ where: { objectId: colleague.id, action: "auth.totp_reset" } })).toBe(1);
  });

  it("refuses enrolment to anonymous callers and to API tokens", async () => {
    const world = await makeWorld(app);
    expect(errorCode(await app.gql(`mutation { startTotpEnrollment { secret } }`))).toBe("UNAUTHENTICATED");
    const { token } = await apiTokenOf(app, world.admin, ["READ", "WRITE"]);
    expect(errorCode(await app.gql(`mutation { startTotpEnrollment { secret } }`, {}, token))).toBe("FORBIDDEN");
  });
});

describe("compulsory two-factor login", () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await startTestApp({ TOTP_REQUIRED_FOR_DOMAIN_ADMINS: "true", TOTP_REQUIRED_FOR_SUPPORT: "true" });
  });
  afterAll(() => strict.close());

  it("gives a domain administrator who has not enrolled a token that only enrols; after enrolling, login takes two steps and it cannot be turned off", async () => {
    const world = await makeWorld(strict);
    const first = await strict.gql(LOGIN, { i: world.admin.address, p: PASSWORD });
    expect(first.data.login).toMatchObject({ enrollmentRequired: true, challenge: null });
    const limited = first.data.login.token as string;
    const refused = await strict.gql(`{ domains { totalCount } }`, {}, limited);
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: "FORBIDDEN" }, message: expect.stringContaining("compulsory") });
    const rest = await fetch(`${strict.url}/api/v1/domains`, { headers: { authorization: `Bearer ${limited}` } });
    expect(rest.status).toBe(403);
    const started = await strict.gql(`mutation { startTotpEnrollment { secret } }`, {}, limited);
    const { secret } = started.data.startTotpEnrollment;
    const now = await awayFromStepEdge();
    const confirmed = await strict.gql(`mutation($code: String!) { confirmTotpEnrollment(code: $code) { recoveryCodes } }`, { code: oathtool(secret, now) }, limited);
    expect(confirmed.errors).toBeUndefined();
    const second = await strict.gql(LOGIN, { i: world.admin.address, p: PASSWORD });
    expect(second.data.login.challenge.challenge).toEqual(expect.any(String));
    const done = await strict.gql(COMPLETE, { c: second.data.login.challenge.challenge, code: oathtool(secret, now + STEP_MS) });
    const full = done.data.completeLogin.token as string;
    expect((await strict.gql(`{ domains { totalCount } }`, {}, full)).errors).toBeUndefined();
    const disable = await strict.gql(
      `mutation($code: String!) { disableTotp(code: $code) { totpEnabled } }`,
      { code: confirmed.data.confirmTotpEnrollment.recoveryCodes[0] },
      full,
    );
    expect(errorCode(disable)).toBe("FORBIDDEN");
    // An ordinary user is not concerned.
    const user = await makeAccount(strict, world.domain, { quotaMb: 0 });
    expect((await strict.gql(LOGIN, { i: user.address, p: PASSWORD })).data.login).toMatchObject({ enrollmentRequired: false, challenge: null });
  });
});
