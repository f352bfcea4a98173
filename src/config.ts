// Reads the environment once, validates it, and fails fast with a message that
// names the setting. Every setting is documented in .env.example.
import { randomBytes } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import { z } from "zod";
import { parseDnsServerList } from "./shared/dns-servers";
import { isValidTimeZone } from "./shared/time-zones";
import { LANGUAGES } from "./i18n/language";
import { parseEncryptionKey } from "./shared/encryption-key";

const booleanSetting = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((value) => value === "true" || value === "1" || value === "yes");

// DNS check settings: the service's own mail endpoints, from which the records
// customers must publish are derived, and how the validator queries DNS.
const hostName = /^(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const hostNameSetting = z
  .string()
  .transform((value) => value.trim().toLowerCase().replace(/\.$/, ""))
  .refine((value) => hostName.test(value), "must be a host name such as mx.example.net");
/** A host name in which {domain} stands for the customer's domain, such as mail.{domain}. */
const hostPatternSetting = z
  .string()
  .transform((value) => value.trim().toLowerCase().replace(/\.$/, ""))
  .refine((value) => hostName.test(value.replaceAll("{domain}", "example.com")), "must be a host name or a pattern such as mail.{domain}");
const dnsServerListSetting = z.string().transform((text, context) => {
  try {
    return parseDnsServerList(text);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const environmentSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional(),
  // A direct connection to PostgreSQL for what needs a session of its own (the
  // log collector's advisory lock) when DATABASE_URL goes through PgBouncer in
  // transaction mode; unset: DATABASE_URL.
  DATABASE_DIRECT_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgresql:// URL")
    .optional(),
  DATA_DIR: z.string().min(1).default("./data"),
  EMBEDDED_DB_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  MIGRATE_ON_START: booleanSetting.default(true),
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JWT_EXPIRES_IN_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 24 * 3600)
    .default(8 * 3600),
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  /** Threads hashing passwords, at a low CPU priority (nice 10); unset: one per CPU. */
  PASSWORD_HASH_THREADS: z.coerce.number().int().min(1).max(64).optional(),
  BOOTSTRAP_ADMIN_USERNAME: z.string().min(1).max(64).default("support"),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").max(72).optional(),
  // Two-factor login (docs/security.md): compulsory for support staff
  // (unset: on with NODE_ENV=production, off otherwise) and, separately, for
  // domain administrators; the issuer name authenticator apps show.
  TOTP_REQUIRED_FOR_SUPPORT: booleanSetting.optional(),
  TOTP_REQUIRED_FOR_DOMAIN_ADMINS: booleanSetting.default(false),
  TOTP_ISSUER: z
    .string()
    .regex(/^[^:]{1,64}$/, "must be 1 to 64 characters without a colon, such as mailadmin")
    .default("mailadmin"),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  LOGIN_CLIENT_MAX_FAILURES: z.coerce.number().int().min(1).max(1_000_000).default(50),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).default(900),
  DEFAULT_MAILBOX_QUOTA_MB: z.coerce.number().int().min(0).default(1024),
  // Usage thresholds in percent of a mailbox's quota: the default of the
  // listing of mailboxes above quota (its lowest) and the levels at which the
  // mail server's quota warnings go out (the Dovecot configuration reads it).
  QUOTA_WARNING_PERCENTS: z
    .string()
    .default("80,95")
    .transform((text, context) => {
      const parts = text.split(",").map((part) => part.trim());
      const percents = parts.map(Number);
      if (parts.some((part) => !/^\d+$/.test(part)) || percents.some((percent) => percent < 1 || percent > 100)) {
        context.addIssue({ code: "custom", message: "must be whole percentages from 1 to 100 separated by commas, such as 80,95" });
        return z.NEVER;
      }
      return [...new Set(percents)].sort((a, b) => a - b);
    }),
  TRUST_PROXY: booleanSetting.default(false),
  SERVICE_TIME_ZONE: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Asia/Taipei").default("Asia/Taipei"),
  // The language of answers when neither the request (Accept-Language) nor the caller's saved preference names one (docs/i18n.md).
  DEFAULT_LANGUAGE: z.enum(LANGUAGES).default("en"),
  LOG_SOURCES: z
    .string()
    .default("[]")
    .transform((text, context) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        context.addIssue({ code: "custom", message: 'must be JSON such as [{"name":"m2k-1","path":"/var/log/ezml/maillog","timeZone":"Asia/Taipei"}]' });
        return z.NEVER;
      }
    })
    .pipe(
      z.array(
        z.object({
          name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "a source name is 1 to 64 letters, digits, dots, dashes or underscores"),
          path: z.string().min(1),
          timeZone: z.string().refine(isValidTimeZone, "must be an IANA time zone such as Asia/Taipei").default("Asia/Taipei"),
          // ezml: the service's log servers; postfix: Postfix's log (docs/postfix-log.md).
          format: z.enum(["ezml", "postfix"], 'a source\'s format is "ezml" (the default) or "postfix"').default("ezml"),
        }),
      ),
    ),
  LOG_COLLECT_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  MAIL_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(183),
  // What Postfix's log said of a message still queued is kept this long without news (its queue lifetime is 5 days by default).
  POSTFIX_QUEUE_STATE_DAYS: z.coerce.number().int().min(1).max(365).default(10),
  // The mail servers (docs/mail-stack.md): their own database login, a member of
  // the role mailadmin_mailserver, and where mailboxes are stored.
  MAILSERVER_DB_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a PostgreSQL role name such as mailserver")
    .default("mailserver"),
  MAILSERVER_DB_PASSWORD: z
    .string()
    .regex(/^[\x21-\x7e]{8,}$/, "must be at least 8 printable characters without spaces")
    .optional(),
  MAIL_STORE_DIR: z.string().startsWith("/", "must be an absolute path such as /var/vmail").default("/var/vmail"),
  MAIL_STORE_USER: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a system user name such as vmail")
    .default("vmail"),
  // The development mail stack (npm run mailstack): its folder (default DATA_DIR/mailstack), loopback address and ports.
  MAILSTACK_DIR: z.string().min(1).optional(),
  MAILSTACK_ADDRESS: z
    .string()
    .refine((value) => isIPv4(value) && value.startsWith("127."), "must be a loopback address such as 127.0.0.1")
    .default("127.0.0.1"),
  MAILSTACK_PORT_BASE: z.coerce.number().int().min(1024).max(64_000).default(10_000),
  MAIL_SERVER_IPV4: z
    .string()
    .refine((value) => isIPv4(value), "must be an IPv4 address such as 203.79.224.60")
    .default("203.79.224.60"),
  MAIL_SERVER_IPV6: z
    .string()
    .refine((value) => isIPv6(value), "must be an IPv6 address such as 2001:db8::25")
    // One spelling (RFC 5952: lower case, zeros compressed), as published and as compared.
    .transform((value) => new URL(`http://[${value}]/`).hostname.slice(1, -1))
    .optional(),
  MAIL_SERVER_HOSTNAME: hostNameSetting.optional(),
  MAIL_HOST_PATTERN: hostPatternSetting.default("mail.{domain}"),
  WEBMAIL_HOST_PATTERN: hostPatternSetting.default("webmail.{domain}"),
  BACKUP_MX_HOST: hostNameSetting.optional(),
  SPF_INCLUDE: hostNameSetting.optional(),
  DKIM_SELECTOR: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9](?:[a-z0-9-]{0,62}))*$/i, "must be a DNS label such as mail or s2026")
    .default("default"),
  // DKIM keys made by mailadmin (docs/dkim.md): the key encrypting their private
  // halves at rest (32 bytes, base64 or hex; required in production), the size
  // of new RSA keys, an Ed25519 key alongside RSA for new domains (RFC 8463),
  // how long a replaced key stays published, and the age the DNS check warns at.
  DKIM_KEY_ENCRYPTION_KEY: z
    .string()
    .transform((text, context) => {
      const key = parseEncryptionKey(text);
      if (!key) {
        context.addIssue({ code: "custom", message: "must be 32 random bytes in base64 or hex (for example: openssl rand -base64 32)" });
        return z.NEVER;
      }
      return key;
    })
    .optional(),
  DKIM_RSA_KEY_BITS: z.coerce
    .number()
    .int()
    .min(1024, "receivers refuse RSA keys below 1024 bits")
    .max(4096, "at most 4096: a larger key does not fit a DNS answer comfortably")
    .default(2048),
  DKIM_ED25519: booleanSetting.default(false),
  DKIM_RETIRE_GRACE_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 365)
    .default(168),
  DKIM_KEY_MAX_AGE_DAYS: z.coerce.number().int().min(0).max(3650).default(180),
  DMARC_POLICY: z.enum(["none", "quarantine", "reject"]).default("quarantine"),
  DMARC_REPORT_ADDRESS: z
    .string()
    .regex(/^[^\s@;,]+@[^\s@;,]+\.[^\s@;,]+$/, "must be an e-mail address such as dmarc-reports@example.net")
    .optional(),
  DNS_SERVERS: dnsServerListSetting.optional(),
  DNS_QUERY_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(2000),
  DNS_QUERY_ATTEMPTS: z.coerce.number().int().min(1).max(5).default(2),
  DNS_CHECK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  DNS_CHECK_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(20),
  DNS_CHECK_CACHE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  // Remote mail server probe (probeMailServer, diagnoseDelivery).
  PROBE_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  PROBE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
  PROBE_GREETING_TIMEOUT_MS: z.coerce.number().int().min(50).max(300_000).default(10_000),
  PROBE_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).max(300_000).default(10_000),
  PROBE_TOTAL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  PROBE_MAX_ADDRESSES: z.coerce.number().int().min(1).max(50).default(6),
  PROBE_STARTTLS: booleanSetting.default(true),
  PROBE_ALLOW_PRIVATE: booleanSetting.default(false),
  /** Whether DNS checks may query nameservers at private, loopback or link-local addresses named by a customer's DNS (DNS_SERVERS are always asked). */
  DNS_ALLOW_PRIVATE: booleanSetting.default(false),
  PROBE_HELO_NAME: hostNameSetting.optional(),
  PROBE_RATE_LIMIT_PER_USER: z.coerce.number().int().min(1).max(100_000).default(20),
  PROBE_RATE_LIMIT_PER_TARGET: z.coerce.number().int().min(1).max(100_000).default(10),
  PROBE_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  // The support test domain (docs/test-domain.md): where sendTestMessage hands
  // its messages (a Postfix smtpd that relays for mailadmin's address), the log
  // source it reads their fate from at once, its rate limits, and the DNS used
  // to check SPF, DKIM and DMARC of received test messages (DNS_SERVERS).
  TEST_MESSAGE_SMTP: z
    .string()
    .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "must be host:port of a Postfix smtpd that relays for mailadmin, such as 127.0.0.1:10026")
    .optional(),
  TEST_MESSAGE_LOG_SOURCE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, "must be the name of a LOG_SOURCES entry")
    .optional(),
  TEST_MESSAGE_RATE_LIMIT_PER_USER: z.coerce.number().int().min(1).max(100_000).default(30),
  TEST_MESSAGE_RATE_LIMIT_PER_DOMAIN: z.coerce.number().int().min(1).max(100_000).default(10),
  TEST_MESSAGE_RATE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3600),
  // Browser IDE (GET /graphql from a browser) and bulk import of accounts.
  // GRAPHQL_IDE unset: on, except with NODE_ENV=production (src/ide/ide.ts).
  GRAPHQL_IDE: booleanSetting.optional(),
  IMPORT_MAX_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(50_000),
  IMPORT_MAX_MB: z.coerce.number().int().min(1).max(1024).default(20),
  IMPORT_HASH_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  IMPORT_JOB_RETENTION_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(3600),
  // Faults and observability: how long to wait for PostgreSQL before answering
  // SERVICE_UNAVAILABLE, the bound on a graceful shutdown, and GET /metrics.
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // On SIGTERM, /readyz answers 503 "draining" this long while requests are
  // still served, so that a load balancer stops sending new ones first.
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().int().min(0).max(300).default(0),
  METRICS_ENABLED: booleanSetting.default(true),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  // Limits and protection against hostile and heavy requests: what one request
  // may ask for (refused as BAD_USER_INPUT before any resolver runs, see
  // src/graphql/limits.ts), request rates per client address, per principal
  // and for logins (RATE_LIMITED, src/http/rate-limit.ts), and the browser
  // origins allowed to call the API (src/http/security.ts).
  // GRAPHQL_INTROSPECTION unset: on, except with NODE_ENV=production.
  GRAPHQL_INTROSPECTION: booleanSetting.optional(),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).max(1000).default(12),
  GRAPHQL_MAX_COMPLEXITY: z.coerce.number().int().min(1).max(100_000_000).default(10_000),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).max(100_000).default(30),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(100_000).default(20),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(10).max(10_000_000).default(5000),
  // 0 turns batching (a JSON array of operations in one POST) off.
  GRAPHQL_MAX_BATCH_SIZE: z.coerce.number().int().min(0).max(1000).default(10),
  REQUEST_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(2 * 1024 * 1024),
  RATE_LIMIT_ENABLED: booleanSetting.default(true),
  RATE_LIMIT_PER_CLIENT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000_000).default(1200),
  RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000_000).default(600),
  RATE_LIMIT_LOGIN_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000_000).default(10),
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((text, context) => {
      const origins: string[] = [];
      for (const item of text
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean)) {
        // An origin is scheme://host[:port], exactly as browsers send it in the Origin header.
        const url = URL.canParse(item) ? new URL(item) : undefined;
        if (!url || !["http:", "https:"].includes(url.protocol) || url.pathname !== "/" || url.search || url.hash || url.username) {
          context.addIssue({ code: "custom", message: `"${item}" is not an origin: list origins such as https://admin.example.com,http://localhost:5173` });
          return z.NEVER;
        }
        origins.push(url.origin);
      }
      return origins;
    }),
});

