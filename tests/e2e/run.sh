#!/usr/bin/env bash
# End-to-end suite runner.
#
#   tests/e2e/run.sh ref       # the real next-auth 4.24.15 handler (ref-server.mjs): the oracle
#   tests/e2e/run.sh tessera   # tessera-server (${TESSERA_BIN:-../../target/debug/tessera-server})
#
# Installs what it needs (npm ci, Debian chromium), builds the test page, starts the server on a
# free 127.0.0.1 port with a demo user, runs `node --test tests/`, stops the server and exits with
# the tests' status. Anything missing (chromium, node_modules, the server binary, a server that
# never answers) is a failure, never a skip.
#
# Optional env: TESSERA_BIN, E2E_AUTH_SECRET, E2E_EMAIL, E2E_PASSWORD, E2E_NAME, E2E_KEEP_TMP=1.
set -euo pipefail

TARGET="${1:-}"
case "$TARGET" in
  ref | tessera) ;;
  *)
    echo "usage: $0 ref|tessera" >&2
    exit 2
    ;;
esac

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

log() { echo "e2e[$TARGET]: $*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}

# --- dependencies ----------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: older than the lockfile = stale.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund >&2
fi
[[ -d node_modules/next-auth && -d node_modules/playwright-core ]] || die "node_modules is incomplete after npm ci"

log "building the test page"
node build.mjs >&2

if [[ ! -x /usr/bin/chromium ]]; then
  log "installing Debian chromium"
  apt-get update >&2 && apt-get install -y --no-install-recommends chromium >&2 ||
    die "could not install chromium"
fi
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is missing"

# --- scratch space, port, demo user ------------------------------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tessera-e2e.XXXXXX")"
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
AUTH_SECRET="${E2E_AUTH_SECRET:-$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')}"
# A "+" in the email and a non-ASCII name exercise form decoding and UTF-8 in JSON and JWTs.
EMAIL="${E2E_EMAIL:-demo+e2e@example.com}"
PASSWORD="${E2E_PASSWORD:-correct horse battery staple}"
NAME="${E2E_NAME:-Demo Üser}"
SERVER_LOG="$TMP/server.log"

# --- start the server --------------------------------------------------------------------------
case "$TARGET" in
  ref)
    EMAIL="$EMAIL" NAME="$NAME" PASSWORD="$PASSWORD" node -e '
      const { EMAIL: email, NAME: name, PASSWORD: password } = process.env
      process.stdout.write(JSON.stringify([{ id: "1", name, email, password }], null, 2))
    ' >"$TMP/users.json"
    log "starting ref-server.mjs on $BASE_URL"
    PORT="$PORT" HOST=127.0.0.1 AUTH_SECRET="$AUTH_SECRET" USERS_FILE="$TMP/users.json" \
      node ref-server.mjs >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    ;;
  tessera)
    BIN="${TESSERA_BIN:-../../target/debug/tessera-server}"
    [[ "$BIN" == /* ]] || BIN="$HERE/$BIN"
    [[ -x "$BIN" ]] || die "tessera-server binary not found or not executable: $BIN (cargo build -p tessera-server)"
    mkdir -p "$TMP/data"
    CONFIG="$TMP/tessera.toml"
    cat >"$CONFIG" <<EOF
[server]
host = "127.0.0.1"
static_dir = "$HERE/.out/static"
data_dir = "$TMP/data"

[[providers]]
type = "credentials"
EOF
    export AUTH_SECRET AUTH_URL="$BASE_URL" PORT HOST=127.0.0.1
    log "adding the demo user"
    TESSERA_PASSWORD="$PASSWORD" "$BIN" --config "$CONFIG" user add --email "$EMAIL" --name "$NAME" \
      >"$TMP/user-add.log" 2>&1 || {
      cat "$TMP/user-add.log" >&2
      die "tessera-server user add failed"
    }
    log "starting $BIN on $BASE_URL"
    "$BIN" --config "$CONFIG" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    ;;
esac

# --- wait until GET /api/auth/csrf answers (60 s) ------------------------------------------------
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
  sleep 0.5
done
log "server is up"

# --- tests -------------------------------------------------------------------------------------
status=0
BASE_URL="$BASE_URL" AUTH_SECRET="$AUTH_SECRET" EMAIL="$EMAIL" PASSWORD="$PASSWORD" NAME="$NAME" \
  node --test --test-timeout=180000 tests/ || status=$?

if ((status != 0)); then
  log "tests failed (status $status); server log:"
  cat "$SERVER_LOG" >&2
fi
exit "$status"
