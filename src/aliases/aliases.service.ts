// Aliases, forwarding, catch-all and alias domains: where mail to an address
// goes besides (or instead of) a mailbox. The rules: an alias never shadows a
// mailbox (a trigger holds it when requests race), destinations exist when
// they are hosted here, external ones only where the domain allows them, no
// chain of aliases and forwardings leads back to where it started, and each
// domain's limits hold. Postfix reads the result through the read contract
// (mailserver_v1.virtual_aliases and friends, docs/aliases.md).
import type { Alias, Domain, Prisma } from "../generated/prisma/client";
import type { Caller, ServiceDeps, Warning } from "../service-deps";
import type { Principal } from "../auth/principal";
import { authorize } from "../auth/policy";
import { writeAudit } from "../audit/audit.service";
import { BadInputError, ConflictError, NotFoundError, QuotaExceededError } from "../errors";
import { message } from "../i18n/messages";
import { isUniqueViolation } from "../shared/db-errors";
import { toConnection } from "../shared/connection";
import { lockDomain } from "../domains/domains.service";
import { decodeCursor, idOrAddress, likeEscaped, parseAddress, parseDomainName, parseId, parseLocalPart, parsePageSize, parseSearch } from "../shared/validation";

type Tx = Prisma.TransactionClient;

/** How far a chain of aliases and forwardings is followed looking for a loop (Postfix's own recursion limit is 1000). */
const MAX_CHAIN_ADDRESSES = 1000;

