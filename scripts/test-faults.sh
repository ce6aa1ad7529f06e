#!/usr/bin/env bash
# npm run test:faults: tests that kill things (test/faults). Every part is a real process: `chute
# serve`, `chute s3`, HAProxy, PostgreSQL (the machine's server for a database of the test's own,
# and a private server in a temporary directory for the crash tests, so the shared one is never
# restarted). Each scenario prints one `faults: <scenario> sent=… acknowledged=… lost=0 retried=…`
# line; the tests assert lost = 0.
#
# Environment (all optional):
#   CHUTE_FAULTS_PG   the shared server's admin URL (postgres://postgres@127.0.0.1:5432/test)
#   CHUTE_PG_BIN      PostgreSQL server binaries (the newest /usr/lib/postgresql/N/bin)
#   FAULTS_FLOWS      grant → upload → complete flows per scenario (240)
#   KEEP_FAULTS=1     keep each scenario's directory (logs, data) under $TMPDIR
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  printf '[test-faults] %s\n' "$*" >&2
  exit 1
}
command -v haproxy >/dev/null || fail "haproxy is not installed (Debian: apt-get install haproxy)"
[ -x node_modules/.bin/node ] || fail "run npm ci first (Node 24 comes from the node devDependency)"
bin="${CHUTE_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
[ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] || fail "PostgreSQL server binaries not found (Debian: postgresql); set CHUTE_PG_BIN"
if [ "$(id -u)" = 0 ]; then
  id -u postgres >/dev/null 2>&1 || fail "running as root: the private server runs as user postgres, which does not exist"
fi
export CHUTE_PG_BIN="$bin" CHUTE_FAULTS=1 FAULTS_FLOWS="${FAULTS_FLOWS:-240}"
# Two files at a time: the gateway-kill scenario spends most of its time waiting for the grants
# it orphaned to expire (a route's shortest lifetime, 60 s); the others run meanwhile.
exec npx node --test --test-concurrency=2 'test/faults/**/*.test.ts'
