#!/usr/bin/env bash
# Run the S3 conformance suite, then the gateway's end-to-end and doctor tests and the client's
# tests, against a real Ceph RGW (npm run test:rgw). Each runs even if one before it failed; the
# script fails if any did.
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
status=0
CHUTE_S3_TARGET=rgw npx node --test 'test/conformance/**/*.test.ts' || status=1
CHUTE_S3_TARGET=rgw npx node --test packages/gateway/test/e2e.test.ts packages/gateway/test/multipart.test.ts packages/gateway/test/review.test.ts packages/gateway/test/frozen-rule.test.ts packages/gateway/test/doctor.test.ts packages/gateway/test/form.test.ts packages/gateway/test/proxy.test.ts || status=1
CHUTE_S3_TARGET=rgw npx node --test packages/client/test/upload.test.ts packages/client/test/multipart.test.ts || status=1
exit "$status"
