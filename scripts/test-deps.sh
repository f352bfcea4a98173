#!/usr/bin/env bash
# Installs the real servers the test suite starts by itself on loopback
# (npm run test:deps; .ci/run): NSD, the authoritative DNS server of the
# DNS-check tests. PostgreSQL is optional (TEST_DATABASE_URL); the embedded
# database needs nothing. Debian's packages, as root; a clear message otherwise.
set -euo pipefail
needed=()
[ -x /usr/sbin/nsd ] || needed+=(nsd)
# Chromium: the browser test of the GraphQL IDE (test/e2e/ide.test.ts) drives Debian's build.
[ -x /usr/bin/chromium ] || needed+=(chromium)
# curl and jq: examples/provision.sh, run by test/rest/examples.test.ts.
command -v curl >/dev/null || needed+=(curl)
command -v jq >/dev/null || needed+=(jq)
# Postfix (and openssl for its test certificate): the tests run instances of
# their own (test/helpers/postfix-instance.ts), never the host's service.
[ -x /usr/sbin/postfix ] || needed+=(postfix)
# The mail stack of test/mailstack/end-to-end.test.ts (src/mailstack/stack.ts
# names the same packages): Postfix's PostgreSQL maps, Dovecot with IMAP, POP3,
# LMTP and its PostgreSQL driver. Started by the tests on 127.0.0.26 only.
[ -e /usr/lib/postfix/postfix-pgsql.so ] || needed+=(postfix-pgsql)
command -v doveadm >/dev/null || needed+=(dovecot-core)
[ -x /usr/lib/dovecot/imap ] || needed+=(dovecot-imapd)
[ -x /usr/lib/dovecot/pop3 ] || needed+=(dovecot-pop3d)
[ -x /usr/lib/dovecot/lmtp ] || needed+=(dovecot-lmtpd)
[ -e /usr/lib/dovecot/modules/libdriver_pgsql.so ] || needed+=(dovecot-pgsql)
[ -e /usr/lib/dovecot/modules/lib90_sieve_plugin.so ] || needed+=(dovecot-sieve)
command -v openssl >/dev/null || needed+=(openssl)
# OpenDKIM, the mail stack's signer (test/mailstack/dkim-signing.test.ts, on 127.0.0.28).
[ -x /usr/sbin/opendkim ] || needed+=(opendkim)
[ -x /usr/sbin/opendkim-testkey ] || needed+=(opendkim-tools)
[ ${#needed[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "The tests need these Debian packages: ${needed[*]}. Install them as root (apt-get install ${needed[*]}) and run npm test again (npm run test:deps does it as root)." >&2
  exit 1
fi
echo "installing test servers: ${needed[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Installed, not configured or started: the tests start their own instances.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
# No package's service is started while installing (invoke-rc.d asks this
# script); one that was already there is left as it was.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq "${needed[@]}" >/dev/null
