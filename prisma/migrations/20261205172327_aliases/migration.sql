-- AlterTable
ALTER TABLE "domain" ADD COLUMN     "allowExternalForwarding" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "catchAll" TEXT,
ADD COLUMN     "maxAliases" INTEGER,
ADD COLUMN     "maxDestinations" INTEGER NOT NULL DEFAULT 50;

-- AlterTable
ALTER TABLE "account" ADD COLUMN     "forwardKeepCopy" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "forwardTo" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- CreateTable
CREATE TABLE "alias" (
    "id" TEXT NOT NULL,
    "domainId" TEXT NOT NULL,
    "localPart" TEXT NOT NULL,
    "address" TEXT NOT NULL,
    "destinations" TEXT[],
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "alias_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "alias_domain" (
    "name" TEXT NOT NULL,
    "domainId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "alias_domain_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE UNIQUE INDEX "alias_address_key" ON "alias"("address");

-- CreateIndex
CREATE INDEX "alias_destinations_idx" ON "alias" USING GIN ("destinations");

-- CreateIndex
CREATE UNIQUE INDEX "alias_domainId_localPart_key" ON "alias"("domainId", "localPart");

-- CreateIndex
CREATE INDEX "alias_domain_domainId_idx" ON "alias_domain"("domainId");

-- AddForeignKey
ALTER TABLE "alias" ADD CONSTRAINT "alias_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "domain"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "alias_domain" ADD CONSTRAINT "alias_domain_domainId_fkey" FOREIGN KEY ("domainId") REFERENCES "domain"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- Written by hand. Keep quotes out of comments: the migration runner splits
-- the script at every semicolon, so function bodies are escape strings in
-- which a semicolon is written as its octal code, 073.

-- One address, one meaning: an alias never shadows a mailbox and a mailbox
-- never shadows an alias (services check first, these hold when two requests
-- race: both take the same advisory lock on the address). SQLSTATE 23505, as
-- a unique index would answer.
CREATE FUNCTION "alias_address_is_free"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(''mailadmin.address.'' || NEW."address"))\073
  IF EXISTS (SELECT 1 FROM "account" WHERE "address" = NEW."address") THEN
    RAISE EXCEPTION USING ERRCODE = ''23505'', CONSTRAINT = ''alias_address_not_a_mailbox'', MESSAGE = ''the address '' || NEW."address" || '' is a mailbox''\073
  END IF\073
  RETURN NEW\073
END
';

CREATE TRIGGER "alias_address_is_free" BEFORE INSERT OR UPDATE OF "address" ON "alias"
  FOR EACH ROW EXECUTE FUNCTION "alias_address_is_free"();

CREATE FUNCTION "account_address_is_free"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(''mailadmin.address.'' || NEW."address"))\073
  IF EXISTS (SELECT 1 FROM "alias" WHERE "address" = NEW."address") THEN
    RAISE EXCEPTION USING ERRCODE = ''23505'', CONSTRAINT = ''account_address_not_an_alias'', MESSAGE = ''the address '' || NEW."address" || '' is an alias''\073
  END IF\073
  RETURN NEW\073
END
';

CREATE TRIGGER "account_address_is_free" BEFORE INSERT OR UPDATE OF "address" ON "account"
  FOR EACH ROW EXECUTE FUNCTION "account_address_is_free"();

-- A name is a hosted domain or an alias domain, never both.
CREATE FUNCTION "alias_domain_name_is_free"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(''mailadmin.domain.'' || NEW."name"))\073
  IF EXISTS (SELECT 1 FROM "domain" WHERE "name" = NEW."name") THEN
    RAISE EXCEPTION USING ERRCODE = ''23505'', CONSTRAINT = ''alias_domain_not_a_domain'', MESSAGE = ''the name '' || NEW."name" || '' is a hosted domain''\073
  END IF\073
  RETURN NEW\073
END
';

CREATE TRIGGER "alias_domain_name_is_free" BEFORE INSERT OR UPDATE OF "name" ON "alias_domain"
  FOR EACH ROW EXECUTE FUNCTION "alias_domain_name_is_free"();

