// What an API token may never do with credentials. A token is for scripts:
// it can be scoped, expires and is revoked in one call. A credential it could
// set or learn for a principal that can itself log in to the API with
// administrative powers (and so mint new tokens, or end the real person's
// sessions) would outlive the token's revocation: a leaked token would become
// a permanent foothold. So a request made with an API token
//   - never sets or changes the password of a domain administrator (its own
//     creator included) or of support staff,
//   - never makes an account a domain's administrator (the token holder may
//     know that account's password: it may have set it),
//   - never learns the password of an administrator it creates (createDomain
//     generates one and does not return it).
// Ordinary mailbox accounts' passwords may be set by a WRITE token: that is
// what provisioning scripts do, and such an account has no power a token of
// its domain lacks. The same holds for a second factor once there is one.
import { ForbiddenError } from "../errors";
import { message, type Message } from "../i18n/messages";
import type { Principal } from "./principal";

/** Throws FORBIDDEN when `principal` acts through an API token and `what` would hand it an administrator's credential. */
export function refuseAdministratorCredentialByToken(principal: Principal, what: Message, field: string): void {
  const token = principal.apiToken;
  if (!token) return;
  throw new ForbiddenError(message("auth.credential.token_refused", { what, prefix: token.prefix }), field);
}
