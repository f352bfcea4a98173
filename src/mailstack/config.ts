// The configuration of Postfix and Dovecot on mailadmin's data: map files,
// main.cf settings and Dovecot's SQL, dict and quota settings, all reading the
// read contract (schema mailserver_v1, docs/mail-stack.md) as the mail
// servers' least-privilege login. Pure text: `npm run mailserver:config`
// writes it for a Debian host, and the development stack (stack.ts) writes the
// same text with its own paths and ports, so what the end-to-end test proves
// is what operators install.

/** Where the mail servers find PostgreSQL, as the mail servers' own login (never the API's). */
export interface MailServerDatabase {
  /** A host name or address, or the directory of a Unix socket (starts with /). */
  host: string;
  port: number;
  dbname: string;
  user: string;
  password?: string;
}

export interface MailServerConfigOptions {
  database: MailServerDatabase;
  /** Postfix's myhostname; unset: Postfix keeps its own. */
  hostname?: string;
  /** Where the map files referenced from main.cf live. */
  postfixMapDir: string;
  /** Where dovecot-sql.conf.ext, the dict map and the quota warning script live. */
  dovecotDir: string;
  /** The folder holding one <domain>/<local part>/ folder per mailbox. */
  mailStoreDir: string;
  /** The system user owning the mail store; Dovecot delivers and reads as it. */
  mailUser: string;
  /** Thresholds of the quota warnings, in percent (QUOTA_WARNING_PERCENTS). */
  quotaWarningPercents: number[];
  /** How Postfix reaches Dovecot's LMTP, e.g. unix:private/dovecot-lmtp or inet:127.0.0.1:10024. */
  lmtpTarget: string;
  /** How Postfix reaches Dovecot's SASL service: a path (relative to Postfix's queue directory, or absolute) or inet:host:port. */
  saslPath: string;
  /** Dovecot's quota-status policy service, for refusing over-quota mail at RCPT time, e.g. inet:127.0.0.1:10065. */
  quotaStatusTarget: string;
  /** Where Dovecot's own listeners are; see dovecotListeners. */
  listeners: DovecotListeners;
  /** Extra arguments of dovecot-lda in the warning script (-c FILE for an instance of its own). */
  ldaArguments?: string[];
  /** Where Dovecot sends the messages it writes itself (out-of-office replies): host:port; unset: the host's sendmail. */
  submissionHost?: string;
}

/** Dovecot's services as the Postfix settings above expect them. */
export interface DovecotListeners {
  /** LMTP: a Unix socket path (absolute) or an address and port. */
  lmtp: { path: string } | { address: string; port: number };
  /** The SASL socket Postfix's smtpd asks (absolute path). */
  saslSocket: string;
  /** quota-status: address and port. */
  quotaStatus: { address: string; port: number };
  /** IMAP and POP3 logins: unset keeps Dovecot's defaults (143/993, 110/995 on every address). */
  imap?: { address: string; port: number };
  pop3?: { address: string; port: number };
}

export interface GeneratedFile {
  /** Path relative to the output folder. */
  path: string;
  content: string;
  /** Holds the mail login's password: readable by root and the mail servers only. */
  secret: boolean;
  executable?: boolean;
}

/** The reply Postfix gives for an administrator's login without a mailbox (quota 0). RFC 3463 X.2.1: mailbox disabled. */
export const NO_MAILBOX_REPLY = "550 5.2.1 This address is an administrator login without a mailbox (quota 0 MiB): it receives no mail until it is given a quota";
/** What Dovecot's quota-status answers Postfix for a message the mailbox has no room for. */
export const OVER_QUOTA_REPLY = "552 5.2.2 Mailbox is full: the message is larger than the room left in the recipient's quota";

/** Connection settings of a DATABASE_URL, with the mail servers' login in place of the API's. */
export function mailServerDatabase(databaseUrl: string, user: string, password?: string): MailServerDatabase {
  const url = new URL(databaseUrl);
  const socketDir = url.searchParams.get("host");
  const host = url.hostname ? decodeURIComponent(url.hostname).replace(/^\[|\]$/g, "") : (socketDir ?? "/var/run/postgresql");
  return { host, port: Number(url.port || 5432), dbname: decodeURIComponent(url.pathname.slice(1)) || "postgres", user, password };
}

