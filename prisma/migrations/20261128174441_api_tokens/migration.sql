-- CreateEnum
CREATE TYPE "ApiTokenScope" AS ENUM ('READ', 'WRITE', 'LOGS');

-- AlterTable
ALTER TABLE "audit_entry" ADD COLUMN     "viaApiToken" TEXT;

-- CreateTable
CREATE TABLE "api_token" (
    "id" TEXT NOT NULL,
    "publicId" TEXT NOT NULL,
    "secretHash" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "scopes" "ApiTokenScope"[],
    "domainId" TEXT,
    "createdByRole" TEXT NOT NULL,
    "createdById" TEXT NOT NULL,
    "createdByName" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3),
    "lastUsedAt" TIMESTAMP(3),
    "lastUsedIp" TEXT,
    "revokedAt" TIMESTAMP(3),
    "revokedByName" TEXT,

    CONSTRAINT "api_token_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "api_token_publicId_key" ON "api_token"("publicId");

-- CreateIndex
CREATE INDEX "api_token_domainId_createdAt_idx" ON "api_token"("domainId", "createdAt");

-- CreateIndex
CREATE INDEX "api_token_createdById_idx" ON "api_token"("createdById");

-- AddForeignKey
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "domain"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Checks added by hand: a token has at least one scope, a support token
-- covers every domain and a domain administrator token exactly one domain, and
-- the public id has its fixed form. Keep quotes and backticks out of comments
-- here: the migration runner splits the script on its own.
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_has_scopes" CHECK ("scopes" IS NOT NULL AND cardinality("scopes") >= 1);
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_creator_role" CHECK (("createdByRole" = 'SUPPORT_ADMIN' AND "domainId" IS NULL) OR ("createdByRole" = 'DOMAIN_ADMIN' AND "domainId" IS NOT NULL));
ALTER TABLE "api_token" ADD CONSTRAINT "api_token_public_id_form" CHECK ("publicId" ~ '^[a-z0-9]{12}$');
