-- CreateEnum
CREATE TYPE "DkimAlgorithm" AS ENUM ('RSA_SHA256', 'ED25519_SHA256');

-- CreateEnum
CREATE TYPE "DkimKeyState" AS ENUM ('PUBLISHED_PENDING', 'ACTIVE', 'RETIRING', 'RETIRED');

-- CreateTable
CREATE TABLE "dkim_key" (
    "id" TEXT NOT NULL,
    "domainId" TEXT NOT NULL,
    "selector" TEXT NOT NULL,
    "algorithm" "DkimAlgorithm" NOT NULL,
    "state" "DkimKeyState" NOT NULL,
    "publicKey" TEXT NOT NULL,
    "privateKeyEncrypted" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activatedAt" TIMESTAMPTZ(3),
    "retiringAt" TIMESTAMPTZ(3),
    "retireAfter" TIMESTAMPTZ(3),
    "retiredAt" TIMESTAMPTZ(3),

    CONSTRAINT "dkim_key_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "dkim_key_domainId_state_idx" ON "dkim_key"("domainId", "state");

-- CreateIndex
CREATE UNIQUE INDEX "dkim_key_domainId_selector_key" ON "dkim_key"("domainId", "selector");

-- AddForeignKey
ALTER TABLE "dkim_key" ADD CONSTRAINT "dkim_key_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "domain"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Written by hand. At most one signing key and one key waiting to sign per
-- domain and algorithm, whatever code writes the rows. Keep semicolons and
-- quotes out of these comments, the migration runner splits on semicolons.
CREATE UNIQUE INDEX "dkim_key_one_active" ON "dkim_key"("domainId", "algorithm") WHERE "state" = 'ACTIVE';
CREATE UNIQUE INDEX "dkim_key_one_pending" ON "dkim_key"("domainId", "algorithm") WHERE "state" = 'PUBLISHED_PENDING';
ALTER TABLE "dkim_key" ADD CONSTRAINT "dkim_key_selector_label" CHECK ("selector" ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$');
ALTER TABLE "dkim_key" ADD CONSTRAINT "dkim_key_encrypted" CHECK ("privateKeyEncrypted" LIKE 'v1.%');
