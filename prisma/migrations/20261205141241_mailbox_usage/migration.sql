-- AlterEnum
ALTER TYPE "ApiTokenScope" ADD VALUE 'USAGE';

-- AlterTable
ALTER TABLE "account" ADD COLUMN     "messageCount" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "usageUpdatedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "mailbox_usage" (
    "username" TEXT NOT NULL,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "messages" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mailbox_usage_pkey" PRIMARY KEY ("username")
);


-- Written by hand: the usage a mail store reports reaches the account rows in
-- the database itself, so that Dovecot (its SQL dict writes this table
-- directly) and the API push have the same effect. Keep quotes and backticks
-- out of comments here. The migration runner (the pg driver adapter) splits
-- the script at every semicolon, quoted or not, so the function bodies are
-- escape strings in which each semicolon is written as its octal code, 073.
--
-- Before a row is stored: the user name in lower case (account addresses are),
-- no negative figures (a store that miscounts must not be refused, or its
-- later correct figures would be lost too), and updated_at the time of this write.
CREATE FUNCTION "mailbox_usage_normalize"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  NEW."username" := lower(NEW."username")\073
  NEW."bytes" := GREATEST(COALESCE(NEW."bytes", 0), 0)\073
  NEW."messages" := GREATEST(COALESCE(NEW."messages", 0), 0)\073
  NEW."updated_at" := now()\073
  RETURN NEW\073
END
';

CREATE TRIGGER "mailbox_usage_normalize" BEFORE INSERT OR UPDATE ON "mailbox_usage"
  FOR EACH ROW EXECUTE FUNCTION "mailbox_usage_normalize"();

-- After a row is stored: copy it into the account of that address. usedMb is
-- the bytes in MiB rounded UP (1 byte shows as 1 MiB, and a mailbox at its
-- quota in bytes shows usedMb equal to quotaMb), capped to the integer range
-- of the column, as is the message count. A row whose address has no account
-- updates nothing. SECURITY DEFINER: the mail server writes this table as a
-- least-privilege role that may not touch account itself. The function runs
-- as its owner (who ran the migrations), with the search path of this
-- migration, so a caller cannot redirect the unqualified table name.
CREATE FUNCTION "mailbox_usage_to_account"() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS E'
BEGIN
  UPDATE "account"
     SET "usedMb" = LEAST(ceil(NEW."bytes" / 1048576.0), 2147483647)::integer,
         "messageCount" = LEAST(NEW."messages", 2147483647)::integer,
         "usageUpdatedAt" = NEW."updated_at"
   WHERE "address" = NEW."username"\073
  RETURN NULL\073
END
';

CREATE TRIGGER "mailbox_usage_to_account" AFTER INSERT OR UPDATE ON "mailbox_usage"
  FOR EACH ROW EXECUTE FUNCTION "mailbox_usage_to_account"();
