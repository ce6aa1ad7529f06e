#!/usr/bin/env bash
# Stop the daemons started by scripts/rgw-start.sh: only those named by its pid files.
#   CHUTE_RGW_DIR   state directory (/tmp/chute-rgw)
#   CHUTE_RGW_WIPE=1 also delete the state directory
set -uo pipefail

DIR="${CHUTE_RGW_DIR:-/tmp/chute-rgw}"
pids=()
for name in client.rgw osd.0 mon.a; do # reverse start order
  pidfile="$DIR/run/$name.pid"
  [ -s "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  fi
  rm -f "$pidfile"
done

# Give them 10 s to exit, then kill what is left of those same pids.
for _ in $(seq 50); do
  left=()
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
  [ "${#left[@]}" = 0 ] && break
  sleep 0.2
done
for pid in "${left[@]:-}"; do
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
done

[ "${CHUTE_RGW_WIPE:-0}" = 1 ] && rm -rf "$DIR"
printf '[rgw-stop] stopped %d daemon(s) under %s\n' "${#pids[@]}" "$DIR" >&2
