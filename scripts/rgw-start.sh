#!/usr/bin/env bash
# Start a one-node Ceph cluster with RADOS Gateway on loopback, from Debian's packages.
#
#   bash scripts/rgw-start.sh        # prints S3_ENDPOINT=… lines, also written to $CHUTE_RGW_DIR/env
#   bash scripts/rgw-stop.sh
#
# One monitor, one OSD on memstore (RAM), no mgr, cephx off, RGW (beast) on 127.0.0.1.
# Everything lives under CHUTE_RGW_DIR with its own ceph.conf and its own cluster: the machine's
# /etc/ceph is never read or written. The cluster is disposable: when it is not running and
# healthy, the directory is wiped and a fresh cluster is made (memstore keeps nothing anyway).
#
# Environment (all optional):
#   CHUTE_RGW_DIR       state directory                      (/tmp/chute-rgw)
#   CHUTE_RGW_PORT      RGW HTTP port on 127.0.0.1           (7480)
#   CHUTE_RGW_MON_PORT  monitor msgr2 port on 127.0.0.1      (3300)
#   CHUTE_RGW_TIMEOUT   seconds to wait for each step        (60)
set -euo pipefail

DIR="${CHUTE_RGW_DIR:-/tmp/chute-rgw}"
PORT="${CHUTE_RGW_PORT:-7480}"
MON_PORT="${CHUTE_RGW_MON_PORT:-3300}"
TIMEOUT="${CHUTE_RGW_TIMEOUT:-60}"
ENDPOINT="http://127.0.0.1:${PORT}"
# Fixed test credentials: this cluster only ever listens on loopback.
ACCESS_KEY="CHUTERGWACCESSKEY000"
SECRET_KEY="chute-rgw-secret-key-0000000000000000000"
# RGW 16.2 accepts any region in a SigV4 credential scope (the zonegroup is "default", api_name
# "default"; see docs/compat.md, region-not-checked). Clients sign for us-east-1, which also makes
# the SDK send CreateBucket without a LocationConstraint, so the zonegroup name never matters.
REGION="us-east-1"

CONF="$DIR/ceph.conf"
DAEMONS=(mon.a osd.0 client.rgw)

SCRIPTS="$(cd "$(dirname "$0")" && pwd)"
STARTED=0

log() { printf '[rgw-start] %s\n' "$*" >&2; }