CREATE FUNCTION "domain_name_is_free"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(''mailadmin.domain.'' || NEW."name"))\073
  IF EXISTS (SELECT 1 FROM "alias_domain" WHERE "name" = NEW."name") THEN
    RAISE EXCEPTION USING ERRCODE = ''23505'', CONSTRAINT = ''domain_name_not_an_alias_domain'', MESSAGE = ''the name '' || NEW."name" || '' is an alias domain''\073
  END IF\073
  RETURN NEW\073
END
';

CREATE TRIGGER "domain_name_is_free" BEFORE INSERT OR UPDATE OF "name" ON "domain"
  FOR EACH ROW EXECUTE FUNCTION "domain_name_is_free"();

-- The read contract, version 1, gains what Postfix needs for aliases
-- (docs/mail-stack.md). Existing views keep their columns.

-- virtual_alias_maps: address to destination, one row a destination. Aliases,
-- forwarding (with the address itself when a copy is kept), every mailbox to
-- itself (so that a catch-all never takes mail of an existing mailbox), and
-- the catch-all of a domain and of its alias domains under the key @domain.
CREATE VIEW "mailserver_v1"."virtual_aliases" AS
  SELECT a."address" AS "address", dest AS "destination"
    FROM "public"."alias" a
    JOIN "public"."domain" d ON d."id" = a."domainId" AND d."status" = 'ACTIVE'
    CROSS JOIN LATERAL unnest(a."destinations") AS dest
  UNION ALL
  SELECT m."address", dest
    FROM "public"."account" m
    JOIN "public"."domain" d ON d."id" = m."domainId" AND d."status" = 'ACTIVE'
    CROSS JOIN LATERAL unnest(m."forwardTo") AS dest
  UNION ALL
  SELECT m."address", m."address"
    FROM "public"."account" m
    JOIN "public"."domain" d ON d."id" = m."domainId" AND d."status" = 'ACTIVE'
    WHERE m."quotaMb" > 0 AND (cardinality(m."forwardTo") = 0 OR m."forwardTo" IS NULL OR m."forwardKeepCopy")
  UNION ALL
  SELECT '@' || d."name", d."catchAll"
    FROM "public"."domain" d
    WHERE d."status" = 'ACTIVE' AND d."catchAll" IS NOT NULL
  UNION ALL
  SELECT '@' || ad."name", d."catchAll"
    FROM "public"."alias_domain" ad
    JOIN "public"."domain" d ON d."id" = ad."domainId" AND d."status" = 'ACTIVE'
    WHERE d."catchAll" IS NOT NULL;

-- Alias domains whose target domain is active (virtual_alias_domains).
CREATE VIEW "mailserver_v1"."alias_domains" AS
  SELECT ad."name" AS "domain", d."name" AS "target"
    FROM "public"."alias_domain" ad
    JOIN "public"."domain" d ON d."id" = ad."domainId" AND d."status" = 'ACTIVE';

-- The addresses of an alias domain: every local part that receives mail in
-- the target domain (a mailbox, a forwarding, an alias), to the same local
-- part there. Postfix asks by alias_domain and local_part (%d and %u).
CREATE VIEW "mailserver_v1"."alias_domain_addresses" AS
  SELECT ad."name" AS "alias_domain", x."localPart" AS "local_part", x."localPart" || '@' || d."name" AS "destination"
    FROM "public"."alias_domain" ad
    JOIN "public"."domain" d ON d."id" = ad."domainId" AND d."status" = 'ACTIVE'
    JOIN (
      SELECT m."domainId", m."localPart" FROM "public"."account" m WHERE m."quotaMb" > 0 OR cardinality(m."forwardTo") > 0
      UNION ALL
      SELECT a."domainId", a."localPart" FROM "public"."alias" a
    ) x ON x."domainId" = d."id";

-- Who may send as an address: its own login, and the logins an alias of an
-- active domain delivers to (directly).
CREATE OR REPLACE VIEW "mailserver_v1"."sender_logins" AS
  SELECT m."address" AS "sender", m."address" AS "login"
    FROM "mailserver_v1"."mailboxes" m
    WHERE m."can_login"
  UNION ALL
  SELECT a."address", m."address"
    FROM "public"."alias" a
    JOIN "public"."domain" d ON d."id" = a."domainId" AND d."status" = 'ACTIVE'
    CROSS JOIN LATERAL unnest(a."destinations") AS dest
    JOIN "mailserver_v1"."mailboxes" m ON m."address" = dest
    WHERE m."can_login";
