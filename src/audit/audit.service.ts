// The audit trail. Every accepted change writes its record inside the same
// transaction as the change itself, so there is never a change without its
// record or a record of a change that was rolled back.
import { Prisma, type PrismaClient } from "../generated/prisma/client";
import type { Principal } from "../auth/principal";
import { authorize } from "../auth/policy";
import { decodeCursor, parseBigintId, parseId, parsePageSize, parseSearch } from "../shared/validation";
import { toConnection } from "../shared/connection";

export type Db = PrismaClient | Prisma.TransactionClient;

/** Who did it, and through which request. */
export interface Actor {
  role: string;
  id: string | null;
  name: string;
  /** The person's display name (support staff, accounts). */
  displayName?: string;
  requestId?: string;
  clientIp?: string;
  /** The API token (mat_<publicId>) the request came with, if any. */
  viaApiToken?: string;
}

export interface Change {
  field: string;
  before: unknown;
  after: unknown;
}

/**
 * Every action the audit trail records. The documentation lists them all
 * (test/audit/audit-actions.test.ts holds it to this list), and the type
 * keeps a new action from being written without being added here.
 */
export const AUDIT_ACTIONS = [
  "domain.create",
  "domain.update",
  "domain.delete",
  "domain.reassign_admin",
  "domain.dns_check",
  "account.create",
  "account.update",
  "account.set_password",
  "account.delete",
  "account.set_forwarding",
  "account.set_auto_reply",
  "alias.create",
  "alias.update",
  "alias.delete",
  "domain.set_catch_all",
  "domain.add_alias_domain",
  "domain.remove_alias_domain",
  "auth.change_password",
  "auth.set_language",
  "auth.login",
  "auth.login_failed",
  "maillog.ingest",
  "api_token.create",
  "api_token.revoke",
  "support_admin.bootstrap",
  "support_admin.create",
  "support_admin.update",
  "support_admin.set_password",
  "support_admin.delete",
  "auth.totp_enroll",
  "auth.totp_disable",
  "auth.totp_reset",
  "auth.recovery_code_used",
  "auth.second_factor_failed",
  "session.end",
  "session.end_all",
  "app_password.create",
  "app_password.revoke",
  "mailbox_usage.report",
  "dkim.keys_create",
  "dkim.rotation_start",
  "dkim.rotation_confirm",
  "dkim.rotation_cancel",
  "test_message.send",
  "test_mailbox.empty",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditRecord {
  action: AuditAction;
  objectType: "domain" | "account" | "alias" | "support_admin" | "log_source" | "api_token" | "mailbox_usage" | "login_session" | "app_password" | "test_message";
  objectId: string | null;
  domainId?: string | null;
  domainName?: string | null;
  changes: Change[];
}

export function actorOf(principal: Principal, request: { requestId?: string; clientIp?: string } = {}): Actor {
  return {
    role: principal.role,
    id: principal.id,
    name: principal.name,
    ...(principal.displayName ? { displayName: principal.displayName } : {}),
    ...request,
    ...(principal.apiToken ? { viaApiToken: principal.apiToken.prefix } : {}),
  };
}

export const systemActor: Actor = { role: "SYSTEM", id: null, name: "mailadmin" };

/** Marks a secret as changed without recording it. */
export const SECRET_CHANGED = "(changed)";

/** The fields whose value differs between before and after, in the order given. */
export function changedFields<T extends Record<string, unknown>>(before: T | null, after: T | null, fields: (keyof T & string)[]): Change[] {
  return fields
    .filter((field) => (before?.[field] ?? null) !== (after?.[field] ?? null))
    .map((field) => ({ field, before: before?.[field] ?? null, after: after?.[field] ?? null }));
}

/** The row writeAudit stores for a record. */
function auditEntryData(actor: Actor, record: AuditRecord): Prisma.AuditEntryCreateManyInput {
  return {
    actorRole: actor.role,
    actorId: actor.id,
    actorName: actor.name,
    actorDisplayName: actor.displayName ?? null,
    action: record.action,
    objectType: record.objectType,
    objectId: record.objectId,
    domainId: record.domainId ?? null,
    domainName: record.domainName ?? null,
    changes: JSON.parse(JSON.stringify(record.changes)) as Prisma.InputJsonValue,
    requestId: actor.requestId ?? null,
    clientIp: actor.clientIp ?? null,
    viaApiToken: actor.viaApiToken ?? null,
  };
}

export async function writeAudit(db: Db, actor: Actor, record: AuditRecord): Promise<void> {
  await db.auditEntry.create({ data: auditEntryData(actor, record) });
}

/**
 * Many records at once, for bulk changes such as an import of accounts: the
 * rows writeAudit stores, one INSERT per thousand (Prisma's createMany takes
 * seconds per thousand rows).
 */
export async function writeAudits(db: Db, actor: Actor, records: AuditRecord[]): Promise<void> {
  for (let start = 0; start < records.length; start += 1000) {
    const rows = records.slice(start, start + 1000).map((record) => auditEntryData(actor, record) as Record<string, unknown>);
    const columns = Object.keys(rows[0]!);
    const names = Prisma.join(columns.map((column) => Prisma.raw(`"${column}"`)));
    // Every column is text but changes (jsonb), which travels as text too.
    const arrays = columns.map((column) => Prisma.sql`${rows.map((row) => (column === "changes" ? JSON.stringify(row[column]) : (row[column] ?? null)))}::text[]`);
    const values = columns.map((column) => Prisma.raw(column === "changes" ? `r."changes"::jsonb` : `r."${column}"`));
    await db.$executeRaw`INSERT INTO "audit_entry" (${names}) SELECT ${Prisma.join(values)} FROM unnest(${Prisma.join(arrays)}) AS r(${names})`;
  }
}

export interface AuditQuery {
  domainId?: string | null;
  objectId?: string | null;
  action?: string | null;
  first?: number | null;
  after?: string | null;
}

export async function listAudit(db: PrismaClient, principal: Principal, query: AuditQuery) {
  const first = parsePageSize(query.first, 50);
  let domainId = query.domainId ? parseId(query.domainId, "domainId") : undefined;
  if (principal.kind === "account") {
    // A domain administrator reads its own domain's trail; naming another
    // domain answers as if it did not exist.
    domainId ??= principal.domainId;
  }
  if (domainId !== undefined || principal.kind !== "support") {
    authorize(principal, "audit.read", { domainId }, ["domain", domainId ?? ""]);
  }
  const afterKey = decodeCursor(query.after);
  const afterId = afterKey === undefined ? undefined : parseBigintId(afterKey, "after");
  const where: Prisma.AuditEntryWhereInput = {
    ...(domainId !== undefined ? { domainId } : {}),
    ...(query.objectId ? { objectId: parseId(query.objectId, "objectId") } : {}),
    ...(query.action ? { action: parseSearch(query.action, "action") } : {}),
  };
  const [rows, totalCount] = await Promise.all([
    db.auditEntry.findMany({
      where: afterId !== undefined ? { AND: [where, { id: { lt: afterId } }] } : where,
      orderBy: { id: "desc" },
      take: first + 1,
    }),
    db.auditEntry.count({ where }),
  ]);
  return toConnection(rows, first, totalCount, (node) => node.id.toString(), afterKey);
}
