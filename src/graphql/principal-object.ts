// Turns a Principal into the row the GraphQL Principal interface resolves.
import type { Principal } from "../auth/principal";
import { supportAdminById } from "../auth/auth.sql";
import type { GraphQLContext } from "./context";
import { NotFoundError } from "../errors";

/**
 * `asAuthenticated`: the principal is the request's caller as authentication
 * read it at the start of this request (`me`): a support admin's row is that
 * read's, not a second one (an account's comes from the loaders, which
 * authentication's row starts).
 */
export async function principalObject(context: GraphQLContext, principal: Principal, options: { asAuthenticated?: boolean } = {}) {
  if (principal.kind === "support") {
    const authenticated = options.asAuthenticated && context.authentication.principal ? context.authentication.supportAdmin : undefined;
    const admin = authenticated?.id === principal.id ? authenticated : await supportAdminById(context.deps.db, principal.id);
    if (!admin) throw new NotFoundError("support admin", principal.name);
    return { __typename: "SupportAdmin" as const, ...admin };
  }
  const account = await context.loaders.accountById.load(principal.id);
  if (!account) throw new NotFoundError("account", principal.name);
  return { __typename: "Account" as const, ...account };
}
