#!/usr/bin/env bash
# OpenID Connect end-to-end test.
#
#   tests/oidc/run.sh
#
# Starts a real OpenID Provider (npm `oidc-provider`, pinned in package-lock.json, with its own
# development login/consent pages) on 127.0.0.2 and tessera-server (target/debug/tessera-server,
# or $TESSERA_BIN) on 127.0.0.1 configured by TOML with a generic `type = "oidc"` provider, then
# drives headless Debian chromium (playwright-core, no downloaded browser) through the test page
# of tests/e2e/app (the real next-auth/react client): sign-in at the provider, consent, back
# authenticated, sign-out, and the failure cases (provider error, tampered/missing state,
# replayed callback, wrong PKCE verifier, hostile parameters).
#
# Installs what it needs (npm ci here and in tests/e2e, Debian chromium) and builds
# tessera-server. Anything missing or a server that does not come up is a failure, never a skip.
# Optional env: TESSERA_BIN, OIDC_KEEP_TMP=1, OIDC_TEST_ARGS (extra `node --test` arguments).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
E2E="$ROOT/tests/e2e"
cd "$HERE"

log() { echo "oidc-e2e: $*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}

# --- dependencies ----------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: older than the lockfile = stale.
npm_ci() {
  local dir="$1"
  if [[ ! -f "$dir/node_modules/.package-lock.json" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    log "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund >&2) || die "npm ci failed in $dir"
  fi
}
npm_ci "$HERE"
[[ -d node_modules/oidc-provider && -d node_modules/playwright-core ]] || die "tests/oidc/node_modules is incomplete after npm ci"
npm_ci "$E2E"
[[ -d "$E2E/node_modules/next-auth" && -d "$E2E/node_modules/esbuild" ]] || die "tests/e2e/node_modules is incomplete after npm ci"

log "building the test page (tests/e2e/app)"
(cd "$E2E" && node build.mjs >&2) || die "could not build the test page"
[[ -f "$E2E/.out/static/index.html" && -f "$E2E/.out/static/main.js" ]] || die "the test page was not built"

if [[ ! -x /usr/bin/chromium ]]; then
  log "installing Debian chromium"
  { apt-get update >&2 && apt-get install -y --no-install-recommends chromium >&2; } ||
    die "could not install chromium"
fi
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is missing"

if [[ -n "${TESSERA_BIN:-}" ]]; then
  BIN="$TESSERA_BIN"
else
  log "cargo build -p tessera-server"
  (cd "$ROOT" && cargo build -q -p tessera-server >&2) || die "cargo build -p tessera-server failed"
  BIN="$ROOT/target/debug/tessera-server"
fi
[[ -x "$BIN" ]] || die "tessera-server binary not found or not executable: $BIN"

# --- scratch space, addresses ------------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tessera-oidc.XXXXXX")"
OP_PID=""
APP_PID=""
stop() {
  local pid="$1"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  stop "$APP_PID"
  stop "$OP_PID"
  if [[ "${OIDC_KEEP_TMP:-}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,process.argv[1],()=>{console.log(s.address().port);s.close()})' "$1"
}
APP_HOST=127.0.0.1
OP_HOST=127.0.0.2
APP_PORT="$(free_port "$APP_HOST")" || die "no free port on $APP_HOST"
OP_PORT="$(free_port "$OP_HOST")" || die "cannot bind $OP_HOST (the loopback range must be routable)"
APP_URL="http://$APP_HOST:$APP_PORT"
OP_URL="http://$OP_HOST:$OP_PORT"
CLIENT_ID="tessera-e2e"
CLIENT_SECRET="$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
AUTH_SECRET="$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')"

# wait_for URL PID LOG NAME: polls URL until 200 (60 s).
wait_for() {
  local url="$1" pid="$2" logf="$3" name="$4" deadline=$((SECONDS + 60))
  until node -e 'fetch(process.argv[1]).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))' "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$logf" >&2
      die "$name exited before answering (log above)"
    fi
    if ((SECONDS >= deadline)); then
      cat "$logf" >&2
      die "no answer from $url within 60 s (log above)"
    fi
    sleep 0.3
  done
}

# --- the OpenID Provider ------------------------------------------------------------------------
log "starting oidc-provider at $OP_URL"
OP_HOST="$OP_HOST" OP_PORT="$OP_PORT" CLIENT_ID="$CLIENT_ID" CLIENT_SECRET="$CLIENT_SECRET" \
  REDIRECT_URI="$APP_URL/api/auth/callback/oidc" \
  node provider.mjs >"$TMP/provider.log" 2>&1 &
OP_PID=$!
wait_for "$OP_URL/.well-known/openid-configuration" "$OP_PID" "$TMP/provider.log" "oidc-provider"

# --- tessera-server: only issuer, client id and secret for the generic OIDC provider -------------
mkdir -p "$TMP/data"
cat >"$TMP/tessera.toml" <<EOF
[server]
host = "$APP_HOST"
static_dir = "$E2E/.out/static"
data_dir = "$TMP/data"

[[providers]]
type = "oidc"
id = "oidc"
name = "Test OpenID Provider"
issuer = "$OP_URL"
client_id = "$CLIENT_ID"
client_secret = "$CLIENT_SECRET"
EOF
log "starting $BIN at $APP_URL"
AUTH_SECRET="$AUTH_SECRET" AUTH_URL="$APP_URL" PORT="$APP_PORT" HOST="$APP_HOST" RUST_LOG="${RUST_LOG:-info}" \
  "$BIN" --config "$TMP/tessera.toml" >"$TMP/server.log" 2>&1 &
APP_PID=$!
wait_for "$APP_URL/api/auth/csrf" "$APP_PID" "$TMP/server.log" "tessera-server"
grep -q "callback/oidc" "$TMP/server.log" || {
  cat "$TMP/server.log" >&2
  die "tessera-server did not log the provider's callback URL"
}
log "both servers are up"

# --- tests -------------------------------------------------------------------------------------
status=0
# OIDC_TEST_ARGS: extra `node --test` arguments (e.g. --test-name-pattern=PKCE).
# shellcheck disable=SC2086
APP_URL="$APP_URL" OP_URL="$OP_URL" node --test --test-timeout=90000 ${OIDC_TEST_ARGS:-} browser.test.mjs || status=$?
if ((status != 0)); then
  log "tests failed (status $status); tessera-server log:"
  cat "$TMP/server.log" >&2
  log "oidc-provider log:"
  cat "$TMP/provider.log" >&2
fi
exit "$status"
