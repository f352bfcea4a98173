-- AlterTable
ALTER TABLE "api_token" ADD COLUMN     "creatorReplacedAt" TIMESTAMP(3);


-- Tokens of domain administrators who are no longer their domain's
-- administrator stay refused even if they are made administrator again.
UPDATE "api_token" t SET "creatorReplacedAt" = CURRENT_TIMESTAMP
WHERE t."createdByRole" = 'DOMAIN_ADMIN'
  AND NOT EXISTS (SELECT 1 FROM "domain_admin" da WHERE da."domainId" = t."domainId" AND da."accountId" = t."createdById");
