-- The read contract gains quota_warnings on mailboxes (docs/mail-stack.md,
-- docs/test-domain.md): false for a mailbox of a support test domain, whose
-- Dovecot userdb answer then switches the quota warnings off (its messages
-- would land in a test mailbox and be listed as what a customer sent).
-- Additive: a column at the end, the other columns and rows unchanged.
CREATE OR REPLACE VIEW "mailserver_v1"."mailboxes" AS
  SELECT a."address" AS "address",
         a."localPart" AS "local_part",
         d."name" AS "domain",
         '{BLF-CRYPT}' || a."passwordHash" AS "password",
         a."quotaMb"::bigint * 1048576 AS "quota_bytes",
         (a."status" = 'ACTIVE') AS "can_login",
         (a."quotaMb" > 0) AS "accepts_mail",
         d."name" || '/' || a."localPart" || '/' AS "maildir",
         (NOT d."isTestDomain") AS "quota_warnings"
  FROM "public"."account" a
  JOIN "public"."domain" d ON d."id" = a."domainId"
  WHERE d."status" = 'ACTIVE';