// A value that cannot be written safely into Postfix's or Dovecot's files
// (a line break ends the setting, spaces end a libpq value in Postfix's).
function assertPlainValue(name: string, value: string): void {
  if (!/^[\x21-\x7e]+$/.test(value)) throw new Error(`${name} must be printable ASCII without spaces to be written into the mail servers' configuration`);
}

/** libpq's connection string for Dovecot, values quoted (libpq's rules: backslash escapes). */
function libpqConnect(database: MailServerDatabase): string {
  const quote = (value: string) => `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const parts = [`host=${quote(database.host)}`, `port=${database.port}`, `dbname=${quote(database.dbname)}`, `user=${quote(database.user)}`];
  if (database.password) parts.push(`password=${quote(database.password)}`);
  return parts.join(" ");
}

function postfixMap(database: MailServerDatabase, purpose: string, query: string): string {
  const host = database.host.startsWith("/") ? `unix:${database.host}/.s.PGSQL.${database.port}` : `inet:${database.host}:${database.port}`;
  return [
    `# ${purpose}`,
    "# Written by mailadmin (npm run mailserver:config). Reads the read contract",
    "# mailserver_v1 as the mail servers' own login: see docs/mail-stack.md.",
    `hosts = ${host}`,
    `user = ${database.user}`,
    ...(database.password ? [`password = ${database.password}`] : []),
    `dbname = ${database.dbname}`,
    // %s is the lookup key, escaped by Postfix; addresses and domain names are stored in lower case.
    `query = ${query}`,
    "",
  ].join("\n");
}

export function postfixMapFiles(options: Pick<MailServerConfigOptions, "database">): GeneratedFile[] {
  const { database } = options;
  assertPlainValue("the mail servers' database user", database.user);
  if (database.password) assertPlainValue("MAILSERVER_DB_PASSWORD", database.password);
  const file = (name: string, purpose: string, query: string): GeneratedFile => ({ path: `postfix/${name}`, content: postfixMap(database, purpose, query), secret: true });
  return [
    file("pgsql-domains.cf", "virtual_mailbox_domains: the active hosted domains", "SELECT 'OK' FROM mailserver_v1.domains WHERE domain = lower('%s')"),
    file(
      "pgsql-mailboxes.cf",
      "virtual_mailbox_maps: the addresses that receive mail (unknown ones are refused at RCPT with 550 5.1.1)",
      "SELECT maildir FROM mailserver_v1.mailboxes WHERE address = lower('%s') AND accepts_mail",
    ),
    file(
      "pgsql-recipient-refusals.cf",
      "check_recipient_access: a clear refusal for an administrator login without a mailbox (quota 0) that forwards nothing",
      `SELECT '${NO_MAILBOX_REPLY}' FROM mailserver_v1.mailboxes m WHERE m.address = lower('%s') AND NOT m.accepts_mail AND NOT EXISTS (SELECT 1 FROM mailserver_v1.virtual_aliases v WHERE v.address = m.address)`,
    ),
    file(
      "pgsql-virtual-aliases.cf",
      "virtual_alias_maps: aliases, forwarding, each mailbox to itself, catch-alls (key @domain)",
      "SELECT destination FROM mailserver_v1.virtual_aliases WHERE address = lower('%s')",
    ),
    file(
      "pgsql-alias-domain-addresses.cf",
      "virtual_alias_maps: the addresses of alias domains, to the same local part of their domain",
      "SELECT destination FROM mailserver_v1.alias_domain_addresses WHERE alias_domain = lower('%d') AND local_part = lower('%u')",
    ),
    file("pgsql-alias-domains.cf", "virtual_alias_domains: the active alias domains", "SELECT 'OK' FROM mailserver_v1.alias_domains WHERE domain = lower('%s')"),
    file("pgsql-sender-logins.cf", "smtpd_sender_login_maps: which login may send as an address", "SELECT login FROM mailserver_v1.sender_logins WHERE sender = lower('%s')"),
  ];
}