/** Every setting's name: .env.example and docs/configuration.md document each (test/server/settings.test.ts). */
export const SETTING_NAMES: readonly string[] = Object.keys(environmentSchema.shape);

export type Config = Omit<z.infer<typeof environmentSchema>, "JWT_SECRET"> & {
  JWT_SECRET: string;
  /** True when JWT_SECRET was generated for this process (development only). */
  jwtSecretGenerated: boolean;
};

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty values in .env files mean "unset".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${problems.join("\n")}`);
  }
  const settings = parsed.data;
  if (settings.JWT_SECRET === undefined && settings.NODE_ENV === "production") {
    throw new ConfigError(
      "JWT_SECRET is required when NODE_ENV=production: set it to a random string of at least 32 characters " +
        "(for example: openssl rand -base64 48). The server will not start without it.",
    );
  }
  if (settings.DKIM_KEY_ENCRYPTION_KEY === undefined && settings.NODE_ENV === "production") {
    throw new ConfigError(
      "DKIM_KEY_ENCRYPTION_KEY is required when NODE_ENV=production: it encrypts the domains' DKIM private keys at rest " +
        "(for example: openssl rand -base64 32). Keep it safe: without it the stored keys cannot be used. The server will not start without it.",
    );
  }
  return {
    ...settings,
    JWT_SECRET: settings.JWT_SECRET ?? randomBytes(48).toString("base64"),
    jwtSecretGenerated: settings.JWT_SECRET === undefined,
  };
}

/** Whether a principal of this role must have two-factor login (TOTP_REQUIRED_FOR_SUPPORT, TOTP_REQUIRED_FOR_DOMAIN_ADMINS). */
export function totpRequiredFor(config: Pick<Config, "NODE_ENV" | "TOTP_REQUIRED_FOR_SUPPORT" | "TOTP_REQUIRED_FOR_DOMAIN_ADMINS">, role: string): boolean {
  if (role === "SUPPORT_ADMIN" || role === "SUPPORT_READONLY") return config.TOTP_REQUIRED_FOR_SUPPORT ?? config.NODE_ENV === "production";
  if (role === "DOMAIN_ADMIN") return config.TOTP_REQUIRED_FOR_DOMAIN_ADMINS;
  return false;
}