fail() {
  log "FAILED: $*"
  for f in "$DIR"/log/*.log; do
    [ -f "$f" ] || continue
    printf '\n----- tail of %s -----\n' "$f" >&2
    tail -n 25 "$f" >&2
  done
  # Leave no half-started cluster behind; the logs stay for a look.
  if [ "$STARTED" = 1 ]; then CHUTE_RGW_DIR="$DIR" bash "$SCRIPTS/rgw-stop.sh" || true; fi
  exit 1
}

ceph_() { timeout 20 ceph -c "$CONF" "$@"; }

alive() { # alive NAME → the daemon's pid file names a running process
  local pidfile="$DIR/run/$1.pid"
  [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

http_ready() { # RGW answers an anonymous GET / with 200 (empty bucket list) or 403
  local code
  code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ENDPOINT/" || true)"
  [ "$code" = 200 ] || [ "$code" = 403 ]
}

wait_for() { # wait_for WHAT DAEMON COMMAND… — poll every 0.2 s up to TIMEOUT seconds
  local what="$1" daemon="$2" deadline=$((SECONDS + TIMEOUT))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${TIMEOUT}s waiting for $what"
    # Daemons fork before they write their pid file: only a pid file naming a dead process is fatal.
    if [ -s "$DIR/run/$daemon.pid" ] && ! alive "$daemon"; then fail "$daemon exited"; fi
    sleep 0.2
  done
}

print_env() {
  cat "$DIR/env"
}

install_packages() {
  command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null && return
  log "installing radosgw ceph-mon ceph-osd from Debian (about a minute)"
  local t0=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends radosgw ceph-mon ceph-osd >/dev/null
  log "installed in $((SECONDS - t0))s: $(ceph --version)"
}

write_conf() {
  local fsid
  fsid="$(cat /proc/sys/kernel/random/uuid)"
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$MON_PORT]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
run_dir = $DIR/run
pid_file = $DIR/run/\$name.pid
admin_socket = $DIR/run/\$name.asok
log_file = $DIR/log/\$name.log
keyring = $DIR/keyring
; cephx off. RGW then hangs at start ("get_initial_auth_request returned -13") unless every
; messenger mode also offers crc.
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc secure
ms_mon_cluster_mode = crc secure
ms_mon_service_mode = crc secure
ms_client_mode = crc secure
ms_cluster_mode = crc secure
ms_service_mode = crc secure
ms_bind_ipv6 = false
; one OSD: pools of size 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
; fast paxos: cluster start ~3 s instead of ~14 s
paxos_propose_interval = 0.05
paxos_min_wait = 0.01

[mon]
mon_data = $DIR/mon/\$name
mon_cluster_log_file = $DIR/log/cluster.log

[osd]
osd_data = $DIR/osd/\$name
osd_objectstore = memstore
memstore_device_bytes = 4294967296

[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$PORT
rgw_data = $DIR/rgw
rgw_enable_usage_log = false
rgw_dynamic_resharding = false
EOF
}

start_mon() {
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --clobber --fsid "$(sed -n 's/^fsid = //p' "$CONF")" \
    --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" >/dev/null 2>&1 ||
    fail "ceph-mon --mkfs"
  ceph-mon -c "$CONF" -i a 9>&- 2>>"$DIR/log/launch.log" || fail "ceph-mon did not start"
  wait_for "the monitor" mon.a ceph_ mon stat
}

start_osd() {
  local uuid
  uuid="$(cat /proc/sys/kernel/random/uuid)"
  [ "$(ceph_ osd new "$uuid")" = 0 ] || fail "ceph osd new did not return id 0"
  mkdir -p "$DIR/osd/osd.0"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$uuid" >/dev/null 2>&1 || fail "ceph-osd --mkfs"
  ceph-osd -c "$CONF" -i 0 9>&- 2>>"$DIR/log/launch.log" || fail "ceph-osd did not start"
  wait_for "osd.0 up" osd.0 osd_up
}

osd_up() { ceph_ osd dump | grep -q '^osd.0 up'; }

start_rgw() {
  radosgw -c "$CONF" -n client.rgw 9>&- 2>>"$DIR/log/launch.log" || fail "radosgw did not start"
  wait_for "RGW on $ENDPOINT" client.rgw http_ready
  radosgw-admin -c "$CONF" -n client.rgw user create --uid=chute --display-name=Chute \
    --access-key="$ACCESS_KEY" --secret="$SECRET_KEY" >/dev/null 2>&1 || fail "radosgw-admin user create"
}

main() {
  mkdir -p "$(dirname "$DIR")"
  exec 9>"$DIR.lock"
  flock 9

  local running=1
  for d in "${DAEMONS[@]}"; do alive "$d" || running=0; done
  if [ "$running" = 1 ] && [ -f "$DIR/env" ] && http_ready; then
    log "already running at $ENDPOINT"
    print_env
    return
  fi

  install_packages
  # Not (fully) running: stop what is left of ours and start afresh.
  CHUTE_RGW_DIR="$DIR" bash "$SCRIPTS/rgw-stop.sh" >/dev/null 2>&1 || true
  rm -rf "$DIR"
  mkdir -p "$DIR/run" "$DIR/log" "$DIR/mon/mon.a" "$DIR/rgw"

  # A foreign server on our ports would pass the readiness probe: refuse to start instead.
  for p in "$PORT" "$MON_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      fail "127.0.0.1:$p is already in use by another process (set CHUTE_RGW_PORT / CHUTE_RGW_MON_PORT)"
    fi
  done

  local t0=$SECONDS
  STARTED=1
  write_conf
  start_mon
  start_osd
  start_rgw
  cat >"$DIR/env" <<EOF
S3_ENDPOINT=$ENDPOINT
S3_ACCESS_KEY=$ACCESS_KEY
S3_SECRET_KEY=$SECRET_KEY
S3_REGION=$REGION
EOF
  log "ready in $((SECONDS - t0))s at $ENDPOINT ($(ceph --version | cut -d' ' -f1-3)); env in $DIR/env"
  print_env
}

main "$@"
