#!/usr/bin/env bash
# npm run test:cluster: start the cluster (scripts/cluster-up.sh), then run against it
#   1. the gateway's end-to-end suites (packages/gateway/test: e2e, multipart, review, form, proxy,
#      webhooks-e2e, frozen-rule), one file at a time, through the balancer: CHUTE_E2E_CLUSTER
#      makes their harness restart the cluster's instances on each file's own config on an empty
#      database (scripts/cluster-restart.sh; frozen-rule restarts them on other routes mid-test)
#      instead of starting a gateway; the few tests that need a gateway's insides (its clock, a
#      storage fault injected into it) skip, saying why;
#   2. test/cluster (cross-instance complete, quotas across instances, one sweeper), on the
#      cluster's own config again; it kills an instance, so it runs last;
# and stop it. Each runs even if the one before failed; the script fails if any did.
# KEEP_CLUSTER=1 leaves the cluster running; the environment is cluster-up.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${CHUTE_CLUSTER_DIR:-/tmp/chute-cluster}"
SUITES=()
for name in e2e multipart review form proxy webhooks-e2e frozen-rule; do
  SUITES+=("packages/gateway/test/$name.test.ts")
done

if [ "${KEEP_CLUSTER:-0}" != 1 ]; then
  trap 'bash scripts/cluster-down.sh' EXIT
fi
bash scripts/cluster-up.sh >/dev/null
set -a
# shellcheck source=/dev/null
. "$DIR/env"
set +a
status=0
CHUTE_S3_TARGET=rgw CHUTE_E2E_CLUSTER="$DIR" npx node --test --test-concurrency=1 "${SUITES[@]}" || status=1
bash scripts/cluster-restart.sh --empty-db "$DIR/chute.config.json" || status=1
npx node --test 'test/cluster/**/*.test.ts' || status=1
exit "$status"