/** main.cf settings for the hosted domains (`postconf -e` accepts each line). */
export function postfixMainSettings(options: MailServerConfigOptions): string[] {
  const map = (name: string) => `proxy:pgsql:${options.postfixMapDir}/${name}`;
  return [
    ...(options.hostname ? [`myhostname = ${options.hostname}`] : []),
    `virtual_mailbox_domains = ${map("pgsql-domains.cf")}`,
    `virtual_mailbox_maps = ${map("pgsql-mailboxes.cf")}`,
    `virtual_alias_maps = ${map("pgsql-virtual-aliases.cf")}, ${map("pgsql-alias-domain-addresses.cf")}`,
    `virtual_alias_domains = ${map("pgsql-alias-domains.cf")}`,
    `virtual_transport = lmtp:${options.lmtpTarget}`,
    `smtpd_sender_login_maps = ${map("pgsql-sender-logins.cf")}`,
    "smtpd_sasl_type = dovecot",
    `smtpd_sasl_path = ${options.saslPath}`,
    "smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination",
    // The administrator-without-mailbox refusal comes before Postfix's own
    // unknown-recipient refusal would; over-quota mail is refused at RCPT
    // time when the client announced the size (no bounce after acceptance).
    `smtpd_recipient_restrictions = check_recipient_access ${map("pgsql-recipient-refusals.cf")}, reject_unlisted_recipient, check_policy_service ${options.quotaStatusTarget}`,
  ];
}

/** The submission service (port 587 on a host): authenticated users send as the addresses they may. */
export function postfixSubmissionService(listen: string, extraOptions: string[] = []): string[] {
  return [
    `${listen} inet n - n - - smtpd`,
    "  -o syslog_name=postfix/submission",
    "  -o smtpd_sasl_auth_enable=yes",
    ...extraOptions.map((option) => `  -o ${option}`),
    "  -o smtpd_client_restrictions=permit_sasl_authenticated,reject",
    "  -o smtpd_sender_restrictions=reject_sender_login_mismatch",
    "  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
    "  -o smtpd_recipient_restrictions=reject_non_fqdn_recipient,permit_sasl_authenticated,reject",
  ];
}

/** dovecot-sql.conf.ext: passdb and userdb on the read contract. */
export function dovecotSqlFile(options: MailServerConfigOptions): GeneratedFile {
  const store = options.mailStoreDir.replace(/\/$/, "");
  assertPlainValue("the mail store folder", store);
  return {
    path: "dovecot/dovecot-sql.conf.ext",
    secret: true,
    content: [
      "# Dovecot's passdb and userdb on mailadmin's read contract (docs/mail-stack.md).",
      "# Written by mailadmin (npm run mailserver:config).",
      "driver = pgsql",
      `connect = ${libpqConnect(options.database)}`,
      // The hash as mailadmin stores it ({BLF-CRYPT}$2b$...): no second copy of any password.
      "default_pass_scheme = BLF-CRYPT",
      // A login needs an active account of an active domain that has a mailbox:
      // an administrator login without a mailbox (quota 0) has no mail to read.
      "password_query = SELECT address AS user, password FROM mailserver_v1.mailboxes WHERE address = '%u' AND can_login AND accepts_mail",
      // A suspended account keeps receiving (LMTP asks the userdb only).
      `user_query = SELECT '${store}/' || maildir AS home, '*:bytes=' || quota_bytes AS quota_rule FROM mailserver_v1.mailboxes WHERE address = '%u' AND accepts_mail`,
      "iterate_query = SELECT address AS user FROM mailserver_v1.mailboxes WHERE accepts_mail",
      "",
    ].join("\n"),
  };
}

/**
 * dovecot-sql-app-passwords.conf.ext: the second passdb, the mailboxes' app
 * passwords (docs/support-team.md). The row is found by the first 12
 * characters of the password typed (%12w: ap and its public id), never by the
 * rest, which only Dovecot's bcrypt check sees; the query never holds a secret.
 */
