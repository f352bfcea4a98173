#!/usr/bin/env bash
# Postfix, the real MTA the probe tests connect to (test/probe/postfix.test.ts):
# Debian's package, listening on 127.0.0.1:25 only, with STARTTLS on a
# self-signed certificate for the probe to report. Run as root.
#
#   scripts/test-postfix.sh              install and configure it only if it is
#                                        missing (a Postfix already set up on a
#                                        developer's machine is left as it is),
#                                        start it if it is not running
#   scripts/test-postfix.sh --configure  also (re)configure an installed one
#                                        (CI machines: .ci/run)
set -euo pipefail
configure=false
[ "${1:-}" = "--configure" ] && configure=true
if [ ! -x /usr/sbin/postfix ]; then
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string mailadmin-test.localdomain" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq postfix openssl >/dev/null
  configure=true
fi
if $configure; then
  command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
  cert=/etc/postfix/mailadmin-test.pem
  key=/etc/postfix/mailadmin-test.key
  if [ ! -s "$cert" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$(postconf -h myhostname)" -keyout "$key" -out "$cert" 2>/dev/null
    chmod 600 "$key"
  fi
  postconf -e inet_interfaces=loopback-only inet_protocols=ipv4 \
    "smtpd_tls_cert_file=$cert" "smtpd_tls_key_file=$key" smtpd_tls_security_level=may
  postfix status >/dev/null 2>&1 && postfix reload >/dev/null 2>&1
fi
postfix status >/dev/null 2>&1 || postfix start
