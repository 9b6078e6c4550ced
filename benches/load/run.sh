#!/usr/bin/env bash
# Loopback load: GET /api/auth/session with a valid session cookie, tessera-server vs the real
# next-auth 4.24.15 handler, one after the other, each server pinned to core 0 and wrk to core 1.
# Both get the same cookie (minted by next-auth/jwt with the same secret).
# Usage: benches/load/run.sh [duration=15s] [connections=32]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dur=${1:-15s}
conns=${2:-32}
export AUTH_SECRET=load-bench-secret-0123456789abcdef

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
[ -d "$here/node_modules" ] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null)
(cd "$root" && cargo build --release -q -p tessera-server)

cookie=$(cd "$here" && node mint.mjs)
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat > "$tmp/tessera.toml" <<TOML
[server]
data_dir = "$tmp/data"
[[providers]]
type = "credentials"
TOML

wait_up() { for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/api/auth/csrf" >/dev/null && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }

measure() { # name port pid
  local name=$1 port=$2 pid=$3
  local body
  body=$(curl -sf -H "Cookie: next-auth.session-token=$cookie" "http://127.0.0.1:$port/api/auth/session")
  echo "$body" | grep -q '"load@example.com"' || { echo "$name: the cookie was not accepted: $body" >&2; exit 1; }
  echo "--- $name"
  # Warm up, then measure.
  taskset -c 1 wrk -t1 -c"$conns" -d3s -H "Cookie: next-auth.session-token=$cookie" "http://127.0.0.1:$port/api/auth/session" >/dev/null
  taskset -c 1 wrk -t1 -c"$conns" -d"$dur" --latency -H "Cookie: next-auth.session-token=$cookie" "http://127.0.0.1:$port/api/auth/session" | tee "$tmp/$name.txt"
  echo "peak RSS: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
}

PORT=4301 HOST=127.0.0.1 RUST_LOG=warn taskset -c 0 "$root/target/release/tessera-server" --config "$tmp/tessera.toml" &
tpid=$!
wait_up 4301
measure tessera 4301 $tpid
kill $tpid; wait $tpid 2>/dev/null || true

PORT=4302 taskset -c 0 node "$here/nextauth-bare.mjs" >/dev/null &
npid=$!
wait_up 4302
measure next-auth 4302 $npid
kill $npid; wait $npid 2>/dev/null || true

t=$(awk '/Requests\/sec/ {print $2}' "$tmp/tessera.txt")
n=$(awk '/Requests\/sec/ {print $2}' "$tmp/next-auth.txt")
echo
echo "tessera ${t} req/s, next-auth ${n} req/s: $(awk -v t="$t" -v n="$n" 'BEGIN {printf "%.1fx", t/n}')"
