-- AlterTable
ALTER TABLE "support_admin" ADD COLUMN     "language" TEXT;

-- AlterTable
ALTER TABLE "account" ADD COLUMN     "language" TEXT;


-- Written by hand: only the languages mailadmin has catalogues for (src/i18n/language.ts).
ALTER TABLE "account" ADD CONSTRAINT "account_language_known" CHECK ("language" IN ('en', 'zh-TW'));
ALTER TABLE "support_admin" ADD CONSTRAINT "support_admin_language_known" CHECK ("language" IN ('en', 'zh-TW'));
