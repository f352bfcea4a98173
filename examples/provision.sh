#!/usr/bin/env bash
# Provisions a customer's domain through the REST API with curl and an API
# token: the domain and its quotas, three mailboxes, Mary as the domain's
# administrator, then Mary's delivery log of the last six months.
#
#   MAILADMIN_URL=http://127.0.0.1:4000 MAILADMIN_TOKEN=mat_... MAILADMIN_LOGIN_TOKEN=eyJ... examples/provision.sh example.tw
#
# The token must be a support staff token (creating domains is support's) with
# the READ, WRITE and LOGS scopes. Changing a domain's administrator hands an
# account API powers, which an API token never does (docs/security.md): that
# one step uses a support login token, MAILADMIN_LOGIN_TOKEN (from login), and
# is skipped with a note without it. Safe to run
# again: every step is an idempotent PUT, and a mailbox that already exists
# keeps its password. New mailboxes get generated passwords, printed once.
# Needs curl and jq. Exits non-zero at the first refusal, printing the problem.
set -euo pipefail

: "${MAILADMIN_URL:?set MAILADMIN_URL, such as http://127.0.0.1:4000}"
: "${MAILADMIN_TOKEN:?set MAILADMIN_TOKEN to a support staff API token with READ, WRITE and LOGS (createApiToken)}"
DOMAIN=${1:?usage: provision.sh <domain>}
API="${MAILADMIN_URL%/}/api/v1"

# local part, display name, mailbox quota (MiB)
ACCOUNTS=(
  "mary|Mary Chen|2048"
  "john|John Wang|1024"
  "amy|Amy Lin|1024"
)
NEW_ADMIN=mary

# alias local part, destinations (local parts of this domain or full addresses)
ALIASES=(
  "sales|mary john"
  "info|amy"
)

# api METHOD PATH [JSON]: prints the answer's body; on an HTTP error prints the
# problem (status, code, field, detail) to stderr and fails.
api() {
  local method=$1 path=$2 body=${3-} response status
  local args=(-sS -X "$method" "$API$path" -H "authorization: Bearer ${BEARER:-$MAILADMIN_TOKEN}" -w '\n%{http_code}')
  if [ -n "$body" ]; then args+=(-H 'content-type: application/json' --data-binary "$body"); fi
  response=$(curl "${args[@]}")
  status=${response##*$'\n'}
  response=${response%$'\n'*}
  if [ "$status" -ge 400 ]; then
    jq -r --arg request "$method $path" '"\($request): \(.status) \(.code)\(if .field then " (" + .field + ")" else "" end): \(.detail)"' <<<"$response" >&2 ||
      echo "$method $path: HTTP $status" >&2
    return 1
  fi
  printf '%s\n' "$response"
}

# The HTTP status alone (for "does it exist yet?").
status_of() {
  curl -sS -o /dev/null -w '%{http_code}' "$API$1" -H "authorization: Bearer $MAILADMIN_TOKEN"
}

echo "== domain $DOMAIN"
api PUT "/domains/$DOMAIN" '{"quotaMb": 10240, "maxAccounts": 50, "defaultMailboxQuotaMb": 1024}' |
  jq -r '"\(if .created then "created" else "up to date" end): \(.domain.name), quota \(.domain.quotaMb) MiB, \(.domain.accountCount) account(s)" +
         (if .generatedAdminPassword then "\nadmin@\(.domain.name) password (shown once): \(.generatedAdminPassword)" else "" end)'

echo "== mailboxes"
for entry in "${ACCOUNTS[@]}"; do
  IFS='|' read -r local_part display_name quota <<<"$entry"
  path="/domains/$DOMAIN/accounts/$local_part"
  if [ "$(status_of "$path")" = 404 ]; then
    password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
    body=$(jq -n --arg name "$display_name" --arg password "$password" --argjson quota "$quota" '{displayName: $name, password: $password, quotaMb: $quota}')
  else
    password=""
    body=$(jq -n --arg name "$display_name" --argjson quota "$quota" '{displayName: $name, quotaMb: $quota}')
  fi
  api PUT "$path" "$body" | jq -r --arg password "$password" \
    '"\(if .created then "created" else "up to date" end): \(.account.address), \(.account.quotaMb) MiB" +
     (if $password != "" then ", password (shown once): \($password)" else "" end) +
     (.warnings | map("\n  warning: " + .message) | join(""))'
done

echo "== aliases"
for entry in "${ALIASES[@]}"; do
  IFS='|' read -r local_part destinations <<<"$entry"
  body=$(for destination in $destinations; do
    case $destination in *@*) echo "$destination" ;; *) echo "$destination@$DOMAIN" ;; esac
  done | jq -R . | jq -sc '{destinations: .}')
  api PUT "/domains/$DOMAIN/aliases/$local_part" "$body" |
    jq -r '"\(if .created then "created" else "up to date" end): \(.alias.address) -> \(.alias.destinations | join(", "))"'
done

echo "== administrator"
if [ -n "${MAILADMIN_LOGIN_TOKEN:-}" ]; then
  BEARER=$MAILADMIN_LOGIN_TOKEN api PUT "/domains/$DOMAIN/admin" "$(jq -n --arg local "$NEW_ADMIN" '{localPart: $local}')" |
    jq -r '"administrator of \(.domain): \(.admin.address)" + (if .previousAdmin then " (was \(.previousAdmin.address))" else " (unchanged)" end)'
else
  echo "skipped: making $NEW_ADMIN@$DOMAIN the administrator needs a login session (set MAILADMIN_LOGIN_TOKEN to a support login token)"
fi

echo "== delivery log of $NEW_ADMIN@$DOMAIN, last six months"
api GET "/accounts/$NEW_ADMIN@$DOMAIN/mail-log?range=LAST_6_MONTHS&first=20" |
  jq -r '"\(.totalCount) record(s)", (.items[] | "\(.loggedAt) \(.direction // "-") \(.status) \(.sender // "-") -> \(.recipient // "-") \"\(.subject // "")\" \(.reason // "")")'
