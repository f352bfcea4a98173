-- (No quote or semicolon in these comments: the migration runner splits the
-- script on semicolons.)
-- The read contract of the mail servers (Postfix, Dovecot), version 1: a
-- schema of views that survives the APIs own migrations (a later change of
-- the tables rewrites these views, never their columns meaning), read by a
-- least-privilege role that can see nothing else: no audit records, no API
-- tokens, no support staff, no delivery logs. Views run with their owners
-- rights, so the role needs no right on the tables themselves.
CREATE SCHEMA IF NOT EXISTS "mailserver_v1";

-- Domains whose mail this service accepts: active ones. A suspended domain
-- receives no mail and none of its users log in.
CREATE VIEW "mailserver_v1"."domains" AS
  SELECT d."name" AS "domain"
  FROM "public"."domain" d
  WHERE d."status" = 'ACTIVE';

-- Every account of an active domain, one row an address, as Postfixs
-- recipient maps and Dovecots passdb/userdb read it.
--   password   the stored bcrypt hash with Dovecots scheme prefix (no second copy of any password)
--   quota_bytes  quotaMb in bytes, 0 is an administrators login without a mailbox
--   can_login  the account and its domain are active
--   accepts_mail  a mailbox (quota above 0) of an active domain, a suspended
--              account still receives its mail (it is kept for when it is
--              reactivated), as its owner may not log in to read it
--   maildir    the mailboxs place under the mail store: <domain>/<local part>/
CREATE VIEW "mailserver_v1"."mailboxes" AS
  SELECT a."address" AS "address",
         a."localPart" AS "local_part",
         d."name" AS "domain",
         '{BLF-CRYPT}' || a."passwordHash" AS "password",
         a."quotaMb"::bigint * 1048576 AS "quota_bytes",
         (a."status" = 'ACTIVE') AS "can_login",
         (a."quotaMb" > 0) AS "accepts_mail",
         d."name" || '/' || a."localPart" || '/' AS "maildir"
  FROM "public"."account" a
  JOIN "public"."domain" d ON d."id" = a."domainId"
  WHERE d."status" = 'ACTIVE';

-- Which addresses an authenticated user may send as (Postfixs
-- smtpd_sender_login_maps): its own for now, aliases will add rows.
CREATE VIEW "mailserver_v1"."sender_logins" AS
  SELECT m."address" AS "sender", m."address" AS "login"
  FROM "mailserver_v1"."mailboxes" m
  WHERE m."can_login";

-- The role mailadmin_mailserver and its grants are not made here: roles
-- belong to the whole cluster, and creating one only when missing needs a DO
-- block, which this runner cannot carry. src/db/migrate.ts
-- (grantMailServerReads) does it after every migration run.
