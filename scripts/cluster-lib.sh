# Sourced by cluster-up.sh, cluster-restart.sh and cluster-down.sh: the cluster's environment
# (documented in cluster-up.sh's header), read the same way by all three, and two helpers.
# The caller has cd'd to the repository root.

DIR="${CHUTE_CLUSTER_DIR:-/tmp/chute-cluster}"
PORT="${CHUTE_CLUSTER_PORT:-7600}"
SIZE="${CHUTE_CLUSTER_SIZE:-3}"
PG_ADMIN="${CHUTE_CLUSTER_PG:-postgres://postgres@127.0.0.1:5432/test}"
DB="chute_cluster_${PORT}"
PG_URL="${PG_ADMIN%/*}/${DB}"
NODE="$(pwd)/node_modules/.bin/node"

# healthy URL: its /healthz answers 200 (within 2 s).
healthy() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1/healthz" || true)" = 200 ]; }

# stop_pids FILE...: SIGTERM the processes named by the pid files (all at once: each takes a
# second or two to close), SIGKILL those left after 10 s; removes the files.
stop_pids() {
  local f pid alive pids=()
  for f in "$@"; do
    if [ -s "$f" ]; then pids+=("$(cat "$f")"); fi
  done
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${pids[@]}"; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  rm -f "$@"
}
