#!/usr/bin/env bash
# The upload page in a real browser (npm run test:e2e): Debian's Chromium, driven by
# playwright-core, which never downloads a browser of its own. Installs chromium when missing.
#   CHUTE_E2E_SCREENSHOTS=DIR   where the page's screenshots go (default: the temp dir)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  SUDO=''
  [ "$(id -u)" = 0 ] || SUDO='sudo'
  echo '[test-e2e] installing chromium from Debian (about a minute)' >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq chromium >/dev/null
fi

npx node --test 'test/e2e/**/*.test.ts'
