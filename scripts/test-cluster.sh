#!/usr/bin/env bash
# npm run test:cluster: start the cluster (scripts/cluster-up.sh), run test/cluster against it,
# stop it. KEEP_CLUSTER=1 leaves it running; the environment is cluster-up.sh's.
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
npx node --test 'test/cluster/**/*.test.ts'
