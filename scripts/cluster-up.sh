#!/usr/bin/env bash
# Start a small Chute cluster on loopback: N `chute serve` instances on one PostgreSQL database
# and one Ceph RGW (scripts/rgw-start.sh), with HAProxy (Debian's) in front, round-robin.
#
#   bash scripts/cluster-up.sh                            # prints the CHUTE_CLUSTER_* lines, also in $DIR/env
#   bash scripts/cluster-restart.sh [--empty-db] CONFIG   # the instances on another config
#   bash scripts/cluster-down.sh
#
# The balancer adds `x-chute-instance: gwN` to every answer, so a client can see who served it.
# Every process started here has its pid under $DIR; cluster-down stops exactly those.
#
# Environment (all optional):
#   CHUTE_CLUSTER_DIR    state directory                                   (/tmp/chute-cluster)
#   CHUTE_CLUSTER_PORT   balancer port; instance i listens on PORT+i       (7600)
#   CHUTE_CLUSTER_SIZE   instances                                         (3)
#   CHUTE_CLUSTER_QUOTA  pending grants allowed per user                   (5)
#   CHUTE_CLUSTER_PG     PostgreSQL admin URL; the cluster gets its own database on that server
#                        (postgres://postgres@127.0.0.1:5432/test)
#   CHUTE_RGW_DIR, CHUTE_RGW_PORT, CHUTE_RGW_MON_PORT, …   see scripts/rgw-start.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

# shellcheck source=scripts/cluster-lib.sh
. scripts/cluster-lib.sh
QUOTA="${CHUTE_CLUSTER_QUOTA:-5}"
BUCKET="chute-cluster"
RGW_DIR="${CHUTE_RGW_DIR:-/tmp/chute-rgw}"

log() { printf '[cluster-up] %s\n' "$*" >&2; }
fail() {
  log "FAILED: $*"
  for f in "$DIR"/*.log; do
    [ -f "$f" ] || continue
    printf '\n----- tail of %s -----\n' "$f" >&2
    tail -n 20 "$f" >&2
  done
  bash "$ROOT/scripts/cluster-down.sh" >/dev/null 2>&1 || true
  exit 1
}

command -v haproxy >/dev/null || fail "haproxy is not installed (Debian: apt-get install haproxy)"
command -v psql >/dev/null || fail "psql is not installed (Debian: apt-get install postgresql-client)"
[ -x "$NODE" ] || fail "run npm ci first (Node 24 comes from the node devDependency)"
mkdir -p "$DIR"
export CHUTE_CLUSTER_DIR="$DIR"

# Storage: one RGW for every instance.
bash scripts/rgw-start.sh >/dev/null || fail "RGW did not start"
# shellcheck source=/dev/null
. "$RGW_DIR/env"

SECRET="$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')"
CONFIG="$DIR/chute.config.json"
# The config test/cluster runs on (its route `photo`, the quota). The gateway's suites run on
# configs of their own, built by their harness (cluster-restart.sh), and test-cluster.sh puts this
# one back before test/cluster.
cat >"$CONFIG" <<EOF
{
  "listen": { "host": "127.0.0.1", "port": $PORT },
  "storage": {
    "endpoint": "$S3_ENDPOINT",
    "region": "$S3_REGION",
    "bucket": "$BUCKET",
    "accessKeyId": "$S3_ACCESS_KEY",
    "secretAccessKey": "$S3_SECRET_KEY"
  },
  "database": { "url": "$PG_URL" },
  "auth": { "jwt": { "secret": "$SECRET" } },
  "quotas": { "pendingGrants": $QUOTA, "bytesPerDay": "10GB", "grantsPerMinute": 100000 },
  "sweeper": { "intervalMs": 1000, "graceMs": 0 },
  "routes": [
    { "name": "photo", "types": ["image/png", "image/jpeg"], "maxSize": "1MB" }
  ]
}
EOF
chmod 600 "$CONFIG"
"$NODE" scripts/cluster-bucket.ts "$CONFIG" || fail "cannot prepare bucket $BUCKET"

# The database (dropped and made again, so every cluster starts empty) and the instances.
bash scripts/cluster-restart.sh --empty-db "$CONFIG" || fail "the instances did not start"
instances=()
for i in $(seq 1 "$SIZE"); do
  instances+=("http://127.0.0.1:$((PORT + i))")
done

# The balancer: round-robin per request (http-server-close: each request is balanced on its
# own, not pinned to the server connection of the one before), /healthz checks every 500 ms.
servers=""
for i in $(seq 1 "$SIZE"); do
  servers+="  server gw$i 127.0.0.1:$((PORT + i)) check"$'\n'
done
# When no instance can answer (all down, or one dies mid-request), clients get the gateway's own
# JSON error with Retry-After instead of HAProxy's HTML page, so they retry as they would a 503
# from the gateway.
body='{"error":{"code":"unavailable","message":"No gateway instance could answer; retry later."}}'
for status in 502 503 504; do
  case $status in
    502) reason='Bad Gateway' ;;
    503) reason='Service Unavailable' ;;
    504) reason='Gateway Timeout' ;;
  esac
  printf 'HTTP/1.1 %s %s\r\ncontent-type: application/json\r\ncontent-length: %s\r\nretry-after: 2\r\ncache-control: no-store\r\nconnection: close\r\n\r\n%s' \
    "$status" "$reason" "${#body}" "$body" >"$DIR/$status.http"
done
cat >"$DIR/haproxy.cfg" <<EOF
global
  maxconn 4096
  pidfile $DIR/haproxy.pid

defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 120s
  timeout http-request 20s
  option http-server-close
  errorfile 502 $DIR/502.http
  errorfile 503 $DIR/503.http
  errorfile 504 $DIR/504.http

frontend chute
  bind 127.0.0.1:$PORT
  default_backend gateways

backend gateways
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
  http-response set-header x-chute-instance %s
$servers
EOF
haproxy -c -q -f "$DIR/haproxy.cfg" || fail "haproxy config invalid"
haproxy -D -f "$DIR/haproxy.cfg" -p "$DIR/haproxy.pid" 2>"$DIR/haproxy.log" || fail "haproxy did not start"
for _ in $(seq 1 50); do
  healthy "http://127.0.0.1:$PORT" && break
  sleep 0.1
done
healthy "http://127.0.0.1:$PORT" || fail "the balancer does not answer on $PORT"

IFS=,
cat >"$DIR/env" <<EOF
CHUTE_CLUSTER_DIR=$DIR
CHUTE_CLUSTER_URL=http://127.0.0.1:$PORT
CHUTE_CLUSTER_INSTANCES=${instances[*]}
CHUTE_CLUSTER_QUOTA=$QUOTA
CHUTE_CLUSTER_JWT_SECRET=$SECRET
CHUTE_CLUSTER_DB_URL=$PG_URL
CHUTE_CLUSTER_BUCKET=$BUCKET
S3_ENDPOINT=$S3_ENDPOINT
S3_ACCESS_KEY=$S3_ACCESS_KEY
S3_SECRET_KEY=$S3_SECRET_KEY
S3_REGION=$S3_REGION
EOF
unset IFS
chmod 600 "$DIR/env"
log "ready: balancer http://127.0.0.1:$PORT → ${SIZE} instances; env in $DIR/env"
grep -v SECRET "$DIR/env"
