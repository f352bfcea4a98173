// A principal's saved language: what its answers are written in when a
// request sends no Accept-Language (scripts, mail clients' links).
import type { Caller, ServiceDeps } from "../service-deps";
import { writeAudit } from "../audit/audit.service";
import { isLanguage, type Language } from "./language";

/** Saves (or, with null, forgets) the caller's own language; audited. Returns the language saved. */
export async function setPreferredLanguage(deps: Pick<ServiceDeps, "db">, caller: Caller, language: Language | null): Promise<Language | null> {
  const { principal } = caller;
  return deps.db.$transaction(async (tx) => {
    const before =
      principal.kind === "support"
        ? (await tx.supportAdmin.findUniqueOrThrow({ where: { id: principal.id }, select: { language: true } })).language
        : (await tx.account.findUniqueOrThrow({ where: { id: principal.id }, select: { language: true } })).language;
    if (principal.kind === "support") await tx.supportAdmin.update({ where: { id: principal.id }, data: { language } });
    else await tx.account.update({ where: { id: principal.id }, data: { language } });
    await writeAudit(tx, caller.actor, {
      action: "auth.set_language",
      objectType: principal.kind === "support" ? "support_admin" : "account",
      objectId: principal.id,
      ...(principal.kind === "account" ? { domainId: principal.domainId } : {}),
      changes: [{ field: "language", before, after: language }],
    });
    return language;
  });
}

/** A stored language as the API shows it; an unknown value (none can be stored) reads as none. */
export function storedLanguage(value: string | null | undefined): Language | null {
  return isLanguage(value) ? value : null;
}
