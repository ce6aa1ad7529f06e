#!/usr/bin/env bash
# Stop the daemons started by scripts/rgw-start.sh: only the processes named by its pid files.
#   CHUTE_RGW_DIR     state directory (/tmp/chute-rgw)
#   CHUTE_RGW_WIPE=1  also delete the state directory (logs included)
set -uo pipefail

DIR="${CHUTE_RGW_DIR:-/tmp/chute-rgw}"
stopped=0

# stop NAME… — SIGTERM each, wait up to 10 s for all of them, then SIGKILL those same pids.
stop() {
  local pids=() name pid pidfile
  for name in "$@"; do
    pidfile="$DIR/run/$name.pid"
    [ -s "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -TERM "$pid" 2>/dev/null; then
      pids+=("$pid")
      stopped=$((stopped + 1))
    fi
    rm -f "$pidfile"
  done
  local left=("${pids[@]}")
  for _ in $(seq 50); do
    [ "${#left[@]}" = 0 ] && return
    local still=()
    for pid in "${left[@]}"; do kill -0 "$pid" 2>/dev/null && still+=("$pid"); done
    left=("${still[@]}")
    sleep 0.2
  done
  for pid in "${left[@]}"; do kill -KILL "$pid" 2>/dev/null; done
}

# One at a time, clients first: stopped together, RGW waits on the dying OSD and the OSD on the
# dying monitor (~12 s, some by SIGKILL); in order each takes ~2 s.
stop client.rgw
stop osd.0
stop mon.a

[ "${CHUTE_RGW_WIPE:-0}" = 1 ] && rm -rf "$DIR"
printf '[rgw-stop] stopped %d daemon(s) under %s\n' "$stopped" "$DIR" >&2
