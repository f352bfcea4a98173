-- CreateTable
CREATE TABLE "test_message" (
    "id" TEXT NOT NULL,
    "messageId" TEXT NOT NULL,
    "fromAddress" TEXT NOT NULL,
    "domainId" TEXT NOT NULL,
    "toAddress" TEXT NOT NULL,
    "targetDomain" TEXT NOT NULL,
    "targetIsLocal" BOOLEAN NOT NULL,
    "subject" TEXT NOT NULL,
    "sentById" TEXT NOT NULL,
    "sentByName" TEXT NOT NULL,
    "queueId" TEXT,
    "submissionReply" TEXT NOT NULL,
    "accepted" BOOLEAN NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "test_message_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "test_message_messageId_key" ON "test_message"("messageId");

-- CreateIndex
CREATE INDEX "test_message_sentById_createdAt_idx" ON "test_message"("sentById", "createdAt");

-- CreateIndex
CREATE INDEX "test_message_targetDomain_createdAt_idx" ON "test_message"("targetDomain", "createdAt");

