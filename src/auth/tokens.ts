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
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

const ISSUER = "mailadmin";
const AUDIENCE = "mailadmin-api";

export interface TokenService {
  issue(claims: TokenClaims): IssuedToken;
  /** The claims, or a reason the token is refused. */
  verify(token: string): { claims: TokenClaims } | { error: "expired" | "invalid" };
}

export function createTokenService(secret: string, expiresInSeconds: number, now: () => Date = () => new Date()): TokenService {
  // A key object made once: given the string, jsonwebtoken first tries to read
  // it as a public key on every call (a few percent of a request's CPU).
  const key = createSecretKey(Buffer.from(secret, "utf8"));
  return {
    issue(claims) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      const token = jwt.sign({ kind: claims.kind, ver: claims.ver, iat: issuedAt }, key, {
        algorithm: "HS256",
        subject: claims.sub,
        expiresIn: expiresInSeconds,
        issuer: ISSUER,
        audience: AUDIENCE,
      });
      return { token, expiresAt: new Date((issuedAt + expiresInSeconds) * 1000) };
    },
    verify(token) {
      try {
        const payload = jwt.verify(token, key, {
          algorithms: ["HS256"],
          issuer: ISSUER,
          audience: AUDIENCE,
          clockTimestamp: Math.floor(now().getTime() / 1000),
        });
        if (typeof payload === "string" || typeof payload.sub !== "string") return { error: "invalid" };
        const { kind, ver } = payload as Record<string, unknown>;
        if ((kind !== "support" && kind !== "account") || typeof ver !== "number") return { error: "invalid" };
        return { claims: { sub: payload.sub, kind, ver } };
      } catch (error) {
        return { error: error instanceof jwt.TokenExpiredError ? "expired" : "invalid" };
      }
    },
  };
}
