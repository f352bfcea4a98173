// The database checks after every chaos step: the rules the stored data must
// obey whatever the model says (invariants), and the audit records and stored
// state against the model's. Each returns what it found wrong, in words.
import type { PrismaClient } from "../../../src/generated/prisma/client";
import type { ChaosModel, ExpectedAudit } from "./model";

/**
 * Every domain of the run has exactly one administrator, an account of its own;
 * no mailbox quota above the domain quota, their sum and the default within
 * it; no more accounts than maxAccounts.
 */
export async function invariantProblems(db: PrismaClient, model: ChaosModel): Promise<string[]> {
  const pattern = `%${model.domainSuffix}`;
  const withoutAdmin = await db.$queryRaw<{ name: string; problem: string }[]>`
    SELECT d."name", CASE WHEN da."domainId" IS NULL THEN 'no administrator'
                          WHEN a."id" IS NULL THEN 'administrator account missing'
                          ELSE 'administrator of another domain' END AS problem
    FROM "domain" d
    LEFT JOIN "domain_admin" da ON da."domainId" = d."id"
    LEFT JOIN "account" a ON a."id" = da."accountId"
    WHERE d."name" LIKE ${pattern} AND (da."domainId" IS NULL OR a."id" IS NULL OR a."domainId" <> d."id")`;
  const overLimit = await db.$queryRaw<{ name: string; quotaMb: number | null; maxAccounts: number | null; defaultMb: number; count: bigint; total: bigint; largest: number }[]>`
    SELECT d."name", d."quotaMb", d."maxAccounts", d."defaultMailboxQuotaMb" AS "defaultMb",
           COUNT(a."id") AS count, COALESCE(SUM(a."quotaMb"), 0) AS total, COALESCE(MAX(a."quotaMb"), 0) AS largest
    FROM "domain" d LEFT JOIN "account" a ON a."domainId" = d."id"
    WHERE d."name" LIKE ${pattern}
    GROUP BY d."id"
    HAVING (d."quotaMb" IS NOT NULL AND (COALESCE(SUM(a."quotaMb"), 0) > d."quotaMb" OR COALESCE(MAX(a."quotaMb"), 0) > d."quotaMb" OR d."defaultMailboxQuotaMb" > d."quotaMb"))
        OR (d."maxAccounts" IS NOT NULL AND COUNT(a."id") > d."maxAccounts")`;
  return [
    ...withoutAdmin.map((row) => `${row.name}: ${row.problem}`),
    ...overLimit.map(
      (row) =>
        `${row.name}: quota ${row.quotaMb} MiB, maxAccounts ${row.maxAccounts}, default ${row.defaultMb} MiB; holds ${row.count} accounts, ${row.total} MiB of quotas, largest ${row.largest} MiB`,
    ),
  ];
}

/** The audit records written since `watermark` against the ones expected: what differs, and the new watermark. */
export async function auditDifference(
  db: PrismaClient,
  watermark: bigint,
  expectedAudits: ExpectedAudit[],
): Promise<{ problem: string | null; checked: number; watermark: bigint }> {
  const rows = await db.auditEntry.findMany({ where: { id: { gt: watermark } }, orderBy: { id: "asc" }, select: { id: true, action: true, actorId: true, objectId: true } });
  const key = (audit: ExpectedAudit) => `${audit.action} by ${audit.actorId ?? "-"} on ${audit.objectId ?? "-"}`;
  const actual = rows.map(key).sort();
  const expected = expectedAudits.map(key).sort();
  return {
    problem: actual.join("\n") === expected.join("\n") ? null : `audit records written: [${actual.join("; ")}], expected: [${expected.join("; ")}]`,
    checked: rows.length,
    watermark: rows.length > 0 ? rows[rows.length - 1]!.id : watermark,
  };
}

/** Field by field, the stored rows against the model's; the labels say which row. */
function compareRows<Stored, Modelled>(
  what: string,
  stored: Stored[],
  model: Map<string, Modelled>,
  id: (row: Stored) => string,
  label: (row: Stored) => string,
  fields: (row: Stored, modelled: Modelled) => [unknown[], unknown[]],
): string[] {
  const differences = stored.length === model.size ? [] : [`${stored.length} ${what}s stored, model has ${model.size}`];
  for (const row of stored) {
    const modelled = model.get(id(row));
    if (!modelled) {
      differences.push(`${what} ${label(row)} stored but not in the model`);
      continue;
    }
    const [actual, expected] = fields(row, modelled);
    if (JSON.stringify(actual) !== JSON.stringify(expected)) differences.push(`${what} ${label(row)}: stored ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`);
  }
  return differences;
}

/** The stored domains, accounts and token versions are exactly the model's: a refused request changed nothing, an accepted one what it should. */
export async function stateDifferences(db: PrismaClient, model: ChaosModel): Promise<string[]> {
  const domains = await db.domain.findMany({ where: { name: { endsWith: model.domainSuffix } }, include: { admin: true } });
  const accounts = await db.account.findMany({ where: { domainId: { in: domains.map((domain) => domain.id) } } });
  const supports = await db.supportAdmin.findMany({ where: { id: { in: [...model.supports.keys()] } }, select: { id: true, username: true, tokenVersion: true } });
  return [
    ...compareRows(
      "domain",
      domains,
      model.domains,
      (row) => row.id,
      (row) => row.name,
      (row, m) => [
        [row.status, row.isTestDomain, row.quotaMb, row.maxAccounts, row.defaultMailboxQuotaMb, row.admin?.accountId ?? null],
        [m.status, m.isTestDomain, m.quotaMb, m.maxAccounts, m.defaultMailboxQuotaMb, m.adminId],
      ],
    ),
    ...compareRows(
      "account",
      accounts,
      model.accounts,
      (row) => row.id,
      (row) => row.address,
      (row, m) => [
        [row.domainId, row.address, row.displayName, row.status, row.quotaMb, row.usedMb, row.tokenVersion],
        [m.domainId, m.address, m.displayName, m.status, m.quotaMb, m.usedMb, m.tokenVersion],
      ],
    ),
    ...compareRows(
      "support admin",
      supports,
      model.supports,
      (row) => row.id,
      (row) => row.username,
      (row, m) => [[row.tokenVersion], [m.tokenVersion]],
    ),
  ];
}