export function dovecotAppPasswordsFile(options: Pick<MailServerConfigOptions, "database">): GeneratedFile {
  return {
    path: "dovecot/dovecot-sql-app-passwords.conf.ext",
    secret: true,
    content: [
      "# Dovecot's second passdb: app passwords of mail clients, on mailadmin's read contract (docs/mail-stack.md).",
      "# Written by mailadmin (npm run mailserver:config).",
      "driver = pgsql",
      `connect = ${libpqConnect(options.database)}`,
      "default_pass_scheme = BLF-CRYPT",
      "password_query = SELECT address AS user, password FROM mailserver_v1.app_passwords WHERE address = '%u' AND prefix = '%12w'",
      "",
    ].join("\n"),
  };
}

/** The SQL dict map through which Dovecot reads each user's Sieve script (the out-of-office reply) from the read contract. */
export function dovecotSieveDictFile(options: Pick<MailServerConfigOptions, "database">): GeneratedFile {
  return {
    path: "dovecot/dovecot-dict-sieve.conf.ext",
    secret: true,
    content: [
      "# Where Dovecot reads each user's Sieve script (out-of-office replies): mailserver_v1.sieve_scripts (docs/aliases.md).",
      `connect = ${libpqConnect(options.database)}`,
      "map {",
      "  pattern = priv/sieve/name/$script_name",
      "  table = mailserver_v1.sieve_scripts",
      "  username_field = username",
      "  value_field = id",
      "  fields {",
      "    name = $script_name",
      "  }",
      "}",
      "map {",
      "  pattern = priv/sieve/data/$script_id",
      "  table = mailserver_v1.sieve_scripts",
      "  username_field = username",
      "  value_field = script",
      "  fields {",
      "    id = $script_id",
      "  }",
      "}",
      "",
    ].join("\n"),
  };
}

/** The SQL dict map through which Dovecot's quota_clone writes usage into mailbox_usage (docs/usage.md). */
export function dovecotUsageDictFile(options: Pick<MailServerConfigOptions, "database">): GeneratedFile {
  const map = (key: string, field: string) => [
    "map {",
    `  pattern = priv/quota/${key}`,
    "  table = mailbox_usage",
    "  username_field = username",
    `  value_field = ${field}`,
    "  value_type = uint",
    "}",
  ];
  return {
    path: "dovecot/dovecot-dict-usage.conf.ext",
    secret: true,
    content: [
      "# Where Dovecot's quota_clone writes each mailbox's usage: mailadmin's mailbox_usage (docs/usage.md).",
      `connect = ${libpqConnect(options.database)}`,
      ...map("storage", "bytes"),
      ...map("messages", "messages"),
      "",
    ].join("\n"),
  };
}

/** The script Dovecot runs when a mailbox crosses a warning threshold: a message into that mailbox. */
export function quotaWarningScript(options: MailServerConfigOptions): GeneratedFile {
  const lda = ["/usr/lib/dovecot/dovecot-lda", ...(options.ldaArguments ?? [])].join(" ");
  return {
    path: "dovecot/quota-warning.sh",
    secret: false,
    executable: true,
    content: `#!/bin/sh
# Dovecot runs this when a mailbox crosses a quota warning threshold
# (QUOTA_WARNING_PERCENTS): $1 is the percentage, $2 the mailbox. The warning
# is delivered into the mailbox itself, past the quota (noenforcing).
# Written by mailadmin (npm run mailserver:config).
set -eu
PERCENT="$1"
USER="$2"
DOMAIN="\${USER#*@}"
cat <<EOF | ${lda} -d "$USER" -o "plugin/quota=count:User quota:noenforcing"
From: postmaster@$DOMAIN
To: $USER
Subject: Your mailbox is $PERCENT% full / 您的信箱已使用 $PERCENT% 配額
Auto-Submitted: auto-generated
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit
MIME-Version: 1.0

Your mailbox $USER has used $PERCENT% of its quota. When it is full, new
mail to it is refused. Delete old messages (empty the trash too), or ask
your domain administrator for a larger quota.

您的信箱 $USER 已使用配額的 $PERCENT%。信箱滿了之後，寄給您的新郵件將被拒收。
請刪除舊郵件（並清空垃圾桶），或請網域管理者提高您的配額。
EOF
`,
  };
}

