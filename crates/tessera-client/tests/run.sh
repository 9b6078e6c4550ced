#!/usr/bin/env bash
# Every tessera-client suite, with what the live suite needs:
#
#   * unit tests, the session state machine (fake clock) and driver (fake fetcher and timers);
#   * tests/errors.rs: broken servers (HTML, garbage, 500, refused, silent) → typed errors;
#   * tests/live.rs: the same cases against tessera-server (the built binary, started with a
#     temporary config + `user add`) and against the real next-auth 4.24.15
#     (node tests/e2e/ref-server.mjs).
#
# Installs tests/e2e/node_modules (npm ci) when missing or stale and builds tessera-server;
# anything still missing makes the live suite fail with a message, never skip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
E2E="$ROOT/tests/e2e"
if [[ ! -f "$E2E/node_modules/.package-lock.json" || "$E2E/package-lock.json" -nt "$E2E/node_modules/.package-lock.json" ]]; then
  echo "tessera-client tests: npm ci in tests/e2e" >&2
  (cd "$E2E" && npm ci --no-audit --no-fund >&2)
fi
cd "$ROOT"
cargo build -p tessera-server
cargo test -p tessera-client "$@"
