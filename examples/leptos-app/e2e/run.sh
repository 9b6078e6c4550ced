#!/usr/bin/env bash
# End-to-end test of examples/leptos-app in headless Debian chromium (playwright-core from
# tests/e2e/node_modules): builds everything (../build.sh), starts the server on a free
# loopback port with a demo user, runs `node --test leptos.test.mjs`, stops the server.
#
# Anything missing (cargo, node, chromium, node_modules, a build that fails, a server that does
# not come up) is a failure, never a skip. Installs what it can: `npm ci` in tests/e2e when
# node_modules is missing or stale, Debian's chromium when /usr/bin/chromium is missing.
#
# Optional env: E2E_KEEP_TMP=1 (keep the scratch dir with the server log), CHROMIUM_PATH.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
E2E_NODE="$ROOT/tests/e2e"

log() { echo "leptos-app e2e: $*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}

command -v node >/dev/null || die "node is not on PATH"
command -v npm >/dev/null || die "npm is not on PATH"

# --- node dependencies (playwright-core, and next-auth/react for the JS tab) --------------------
if [[ ! -f "$E2E_NODE/node_modules/.package-lock.json" ||
  "$E2E_NODE/package-lock.json" -nt "$E2E_NODE/node_modules/.package-lock.json" ]]; then
  log "npm ci in tests/e2e"
  (cd "$E2E_NODE" && npm ci --no-audit --no-fund >&2) || die "npm ci failed"
fi
[[ -d "$E2E_NODE/node_modules/playwright-core" && -d "$E2E_NODE/node_modules/next-auth" ]] ||
  die "tests/e2e/node_modules is incomplete (playwright-core, next-auth)"

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM" && "$CHROMIUM" == /usr/bin/chromium ]]; then
  log "installing Debian chromium"
  { apt-get update >&2 && apt-get install -y --no-install-recommends chromium >&2; } ||
    die "could not install chromium"
fi
[[ -x "$CHROMIUM" ]] || die "$CHROMIUM is missing"

# --- build ---------------------------------------------------------------------------------------
started=$SECONDS
BUILD_OUT="$("$HERE/../build.sh")" || die "build.sh failed"
SERVER_BIN="$(sed -n '1p' <<<"$BUILD_OUT")"
SITE_ROOT="$(sed -n '2p' <<<"$BUILD_OUT")"
[[ -x "$SERVER_BIN" ]] || die "no server binary ($SERVER_BIN)"
log "built in $((SECONDS - started)) s"

log "bundling the next-auth/react page (tests/e2e/app) for the JS tab"
(cd "$E2E_NODE" && node build.mjs >&2) || die "tests/e2e/build.mjs failed"
STATIC_DIR="$E2E_NODE/.out/static"
[[ -f "$STATIC_DIR/index.html" ]] || die "$STATIC_DIR/index.html was not built"

# --- server --------------------------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/leptos-app-e2e.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ "${E2E_KEEP_TMP:-}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
BASE_URL="http://127.0.0.1:$PORT"
AUTH_SECRET="$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')"
EMAIL="leptos+e2e@example.com"
PASSWORD="correct horse battery staple"
NAME="Leptos Üser"
SERVER_LOG="$TMP/server.log"

log "starting $SERVER_BIN on $BASE_URL"
HOST=127.0.0.1 PORT="$PORT" AUTH_SECRET="$AUTH_SECRET" AUTH_URL="$BASE_URL/api/auth" \
  SITE_ROOT="$SITE_ROOT" STATIC_DIR="$STATIC_DIR" \
  DEMO_EMAIL="$EMAIL" DEMO_PASSWORD="$PASSWORD" DEMO_NAME="$NAME" \
  "$SERVER_BIN" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 60))
until node -e '
  fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))
' "$BASE_URL/api/auth/csrf"; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    cat "$SERVER_LOG" >&2
    SERVER_PID=""
    die "the server exited before answering (log above)"
  fi
  if ((SECONDS >= deadline)); then
    cat "$SERVER_LOG" >&2
    die "no answer from $BASE_URL/api/auth/csrf within 60 s (log above)"
  fi
  sleep 0.3
done
log "server is up"

# --- tests ---------------------------------------------------------------------------------------
status=0
BASE_URL="$BASE_URL" EMAIL="$EMAIL" PASSWORD="$PASSWORD" NAME="$NAME" CHROMIUM_PATH="$CHROMIUM" \
  E2E_NODE_DIR="$E2E_NODE" \
  node --test --test-concurrency=1 --test-timeout=120000 "$HERE/leptos.test.mjs" || status=$?
if ((status != 0)); then
  log "tests failed (status $status); server log:"
  cat "$SERVER_LOG" >&2
fi
exit "$status"
