#!/usr/bin/env bash
# Stop what scripts/cluster-up.sh started: the balancer and the instances (by their pid files,
# SIGTERM then SIGKILL after 10 s), the cluster's database, and RGW (KEEP_RGW=1 leaves it).
# Same environment as cluster-up.sh.
set -uo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/cluster-lib.sh
. scripts/cluster-lib.sh

log() { printf '[cluster-down] %s\n' "$*" >&2; }

stop_pids "$DIR/haproxy.pid"
stop_pids "$DIR"/gw*.pid
PGOPTIONS=--client-min-messages=warning psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || log "could not drop $DB"
if [ "${KEEP_RGW:-0}" != 1 ]; then
  bash scripts/rgw-stop.sh >/dev/null 2>&1 || log "rgw-stop failed"
fi
rm -f "$DIR/env" "$DIR"/*.config.json
log "stopped"