function listenerBlock(name: string, listener: { path: string } | { address: string; port: number }, unixOwner?: string): string[] {
  if ("path" in listener) {
    const owner = unixOwner ? [`    user = ${unixOwner}`, `    group = ${unixOwner}`] : [];
    return [`  unix_listener ${listener.path} {`, "    mode = 0600", ...owner, "  }"];
  }
  return [`  inet_listener ${name} {`, `    address = ${listener.address}`, `    port = ${listener.port}`, "  }"];
}

/**
 * Dovecot's settings for mailadmin's mailboxes: authentication and user data
 * from SQL, quota from quotaMb, usage written back, quota warnings, LMTP and
 * the services Postfix asks. Debian: /etc/dovecot/conf.d/90-mailadmin.conf.
 */
export function dovecotSettings(options: MailServerConfigOptions): string[] {
  const dir = options.dovecotDir.replace(/\/$/, "");
  const { listeners } = options;
  const percents = [...options.quotaWarningPercents].sort((a, b) => b - a);
  const warnings = percents.map((percent, index) => `  quota_warning${index === 0 ? "" : index + 1} = storage=${percent}%% quota-warning ${percent} %u`);
  return [
    "# Mailboxes of mailadmin (docs/mail-stack.md). Written by mailadmin (npm run mailserver:config).",
    // Users type their address in any case; mailadmin stores it in lower case.
    "auth_username_format = %Lu",
    ...(options.submissionHost ? [`submission_host = ${options.submissionHost}`] : []),
    "auth_mechanisms = plain login",
    "passdb {",
    "  driver = sql",
    `  args = ${dir}/dovecot-sql.conf.ext`,
    "}",
    // Tried when the account's own password does not match: its app passwords (mail clients only, never the API).
    "passdb {",
    "  driver = sql",
    `  args = ${dir}/dovecot-sql-app-passwords.conf.ext`,
    "}",
    "userdb {",
    "  driver = sql",
    `  args = ${dir}/dovecot-sql.conf.ext`,
    "}",
    `mail_uid = ${options.mailUser}`,
    `mail_gid = ${options.mailUser}`,
    "mail_location = maildir:~/Maildir",
    "mail_plugins = $mail_plugins quota quota_clone",
    "protocol imap {",
    "  mail_plugins = $mail_plugins imap_quota",
    "}",
    "protocol lmtp {",
    ...(options.hostname ? [`  postmaster_address = postmaster@${options.hostname}`] : []),
    // Out-of-office replies: the Sieve script mailadmin keeps for the user, if any.
    "  mail_plugins = $mail_plugins sieve",
    "}",
    // A message larger than the room left is refused with 552 5.2.2 at the end of DATA
    // (and at RCPT when the quota is already full); Postfix logs the refusal.
    "lmtp_rcpt_check_quota = yes",
    "dict {",
    `  usage = pgsql:${dir}/dovecot-dict-usage.conf.ext`,
    `  sieve = pgsql:${dir}/dovecot-dict-sieve.conf.ext`,
    "}",
    "plugin {",
    "  quota = count:User quota",
    "  quota_vsizes = yes",
    "  quota_grace = 0",
    // Usage goes to mailbox_usage after every change (docs/usage.md).
    "  quota_clone_dict = proxy::usage",
    ...warnings,
    "  quota_status_success = DUNNO",
    "  quota_status_nouser = DUNNO",
    `  quota_status_overquota = "${OVER_QUOTA_REPLY}"`,
    // The user's Sieve script comes from mailadmin (read-only); its compiled form is kept in the mailbox's home.
    "  sieve = dict:proxy::sieve;name=active;bindir=~/.sieve-bin",
    // Aliases and forwarding deliver mail not addressed to the user by name: answer it too.
    "  sieve_vacation_dont_check_recipient = yes",
    "  sieve_vacation_send_from_recipient = yes",
    "}",
    "service quota-warning {",
    `  executable = script ${dir}/quota-warning.sh`,
    `  user = ${options.mailUser}`,
    "  unix_listener quota-warning {",
    `    user = ${options.mailUser}`,
    "  }",
    "}",
    "service quota-status {",
    "  executable = quota-status -p postfix",
    ...listenerBlock("quota-status", listeners.quotaStatus),
    "  client_limit = 1",
    "}",
    "service lmtp {",
    ...listenerBlock("lmtp", listeners.lmtp, "postfix"),
    "}",
    "service auth {",
    "  unix_listener " + listeners.saslSocket + " {",
    "    mode = 0660",
    "    user = postfix",
    "    group = postfix",
    "  }",
    // dovecot-lda of the warning script (running as the mail user) asks the userdb here.
    "  unix_listener auth-userdb {",
    "    mode = 0660",
    `    user = ${options.mailUser}`,
    `    group = ${options.mailUser}`,
    "  }",
    "}",
    // Mail processes and dovecot-lda run as the mail user and report to the stats service.
    "service stats {",
    "  unix_listener stats-writer {",
    `    user = ${options.mailUser}`,
    "    group = $default_internal_group",
    "    mode = 0660",
    "  }",
    "}",
    "service dict {",
    "  unix_listener dict {",
    "    mode = 0660",
    `    user = ${options.mailUser}`,
    `    group = ${options.mailUser}`,
    "  }",
    "}",
    ...(listeners.imap ? ["service imap-login {", ...listenerBlock("imap", listeners.imap), "  inet_listener imaps {", "    port = 0", "  }", "}"] : []),
    ...(listeners.pop3 ? ["service pop3-login {", ...listenerBlock("pop3", listeners.pop3), "  inet_listener pop3s {", "    port = 0", "  }", "}"] : []),
    "",
  ];
}

