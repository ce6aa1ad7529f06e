#!/usr/bin/env bash
# (Re)start the instances of a cluster of scripts/cluster-up.sh on CONFIG: a config change.
#
#   bash scripts/cluster-restart.sh [--empty-db] CONFIG
#
# Stops every instance named by $DIR/gw*.pid first (so two configs never serve side by side),
# with --empty-db drops the cluster's database and makes it again, starts CHUTE_CLUSTER_SIZE
# `chute serve` instances on CONFIG (instance i on PORT+i, pid in $DIR/gwI.pid, log appended to
# $DIR/gwI.log), waits until each answers /healthz and, when the balancer runs, until requests
# through it reach every instance again (HAProxy takes an instance back after two good checks).
# The gateway's suites run this through their harness (packages/gateway/test/helpers/cluster.ts);
# cluster-up.sh runs it for the first start. Same environment as cluster-up.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/cluster-lib.sh
. scripts/cluster-lib.sh

log() { printf '[cluster-restart] %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  for f in "$DIR"/gw*.log; do
    [ -f "$f" ] || continue
    printf '\n----- tail of %s -----\n' "$f" >&2
    tail -n 20 "$f" >&2
  done
  exit 1
}

empty_db=0
if [ "${1:-}" = --empty-db ]; then
  empty_db=1
  shift
fi
[ $# -eq 1 ] || fail "usage: cluster-restart.sh [--empty-db] CONFIG"
[ -f "$1" ] || fail "no config file at $1"
CONFIG="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[ -x "$NODE" ] || fail "run npm ci first (Node 24 comes from the node devDependency)"
mkdir -p "$DIR"

stop_pids "$DIR"/gw*.pid

if [ "$empty_db" = 1 ]; then
  PGOPTIONS=--client-min-messages=warning psql -q "$PG_ADMIN" -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" \
    >/dev/null || fail "cannot create database $DB at $PG_ADMIN"
fi

for i in $(seq 1 "$SIZE"); do
  printf -- '----- %s: starting on %s\n' "$(date -u +%FT%TZ)" "$CONFIG" >>"$DIR/gw$i.log"
  "$NODE" packages/cli/bin/chute.js serve --config "$CONFIG" --port $((PORT + i)) --no-page \
    >>"$DIR/gw$i.log" 2>&1 &
  echo $! >"$DIR/gw$i.pid"
done
for i in $(seq 1 "$SIZE"); do
  url="http://127.0.0.1:$((PORT + i))"
  for _ in $(seq 1 100); do
    healthy "$url" && break
    kill -0 "$(cat "$DIR/gw$i.pid")" 2>/dev/null || fail "instance gw$i exited"
    sleep 0.2
  done
  healthy "$url" || fail "instance gw$i did not become healthy at $url"
done

# Round-robin: 2×SIZE requests in a row reach every instance the balancer counts as up.
reaches_all() {
  local seen
  seen="$(for _ in $(seq 1 $((2 * SIZE))); do
    { curl -s -o /dev/null -m 2 -D - "http://127.0.0.1:$PORT/healthz" || true; } |
      tr -d '\r' | sed -n 's/^x-chute-instance: *//Ip'
  done | sort -u | wc -l)"
  [ "$seen" -ge "$SIZE" ]
}
if [ -s "$DIR/haproxy.pid" ] && kill -0 "$(cat "$DIR/haproxy.pid")" 2>/dev/null; then
  for _ in $(seq 1 100); do
    reaches_all && break
    sleep 0.2
  done
  reaches_all || fail "the balancer on $PORT does not reach all $SIZE instances"
fi
log "$SIZE instances on $CONFIG"
