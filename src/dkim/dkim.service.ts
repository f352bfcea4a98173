// DKIM keys of the hosted domains: made when a domain is created (or for an
// older domain on first need), published, rotated without a gap, and handed
// to the signer. A rotation goes
//   PUBLISHED_PENDING (new selector, in DNS, not signing)
//     -> confirm: the new key ACTIVE (signing), the old one RETIRING (still in DNS)
//     -> after DKIM_RETIRE_GRACE_HOURS the old one RETIRED (out of DNS)
// and can be cancelled while pending. Every change is audited without any key
// material: the audit names selectors and states only.
import type { DkimKey, Domain, Prisma } from "../generated/prisma/client";
import type { Caller, ServiceDeps } from "../service-deps";
import { authorize } from "../auth/policy";
import { writeAudit, type Actor, type AuditAction, type Db } from "../audit/audit.service";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors";
import { message, type Message } from "../i18n/messages";
import { parseId } from "../shared/validation";
import type { DkimProfileKey } from "../dns/dns.records";
import { dkimEncryptionKey, decryptPrivateKey, encryptPrivateKey, generateDkimKeyPair, publicValueOfPrivate, type DkimAlgorithm, type DkimKeyPair } from "./dkim.crypto";

export type DkimKeyState = DkimKey["state"];

const DAY_MS = 86_400_000;

/** A key's state at `now`: a retiring key whose grace period has ended counts as retired, whether or not the row says so yet. */
export function effectiveState(key: Pick<DkimKey, "state" | "retireAfter">, now: Date): DkimKeyState {
  if (key.state === "RETIRING" && key.retireAfter && key.retireAfter.getTime() <= now.getTime()) return "RETIRED";
  return key.state;
}

/** The algorithms a new domain's keys use: RSA always, Ed25519 alongside it when asked (RFC 8463 recommends both). */
export function algorithmsFor(ed25519: boolean): DkimAlgorithm[] {
  return ed25519 ? ["RSA_SHA256", "ED25519_SHA256"] : ["RSA_SHA256"];
}

/** Makes key pairs (slow for RSA: run before any transaction, as password hashing is). */
export function generateKeyPairs(deps: Pick<ServiceDeps, "config">, algorithms: DkimAlgorithm[]): Promise<DkimKeyPair[]> {
  return Promise.all(algorithms.map((algorithm) => generateDkimKeyPair(algorithm, deps.config.DKIM_RSA_KEY_BITS)));
}

function yyyymmdd(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, "");
}

/**
 * A selector for a new key: <DKIM_SELECTOR>-<yyyymmdd>, -ed for Ed25519, and a
 * number when the date's is taken (two rotations in a day). One DNS label:
 * dots of DKIM_SELECTOR become dashes.
 */
export function newSelector(prefix: string, algorithm: DkimAlgorithm, now: Date, taken: Set<string>): string {
  const base = `${prefix.toLowerCase().replace(/\./g, "-").slice(0, 40)}-${yyyymmdd(now)}${algorithm === "ED25519_SHA256" ? "-ed" : ""}`;
  for (let n = 1; ; n++) {
    const selector = n === 1 ? base : `${base}-${n}`;
    if (!taken.has(selector)) return selector;
  }
}

/** Stores new keys of a domain in the transaction: encrypted private halves, selectors not yet used by the domain. */
export async function storeKeys(
  tx: Db,
  deps: Pick<ServiceDeps, "config" | "now">,
  domainId: string,
  pairs: DkimKeyPair[],
  state: "ACTIVE" | "PUBLISHED_PENDING",
): Promise<DkimKey[]> {
  const encryptionKey = dkimEncryptionKey(deps.config);
  const now = deps.now();
  const taken = new Set((await tx.dkimKey.findMany({ where: { domainId }, select: { selector: true } })).map((key) => key.selector));
  const stored: DkimKey[] = [];
  for (const pair of pairs) {
    const selector = newSelector(deps.config.DKIM_SELECTOR, pair.algorithm, now, taken);
    taken.add(selector);
    stored.push(
      await tx.dkimKey.create({
        data: {
          domainId,
          selector,
          algorithm: pair.algorithm,
          state,
          publicKey: pair.publicKey,
          privateKeyEncrypted: encryptPrivateKey(encryptionKey, domainId, selector, pair.privateKeyPem),
          activatedAt: state === "ACTIVE" ? now : null,
        },
      }),
    );
  }
  return stored;
}

