// English messages of cli (see ./index.ts for how the catalogues fit together):
// every line the command-line tools (src/cli) print for a person. Commands to
// type and paths are put in as values, so they stay as typed in every language.
export const cli = {
  // src/cli/language.ts
  "cli.unknown_language": "MAILADMIN_LANGUAGE is en or zh-TW, not {value}: using the locale or DEFAULT_LANGUAGE instead.",
  "cli.usage": "usage: {command}",
  "cli.wrote": "wrote {path}",

  // src/cli/import.ts
  "cli.import.usage":
    "usage: {command}\n  MAILADMIN_URL    the server (default {url})\n  MAILADMIN_TOKEN  a token of support staff or of the domain's administrator (login, or an API token with the write scope)",
  "cli.import.one_file": "give exactly one file",
  "cli.import.bad_mode": "--mode is per-row or all-or-nothing, not {value}",
  "cli.import.bad_format": "--format is csv or jsonl, not {value}",
  "cli.import.no_token": "set MAILADMIN_TOKEN to a login token (mutation login) or an API token",
  "cli.import.http_status": "the server answered HTTP {status}",
  "cli.import.uploaded_part": "uploaded part {part} of {parts}",
  "cli.import.uploading": "uploading",
  "cli.import.phase.VALIDATING": "validating",
  "cli.import.phase.HASHING": "hashing",
  "cli.import.phase.WRITING": "writing",
  "cli.import.phase.DONE": "done",
  "cli.import.phase.FAILED": "failed",
  "cli.import.progress": "{phase} {done}/{total} of {rows} rows",
  "cli.import.progress_percent": "{phase} {done}/{total} ({percent}%) of {rows} rows",
  "cli.import.row_error": "row {row} (line {line}) {code}: {message}",
  "cli.import.row_error_field": "row {row} (line {line}) {field} {code}: {message}",
  "cli.import.failed": "import failed: {reason}",
  "cli.import.dry_run_summary": "dry run: {rows} rows, {valid} would be created, {failed} refused",
  "cli.import.summary": "{rows} rows: {created} accounts created, {failed} rows refused",
  "cli.import.usage_error": "import: {error}",

  // src/cli/logs-collect.ts
  "cli.logs_collect.failed": "logs:collect failed: {error}",

  // src/cli/mailserver-config.ts
  "cli.mailserver_config.no_out": "--out DIR is required: the folder to write the configuration into",
  "cli.mailserver_config.no_database": "the mail servers read mailadmin's data from PostgreSQL: set DATABASE_URL (the embedded database serves the API alone)",
  "cli.mailserver_config.wrote_secret": "wrote (secret, 0600) {path}",
  "cli.mailserver_config.no_password":
    "MAILSERVER_DB_PASSWORD is unset: the files carry no password for {user} (fine with peer or trust authentication; otherwise set it and run again).",
  "cli.mailserver_config.where": 'Where each file goes: {doc}, "A Debian 12 mail host".',
  "cli.mailserver_config.error": "mailserver:config: {error}",

  // src/cli/mailserver-dkim.ts
  "cli.auth_milter.bad_listen": "--listen {listen}: give an address and a port, such as 127.0.0.1:8893",
  "cli.auth_milter.no_authserv_id": "--authserv-id or MAIL_SERVER_HOSTNAME: the mail server's name, under which the results are recorded",
  "cli.auth_milter.listening": "auth-milter: listening on {listen}, recording results as {authservId}, DNS {dns}",
  "cli.auth_milter.failed": "auth-milter: {error}",
  "cli.mailserver_dkim.no_out": "--out DIR is required: the folder to write the signer's files into",
  "cli.mailserver_dkim.no_database": "set DATABASE_URL: the keys are read from mailadmin's PostgreSQL",
  "cli.mailserver_dkim.backfilled": "made DKIM keys for {count} domain(s) without any: {domains}",
  "cli.mailserver_dkim.keys_written": "wrote {count} private key file(s) (0600) under {dir}: {domains} domain(s) signing",
  "cli.mailserver_dkim.next": "Copy {root} to {signerDir} (owner opendkim, keys 0600), point /etc/opendkim.conf's lines at it (opendkim.conf), and reload OpenDKIM: {doc}.",
  "cli.mailserver_dkim.error": "mailserver:dkim: {error}",

  // src/cli/mailstack.ts
  "cli.mailstack.running": "running",
  "cli.mailstack.stopped": "stopped",
  "cli.mailstack.postfix": "Postfix  {state}   SMTP {smtp}   submission {submission}",
  "cli.mailstack.dovecot": "Dovecot  {state}   IMAP {imap}   POP3 {pop3}   LMTP {lmtp}   quota-status {quotaStatus}",
  "cli.mailstack.folder": "folder   {dir}   mail {mail}",
  "cli.mailstack.opendkim": "OpenDKIM signs outgoing mail: milter {milter}, files in {dir} ({command} after a rotation)",
  "cli.mailstack.log_source": "Postfix's log, for mailadmin's collector: LOG_SOURCES={sources}",
  "cli.mailstack.none": "no mail stack in {dir}: start one with {command}",
  "cli.mailstack.down": "mail stack in {dir} stopped (its mail and logs are kept)",
  "cli.mailstack.no_database": "set DATABASE_URL",
  "cli.mailstack.dkim_restarted": "OpenDKIM restarted with {count} signing key(s)",
  "cli.mailstack.installing": "installing Debian packages: {packages} (the host's Postfix and Dovecot services are not started)",
  "cli.mailstack.stop_hint": "stop it with: {command}",
  "cli.mailstack.error": "mailstack: {error}",
} as const;
