#!/usr/bin/env bash
# Run the S3 conformance suite against a real Ceph RGW (npm run test:rgw).
#   KEEP_RGW=1   leave RGW running afterwards (the next run then starts in well under a second)
#   CHUTE_RGW_DIR, CHUTE_RGW_PORT, …   see scripts/rgw-start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${CHUTE_RGW_DIR:-/tmp/chute-rgw}"

if [ "${KEEP_RGW:-0}" != 1 ]; then
  trap 'bash scripts/rgw-stop.sh' EXIT
fi
bash scripts/rgw-start.sh >/dev/null

set -a
# shellcheck source=/dev/null
. "$DIR/env"
set +a
CHUTE_S3_TARGET=rgw npx node --test 'test/conformance/**/*.test.ts'
