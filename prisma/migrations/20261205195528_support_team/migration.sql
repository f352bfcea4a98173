-- CreateEnum
CREATE TYPE "SupportLevel" AS ENUM ('FULL', 'READ_ONLY');

-- AlterTable
ALTER TABLE "support_admin" ADD COLUMN     "disabledAt" TIMESTAMP(3),
ADD COLUMN     "level" "SupportLevel" NOT NULL DEFAULT 'FULL';

-- AlterTable
ALTER TABLE "audit_entry" ADD COLUMN     "actorDisplayName" TEXT;

-- CreateTable
CREATE TABLE "totp_factor" (
    "principalId" TEXT NOT NULL,
    "principalKind" TEXT NOT NULL,
    "secretSealed" TEXT NOT NULL,
    "confirmedAt" TIMESTAMP(3),
    "lastUsedStep" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "totp_factor_pkey" PRIMARY KEY ("principalId")
);

-- CreateTable
CREATE TABLE "recovery_code" (
    "id" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "codeHash" TEXT NOT NULL,
    "usedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "recovery_code_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "login_session" (
    "id" TEXT NOT NULL,
    "principalId" TEXT NOT NULL,
    "principalKind" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "clientIp" TEXT,
    "userAgent" TEXT,
    "lastUsedAt" TIMESTAMP(3),
    "endedAt" TIMESTAMP(3),
    "endedByName" TEXT,

    CONSTRAINT "login_session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "app_password" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "publicId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdByName" TEXT NOT NULL,
    "lastUsedAt" TIMESTAMP(3),
    "revokedAt" TIMESTAMP(3),
    "revokedByName" TEXT,

    CONSTRAINT "app_password_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "recovery_code_codeHash_key" ON "recovery_code"("codeHash");

-- CreateIndex
CREATE INDEX "recovery_code_principalId_idx" ON "recovery_code"("principalId");

-- CreateIndex
CREATE INDEX "login_session_principalId_createdAt_idx" ON "login_session"("principalId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "app_password_publicId_key" ON "app_password"("publicId");

-- CreateIndex
CREATE INDEX "app_password_accountId_createdAt_idx" ON "app_password"("accountId", "createdAt");

-- AddForeignKey
ALTER TABLE "app_password" ADD CONSTRAINT "app_password_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Added by hand: the kinds of principal.
ALTER TABLE "totp_factor" ADD CONSTRAINT "totp_factor_principalKind_check" CHECK ("principalKind" IN ('support', 'account'));
ALTER TABLE "login_session" ADD CONSTRAINT "login_session_principalKind_check" CHECK ("principalKind" IN ('support', 'account'));
ALTER TABLE "support_admin" ADD CONSTRAINT "support_admin_displayName_check" CHECK (length("displayName") BETWEEN 1 AND 100);
