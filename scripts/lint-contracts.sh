#!/usr/bin/env bash
# `npm run lint:contracts` (part of npm test): the two public contracts pass
# their ecosystem's linters.
#   schema.graphql   graphql-schema-linter, rules in .graphql-schema-linterrc
#                    (every type, field, argument, input value and enum value
#                    described; PageInfo as the Relay spec has it)
#   REST API         Redocly CLI's recommended rules (redocly.yaml) over the
#                    document GET /api/v1/openapi.json serves, written by
#                    scripts/openapi-document.ts from a server built in-process
# Offline: Redocly's telemetry and update check are off.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=node_modules/.bin

echo "== graphql-schema-linter: schema.graphql" >&2
"$bin/graphql-schema-linter" --format compact

work=$(mktemp -d /tmp/mailadmin-contracts.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$bin/tsx" scripts/openapi-document.ts "$work/openapi.json"
echo "== redocly lint: GET /api/v1/openapi.json" >&2
# Redocly 2.x prints a notice that its next major version needs Node.js 22; on Node 20 it runs as documented (docs/development.md).
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true REDOCLY_SUPPRESS_NOTIFICATIONS=true DO_NOT_TRACK=1 \
  "$bin/redocly" lint --config redocly.yaml --format stylish "$work/openapi.json"
