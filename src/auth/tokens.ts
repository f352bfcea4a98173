// JWTs: HS256 only (pinned on verify, so a token cannot pick its own
// algorithm), with the principal's token version so that a password change or
// an administrator change revokes every older token.
import { createSecretKey } from "node:crypto";
import jwt from "jsonwebtoken";

export type PrincipalKind = "support" | "account";

export interface TokenClaims {
  sub: string;
  kind: PrincipalKind;
  ver: number;
  /** The login session (login_session.id) of a token issued by a login; absent on tokens made for tests and tools. */
  sid?: string;
  /** A token limited to enrolling in two-factor login (compulsory for the principal, not enrolled yet). */
  enrollOnly?: boolean;
}

/** The second step of a login: who gave the right password, and when that step expires. */
export interface ChallengeClaims {
  sub: string;
  kind: PrincipalKind;
  ver: number;
}

/** How long the second step of a login may wait for its code. */
export const CHALLENGE_SECONDS = 300;
const CHALLENGE_AUDIENCE = "mailadmin-login-challenge";

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

const ISSUER = "mailadmin";
/** Verified tokens remembered (the oldest forgotten first). */
const VERIFIED_TOKENS_KEPT = 10_000;
const AUDIENCE = "mailadmin-api";

export interface TokenService {
  issue(claims: TokenClaims): IssuedToken;
  /** The claims, or a reason the token is refused. */
  verify(token: string): { claims: TokenClaims } | { error: "expired" | "invalid" };
  /** A short-lived challenge for the second step of a login (never accepted as a login token: another audience). */
  issueChallenge(claims: ChallengeClaims): IssuedToken;
  verifyChallenge(challenge: string): { claims: ChallengeClaims } | { error: "expired" | "invalid" };
}

export function createTokenService(secret: string, expiresInSeconds: number, now: () => Date = () => new Date()): TokenService {
  // A key object made once: given the string, jsonwebtoken first tries to read
  // it as a public key on every call (a few percent of a request's CPU).
  const key = createSecretKey(Buffer.from(secret, "utf8"));
  const verified = new Map<string, { claims: TokenClaims; expiresAt: number }>();
  return {
    issue(claims) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const token = jwt.sign({ kind: claims.kind, ver: claims.ver, ...(claims.sid ? { sid: claims.sid } : {}), ...(claims.enrollOnly ? { eo: 1 } : {}), iat: issuedAt }, key, {
        algorithm: "HS256",
        subject: claims.sub,
        expiresIn: expiresInSeconds,
        issuer: ISSUER,
        audience: AUDIENCE,
      });
      return { token, expiresAt: new Date((issuedAt + expiresInSeconds) * 1000) };
    },
    verify(token) {
      // A valid token's signature and claims do not change: checked once, only
      // its expiry is looked at again (every request verifies its token, the
      // rate limiter and the authentication each once).
      const known = verified.get(token);
      if (known) return Math.floor(now().getTime() / 1000) >= known.expiresAt ? { error: "expired" } : { claims: known.claims };
      try {
        const payload = jwt.verify(token, key, {
          algorithms: ["HS256"],
          issuer: ISSUER,
          audience: AUDIENCE,
          clockTimestamp: Math.floor(now().getTime() / 1000),
        });
        if (typeof payload === "string" || typeof payload.sub !== "string") return { error: "invalid" };
        const { kind, ver, sid, eo } = payload as Record<string, unknown>;
        if ((kind !== "support" && kind !== "account") || typeof ver !== "number") return { error: "invalid" };
        if (sid !== undefined && typeof sid !== "string") return { error: "invalid" };
        // Every token this service issues expires: one without exp (signed
        // with a leaked or reused secret) would never stop working.
        if (typeof payload.exp !== "number") return { error: "invalid" };
        const claims: TokenClaims = { sub: payload.sub, kind, ver, ...(sid ? { sid } : {}), ...(eo === 1 ? { enrollOnly: true } : {}) };
        if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
        verified.set(token, { claims, expiresAt: payload.exp });
        return { claims };
      } catch (error) {
        return { error: error instanceof jwt.TokenExpiredError ? "expired" : "invalid" };
      }
    },
    issueChallenge(claims) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const token = jwt.sign({ kind: claims.kind, ver: claims.ver, iat: issuedAt }, key, {
        algorithm: "HS256",
        subject: claims.sub,
        expiresIn: CHALLENGE_SECONDS,
        issuer: ISSUER,
        audience: CHALLENGE_AUDIENCE,
      });
      return { token, expiresAt: new Date((issuedAt + CHALLENGE_SECONDS) * 1000) };
    },
    verifyChallenge(challenge) {
      try {
        const payload = jwt.verify(challenge, key, { algorithms: ["HS256"], issuer: ISSUER, audience: CHALLENGE_AUDIENCE, clockTimestamp: Math.floor(now().getTime() / 1000) });
        if (typeof payload === "string" || typeof payload.sub !== "string" || typeof payload.exp !== "number") return { error: "invalid" };
        const { kind, ver } = payload as Record<string, unknown>;
        if ((kind !== "support" && kind !== "account") || typeof ver !== "number") return { error: "invalid" };
        return { claims: { sub: payload.sub, kind, ver } };
      } catch (error) {
        return { error: error instanceof jwt.TokenExpiredError ? "expired" : "invalid" };
      }
    },
  };
}
