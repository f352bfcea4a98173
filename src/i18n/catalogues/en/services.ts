// English messages of the capabilities' services: the policy's refusals,
// domains, accounts, aliases, API tokens, DKIM, support team, two-factor
// login, app passwords, sessions, usage, the delivery log and the rate limits
// (see ./index.ts for how the catalogues fit together).
export const services = {
  // src/auth/policy.ts: why an action is refused (FORBIDDEN).
  "policy.domain.create": "Only support staff may create domains.",
  "policy.domain.update": "Only support staff may change a domain's status, quotas and limits.",
  "policy.domain.delete": "Only support staff may delete a domain.",
  "policy.domain.reassign_admin": "Only support staff may change a domain's administrator.",
  "policy.dkim.read": "Only support staff and the domain's administrator may see its DKIM keys.",
  "policy.dkim.manage": "Only support staff and the domain's administrator may make or rotate its DKIM keys.",
  "policy.dkim.force_confirm": "Only support staff may switch signing to a key the DNS check has not seen published (force: true).",
  "policy.domain.list_accounts": "Only support staff and the domain's administrator may list its accounts.",
  "policy.account.create": "Only support staff and the domain's administrator may create accounts.",
  "policy.account.update": "Only support staff and the domain's administrator may change an account.",
  "policy.account.update_usage": "Only support staff may set an account's used storage (it is reported by the mail store).",
  "policy.account.set_password": "Only support staff and the domain's administrator may set another account's password; use changePassword for your own.",
  "policy.account.delete": "Only support staff and the domain's administrator may delete an account.",
  "policy.alias.read": "Only support staff and the domain's administrator may read its aliases.",
  "policy.alias.manage": "Only support staff and the domain's administrator may create, change or delete its aliases.",
  "policy.domain.set_catch_all": "Only support staff and the domain's administrator may set its catch-all.",
  "policy.domain.manage_alias_domains": "Only support staff may add or remove a domain's alias domains.",
  "policy.maillog.ingest": "Only support staff, or a service token (an API token with the LOGS scope created by support staff), may push delivery-log lines.",
  "policy.usage.report": "Only support staff, or a mail store's service token (an API token with the USAGE scope created by support staff), may report mailbox usage.",
  "policy.maillog.rejected": "Only support staff may read the log lines that could not be parsed.",
  "policy.dns.check": "Only support staff and the domain's administrator may check the domain's DNS.",
  "policy.probe.hosted": "Only support staff and the domain's administrator may probe the domain's mail servers.",
  "policy.probe.remote": "Only support staff may probe the mail servers of a domain not hosted here.",
  "policy.dns.check_all": "Only support staff may check many domains' DNS at once.",
  "policy.api_token.create": "Only support staff and domain administrators may create API tokens.",
  "policy.api_token.read": "Only support staff and the domain's administrator may list its API tokens.",
  "policy.test_message.send": "Only full support staff may send test messages.",
  "policy.test_mailbox.read": "Only support staff may read the messages received by a test mailbox.",
  "policy.test_mailbox.empty": "Only full support staff may empty a test mailbox.",
  "policy.support_admin.read": "Only support staff may list support staff.",
  "policy.support_admin.manage": "Only full support staff may add, change, disable or delete support accounts.",
  "policy.totp.reset": "Only full support staff may reset another person's two-factor login.",
  "policy.session.end_all": "Only full support staff may end another person's sessions; end your own with endSession.",
  "policy.app_password.manage": "Only the account itself, its domain's administrator and full support staff may create or revoke its app passwords.",
  "policy.audit.read": "Only support staff and the domain's administrator may read the audit trail.",
  "policy.read_only_support": "Your support account is read-only: it may read, check DNS, probe and diagnose, but not change anything. Ask a full support administrator.",

  // src/domains/domains.service.ts
  "domain.quota.total_ceiling": "The mailbox quotas of {domain} would add up to more than {most} MiB, the most a domain can hold.",
  "domain.quota.mailbox_above_domain": "A mailbox quota of {quotaMb} MiB is above the domain {domain}'s quota of {domainQuotaMb} MiB.",
  "domain.quota.mailboxes_above_domain":
    "A mailbox quota of {quotaMb} MiB would give the domain {domain} {total} MiB of mailbox quotas, above its quota of {domainQuotaMb} MiB ({unallocated} MiB are still free).",
  "domain.quota.mailboxes_above_domain_room":
    "A mailbox quota of {quotaMb} MiB would give the domain {domain} {total} MiB of mailbox quotas, above its quota of {domainQuotaMb} MiB ({unallocated} MiB are still free; this mailbox, now at {currentQuotaMb} MiB, can have at most {most} MiB).",
  "domain.quota.default_above_domain": "The default mailbox quota ({defaultMailboxQuotaMb} MiB) is above the domain quota ({quotaMb} MiB).",
  "domain.quota.admin_above_domain": "The administrator's mailbox quota ({adminQuotaMb} MiB) is above the domain quota ({quotaMb} MiB).",
  "domain.quota.below_allocated":
    "The domain's mailboxes already have {allocatedQuotaMb} MiB of quota in all; a domain quota of {quotaMb} MiB cannot hold them. Lower mailbox quotas first.",
  "domain.reference_both": "Give either the domain's id or its name, not both.",
  "domain.lookalike":
    "{unicodeName} ({name}) can pass for another name: {reasons}. Browsers show it as {name}. Create it only if the customer really owns it: repeat with confirmLookalikeName: true.",
  "domain.credential.new_admin_password": "Giving the new administrator's password",
  "domain.credential.change_admin": "Changing the administrator of {domain}",
  "domain.exists": "A domain named {name} already exists.",
  "domain.field_not_null": "{field} cannot be null.",
  "domain.max_aliases": "maxAliases must be a whole number, 0 or more (null: unlimited).",
  "domain.max_destinations": "maxDestinations must be a whole number from 1 to 1000.",
  "domain.max_accounts_below_count": "The domain already has {accountCount} accounts; maxAccounts cannot be lowered to {maxAccounts}. Delete accounts first.",
  "domain.delete_has_accounts":
    "The domain {domain} still has {count} account(s) besides its administrator (such as {example}). Delete them first, or delete with force: true to remove everything of the domain.",
  "domain.admin_of_other_domain": "{address} is not an account of {domain}: the administrator must be an account of its own domain.",
  "domain.warning.lookalike_confirmed": "Confirmed although {reason}.",
  "domain.warning.admin_password_unknown":
    "{address} got a password nobody knows: an API token never learns an administrator's password. Set one with a login session (setAccountPassword).",
  "domain.warning.quota_below_usage": "The domain already uses {usedMb} MiB, more than its new quota of {quotaMb} MiB.",
  "domain.admin_suspended": "{address} is suspended; reactivate it before making it the administrator.",

  // src/accounts/accounts.service.ts
  "account.reference_both": "Give either the account's id or its address, not both.",
  "account.max_accounts_reached": "The domain {domain} already has its maximum of {maxAccounts} accounts; raise maxAccounts or delete an account first.",
  "account.exists": "An account {localPart} already exists in that domain.",
  "account.suspend_self": "You cannot suspend your own account.",
  "account.used_total_ceiling": "The storage used by {domain} would add up to more than {most} MiB, the most a domain can hold.",
  "account.credential.admin_password": "Setting the password of {address}, the administrator of {domain},",
  "account.warning.quota_below_usage":
    '{address} already uses {usedMb} MiB, more than its quota of {quotaMb} MiB: new mail will bounce with "Destination mailbox exceeds quota" until it is cleaned up.',
  "account.delete_admin": "{address} is the administrator of {domain} and cannot be deleted; make another account the administrator first (reassignDomainAdmin).",

  // src/accounts/app-passwords.service.ts
  "app_password.name": "name must say where the password is used, such as Phone: 1 to 64 characters without control characters.",
  "app_password.too_many": "{address} has {max} active app passwords: revoke one first.",
  "app_password.name_taken": "{address} already has an active app password named {name}: choose another name or revoke that one.",

  // src/aliases/aliases.service.ts
  "alias.destinations_list": "{field} must be a list of e-mail addresses.",
  "alias.destinations_empty": "Give at least one destination address.",
  "alias.too_many_destinations": "{domain} allows at most {max} destinations for one address; {count} were given.",
  "alias.destination_unknown_local": "{destination} is an address of a domain hosted here, but no mailbox, forwarding or alias receives mail there: create it first.",
  "alias.destination_external": "{destination} is outside the domains hosted here, and {domain} does not allow forwarding to external addresses (allowExternalForwarding).",
  "alias.loop": "Mail would go round in a loop: {chain}. Remove one of these steps first.",
  "alias.reference_both": "Give either the alias's id or its address, not both.",
  "alias.exists_local_part": "{localPart} is already an alias or a mailbox of that domain.",
  "alias.address_is_mailbox": "{address} is a mailbox; an alias cannot take its address (use forwarding on the mailbox instead: setForwarding).",
  "alias.exists": "An alias {address} already exists; change it with updateAlias.",
  "alias.max_aliases_reached": "{domain} already has its maximum of {maxAliases} aliases; raise maxAliases or delete an alias first.",
  "alias.warning.alias_deleted": "The alias {alias} delivered only to {address}; it was deleted too.",
  "alias.warning.destination_removed": "The alias {alias} no longer delivers to {address}; it still delivers to {remaining}.",
  "alias.warning.forwarding_removed": "{account} no longer forwards to {address}.",
  "alias.warning.forwarding_ended": "{account} no longer forwards to {address}; its mail now stays in its mailbox.",
  "alias.warning.catch_all_off": "The catch-all of {domain} went to {address}; it is off now (mail to unknown addresses is refused).",
  "alias.warning.no_copy_kept": "Mail to {address} is forwarded and no copy stays in its mailbox.",
  "alias.warning.no_mailbox": "{address} has no mailbox and forwards nothing: no mail reaches it to answer.",
  "alias.destinations_missing": "Give the alias's new destinations.",
  "alias_domain.is_domain": "{name} is a domain hosted here; it cannot also be an alias domain.",
  "alias_domain.exists": "{name} is already an alias domain of {domain}.",
  "alias_domain.taken": "{name} is already a domain or an alias domain here.",
  "alias.auto_reply.subject": "The subject is 1 to 200 characters on one line.",
  "alias.auto_reply.body": "The message is 1 to 10,000 characters.",
  "alias.auto_reply.ends_before_start": "The end must come after the start.",
  "alias.auto_reply.days_between_replies": "daysBetweenReplies is a whole number of days from 1 to 30.",

  // src/apitokens/api-tokens.service.ts
  "api_token.name_length": 'A token\'s name is 1 to {max} characters, such as "provisioning script on host7".',
  "api_token.name_control_characters": "A token's name cannot hold control characters.",
  "api_token.scopes_empty": "Give at least one scope: {scopes}.",
  "api_token.scopes_unknown": "Unknown scope {unknown}: the scopes are {scopes}.",
  "api_token.token_caller": "API tokens cannot {what} API tokens (this request used {prefix}): log in and use the login token.",
  "api_token.expires_in_past": "expiresAt is in the past: give a future instant, or none for a token that does not expire.",
  "api_token.reference_both": "Give either the token's id or its prefix (mat_ and 12 letters or digits), not both.",
  "api_token.prefix": "prefix is the start of the token: mat_ and 12 lower-case letters or digits, such as mat_3f9a1c2b7d4e.",

  // src/dkim/dkim.service.ts
  "dkim.rotation.busy": "A rotation of {domain}'s DKIM keys is already under way (selector {selectors}): confirm it (confirmDkimRotation) or cancel it (cancelDkimRotation) first.",
  "dkim.rotation.no_active_key": "{domain} has no signing DKIM key to rotate: make one first (ensureDkimKeys).",
  "dkim.rotation.none_to_confirm": "No rotation of {domain}'s DKIM keys is under way: start one with startDkimRotation.",
  "dkim.rotation.none_to_cancel": "No rotation of {domain}'s DKIM keys is under way: there is nothing to cancel.",
  "dkim.rotation.not_published":
    "The DNS check does not see the new DKIM key published yet: {found}. Publish the record expectedDnsRecords lists, wait for it to reach the domain's nameservers, and confirm again.",
  "dkim.rotation.found": "{record}: {found}",
  "dkim.rotation.found_nothing": "nothing",
  "dkim.rotation.found_list": "{list}; {entry}",

  // src/auth: login, passwords, API tokens' reach (auth.failure.* are in core.ts).
  "auth.wrong_credentials": "Wrong username, address or password.",
  "auth.identifier_characters": "identifier holds characters no username or address has.",
  "auth.password_too_long": "password is too long.",
  "auth.support_disabled": "This support account is disabled: ask a full support administrator to enable it.",
  "auth.current_password_wrong": "The current password is wrong.",
  "auth.login_token_only": "{operation} cannot be done with an API token ({prefix}): log in and use the login token.",
  "auth.scope.missing": 'The API token {prefix} ("{name}") has the scopes {scopes}; {operation} needs the {requirement} scope.',
  "auth.scope.missing_for_type":
    'The API token {prefix} ("{name}") has the scopes {scopes}; reading {type} objects ({path}) needs the {needed} scope, whichever operation reaches them.',
  "auth.credential.token_refused":
    "{what} cannot be done with an API token ({prefix}): a token never sets, changes or learns the credentials of an administrator, so that a leaked token cannot outlive its revocation. Log in and do it with the login token.",
  "auth.credential.create_support": "Creating a support account",
  "auth.credential.support_password": "Setting a support admin's password",

  // src/auth/second-factor.service.ts: two-factor login (TOTP) and the login's second step.
  "auth.totp.wrong_code": "Wrong or already used code: give the code your authenticator app shows now, or an unused recovery code.",
  "auth.totp.already_on_enrol": "Two-factor login is already on: turn it off first (disableTotp with a code) to enrol a new phone.",
  "auth.totp.code_form": "code is a 6-digit code or a recovery code (xxxx-xxxx-xxxx).",
  "auth.totp.no_enrolment": "No enrolment is waiting: call startTotpEnrollment first.",
  "auth.totp.already_on": "Two-factor login is already on.",
  "auth.totp.enrolment_code_wrong": "The code does not match: check the phone's clock and give the code the app shows now (the enrolment is still waiting).",
  "auth.totp.compulsory": "Two-factor login is compulsory for you: it cannot be turned off. After a lost phone, ask support to reset it (resetTotp), then enrol the new phone.",
  "auth.totp.not_on": "Two-factor login is not on.",
  "auth.totp.enrol_first":
    "Two-factor login is compulsory for you and you have not enrolled yet: this login's token only lets you enrol (startTotpEnrollment, then confirmTotpEnrollment with a first code). Then log in again.",
  "auth.challenge.unknown": "challenge is not one that login returned.",
  "auth.challenge.unknown_login_again": "challenge is not one that login returned: log in again.",
  "auth.challenge.expired": "The login's second step waited too long (five minutes): log in again.",
  "auth.challenge.no_longer_valid": "This login is no longer valid: log in again.",
  "auth.challenge.totp_off": "Two-factor login was turned off or reset since the password was given: log in again.",

  // src/auth/support-admins.service.ts: the support team.
  "auth.support.username":
    "username must be 2 to 64 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit (no @: addresses are for mailbox accounts).",
  "auth.support.display_name": "displayName must be the person's name: 1 to 100 characters without control characters.",
  "auth.support.level": "level must be FULL or READ_ONLY.",
  "auth.support.status": "status must be ACTIVE or DISABLED.",
  "auth.support.exists": "A support admin named {username} already exists.",
  "auth.support.own_password": "Use changePassword to change your own password (it asks for the current one).",
  "auth.support.last_full_admin": "{username} is the last active FULL support admin: add or enable another FULL support admin first, so that someone can still manage the service.",

  // src/usage/usage.service.ts
  "usage.empty": "Give the usage of at least one mailbox.",
  "usage.too_many_rows": "A push carries at most {max} mailboxes (got {count}): send the rest in further pushes.",
  "usage.percent": "percent is a whole number from 1 to {max} (a share of each mailbox's quota; 100: full).",

  // src/maillog/maillog.service.ts
  "maillog.source": "source must be 1 to 64 letters, digits, dots, dashes or underscores (such as m2k-1).",
  "maillog.time_zone": "{timeZone} is not an IANA time zone such as Asia/Taipei.",
  "maillog.too_many_lines": "At most {max} lines per call (got {count}).",
  "maillog.line_too_long": "Line {line} is longer than {max} characters.",
  "maillog.line_unicode": "Line {line} is not valid Unicode text.",

  // src/http/rate-limit.ts and the login throttle (src/auth/auth.service.ts): RATE_LIMITED.
  "limit.too_many_requests":
    "Too many requests {whose, select, client {from your address} principal {for your login} other {to log in from your address}}: at most {max} a minute. Try again in {seconds} s.",
  "limit.failed_logins": "Too many failed logins. Try again in {minutes} minute(s).",
} as const;
