// The support team's operations: support accounts, two-factor login and login sessions.
import type { Resolvers } from "../generated/graphql";
import type { CallingSupportAdmin } from "./auth.sql";
import type { GraphQLContext } from "../graphql/context";
import { callerOf, sessionRequestOf } from "../graphql/context";
import { principalObject } from "../graphql/principal-object";
import { createSupportAdmin, deleteSupportAdmin, lastActiveOf, listSupportAdmins, supportAdminStatus, updateSupportAdmin } from "./support-admins.service";
import { completeLogin, confirmTotpEnrollment, disableTotp, resetTotp, startTotpEnrollment, totpEnabledOf } from "./second-factor.service";
import { endAllSessions, endSession, listSessions } from "./sessions.service";

async function totpEnabled(object: { id: string }, _: unknown, context: GraphQLContext): Promise<boolean> {
  return (await totpEnabledOf(context.deps, [object.id])).has(object.id);
}

export const supportTeamResolvers = {
  Query: {
    supportAdmins: (_, __, context) => listSupportAdmins(context.deps, callerOf(context)),
    sessions: (_, args, context) => listSessions(context.deps, callerOf(context), args.principalId),
  },
  Mutation: {
    createSupportAdmin: (_, args, context) => createSupportAdmin(context.deps, callerOf(context), args.input),
    updateSupportAdmin: (_, args, context) => updateSupportAdmin(context.deps, callerOf(context), args.id, args.input),
    deleteSupportAdmin: (_, args, context) => deleteSupportAdmin(context.deps, callerOf(context), args.id),
    startTotpEnrollment: (_, __, context) => startTotpEnrollment(context.deps, callerOf(context)),
    confirmTotpEnrollment: async (_, args, context) => {
      const result = await confirmTotpEnrollment(context.deps, callerOf(context), args.code);
      return { recoveryCodes: result.recoveryCodes, principal: await principalObject(context, result.principal) };
    },
    disableTotp: (_, args, context) => disableTotp(context.deps, callerOf(context), args.code),
    resetTotp: (_, args, context) => resetTotp(context.deps, callerOf(context), args.principalId),
    completeLogin: async (_, args, context) => {
      const result = await completeLogin(context.deps, args.challenge, args.code, sessionRequestOf(context));
      return { ...result, principal: await principalObject(context, result.principal) };
    },
    endSession: (_, args, context) => endSession(context.deps, callerOf(context), args.id),
    endAllSessions: (_, args, context) => endAllSessions(context.deps, callerOf(context), args.principalId),
  },
  SupportAdmin: {
    status: (admin: CallingSupportAdmin) => supportAdminStatus(admin),
    totpEnabled,
    lastActiveAt: async (admin: CallingSupportAdmin, _: unknown, context: GraphQLContext) => (await lastActiveOf(context.deps, [admin.id])).get(admin.id) ?? null,
  },
  Account: {
    totpEnabled,
  },
} satisfies Resolvers;
