#!/usr/bin/env bash
# Stop what scripts/cluster-up.sh started: the balancer and the instances (by their pid files,
# SIGTERM then SIGKILL after 10 s), the cluster's database, and RGW (KEEP_RGW=1 leaves it).
# Same environment as cluster-up.sh.
set -uo pipefail
cd "$(dirname "$0")/.."

DIR="${CHUTE_CLUSTER_DIR:-/tmp/chute-cluster}"
PORT="${CHUTE_CLUSTER_PORT:-7600}"
PG_ADMIN="${CHUTE_CLUSTER_PG:-postgres://postgres@127.0.0.1:5432/test}"
DB="chute_cluster_${PORT}"

log() { printf '[cluster-down] %s\n' "$*" >&2; }

stop_pid() { # stop_pid FILE
  local pid
  [ -s "$1" ] || return 0
  pid="$(cat "$1")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$1"
}

stop_pid "$DIR/haproxy.pid"
for f in "$DIR"/gw*.pid; do
  [ -e "$f" ] && stop_pid "$f"
done
PGOPTIONS=--client-min-messages=warning psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || log "could not drop $DB"
if [ "${KEEP_RGW:-0}" != 1 ]; then
  bash scripts/rgw-stop.sh >/dev/null 2>&1 || log "rgw-stop failed"
fi
rm -f "$DIR/env" "$DIR/chute.config.json"
log "stopped"
