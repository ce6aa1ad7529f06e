#!/usr/bin/env bash
# npm run test:cluster: start the cluster (scripts/cluster-up.sh), then run against it
#   1. the gateway's end-to-end suite (packages/gateway/test/e2e.test.ts) through the balancer,
#      with the cluster's config: CHUTE_E2E_URL makes the suite's harness use that gateway
#      instead of starting its own (tests that need a gateway's insides skip, saying why);
#   2. test/cluster (cross-instance complete, quotas across instances, one sweeper; it kills an
#      instance, so it runs last);
# and stop it. Each runs even if the one before failed; the script fails if any did.
# KEEP_CLUSTER=1 leaves the cluster running; the environment is cluster-up.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${CHUTE_CLUSTER_DIR:-/tmp/chute-cluster}"

if [ "${KEEP_CLUSTER:-0}" != 1 ]; then
  trap 'bash scripts/cluster-down.sh' EXIT
fi
bash scripts/cluster-up.sh >/dev/null
set -a
# shellcheck source=/dev/null
. "$DIR/env"
set +a
status=0
CHUTE_S3_TARGET=rgw CHUTE_E2E_URL="$CHUTE_CLUSTER_URL" CHUTE_E2E_JWT_SECRET="$CHUTE_CLUSTER_JWT_SECRET" \
  CHUTE_E2E_BUCKET="$CHUTE_CLUSTER_BUCKET" npx node --test packages/gateway/test/e2e.test.ts || status=1
npx node --test 'test/cluster/**/*.test.ts' || status=1
exit "$status"
