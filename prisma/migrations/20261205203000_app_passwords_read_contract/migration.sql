-- The read contract gains the app passwords (docs/mail-stack.md, docs/support-team.md):
-- one row an active app password of a mailbox that may log in, as Dovecot's
-- second passdb reads it. Additive: no existing view changes.
--   address   the mailbox's address (Dovecot's user name)
--   prefix    the password's first 12 characters (ap and its public id), which find the row
--   password  the stored bcrypt hash of the whole password with Dovecot's scheme prefix
-- A revoked password, a suspended account or domain, and an administrator's
-- login without a mailbox have no row. grantMailServerReads (src/db/migrate.ts)
-- gives the mail role SELECT on it with the rest of the schema.
CREATE VIEW "mailserver_v1"."app_passwords" AS
  SELECT m."address" AS "address",
         'ap' || p."publicId" AS "prefix",
         '{BLF-CRYPT}' || p."passwordHash" AS "password"
  FROM "public"."app_password" p
  JOIN "public"."account" a ON a."id" = p."accountId"
  JOIN "mailserver_v1"."mailboxes" m ON m."address" = a."address"
  WHERE p."revokedAt" IS NULL AND m."can_login" AND m."accepts_mail";
