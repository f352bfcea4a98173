-- mail_log_record becomes a table partitioned by week of "loggedAt"
-- (PostgreSQL declarative partitioning, docs/delivery-logs.md). Its keys
-- include the partition key: PRIMARY KEY ("id", "loggedAt") and
-- UNIQUE ("fingerprint", "loggedAt") (a line always gives the same loggedAt,
-- so a delivery is still stored once). The ids keep their sequence.
--
-- Every existing row is kept: copied into the default partition here, the
-- server splits the default partition into weekly partitions when it starts
-- (src/maillog/partitions.ts, ensureMailLogPartitions), and creates the
-- partitions of the coming weeks ahead, so an insert never fails.

-- The old table's constraints and indexes give their names to the new table's.
ALTER TABLE "mail_log_record" RENAME TO "mail_log_record_unpartitioned";
ALTER TABLE "mail_log_record_unpartitioned" DROP CONSTRAINT "mail_log_record_pkey";
DROP INDEX "mail_log_record_fingerprint_key";
DROP INDEX "mail_log_record_localAddress_loggedAt_idx";
DROP INDEX "mail_log_record_loggedAt_idx";

-- CreateTable
CREATE TABLE "mail_log_record" (
    "id" BIGINT NOT NULL DEFAULT nextval('mail_log_record_id_seq'),
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
    "format" "LogFormat" NOT NULL DEFAULT 'EZML',
    "dsn" TEXT,
    "relay" TEXT,
    "delaySeconds" DOUBLE PRECISION,
    "originalRecipient" TEXT,

    CONSTRAINT "mail_log_record_pkey" PRIMARY KEY ("id", "loggedAt")
) PARTITION BY RANGE ("loggedAt");

-- The sequence now belongs to the new table (dropping the old one keeps it).
ALTER SEQUENCE "mail_log_record_id_seq" OWNED BY "mail_log_record"."id";

-- CreateIndex
CREATE UNIQUE INDEX "mail_log_record_fingerprint_loggedAt_key" ON "mail_log_record"("fingerprint", "loggedAt");

-- CreateIndex
CREATE INDEX "mail_log_record_localAddress_loggedAt_idx" ON "mail_log_record"("localAddress", "loggedAt");

-- CreateIndex
CREATE INDEX "mail_log_record_loggedAt_idx" ON "mail_log_record"("loggedAt");

-- Rows of a week without a partition of its own land here (and are moved to their week's partition when it is made).
CREATE TABLE "mail_log_record_default" PARTITION OF "mail_log_record" DEFAULT;

-- The rows, as they were.
INSERT INTO "mail_log_record" ("id", "fingerprint", "loggedAt", "queueId", "queuedAt", "direction", "sender", "recipient", "subject", "sizeBytes", "status",
    "retryCount", "reason", "rawLine", "localAddress", "accountId", "domainId", "sourceName", "ingestedAt", "format", "dsn", "relay", "delaySeconds", "originalRecipient")
SELECT "id", "fingerprint", "loggedAt", "queueId", "queuedAt", "direction", "sender", "recipient", "subject", "sizeBytes", "status",
    "retryCount", "reason", "rawLine", "localAddress", "accountId", "domainId", "sourceName", "ingestedAt", "format", "dsn", "relay", "delaySeconds", "originalRecipient"
FROM "mail_log_record_unpartitioned";

DROP TABLE "mail_log_record_unpartitioned";