/** Every file of a Debian 12 host's configuration, as `npm run mailserver:config -- --out DIR` writes them. */
export function debianMailServerFiles(
  options: Omit<MailServerConfigOptions, "postfixMapDir" | "dovecotDir" | "lmtpTarget" | "saslPath" | "quotaStatusTarget" | "listeners">,
): GeneratedFile[] {
  const full: MailServerConfigOptions = {
    ...options,
    postfixMapDir: "/etc/postfix/mailadmin",
    dovecotDir: "/etc/dovecot/mailadmin",
    // Postfix's smtpd and lmtp run chrooted in /var/spool/postfix on Debian: the sockets live there.
    lmtpTarget: "unix:private/dovecot-lmtp",
    saslPath: "private/auth",
    quotaStatusTarget: "inet:127.0.0.1:12340",
    listeners: { lmtp: { path: "/var/spool/postfix/private/dovecot-lmtp" }, saslSocket: "/var/spool/postfix/private/auth", quotaStatus: { address: "127.0.0.1", port: 12340 } },
  };
  return [
    ...postfixMapFiles(full),
    {
      path: "postfix/main.cf.mailadmin",
      secret: false,
      content: ["# Add to /etc/postfix/main.cf (or: postconf -e each line). docs/mail-stack.md", ...postfixMainSettings(full), ""].join("\n"),
    },
    {
      path: "postfix/master.cf.mailadmin",
      secret: false,
      content: [
        "# Add to /etc/postfix/master.cf in place of Debian's commented submission service.",
        ...postfixSubmissionService("submission", ["smtpd_tls_security_level=encrypt", "smtpd_tls_auth_only=yes"]),
        "",
      ].join("\n"),
    },
    { path: "dovecot/conf.d/90-mailadmin.conf", secret: false, content: dovecotSettings(full).join("\n") },
    dovecotSqlFile(full),
    dovecotAppPasswordsFile(full),
    dovecotUsageDictFile(full),
    dovecotSieveDictFile(full),
    quotaWarningScript(full),
  ];
}