/** Serializes changes of the alias graph (aliases, forwarding, catch-all), so that two concurrent changes cannot close a loop between them. */
export async function lockAliasGraph(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('mailadmin.alias-graph'))`;
}

function describeAlias(reference: { id?: string | null; address?: string | null }): [string, string] {
  return ["alias", reference.address ? `with address ${reference.address}` : `with id ${reference.id ?? ""}`];
}

/** The hosted domain (or alias domain, resolved to its domain) of a domain name, if any. */
async function hostedDomainOf(tx: Tx, name: string): Promise<{ domain: Domain; viaAliasDomain: boolean } | null> {
  const domain = await tx.domain.findUnique({ where: { name } });
  if (domain) return { domain, viaAliasDomain: false };
  const alias = await tx.aliasDomain.findUnique({ where: { name }, include: { domain: true } });
  return alias ? { domain: alias.domain, viaAliasDomain: true } : null;
}

/** Whether a hosted address receives mail: a mailbox, a forwarding account, or an alias. */
async function receivesMail(tx: Tx, address: string): Promise<boolean> {
  const account = await tx.account.findUnique({ where: { address }, select: { quotaMb: true, forwardTo: true } });
  if (account) return account.quotaMb > 0 || account.forwardTo.length > 0;
  return (await tx.alias.count({ where: { address } })) > 0;
}

/**
 * Checks and normalises a list of destinations for `owner` (the domain whose
 * alias, forwarding or catch-all it is): each an e-mail address, in lower
 * case, once; hosted ones must exist; external ones only where allowed.
 */
async function parseDestinations(tx: Tx, owner: Domain, raw: readonly string[], field: string, options: { allowEmpty: boolean }): Promise<string[]> {
  if (!Array.isArray(raw)) throw new BadInputError(field, message("alias.destinations_list", { field }));
  if (raw.length === 0 && !options.allowEmpty) throw new BadInputError(field, message("alias.destinations_empty"));
  const destinations = [...new Set((raw as readonly string[]).map((entry) => parseAddress(entry, field).address))];
  if (destinations.length > owner.maxDestinations) {
    throw new QuotaExceededError(field, message("alias.too_many_destinations", { domain: owner.name, max: owner.maxDestinations, count: destinations.length }));
  }
  for (const destination of destinations) {
    const domainName = destination.slice(destination.lastIndexOf("@") + 1);
    const hosted = await hostedDomainOf(tx, domainName);
    if (hosted) {
      const target = hosted.viaAliasDomain ? `${destination.slice(0, destination.lastIndexOf("@"))}@${hosted.domain.name}` : destination;
      if (!(await receivesMail(tx, target))) {
        throw new BadInputError(field, message("alias.destination_unknown_local", { destination }));
      }
    } else if (!owner.allowExternalForwarding) {
      throw new BadInputError(field, message("alias.destination_external", { destination, domain: owner.name }));
    }
  }
  return destinations;
}

/** Where mail to one hosted address goes next: an alias's destinations, an account's forwarding, an alias domain's target address. */
async function nextHops(tx: Tx, address: string): Promise<string[]> {
  const alias = await tx.alias.findUnique({ where: { address }, select: { destinations: true } });
  if (alias) return alias.destinations;
  const account = await tx.account.findUnique({ where: { address }, select: { forwardTo: true } });
  if (account) return account.forwardTo;
  const at = address.lastIndexOf("@");
  const aliasDomain = await tx.aliasDomain.findUnique({ where: { name: address.slice(at + 1) }, include: { domain: { select: { name: true } } } });
  return aliasDomain ? [`${address.slice(0, at)}@${aliasDomain.domain.name}`] : [];
}

/**
 * The chain start -> ... -> start, if mail sent to `start` with these
 * destinations would come back to it through other aliases and forwardings.
 * A mailbox keeping a copy of its own mail is not a loop.
 */
async function loopThrough(tx: Tx, start: string, destinations: string[]): Promise<string[] | null> {
  const seen = new Set<string>([start]);
  const stack: string[][] = destinations.filter((destination) => destination !== start).map((destination) => [start, destination]);
  while (stack.length > 0) {
    const chain = stack.pop()!;
    const address = chain[chain.length - 1]!;
    if (address === start) return chain;
    if (seen.has(address)) continue;
    seen.add(address);
    if (seen.size > MAX_CHAIN_ADDRESSES) return [...chain, "…"];
    for (const next of await nextHops(tx, address)) {
      if (next === address) continue;
      stack.push([...chain, next]);
    }
  }
  return null;
}

async function refuseLoop(tx: Tx, start: string, destinations: string[], field: string): Promise<void> {
  const chain = await loopThrough(tx, start, destinations);
  if (chain) throw new BadInputError(field, message("alias.loop", { chain: chain.join(" → ") }));
}

// ---------------------------------------------------------------------------
// Aliases

export async function findAlias(deps: Pick<ServiceDeps, "db">, principal: Principal, reference: { id?: string | null; address?: string | null }): Promise<Alias> {
  const where = idOrAddress(reference, message("alias.reference_both"));
  const alias = await deps.db.alias.findUnique({ where });
  if (!alias) throw new NotFoundError(...describeAlias(reference));
  authorize(principal, "alias.read", { domainId: alias.domainId }, describeAlias(reference));
  return alias;
}

export interface AliasListQuery {
  search?: string | null;
  first?: number | null;
  after?: string | null;
}

export async function listAliases(deps: Pick<ServiceDeps, "db">, principal: Principal, domainId: string, input: AliasListQuery) {
  authorize(principal, "alias.read", { domainId }, ["domain", `with id ${domainId}`]);
  const first = parsePageSize(input.first, 20);
  const search = parseSearch(input.search);
  const after = decodeCursor(input.after);
  const where: Prisma.AliasWhereInput = {
    domainId,
    ...(search ? { OR: [{ address: { contains: likeEscaped(search.toLowerCase()) } }, { destinations: { has: search.toLowerCase() } }] } : {}),
  };
  const [rows, totalCount] = await Promise.all([
    deps.db.alias.findMany({ where: after !== undefined ? { AND: [where, { address: { gt: after } }] } : where, orderBy: { address: "asc" }, take: first + 1 }),
    deps.db.alias.count({ where }),
  ]);
  return toConnection(rows, first, totalCount, (node) => node.address);
}

export interface CreateAliasInput {
  domainId: string;
  localPart: string;
  destinations: string[];
}

export async function createAlias(deps: ServiceDeps, caller: Caller, input: CreateAliasInput) {
  const domainId = parseId(input.domainId, "domainId");
  const localPart = parseLocalPart(input.localPart);
  const visible = await deps.db.domain.findUnique({ where: { id: domainId }, select: { id: true } });
  if (!visible) throw new NotFoundError("domain", `with id ${domainId}`);
  authorize(caller.principal, "alias.manage", { domainId }, ["domain", `with id ${domainId}`]);
  try {
    return await deps.db.$transaction(async (tx) => ({ alias: await insertAlias(tx, caller, domainId, localPart, input.destinations), warnings: [] as Warning[] }));
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(message("alias.exists_local_part", { localPart }), "localPart");
    throw error;
  }
}

/**
 * Creates an alias inside the caller's transaction, with every rule of
 * createAlias (no shadowing, destinations that exist, the domain's limits, no
 * loop), and audits it. The caller has authorized the domain. Also used by
 * the bulk import's alias rows, in the import's own transaction.
 */
export async function insertAlias(tx: Tx, caller: Caller, domainId: string, localPart: string, rawDestinations: readonly string[]): Promise<Alias> {
  await lockAliasGraph(tx);
  const domain = await lockDomain(tx, domainId);
  if (!domain) throw new NotFoundError("domain", `with id ${domainId}`);
  const address = `${localPart}@${domain.name}`;
  if (await tx.account.count({ where: { address } })) {
    throw new ConflictError(message("alias.address_is_mailbox", { address }), "localPart");
  }
  if (await tx.alias.count({ where: { address } })) throw new ConflictError(message("alias.exists", { address }), "localPart");
  if (domain.maxAliases !== null && (await tx.alias.count({ where: { domainId } })) >= domain.maxAliases) {
    throw new QuotaExceededError("domainId", message("alias.max_aliases_reached", { domain: domain.name, maxAliases: domain.maxAliases }));
  }
  const destinations = await parseDestinations(tx, domain, rawDestinations, "destinations", { allowEmpty: false });
  await refuseLoop(tx, address, destinations, "destinations");
  const alias = await tx.alias.create({ data: { domainId, localPart, address, destinations } });
  await writeAudit(tx, caller.actor, {
    action: "alias.create",
    objectType: "alias",
    objectId: alias.id,
    domainId,
    domainName: domain.name,
    changes: [
      { field: "address", before: null, after: address },
      { field: "destinations", before: null, after: destinations.join(", ") },
    ],
  });
  return alias;
}

async function lockedAliasFor(tx: Tx, principal: Principal, id: string) {
  const existing = await tx.alias.findUnique({ where: { id }, select: { domainId: true } });
  if (!existing) throw new NotFoundError("alias", `with id ${id}`);
  const domain = await lockDomain(tx, existing.domainId);
  const alias = await tx.alias.findUnique({ where: { id } });
  if (!domain || !alias) throw new NotFoundError("alias", `with id ${id}`);
  authorize(principal, "alias.manage", { domainId: alias.domainId }, ["alias", `with id ${id}`]);
  return { domain, alias };
}

export async function updateAlias(deps: ServiceDeps, caller: Caller, id: string, input: { destinations?: string[] | null }) {
  const aliasId = parseId(id);
  if (input.destinations == null) throw new BadInputError("destinations", message("alias.destinations_missing"));
  return deps.db.$transaction(async (tx) => {
    await lockAliasGraph(tx);
    const { domain, alias: before } = await lockedAliasFor(tx, caller.principal, aliasId);
    const destinations = await parseDestinations(tx, domain, input.destinations!, "destinations", { allowEmpty: false });
    await refuseLoop(tx, before.address, destinations, "destinations");
    const same = destinations.length === before.destinations.length && destinations.every((destination, index) => destination === before.destinations[index]);
    if (same) return { alias: before, warnings: [] as Warning[] };
    const alias = await tx.alias.update({ where: { id: aliasId }, data: { destinations } });
    await writeAudit(tx, caller.actor, {
      action: "alias.update",
      objectType: "alias",
      objectId: aliasId,
      domainId: domain.id,
      domainName: domain.name,
      changes: [{ field: "destinations", before: before.destinations.join(", "), after: destinations.join(", ") }],
    });
    return { alias, warnings: [] as Warning[] };
  });
}

export async function deleteAlias(deps: ServiceDeps, caller: Caller, id: string) {
  const aliasId = parseId(id);
  return deps.db.$transaction(async (tx) => {
    await lockAliasGraph(tx);
    const { domain, alias } = await lockedAliasFor(tx, caller.principal, aliasId);
    const warnings = await detachAddress(tx, caller, alias.address);
    await tx.alias.delete({ where: { id: aliasId } });
    await writeAudit(tx, caller.actor, {
      action: "alias.delete",
      objectType: "alias",
      objectId: aliasId,
      domainId: domain.id,
      domainName: domain.name,
      changes: [
        { field: "address", before: alias.address, after: null },
        { field: "destinations", before: alias.destinations.join(", "), after: null },
      ],
    });
    return { deletedAliasId: aliasId, address: alias.address, warnings };
  });
}

/**
 * An address is going away (a mailbox or an alias is deleted): the aliases,
 * forwardings and catch-alls that send mail to it stop doing so, each change
 * audited and named in a warning. An alias left without destinations is
 * deleted. Runs inside the caller's transaction, after lockAliasGraph.
 */
export async function detachAddress(tx: Tx, caller: Caller, address: string): Promise<Warning[]> {
  const warnings: Warning[] = [];
  for (const alias of await tx.alias.findMany({ where: { destinations: { has: address } }, include: { domain: true } })) {
    const remaining = alias.destinations.filter((destination) => destination !== address);
    if (remaining.length === 0) {
      await tx.alias.delete({ where: { id: alias.id } });
      warnings.push({ code: "ALIAS_DELETED", field: "id", message: message("alias.warning.alias_deleted", { alias: alias.address, address }) });
    } else {
      await tx.alias.update({ where: { id: alias.id }, data: { destinations: remaining } });
      warnings.push({
        code: "ALIAS_DESTINATION_REMOVED",
        field: "id",
        message: message("alias.warning.destination_removed", { alias: alias.address, address, remaining: remaining.join(", ") }),
      });
    }
    await writeAudit(tx, caller.actor, {
      action: remaining.length === 0 ? "alias.delete" : "alias.update",
      objectType: "alias",
      objectId: alias.id,
      domainId: alias.domainId,
      domainName: alias.domain.name,
      changes: [{ field: "destinations", before: alias.destinations.join(", "), after: remaining.length === 0 ? null : remaining.join(", ") }],
    });
  }
  for (const account of await tx.account.findMany({ where: { forwardTo: { has: address } }, include: { domain: true } })) {
    const remaining = account.forwardTo.filter((destination) => destination !== address);
    // Without a destination left, forwarding ends and the mail stays in the mailbox.
    await tx.account.update({ where: { id: account.id }, data: { forwardTo: remaining, ...(remaining.length === 0 ? { forwardKeepCopy: true } : {}) } });
    warnings.push({
      code: "FORWARDING_DESTINATION_REMOVED",
      field: "id",
      message: message(remaining.length === 0 ? "alias.warning.forwarding_ended" : "alias.warning.forwarding_removed", { account: account.address, address }),
    });
    await writeAudit(tx, caller.actor, {
      action: "account.set_forwarding",
      objectType: "account",
      objectId: account.id,
      domainId: account.domainId,
      domainName: account.domain.name,
      changes: [{ field: "forwardTo", before: account.forwardTo.join(", "), after: remaining.join(", ") }],
    });
  }
  for (const domain of await tx.domain.findMany({ where: { catchAll: address } })) {
    await tx.domain.update({ where: { id: domain.id }, data: { catchAll: null } });
    warnings.push({ code: "CATCH_ALL_OFF", field: "id", message: message("alias.warning.catch_all_off", { domain: domain.name, address }) });
    await writeAudit(tx, caller.actor, {
      action: "domain.set_catch_all",
      objectType: "domain",
      objectId: domain.id,
      domainId: domain.id,
      domainName: domain.name,
      changes: [{ field: "catchAll", before: address, after: null }],
    });
  }
  return warnings;
}

// ---------------------------------------------------------------------------
// Forwarding, catch-all, alias domains

export async function setForwarding(deps: ServiceDeps, caller: Caller, accountId: string, destinations: string[], keepCopy: boolean | null | undefined) {
  const id = parseId(accountId, "accountId");
  return deps.db.$transaction(async (tx) => {
    await lockAliasGraph(tx);
    const existing = await tx.account.findUnique({ where: { id }, select: { domainId: true } });
    if (!existing) throw new NotFoundError("account", `with id ${id}`);
    const domain = await lockDomain(tx, existing.domainId);
    const before = await tx.account.findUnique({ where: { id } });
    if (!domain || !before) throw new NotFoundError("account", `with id ${id}`);
    authorize(caller.principal, "account.set_forwarding", { domainId: domain.id, accountId: id }, ["account", `with id ${id}`]);
    const forwardTo = (await parseDestinations(tx, domain, destinations, "destinations", { allowEmpty: true })).filter((destination) => destination !== before.address);
    const forwardKeepCopy = keepCopy ?? true;
    await refuseLoop(tx, before.address, forwardTo, "destinations");
    const account = await tx.account.update({ where: { id }, data: { forwardTo, forwardKeepCopy: forwardTo.length === 0 ? true : forwardKeepCopy } });
    const changes = [
      ...(before.forwardTo.join(", ") !== forwardTo.join(", ") ? [{ field: "forwardTo", before: before.forwardTo.join(", "), after: forwardTo.join(", ") }] : []),
      ...(before.forwardKeepCopy !== account.forwardKeepCopy ? [{ field: "forwardKeepCopy", before: String(before.forwardKeepCopy), after: String(account.forwardKeepCopy) }] : []),
    ];
    if (changes.length > 0) {
      await writeAudit(tx, caller.actor, { action: "account.set_forwarding", objectType: "account", objectId: id, domainId: domain.id, domainName: domain.name, changes });
    }
    const warnings: Warning[] =
      forwardTo.length > 0 && !account.forwardKeepCopy && account.quotaMb > 0
        ? [{ code: "NO_COPY_KEPT", field: "keepCopy", message: message("alias.warning.no_copy_kept", { address: account.address }) }]
        : [];
    return { account, warnings };
  });
}

export async function setCatchAll(deps: ServiceDeps, caller: Caller, domainId: string, destination: string | null | undefined) {
  const id = parseId(domainId, "domainId");
  return deps.db.$transaction(async (tx) => {
    await lockAliasGraph(tx);
    const before = await lockDomain(tx, id);
    if (!before) throw new NotFoundError("domain", `with id ${id}`);
    authorize(caller.principal, "domain.set_catch_all", { domainId: id }, ["domain", `with id ${id}`]);
    const catchAll = destination == null ? null : (await parseDestinations(tx, before, [destination], "destination", { allowEmpty: false }))[0]!;
    const domain = catchAll === before.catchAll ? before : await tx.domain.update({ where: { id }, data: { catchAll } });
    if (catchAll !== before.catchAll) {
      await writeAudit(tx, caller.actor, {
        action: "domain.set_catch_all",
        objectType: "domain",
        objectId: id,
        domainId: id,
        domainName: before.name,
        changes: [{ field: "catchAll", before: before.catchAll, after: catchAll }],
      });
    }
    return { domain, warnings: [] as Warning[] };
  });
}

export async function addAliasDomain(deps: ServiceDeps, caller: Caller, domainId: string, rawName: string) {
  const id = parseId(domainId, "domainId");
  const { name } = parseDomainName(rawName, "name");
  const visible = await deps.db.domain.findUnique({ where: { id }, select: { id: true } });
  if (!visible) throw new NotFoundError("domain", `with id ${id}`);
  authorize(caller.principal, "domain.manage_alias_domains", { domainId: id }, ["domain", `with id ${id}`]);
  try {
    return await deps.db.$transaction(async (tx) => {
      const domain = await lockDomain(tx, id);
      if (!domain) throw new NotFoundError("domain", `with id ${id}`);
      if (await tx.domain.count({ where: { name } })) throw new ConflictError(message("alias_domain.is_domain", { name }), "name");
      const existing = await tx.aliasDomain.findUnique({ where: { name }, include: { domain: true } });
      if (existing) throw new ConflictError(message("alias_domain.exists", { name, domain: existing.domain.name }), "name");
      await tx.aliasDomain.create({ data: { name, domainId: id } });
      await writeAudit(tx, caller.actor, {
        action: "domain.add_alias_domain",
        objectType: "domain",
        objectId: id,
        domainId: id,
        domainName: domain.name,
        changes: [{ field: "aliasDomains", before: null, after: name }],
      });
      return { domain, warnings: [] as Warning[] };
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new ConflictError(message("alias_domain.taken", { name }), "name");
    throw error;
  }
}

export async function removeAliasDomain(deps: ServiceDeps, caller: Caller, rawName: string) {
  const { name } = parseDomainName(rawName, "name");
  return deps.db.$transaction(async (tx) => {
    await lockAliasGraph(tx);
    const aliasDomain = await tx.aliasDomain.findUnique({ where: { name } });
    if (!aliasDomain) throw new NotFoundError("alias domain", name);
    authorize(caller.principal, "domain.manage_alias_domains", { domainId: aliasDomain.domainId }, ["alias domain", name]);
    const domain = await lockDomain(tx, aliasDomain.domainId);
    if (!domain) throw new NotFoundError("alias domain", name);
    // Addresses of the alias domain named as destinations stop existing: those aliases, forwardings and catch-alls let go of them.
    const named = await tx.$queryRaw<{ address: string }[]>`
      SELECT DISTINCT destination AS address FROM (
        SELECT unnest("destinations") AS destination FROM "alias"
        UNION ALL SELECT unnest("forwardTo") FROM "account"
        UNION ALL SELECT "catchAll" FROM "domain" WHERE "catchAll" IS NOT NULL
      ) used WHERE destination LIKE ${`%@${likeEscaped(name)}`}`;
    const warnings: Warning[] = [];
    for (const { address } of named) warnings.push(...(await detachAddress(tx, caller, address)));
    await tx.aliasDomain.delete({ where: { name } });
    await writeAudit(tx, caller.actor, {
      action: "domain.remove_alias_domain",
      objectType: "domain",
      objectId: domain.id,
      domainId: domain.id,
      domainName: domain.name,
      changes: [{ field: "aliasDomains", before: name, after: null }],
    });
    return { domain, warnings };
  });
}

export async function aliasDomainsOf(db: ServiceDeps["db"], domainId: string) {
  return db.aliasDomain.findMany({ where: { domainId }, orderBy: { name: "asc" } });
}

// ---------------------------------------------------------------------------
// Out-of-office replies

export interface AutoReplyInput {
  subject: string;
  body: string;
  startsAt?: Date | null;
  endsAt?: Date | null;
  daysBetweenReplies?: number | null;
}

/**
 * Sets (or, with null, removes) an account's out-of-office reply. The mail
 * server answers with it (Sieve vacation): each sender at most once per
 * daysBetweenReplies, never mailing lists, bulk or automatic mail (RFC 3834).
 */
export async function setAutoReply(deps: ServiceDeps, caller: Caller, accountId: string, input: AutoReplyInput | null | undefined) {
  const id = parseId(accountId, "accountId");
  let wanted: { subject: string; body: string; startsAt: Date | null; endsAt: Date | null; daysBetweenReplies: number } | null = null;
  if (input) {
    const subject = input.subject.trim();
    if (subject === "" || subject.length > 200 || /[\r\n\u0000]/.test(subject)) {
      throw new BadInputError("input.subject", message("alias.auto_reply.subject"));
    }
    const body = input.body.replace(/\r\n?/g, "\n");
    if (body.trim() === "" || body.length > 10_000 || body.includes("\u0000")) throw new BadInputError("input.body", message("alias.auto_reply.body"));
    const startsAt = input.startsAt ?? null;
    const endsAt = input.endsAt ?? null;
    if (startsAt && endsAt && endsAt <= startsAt) throw new BadInputError("input.endsAt", message("alias.auto_reply.ends_before_start"));
    const days = input.daysBetweenReplies ?? 7;
    if (!Number.isInteger(days) || days < 1 || days > 30) throw new BadInputError("input.daysBetweenReplies", message("alias.auto_reply.days_between_replies"));
    wanted = { subject, body, startsAt, endsAt, daysBetweenReplies: days };
  }
  return deps.db.$transaction(async (tx) => {
    const existing = await tx.account.findUnique({ where: { id }, select: { domainId: true } });
    if (!existing) throw new NotFoundError("account", `with id ${id}`);
    const domain = await lockDomain(tx, existing.domainId);
    const account = await tx.account.findUnique({ where: { id }, include: { autoReply: true } });
    if (!domain || !account) throw new NotFoundError("account", `with id ${id}`);
    authorize(caller.principal, "account.set_auto_reply", { domainId: domain.id, accountId: id }, ["account", `with id ${id}`]);
    const before = account.autoReply;
    const describe = (reply: typeof wanted) =>
      reply === null
        ? null
        : `${reply.subject} (${reply.startsAt?.toISOString() ?? "now"} to ${reply.endsAt?.toISOString() ?? "until turned off"}, every ${reply.daysBetweenReplies} days)`;
    if (wanted) await tx.autoReply.upsert({ where: { accountId: id }, create: { accountId: id, ...wanted }, update: wanted });
    else if (before) await tx.autoReply.delete({ where: { accountId: id } });
    const [beforeText, afterText] = [describe(before), describe(wanted)];
    if (beforeText !== afterText || before?.body !== wanted?.body) {
      await writeAudit(tx, caller.actor, {
        action: "account.set_auto_reply",
        objectType: "account",
        objectId: id,
        domainId: domain.id,
        domainName: domain.name,
        changes: [{ field: "autoReply", before: beforeText, after: afterText }],
      });
    }
    const warnings: Warning[] =
      wanted && account.quotaMb === 0 && account.forwardTo.length === 0
        ? [{ code: "NO_MAILBOX", field: "accountId", message: message("alias.warning.no_mailbox", { address: account.address }) }]
        : [];
    return { account: await tx.account.findUniqueOrThrow({ where: { id } }), warnings };
  });
}

export async function autoReplyOf(db: ServiceDeps["db"], accountId: string) {
  return db.autoReply.findUnique({ where: { accountId } });
}
