import type { AuditChange, Resolvers } from "../generated/graphql";
import type { AuditEntry } from "../generated/prisma/client";
import type { GraphQLContext } from "../graphql/context";
import { principalOf } from "../graphql/context";
import { listAudit, type AuditQuery } from "./audit.service";

export const auditResolvers = {
  Query: {
    auditLog: (_: unknown, args: AuditQuery, context: GraphQLContext) => listAudit(context.deps.db, principalOf(context), args),
  },
  AuditEntry: {
    id: (entry: AuditEntry) => entry.id.toString(),
    // Stored as JSON by writeAudit in the AuditChange shape.
    changes: (entry: AuditEntry) => (Array.isArray(entry.changes) ? (entry.changes as unknown as AuditChange[]) : []),
  },
} satisfies Resolvers;