/** What an audit entry says of a key: never any key material. */
function keyLabel(key: Pick<DkimKey, "selector" | "algorithm">): string {
  return `${key.selector} (${key.algorithm === "RSA_SHA256" ? "rsa" : "ed25519"})`;
}

async function audit(tx: Db, actor: Actor, domain: Domain, action: AuditAction, changes: { field: string; before: unknown; after: unknown }[]): Promise<void> {
  await writeAudit(tx, actor, { action, objectType: "domain", objectId: domain.id, domainId: domain.id, domainName: domain.name, changes });
}

/** The domain's keys, newest first; retired ones only when asked. */
export async function dkimKeysOf(db: Db, domainId: string, now: Date, includeRetired = false): Promise<DkimKey[]> {
  const keys = await db.dkimKey.findMany({ where: { domainId }, orderBy: [{ createdAt: "desc" }, { selector: "desc" }] });
  return keys.map((key) => ({ ...key, state: effectiveState(key, now) })).filter((key) => includeRetired || key.state !== "RETIRED");
}

/** The keys of each domain as the DNS records and check use them (retired ones left out). */
export async function dkimProfileKeys(db: Db, domainIds: string[], now: Date): Promise<Map<string, DkimProfileKey[]>> {
  const byDomain = new Map<string, DkimProfileKey[]>();
  if (domainIds.length === 0) return byDomain;
  const keys = await db.dkimKey.findMany({
    where: { domainId: { in: domainIds }, state: { in: ["PUBLISHED_PENDING", "ACTIVE", "RETIRING"] } },
    orderBy: [{ createdAt: "asc" }, { selector: "asc" }],
    select: { domainId: true, selector: true, publicKey: true, state: true, retireAfter: true, activatedAt: true, createdAt: true },
  });
  for (const key of keys) {
    const state = effectiveState(key, now);
    if (state === "RETIRED") continue;
    const since = key.activatedAt ?? key.createdAt;
    const list = byDomain.get(key.domainId) ?? [];
    list.push({ selector: key.selector, publicKey: key.publicKey, state, ageDays: Math.floor((now.getTime() - since.getTime()) / DAY_MS) });
    byDomain.set(key.domainId, list);
  }
  return byDomain;
}

/** Marks retiring keys past their grace period RETIRED (all domains, or one). Returns how many. */
export async function retireDueKeys(db: Db, now: Date, domainId?: string): Promise<number> {
  const result = await db.dkimKey.updateMany({
    where: { state: "RETIRING", retireAfter: { lte: now }, ...(domainId ? { domainId } : {}) },
    data: { state: "RETIRED", retiredAt: now },
  });
  return result.count;
}

