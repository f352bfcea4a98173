// English messages of the GraphQL IDE (src/ide): its page, login helper and
// support tasks (see ./index.ts for how the catalogues fit together). The
// page gets them written in its language from GET /graphql-ide/texts.json;
// {name}-style values are put in by the page (src/ide/public/ide.js).
export const ide = {
  "ide.page.title": "mailadmin · GraphQL IDE",
  "ide.page.loading": "Loading the GraphQL IDE…",
  "ide.page.noscript": "The GraphQL IDE needs JavaScript. Without it, POST queries to this address (see docs/graphql-api.md in the project).",
  "ide.welcome": [
    "# mailadmin: GraphQL IDE for support staff",
    "#",
    "# 1. Log in above with your support username (or a mailbox address). The",
    "#    token goes into this tab's request headers (Headers, below) and is sent",
    "#    by every tab until you log out.",
    '# 2. Pick a task in "Support tasks" (the list icon on the left): it opens in',
    "#    a new tab with example variables to adjust. Or write a query here:",
    "#    Ctrl-Space completes, Ctrl-Enter runs, the book icon opens the schema.",
  ].join("\n"),

  "ide.login.region": "Login",
  "ide.login.identifier": "Username or address",
  "ide.login.password": "Password",
  "ide.login.submit": "Log in",
  "ide.login.submitting": "Logging in…",
  "ide.login.not_logged_in": "Not logged in.",
  "ide.login.logged_in": "Logged in as {name} ({role}), until {until}",
  "ide.login.enrollment_required": "Two-factor login is compulsory for you: run startTotpEnrollment, scan the QR code, confirm with confirmTotpEnrollment, then log in again.",
  "ide.login.logout": "Log out",
  "ide.login.no_answer": "The server did not answer: {error}",
  "ide.login.code": "Code from your authenticator app (or a recovery code)",
  "ide.login.confirm": "Confirm",
  "ide.login.checking": "Checking…",
  "ide.login.cancel": "Cancel",
  "ide.login.second_step": "Password accepted: second step.",

  "ide.tasks.title": "Support tasks",
  "ide.tasks.intro": "Each opens in a new tab with example variables: adjust them, then run.",

  "ide.task.find_domain.title": "Find a domain",
  "ide.task.find_domain.description": "Domains whose name contains the text, with their limits, usage and administrator.",
  "ide.task.find_account.title": "Find an account",
  "ide.task.find_account.description": "One mailbox by address: its id, status, quota and domain.",
  "ide.task.reset_password.title": "Reset a password",
  "ide.task.reset_password.description": "Run FindAccount for the id, put it in the variables, then run ResetPassword. The account's older sessions end.",
  "ide.task.reassign_admin.title": "Reassign the administrator",
  "ide.task.reassign_admin.description": "Run DomainAccounts for the ids, then ReassignAdmin: the new administrator gets DOMAIN_ADMIN, the previous one becomes USER.",
  "ide.task.todays_log.title": "Today's log of a user",
  "ide.task.todays_log.description": "What happened to this user's mail today (the service's time zone), newest first.",
  "ide.task.check_dns.title": "Check a domain's DNS",
  "ide.task.check_dns.description": "Look the customer's DNS up now against its set-up; every failed rule says what to change.",
  "ide.task.diagnose_delivery.title": "Diagnose delivery",
  "ide.task.diagnose_delivery.description":
    "Why did this user's mail not arrive or not go out: account, delivery records, a probe of the remote side and the DNS check in one answer.",
  "ide.task.import_accounts.title": "Import accounts (dry run)",
  "ide.task.import_accounts.description": "Check a small CSV of new accounts without creating any; set dryRun to false to import. Larger files: npm run import.",
  "ide.task.recent_changes.title": "Recent changes (audit)",
  "ide.task.recent_changes.description": "The latest audited changes, newest first: who did what to which object.",
  "ide.task.create_alias.title": "Make an address go to people (alias)",
  "ide.task.create_alias.description":
    "Creates an alias: mail to sales@ reaches every destination (mailboxes here, or outside addresses where the domain allows). Put the domain's id in the variables.",
  "ide.task.forwarding.title": "Forward a mailbox, or set an out-of-office reply",
  "ide.task.forwarding.description": "Run FindAccount for the id. SetForwarding with an empty list turns forwarding off; SetAutoReply with input null turns the reply off.",
  "ide.task.send_test_message.title": "Send a test message",
  "ide.task.send_test_message.description":
    "From a mailbox of the support test domain to a customer's address (here or remote). Run SendTestMessage, put its id in the variables, then run FollowTestMessage until final is true: accepted, delivered here, relayed with the remote's reply, deferred or bounced with the reason.",
  "ide.task.received_test_messages.title": "What did the customer's server send us?",
  "ide.task.received_test_messages.description":
    "Ask the customer to write to a mailbox of the support test domain, then list what arrived: sender, time, size, the SMTP client that delivered it, and its SPF, DKIM and DMARC results. EmptyTestMailbox clears the mailbox for the next test.",
} as const;
