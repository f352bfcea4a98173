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
# Postfix, the MTA the probe tests connect to on 127.0.0.1:25: as root,
# installed (and set up) if missing and started if stopped.
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  bash "$(dirname "$0")/test-postfix.sh"
elif [ ! -x /usr/sbin/postfix ]; then
  needed+=(postfix)
fi
[ ${#needed[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "The tests need these Debian packages: ${needed[*]}. Install them as root (apt-get install ${needed[*]}) and run npm test again." >&2
  exit 1
fi
echo "installing test servers: ${needed[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${needed[@]}" >/dev/null
