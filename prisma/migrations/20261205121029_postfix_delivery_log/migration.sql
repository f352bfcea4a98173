-- CreateEnum
CREATE TYPE "LogFormat" AS ENUM ('EZML', 'POSTFIX');

-- AlterTable
ALTER TABLE "mail_log_record" ADD COLUMN     "delaySeconds" DOUBLE PRECISION,
ADD COLUMN     "dsn" TEXT,
ADD COLUMN     "format" "LogFormat" NOT NULL DEFAULT 'EZML',
ADD COLUMN     "originalRecipient" TEXT,
ADD COLUMN     "relay" TEXT;

-- CreateTable
CREATE TABLE "postfix_queue_state" (
    "sourceName" TEXT NOT NULL,
    "queueKey" TEXT NOT NULL,
    "state" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "postfix_queue_state_pkey" PRIMARY KEY ("sourceName","queueKey")
);

-- CreateIndex
CREATE INDEX "postfix_queue_state_updatedAt_idx" ON "postfix_queue_state"("updatedAt");

