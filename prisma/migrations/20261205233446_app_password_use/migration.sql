-- CreateTable
CREATE TABLE "app_password_use" (
    "prefix" TEXT NOT NULL,
    "last_used_at" BIGINT NOT NULL,
    "updated_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "app_password_use_pkey" PRIMARY KEY ("prefix")
);


-- Written by hand: the last_login plugin of Dovecot writes this table through its
-- SQL dict when a mail client logs in with an app password (IMAP, POP3), the
-- trigger below copies the time into the app password. Keep quotes and
-- backticks out of comments here: the migration runner splits the script at
-- every semicolon, so function bodies are escape strings with each semicolon
-- written as its octal code, 073 (as in 20261205141241_mailbox_usage).
--
-- Before a row is stored: updated_at is the time of this write.
CREATE FUNCTION "app_password_use_touch"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  NEW."updated_at" := now()\073
  RETURN NEW\073
END
';

CREATE TRIGGER "app_password_use_touch" BEFORE INSERT OR UPDATE ON "app_password_use"
  FOR EACH ROW EXECUTE FUNCTION "app_password_use_touch"();

-- After a row is stored: the app password of that prefix (ap and its publicId)
-- gets lastUsedAt, in UTC like every other timestamp column here, never moved
-- back (a late write of an older login does not hide a newer one). A prefix
-- without an app password changes nothing. SECURITY DEFINER with the search
-- path of this migration: the mail server writes this table as a
-- least-privilege role that may not touch app_password itself.
CREATE FUNCTION "app_password_use_to_app_password"() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS E'
BEGIN
  IF NEW."prefix" LIKE ''ap%'' THEN
    UPDATE "app_password"
       SET "lastUsedAt" = GREATEST(COALESCE("lastUsedAt", ''-infinity''), to_timestamp(NEW."last_used_at") AT TIME ZONE ''UTC'')
     WHERE "publicId" = substr(NEW."prefix", 3)\073
  END IF\073
  RETURN NULL\073
END
';

CREATE TRIGGER "app_password_use_to_app_password" AFTER INSERT OR UPDATE ON "app_password_use"
  FOR EACH ROW EXECUTE FUNCTION "app_password_use_to_app_password"();
