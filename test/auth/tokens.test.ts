// The token service remembers tokens it has verified (every request verifies
// its token twice): what it remembers must never outlive the token.
import jwt from "jsonwebtoken";
import { createTokenService } from "../../src/auth/tokens";

describe("verifying login tokens", () => {
  const secret = "a test secret that is long enough for HS256 ............";

  it("refuses a token it accepted before, once the clock passes its expiry", () => {
    let clock = new Date("2026-11-28T12:00:00Z");
    const tokens = createTokenService(secret, 60, () => clock);
    const { token } = tokens.issue({ sub: "account-1", kind: "account", ver: 3 });
    expect(tokens.verify(token)).toEqual({ claims: { sub: "account-1", kind: "account", ver: 3 } });
    clock = new Date("2026-11-28T12:00:59Z");
    expect(tokens.verify(token)).toEqual({ claims: { sub: "account-1", kind: "account", ver: 3 } });
    clock = new Date("2026-11-28T12:01:00Z");
    expect(tokens.verify(token)).toEqual({ error: "expired" });
    // A fresh service (nothing remembered) says the same.
    expect(createTokenService(secret, 60, () => clock).verify(token)).toEqual({ error: "expired" });
  });

  it("does not take a token for one it has seen when a single character differs", () => {
    const tokens = createTokenService(secret, 60, () => new Date());
    const { token } = tokens.issue({ sub: "support-1", kind: "support", ver: 0 });
    expect("claims" in tokens.verify(token)).toBe(true);
    const [header, payload, signature] = token.split(".");
    // A character in the middle of the signature (the last one carries padding bits).
    const changed = signature![10] === "A" ? "B" : "A";
    const flipped = `${header}.${payload}.${signature!.slice(0, 10)}${changed}${signature!.slice(11)}`;
    expect(tokens.verify(flipped)).toEqual({ error: "invalid" });
    const otherSecret = jwt.sign({ kind: "support", ver: 0 }, "another secret entirely ..........................", {
      algorithm: "HS256",
      subject: "support-1",
      expiresIn: 60,
      issuer: "mailadmin",
      audience: "mailadmin-api",
    });
    expect(tokens.verify(otherSecret)).toEqual({ error: "invalid" });
  });
});
