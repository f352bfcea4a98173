// Turns a Principal into the row the GraphQL Principal interface resolves.
import type { Principal } from "../auth/principal";
import type { GraphQLContext } from "./context";
import { NotFoundError } from "../errors";
import { rawRows } from "../db/raw";
import type { SupportAdmin } from "../generated/prisma/client";

export async function principalObject(context: GraphQLContext, principal: Principal) {
  if (principal.kind === "support") {
    const [admin] = await rawRows<SupportAdmin>(context.deps.db, `SELECT * FROM "support_admin" WHERE "id" = $1`, [principal.id]);
    if (!admin) throw new NotFoundError("support admin", principal.name);
    return { __typename: "SupportAdmin" as const, ...admin };
  }
  const account = await context.loaders.accountById.load(principal.id);
  if (!account) throw new NotFoundError("account", principal.name);
  return { __typename: "Account" as const, ...account };
}
