#!/usr/bin/env bash
# Sets everything up, then runs the bridge locally: the Worker in workerd (wrangler dev) on
# http://127.0.0.1:8787, delivering to a local LaunchDarkly stand-in on http://127.0.0.1:8799
# that prints every payload it receives. No LaunchDarkly account needed. Ctrl-C stops both.
# Local development only: SEGMENT_ALLOW_UNSIGNED=true opens /segment to unsigned webhooks (the
# curl below), SEGMENT_WRITE_KEY (default local-dev-write-key) authenticates /v1/*, and
# DEV_MODE=true records requests for the playground's live view (/dev/recent).
#
#   curl -s localhost:8787/segment -H 'content-type: application/json' \
#     -d '{"type":"track","event":"Order Completed","userId":"u-1","properties":{"revenue":9.5}}'
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

BRIDGE_PORT="${BRIDGE_PORT:-8787}"
STANDIN_PORT="${STANDIN_PORT:-8799}"
CLIENT_SIDE_ID="${LD_CLIENT_SIDE_ID:-local-dev-environment}"
EVENTS_HOST="${LD_EVENTS_HOST:-http://127.0.0.1:$STANDIN_PORT}"

node tests/support/launchdarkly-standin.mjs --port "$STANDIN_PORT" &
standin=$!
trap 'kill $standin 2>/dev/null || true' EXIT

WRITE_KEY="${SEGMENT_WRITE_KEY:-local-dev-write-key}"
echo "[dev] bridge: http://127.0.0.1:$BRIDGE_PORT (POST /segment unsigned, POST /v1/track with write key $WRITE_KEY, GET /health)"
echo "[dev] playground: http://127.0.0.1:$BRIDGE_PORT/ ; events go to $EVENTS_HOST"
npx wrangler dev --ip 127.0.0.1 --port "$BRIDGE_PORT" \
  --var "LD_CLIENT_SIDE_ID:$CLIENT_SIDE_ID" --var "LD_EVENTS_HOST:$EVENTS_HOST" \
  --var "SEGMENT_WRITE_KEY:$WRITE_KEY" --var "SEGMENT_ALLOW_UNSIGNED:true" --var "DEV_MODE:true" "$@"
