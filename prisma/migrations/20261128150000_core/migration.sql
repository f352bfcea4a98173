-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "DomainStatus" AS ENUM ('ACTIVE', 'SUSPENDED');

-- CreateEnum
CREATE TYPE "AccountStatus" AS ENUM ('ACTIVE', 'SUSPENDED');

-- CreateTable
CREATE TABLE "support_admin" (
    "id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "tokenVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "support_admin_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "domain" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "unicodeName" TEXT NOT NULL,
    "status" "DomainStatus" NOT NULL DEFAULT 'ACTIVE',
    "isTestDomain" BOOLEAN NOT NULL DEFAULT false,
    "quotaMb" INTEGER,
    "maxAccounts" INTEGER,
    "defaultMailboxQuotaMb" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "domain_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account" (
    "id" TEXT NOT NULL,
    "domainId" TEXT NOT NULL,
    "localPart" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "displayName" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "status" "AccountStatus" NOT NULL DEFAULT 'ACTIVE',
    "quotaMb" INTEGER NOT NULL,
    "usedMb" INTEGER NOT NULL DEFAULT 0,
    "tokenVersion" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "domain_admin" (
    "domainId" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "assignedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "domain_admin_pkey" PRIMARY KEY ("domainId")
);

-- CreateTable
CREATE TABLE "audit_entry" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorRole" TEXT NOT NULL,
    "actorId" TEXT,
    "actorName" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "objectType" TEXT NOT NULL,
    "objectId" TEXT,
    "domainId" TEXT,
    "domainName" TEXT,
    "changes" JSONB NOT NULL,
    "requestId" TEXT,
    "clientIp" TEXT,

    CONSTRAINT "audit_entry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "login_throttle" (
    "key" TEXT NOT NULL,
    "failures" INTEGER NOT NULL,
    "windowStartedAt" TIMESTAMP(3) NOT NULL,
    "lockedUntil" TIMESTAMP(3),

    CONSTRAINT "login_throttle_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE UNIQUE INDEX "support_admin_username_key" ON "support_admin"("username");

-- CreateIndex
CREATE UNIQUE INDEX "domain_name_key" ON "domain"("name");

-- CreateIndex
CREATE UNIQUE INDEX "account_address_key" ON "account"("address");

-- CreateIndex
CREATE INDEX "account_domainId_address_idx" ON "account"("domainId", "address");

-- CreateIndex
CREATE UNIQUE INDEX "account_domainId_localPart_key" ON "account"("domainId", "localPart");

-- CreateIndex
CREATE UNIQUE INDEX "account_id_domainId_key" ON "account"("id", "domainId");

-- CreateIndex
CREATE UNIQUE INDEX "domain_admin_accountId_key" ON "domain_admin"("accountId");

-- CreateIndex
CREATE UNIQUE INDEX "domain_admin_accountId_domainId_key" ON "domain_admin"("accountId", "domainId");

-- CreateIndex
CREATE INDEX "audit_entry_domainId_id_idx" ON "audit_entry"("domainId", "id");

-- CreateIndex
CREATE INDEX "audit_entry_objectId_idx" ON "audit_entry"("objectId");

-- AddForeignKey
ALTER TABLE "account" ADD CONSTRAINT "account_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "domain"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "domain_admin" ADD CONSTRAINT "domain_admin_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "domain"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "domain_admin" ADD CONSTRAINT "domain_admin_accountId_domainId_fkey" FOREIGN KEY ("accountId", "domainId") REFERENCES "account"("id", "domainId") ON DELETE RESTRICT ON UPDATE CASCADE;


-- Checks that the Prisma schema language cannot express, added by hand
-- (migrate diff neither sees nor drops them). Names must already be
-- normalised, quotas and counts non-negative. Keep quotes and backticks out of
-- comments here: the migration runner splits the script on its own.
ALTER TABLE "domain" ADD CONSTRAINT "domain_name_normalised" CHECK ("name" = lower("name") AND length("name") BETWEEN 1 AND 253);
ALTER TABLE "domain" ADD CONSTRAINT "domain_quota_non_negative" CHECK ("quotaMb" IS NULL OR "quotaMb" >= 0);
ALTER TABLE "domain" ADD CONSTRAINT "domain_max_accounts_positive" CHECK ("maxAccounts" IS NULL OR "maxAccounts" >= 1);
ALTER TABLE "domain" ADD CONSTRAINT "domain_default_quota_non_negative" CHECK ("defaultMailboxQuotaMb" >= 0);
ALTER TABLE "account" ADD CONSTRAINT "account_local_part_normalised" CHECK ("localPart" = lower("localPart") AND length("localPart") BETWEEN 1 AND 64);
ALTER TABLE "account" ADD CONSTRAINT "account_quota_non_negative" CHECK ("quotaMb" >= 0);
ALTER TABLE "account" ADD CONSTRAINT "account_used_non_negative" CHECK ("usedMb" >= 0);
