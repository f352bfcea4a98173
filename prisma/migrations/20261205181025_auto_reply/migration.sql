-- CreateTable
CREATE TABLE "auto_reply" (
    "accountId" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "startsAt" TIMESTAMPTZ(3),
    "endsAt" TIMESTAMPTZ(3),
    "daysBetweenReplies" INTEGER NOT NULL DEFAULT 7,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "auto_reply_pkey" PRIMARY KEY ("accountId")
);

-- AddForeignKey
ALTER TABLE "auto_reply" ADD CONSTRAINT "auto_reply_accountId_fkey" FOREIGN KEY ("accountId") REFERENCES "account"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Written by hand. No quotes or semicolons in comments: the migration runner
-- splits the script at every semicolon, so the Sieve scripts below write
-- theirs as chr(59).

-- The read contract, version 1, gains the Sieve scripts Dovecot runs at
-- delivery (its dict-backed Sieve storage, docs/aliases.md): one script named
-- active for each active account of an active domain with an out-of-office
-- reply, a Sieve vacation action inside the reply period. The id is the hash
-- of the script, so Dovecot compiles it again whenever it changes.
CREATE VIEW "mailserver_v1"."sieve_scripts" AS
  SELECT s."username", 'active'::text AS "name", md5(s."script") AS "id", s."script"
  FROM (
    SELECT a."address" AS "username",
      'require ["vacation", "date", "relational"]' || chr(59) || chr(10)
      || CASE WHEN r."startsAt" IS NULL AND r."endsAt" IS NULL THEN ''
         ELSE 'if allof (' || concat_ws(', ',
              CASE WHEN r."startsAt" IS NOT NULL THEN 'currentdate :zone "+0000" :value "ge" "iso8601" "' || to_char(r."startsAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00"' END,
              CASE WHEN r."endsAt" IS NOT NULL THEN 'currentdate :zone "+0000" :value "le" "iso8601" "' || to_char(r."endsAt" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00"' END
            ) || ') {' || chr(10) END
      || 'vacation :days ' || r."daysBetweenReplies"
      || ' :subject "' || replace(replace(r."subject", '\', '\\'), '"', '\"') || '"'
      || ' "' || replace(replace(r."body", '\', '\\'), '"', '\"') || '"' || chr(59) || chr(10)
      || CASE WHEN r."startsAt" IS NULL AND r."endsAt" IS NULL THEN '' ELSE '}' || chr(10) END AS "script"
    FROM "public"."auto_reply" r
    JOIN "public"."account" a ON a."id" = r."accountId" AND a."status" = 'ACTIVE'
    JOIN "public"."domain" d ON d."id" = a."domainId" AND d."status" = 'ACTIVE'
  ) s;
