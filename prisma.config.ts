// Prisma CLI configuration. The JS engine and the pg driver adapter keep every
// CLI command offline (no native engine download). The adapter is patched
// (patches/@prisma+adapter-pg+*.patch) so that migrations can read the
// catalog's `name` columns.
import { existsSync } from "node:fs";
import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";

// `prisma generate` needs a URL but never connects; the embedded database's
// address is a harmless default for it. Commands that connect get the real one
// from the caller (npm run db:migrate, or the server at start).
// With a config file the CLI no longer reads .env itself.
if (existsSync(".env")) process.loadEnvFile(".env");
const databaseUrl = process.env.DATABASE_URL || "postgresql://postgres@127.0.0.1:5432/postgres";
process.env.DATABASE_URL = databaseUrl;

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  async adapter() {
    return new PrismaPg({ connectionString: databaseUrl });
  },
});
