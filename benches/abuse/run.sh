#!/usr/bin/env bash
# Abuse storm on loopback: 300 parallel wrong-password credentials posts against one account
# (CSRF token and cookie fetched first), while GET /api/auth/session is timed with a valid
# session cookie. Reports the status counts (401 refused, 429 throttled, 503), the p99 latency
# of the session reads during the storm, and the server's peak RSS (VmHWM).
# Bounded: the client has a 180 s timeout, the server is stopped on exit.
# Usage: [TESSERA_BIN=path] [SOURCES=1] benches/abuse/run.sh [posts=300]
#   TESSERA_BIN  a built tessera-server (default: build and use target/release/tessera-server)
#   SOURCES      how many loopback source addresses the storm comes from (127.0.x.y)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
posts=${1:-300}
sources=${SOURCES:-1}
port=${PORT:-4311}
export AUTH_SECRET=$(head -c 33 /dev/urandom | base64)
export AUTH_URL="http://127.0.0.1:$port"
unset REDIS_URL AUTH_RATE_LIMIT_STORE

bin=${TESSERA_BIN:-}
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release -q -p tessera-server)
  bin="${CARGO_TARGET_DIR:-$root/target}/release/tessera-server"
fi

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
cat > "$tmp/tessera.toml" <<TOML
[server]
data_dir = "$tmp/data"
[[providers]]
type = "credentials"
TOML
TESSERA_PASSWORD=abuse-password-123 "$bin" --config "$tmp/tessera.toml" user add --email victim@example.com --name Victim >/dev/null

PORT=$port HOST=127.0.0.1 RUST_LOG=error "$bin" --config "$tmp/tessera.toml" &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "the server did not start" >&2; exit 1; }
echo "RSS before the storm: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status), peak: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
timeout 180 node "$here/storm.mjs" "$port" victim@example.com abuse-password-123 "$posts" "$sources"
echo "RSS after the storm: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status), peak (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
