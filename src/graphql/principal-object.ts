// Turns a Principal into the row the GraphQL Principal interface resolves.
import type { Principal } from "../auth/principal";
import { supportAdminById } from "../auth/auth.sql";
import type { GraphQLContext } from "./context";
import { NotFoundError } from "../errors";

export async function principalObject(context: GraphQLContext, principal: Principal) {
  if (principal.kind === "support") {
    const admin = await supportAdminById(context.deps.db, principal.id);
    if (!admin) throw new NotFoundError("support admin", principal.name);
    return { __typename: "SupportAdmin" as const, ...admin };
  }
  const account = await context.loaders.accountById.load(principal.id);
  if (!account) throw new NotFoundError("account", principal.name);
  return { __typename: "Account" as const, ...account };
}
