#!/usr/bin/env bash
# Runs the console's browser test (web/tests/console.mjs) against
# FERRY_CONSOLE_URL, or else against a `ferry console` it starts with the
# local clusters' host kubeconfig (.localclusters/dst/kubeconfig) and stops
# afterwards. The URL holds the one-time key that `ferry console` prints.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z ${FERRY_CONSOLE_URL:-} ]]; then
  kubeconfig=${FERRY_CONSOLE_KUBECONFIG:-.localclusters/dst/kubeconfig}
  if [[ ! -f $kubeconfig ]]; then
    echo "hack/console-test.sh: no FERRY_CONSOLE_URL and no $kubeconfig: run make clusters-up, or set FERRY_CONSOLE_URL to a console's URL (with ?key= for a local one)" >&2
    exit 1
  fi
  log=$(mktemp)
  bin/ferry console --listen 127.0.0.1:0 --kubeconfig "$kubeconfig" >"$log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
  for _ in $(seq 1 100); do
    FERRY_CONSOLE_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*/[^[:space:]]*' "$log" | head -1 || true)
    [[ -n $FERRY_CONSOLE_URL ]] && break
    if ! kill -0 $pid 2>/dev/null; then
      echo "hack/console-test.sh: ferry console exited:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [[ -z $FERRY_CONSOLE_URL ]]; then
    echo "hack/console-test.sh: ferry console printed no URL within 10 s:" >&2
    cat "$log" >&2
    exit 1
  fi
  export FERRY_CONSOLE_URL
fi
cd web && node tests/console.mjs
