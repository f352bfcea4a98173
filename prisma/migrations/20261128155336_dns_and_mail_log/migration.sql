-- CreateEnum
CREATE TYPE "DnsSetup" AS ENUM ('A_ONLY', 'MX', 'MX_WEB', 'MX_WEB_BACKUP');

-- CreateEnum
CREATE TYPE "MailDirection" AS ENUM ('OUTBOUND', 'INBOUND');

-- CreateEnum
CREATE TYPE "DeliveryStatus" AS ENUM ('OK', 'RETRY', 'FAIL');

-- AlterTable
ALTER TABLE "domain" ADD COLUMN     "dkimPublicKey" TEXT,
ADD COLUMN     "dnsCheck" JSONB,
ADD COLUMN     "dnsCheckedAt" TIMESTAMP(3),
ADD COLUMN     "dnsSetup" "DnsSetup" NOT NULL DEFAULT 'MX',
ADD COLUMN     "webServerAddress" TEXT;

-- CreateTable
CREATE TABLE "mail_log_record" (
    "id" BIGSERIAL NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "loggedAt" TIMESTAMP(3) NOT NULL,
    "queueId" TEXT,
    "queuedAt" TIMESTAMP(3),
    "direction" "MailDirection",
    "sender" TEXT,
    "recipient" TEXT,
    "subject" TEXT,
    "sizeBytes" INTEGER,
    "status" "DeliveryStatus" NOT NULL,
    "retryCount" INTEGER,
    "reason" TEXT,
    "rawLine" TEXT NOT NULL,
    "localAddress" TEXT,
    "accountId" TEXT,
    "domainId" TEXT,
    "sourceName" TEXT NOT NULL,
    "ingestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mail_log_record_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rejected_log_line" (
    "id" BIGSERIAL NOT NULL,
    "sourceName" TEXT NOT NULL,
    "path" TEXT,
    "lineNumber" INTEGER NOT NULL,
    "rawLine" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rejected_log_line_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "log_file_offset" (
    "sourceName" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "fileId" TEXT NOT NULL,
    "offset" BIGINT NOT NULL,
    "lineNumber" INTEGER NOT NULL,
    "headHash" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "log_file_offset_pkey" PRIMARY KEY ("sourceName","fileId")
);

-- CreateIndex
CREATE UNIQUE INDEX "mail_log_record_fingerprint_key" ON "mail_log_record"("fingerprint");

-- CreateIndex
CREATE INDEX "mail_log_record_localAddress_loggedAt_idx" ON "mail_log_record"("localAddress", "loggedAt");

-- CreateIndex
CREATE INDEX "mail_log_record_loggedAt_idx" ON "mail_log_record"("loggedAt");

-- CreateIndex
CREATE INDEX "rejected_log_line_sourceName_receivedAt_idx" ON "rejected_log_line"("sourceName", "receivedAt");

