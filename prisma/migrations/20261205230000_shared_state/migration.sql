-- CreateTable
CREATE TABLE "rate_limit_window" (
    "key" TEXT NOT NULL,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "used" INTEGER NOT NULL,

    CONSTRAINT "rate_limit_window_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "probe_hit" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "probe_hit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "account_import" (
    "id" TEXT NOT NULL,
    "owner" TEXT NOT NULL,
    "caller" JSONB NOT NULL,
    "format" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "dryRun" BOOLEAN NOT NULL,
    "phase" TEXT NOT NULL,
    "content" TEXT NOT NULL DEFAULT '',
    "bytes" INTEGER NOT NULL DEFAULT 0,
    "rowsTotal" INTEGER NOT NULL DEFAULT 0,
    "phaseDone" INTEGER NOT NULL DEFAULT 0,
    "phaseTotal" INTEGER NOT NULL DEFAULT 0,
    "validCount" INTEGER NOT NULL DEFAULT 0,
    "createdCount" INTEGER NOT NULL DEFAULT 0,
    "failedCount" INTEGER NOT NULL DEFAULT 0,
    "errors" JSONB NOT NULL DEFAULT '[]',
    "failure" TEXT,
    "runner" TEXT,
    "heartbeatAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL,
    "touchedAt" TIMESTAMP(3) NOT NULL,
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "account_import_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "dns_check_cache" (
    "key" TEXT NOT NULL,
    "result" JSONB NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "dns_check_cache_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "rate_limit_window_windowStart_idx" ON "rate_limit_window"("windowStart");

-- CreateIndex
CREATE INDEX "probe_hit_key_at_idx" ON "probe_hit"("key", "at");

-- CreateIndex
CREATE INDEX "account_import_owner_phase_idx" ON "account_import"("owner", "phase");

-- CreateIndex
CREATE INDEX "account_import_phase_heartbeatAt_idx" ON "account_import"("phase", "heartbeatAt");

-- CreateIndex
CREATE INDEX "dns_check_cache_expiresAt_idx" ON "dns_check_cache"("expiresAt");


-- Written by hand. Every request counts in rate_limit_window: unlogged, it
-- writes no WAL and waits for no flush at commit. A crash of the database
-- empties it (a minute of counts forgotten), and replicas do not have it.
ALTER TABLE "rate_limit_window" SET UNLOGGED;