/** Locks the domain row (the rotation steps of one domain run one after the other) and reads it. */
async function lockedDomain(tx: Prisma.TransactionClient, domainId: string): Promise<Domain> {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "domain" WHERE "id" = ${domainId} FOR UPDATE`;
  const domain = locked.length > 0 ? await tx.domain.findUnique({ where: { id: domainId } }) : null;
  if (!domain) throw new NotFoundError("domain", `with id ${domainId}`);
  return domain;
}

/** Reads the domain and checks the caller may act on its keys, before any slow work. */
async function domainForAction(deps: Pick<ServiceDeps, "db">, caller: Caller, domainIdInput: string, policyAction: "dkim.manage" | "dkim.read"): Promise<Domain> {
  const domainId = parseId(domainIdInput, "domainId");
  const domain = await deps.db.domain.findUnique({ where: { id: domainId } });
  if (!domain) throw new NotFoundError("domain", `with id ${domainId}`);
  authorize(caller.principal, policyAction, { domainId }, ["domain", `with id ${domainId}`]);
  return domain;
}

export interface DkimKeysPayload {
  domain: Domain;
  keys: DkimKey[];
}

/**
 * Gives a domain signing keys it lacks (the back-fill of domains created
 * before mailadmin made keys, or an Ed25519 key alongside RSA). A domain
 * without any key gets ACTIVE ones at once (nothing was signed before);
 * an Ed25519 key added to a signing domain waits PUBLISHED_PENDING for the
 * customer's DNS and a confirmation, like a rotation.
 */
export async function ensureDkimKeys(deps: ServiceDeps, caller: Caller, domainIdInput: string, ed25519 = false): Promise<DkimKeysPayload> {
  const first = await domainForAction(deps, caller, domainIdInput, "dkim.manage");
  const wanted = algorithmsFor(ed25519 || deps.config.DKIM_ED25519);
  const missing = (keys: DkimKey[]) => wanted.filter((algorithm) => !keys.some((key) => key.algorithm === algorithm && key.state !== "RETIRED" && key.state !== "RETIRING"));
  const before = await dkimKeysOf(deps.db, first.id, deps.now());
  const pairs = await generateKeyPairs(deps, missing(before));
  return deps.db.$transaction(async (tx) => {
    const domain = await lockedDomain(tx, first.id);
    const current = await dkimKeysOf(tx, domain.id, deps.now());
    const toMake = pairs.filter((pair) => missing(current).includes(pair.algorithm));
    if (toMake.length > 0) {
      const signing = current.some((key) => key.state === "ACTIVE");
      const made = await storeKeys(tx, deps, domain.id, toMake, signing ? "PUBLISHED_PENDING" : "ACTIVE");
      await audit(
        tx,
        caller.actor,
        domain,
        "dkim.keys_create",
        made.map((key) => ({ field: "dkimKey", before: null, after: `${keyLabel(key)} ${key.state}` })),
      );
    }
    return { domain, keys: await dkimKeysOf(tx, domain.id, deps.now()) };
  });
}

/** Starts a rotation: a new key per signing algorithm, PUBLISHED_PENDING under a new selector, for the customer to publish. */
export async function startDkimRotation(deps: ServiceDeps, caller: Caller, domainIdInput: string): Promise<DkimKeysPayload> {
  const first = await domainForAction(deps, caller, domainIdInput, "dkim.manage");
  const refuseIfBusy = (keys: DkimKey[]) => {
    const pending = keys.filter((key) => key.state === "PUBLISHED_PENDING");
    if (pending.length > 0) {
      throw new ConflictError(message("dkim.rotation.busy", { domain: first.name, selectors: pending.map((key) => key.selector).join(", ") }), "domainId");
    }
    const active = keys.filter((key) => key.state === "ACTIVE");
    if (active.length === 0) throw new ConflictError(message("dkim.rotation.no_active_key", { domain: first.name }), "domainId");
    return active;
  };
  const active = refuseIfBusy(await dkimKeysOf(deps.db, first.id, deps.now()));
  const pairs = await generateKeyPairs(
    deps,
    active.map((key) => key.algorithm),
  );
  return deps.db.$transaction(async (tx) => {
    const domain = await lockedDomain(tx, first.id);
    await retireDueKeys(tx, deps.now(), domain.id);
    refuseIfBusy(await dkimKeysOf(tx, domain.id, deps.now()));
    const made = await storeKeys(tx, deps, domain.id, pairs, "PUBLISHED_PENDING");
    await audit(
      tx,
      caller.actor,
      domain,
      "dkim.rotation_start",
      made.map((key) => ({ field: "dkimKey", before: null, after: `${keyLabel(key)} PUBLISHED_PENDING` })),
    );
    return { domain, keys: await dkimKeysOf(tx, domain.id, deps.now()) };
  });
}

/**
 * What a confirmation needs to know of DNS: for each pending selector, whether
 * the DNS check found exactly the key on file (dkim.key PASS). Injected so the
 * service does not depend on the DNS module's wiring.
 */
export type PendingKeysPublished = (domain: Domain) => Promise<{ selector: string; published: boolean; found: string | null }[]>;

/**
 * Confirms a rotation: signing switches to the pending keys, and the keys they
 * replace retire after DKIM_RETIRE_GRACE_HOURS. Refused (CONFLICT) while the
 * DNS check does not see every pending key published, unless support forces it.
 */
export async function confirmDkimRotation(deps: ServiceDeps, caller: Caller, domainIdInput: string, force: boolean, published: PendingKeysPublished): Promise<DkimKeysPayload> {
  const first = await domainForAction(deps, caller, domainIdInput, "dkim.manage");
  if (force) {
    try {
      authorize(caller.principal, "dkim.force_confirm", { domainId: first.id }, ["domain", `with id ${first.id}`]);
    } catch (error) {
      if (error instanceof ForbiddenError) throw new ForbiddenError(error.localized ?? error.message, "force");
      throw error;
    }
  }
  const pendingOf = (keys: DkimKey[]) => {
    const pending = keys.filter((key) => key.state === "PUBLISHED_PENDING");
    if (pending.length === 0) throw new ConflictError(message("dkim.rotation.none_to_confirm", { domain: first.name }), "domainId");
    return pending;
  };
  pendingOf(await dkimKeysOf(deps.db, first.id, deps.now()));
  if (!force) {
    const seen = await published(first);
    const missing = seen.filter((entry) => !entry.published);
    if (missing.length > 0) {
      throw new ConflictError(
        message("dkim.rotation.not_published", {
          found: missing
            .map((entry): Message =>
              message("dkim.rotation.found", { record: `${entry.selector}._domainkey.${first.name}`, found: entry.found ?? message("dkim.rotation.found_nothing") }),
            )
            .reduce((list, entry) => message("dkim.rotation.found_list", { list, entry })),
        }),
        "domainId",
      );
    }
  }
  return deps.db.$transaction(async (tx) => {
    const domain = await lockedDomain(tx, first.id);
    const now = deps.now();
    const keys = await dkimKeysOf(tx, domain.id, now);
    const pending = pendingOf(keys);
    const retireAfter = new Date(now.getTime() + deps.config.DKIM_RETIRE_GRACE_HOURS * 3_600_000);
    const changes: { field: string; before: unknown; after: unknown }[] = [];
    for (const next of pending) {
      const previous = keys.find((key) => key.state === "ACTIVE" && key.algorithm === next.algorithm);
      if (previous) {
        await tx.dkimKey.update({ where: { id: previous.id }, data: { state: "RETIRING", retiringAt: now, retireAfter } });
        changes.push({ field: "dkimKey", before: `${keyLabel(previous)} ACTIVE`, after: `${keyLabel(previous)} RETIRING until ${retireAfter.toISOString()}` });
      }
      await tx.dkimKey.update({ where: { id: next.id }, data: { state: "ACTIVE", activatedAt: now } });
      changes.push({ field: "dkimKey", before: `${keyLabel(next)} PUBLISHED_PENDING`, after: `${keyLabel(next)} ACTIVE` });
    }
    if (force) changes.push({ field: "force", before: null, after: true });
    await audit(tx, caller.actor, domain, "dkim.rotation_confirm", changes);
    return { domain, keys: await dkimKeysOf(tx, domain.id, now) };
  });
}

/** Cancels a rotation under way: its pending keys are deleted, signing never used them. */
export async function cancelDkimRotation(deps: ServiceDeps, caller: Caller, domainIdInput: string): Promise<DkimKeysPayload> {
  const first = await domainForAction(deps, caller, domainIdInput, "dkim.manage");
  return deps.db.$transaction(async (tx) => {
    const domain = await lockedDomain(tx, first.id);
    const pending = (await dkimKeysOf(tx, domain.id, deps.now())).filter((key) => key.state === "PUBLISHED_PENDING");
    if (pending.length === 0) throw new ConflictError(message("dkim.rotation.none_to_cancel", { domain: domain.name }), "domainId");
    await tx.dkimKey.deleteMany({ where: { id: { in: pending.map((key) => key.id) } } });
    await audit(
      tx,
      caller.actor,
      domain,
      "dkim.rotation_cancel",
      pending.map((key) => ({ field: "dkimKey", before: `${keyLabel(key)} PUBLISHED_PENDING`, after: null })),
    );
    return { domain, keys: await dkimKeysOf(tx, domain.id, deps.now()) };
  });
}

/** Domain.dkimKeys: support staff and the domain's administrator. */
export async function readDkimKeys(deps: ServiceDeps, caller: Caller, domain: Domain, includeRetired: boolean): Promise<DkimKey[]> {
  authorize(caller.principal, "dkim.read", { domainId: domain.id }, ["domain", `named ${domain.name}`]);
  return dkimKeysOf(deps.db, domain.id, deps.now(), includeRetired);
}

/** One signing key as the signer needs it: the plaintext private key, in memory only. */
export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKeyPem: string;
}

/**
 * The signing keys of every active domain (ACTIVE keys only), decrypted, for
 * the signer's files. A key whose decryption fails, or whose private half does
 * not match its public key on file, is an error naming the domain and selector.
 */
export async function signingKeys(deps: Pick<ServiceDeps, "db" | "config" | "now">): Promise<SigningKey[]> {
  const encryptionKey = dkimEncryptionKey(deps.config);
  await retireDueKeys(deps.db, deps.now());
  const rows = await deps.db.dkimKey.findMany({
    where: { state: "ACTIVE", domain: { status: "ACTIVE" } },
    include: { domain: { select: { name: true } } },
    orderBy: [{ domain: { name: "asc" } }, { algorithm: "asc" }],
  });
  return rows.map((row) => {
    const privateKeyPem = decryptPrivateKey(encryptionKey, row.domainId, row.selector, row.privateKeyEncrypted);
    if (publicValueOfPrivate(privateKeyPem) !== row.publicKey)
      throw new Error(`the private key of ${row.selector}._domainkey.${row.domain.name} does not match its public key on file`);
    return { domain: row.domain.name, selector: row.selector, algorithm: row.algorithm, privateKeyPem };
  });
}

/** Domains with no key of mailadmin's and no hand-typed key: the back-fill's work list. */
export async function domainsWithoutKeys(db: Db): Promise<Domain[]> {
  return db.domain.findMany({ where: { dkimKeys: { none: {} }, dkimPublicKey: null }, orderBy: { name: "asc" } });
}

/** The system's own actor, for the back-fill the signer's export runs. */
export const SYSTEM_ACTOR: Actor = { role: "SYSTEM", id: null, name: "mailadmin (DKIM back-fill)" };

/**
 * Gives every domain without keys (and without a hand-typed key, whose signer
 * is elsewhere) its ACTIVE keys: the back-fill of domains created before
 * mailadmin made keys. Audited per domain. Returns the domains' names.
 */
export async function backfillDkimKeys(deps: Pick<ServiceDeps, "db" | "config" | "now">, actor: Actor = SYSTEM_ACTOR): Promise<string[]> {
  const done: string[] = [];
  for (const candidate of await domainsWithoutKeys(deps.db)) {
    const pairs = await generateKeyPairs(deps, algorithmsFor(deps.config.DKIM_ED25519));
    const made = await deps.db.$transaction(async (tx) => {
      const domain = await lockedDomain(tx, candidate.id).catch(() => null);
      if (!domain || domain.dkimPublicKey !== null || (await tx.dkimKey.count({ where: { domainId: domain.id } })) > 0) return false;
      const keys = await storeKeys(tx, deps, domain.id, pairs, "ACTIVE");
      await audit(
        tx,
        actor,
        domain,
        "dkim.keys_create",
        keys.map((key) => ({ field: "dkimKey", before: null, after: `${keyLabel(key)} ACTIVE` })),
      );
      return true;
    });
    if (made) done.push(candidate.name);
  }
  return done;
}
