#!/usr/bin/env bash
# Loopback load: GET /api/auth/session with a valid session cookie, tessera-server vs the real
# next-auth 4.24.15 handler, one after the other, each server pinned to core 0 and wrk to core 1.
# Both get the same cookie (minted by next-auth/jwt with the same secret).
# Each server is measured ROUNDS times (default 3) and the median round is reported: the
# machines this runs on are shared, and one round can lose a fifth of its throughput to a
# neighbour.
# Usage: [ROUNDS=3] benches/load/run.sh [duration=15s] [connections=32]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dur=${1:-15s}
conns=${2:-32}
rounds=${ROUNDS:-3}
export AUTH_SECRET=load-Fj6GtR4nSCr1pt5ecQ9vXk2LpZ7wYb3NcHd9

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
  for r in $(seq 1 "$rounds"); do
    taskset -c 1 wrk -t1 -c"$conns" -d"$dur" --latency -H "Cookie: next-auth.session-token=$cookie" "http://127.0.0.1:$port/api/auth/session" > "$tmp/$name.$r.txt"
    echo "round $r: $(awk '/Requests\/sec/ {print $2}' "$tmp/$name.$r.txt") req/s, p99 $(awk '$1 == "99%" {print $2}' "$tmp/$name.$r.txt")"
  done
  # The median round, by throughput.
  local median
  median=$(for r in $(seq 1 "$rounds"); do echo "$(awk '/Requests\/sec/ {print $2}' "$tmp/$name.$r.txt") $r"; done | sort -n | awk '{a[NR]=$2} END {print a[int((NR+1)/2)]}')
  echo "median round ($median):"
  tee "$tmp/$name.txt" < "$tmp/$name.$median.txt"
  echo "RSS after the load: $(grep VmRSS /proc/$pid/status | awk '{print $2, $3}'), peak since start: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
}

PORT=4301 HOST=127.0.0.1 RUST_LOG=warn taskset -c 0 "$root/target/release/tessera-server" --config "$tmp/tessera.toml" &
tpid=$!
wait_up 4301
measure tessera 4301 $tpid
kill $tpid; wait $tpid 2>/dev/null || true

# Database strategy on PostgreSQL (loopback): same route, a database session cookie.
db=tessera_load_$$
psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" >/dev/null
trap 'kill $(jobs -p) 2>/dev/null || true; psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1; rm -rf "$tmp"' EXIT
cat > "$tmp/tessera-db.toml" <<TOML
[session]
strategy = "database"
[[providers]]
type = "credentials"
TOML
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db"
TESSERA_PASSWORD=load-password-123 "$root/target/release/tessera-server" --config "$tmp/tessera-db.toml" user add --email load@example.com --name "Load Test" >/dev/null
PORT=4303 HOST=127.0.0.1 RUST_LOG=warn taskset -c 0 "$root/target/release/tessera-server" --config "$tmp/tessera-db.toml" &
dpid=$!
wait_up 4303
jar="$tmp/jar"
csrf=$(curl -s -c "$jar" http://127.0.0.1:4303/api/auth/csrf | sed 's/.*"csrfToken":"\([0-9a-f]*\)".*/\1/')
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "email=load@example.com" --data-urlencode "password=load-password-123" \
  --data-urlencode "csrfToken=$csrf" --data-urlencode "json=true" http://127.0.0.1:4303/api/auth/callback/credentials
dbcookie=$(awk '$6 == "next-auth.session-token" {print $7}' "$jar")
[ -n "$dbcookie" ] || { echo "database sign-in failed" >&2; exit 1; }
cookie_main=$cookie
cookie=$dbcookie
xact() { psql -h 127.0.0.1 -U postgres -d "$db" -tAc "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'"; }
# Queries per request: transactions committed by the server's pool over 1000 requests.
sleep 2
x0=$(xact)
for _ in $(seq 1 1000); do curl -s -o /dev/null -H "Cookie: next-auth.session-token=$dbcookie" http://127.0.0.1:4303/api/auth/session; done
sleep 2
x1=$(xact)
echo "database strategy: $(( x1 - x0 - 1 )) transactions for 1000 session reads (statistics lag may add a few)"
measure tessera-database 4303 $dpid
kill $dpid; wait $dpid 2>/dev/null || true
cookie=$cookie_main

PORT=4302 taskset -c 0 node "$here/nextauth-bare.mjs" >/dev/null &
npid=$!
wait_up 4302
measure next-auth 4302 $npid
kill $npid; wait $npid 2>/dev/null || true

d=$(awk '/Requests\/sec/ {print $2}' "$tmp/tessera-database.txt")
t=$(awk '/Requests\/sec/ {print $2}' "$tmp/tessera.txt")
n=$(awk '/Requests\/sec/ {print $2}' "$tmp/next-auth.txt")
echo
echo "tessera ${t} req/s, next-auth ${n} req/s: $(awk -v t="$t" -v n="$n" 'BEGIN {printf "%.1fx", t/n}')"
echo "tessera database strategy ${d} req/s: $(awk -v t="$t" -v d="$d" 'BEGIN {printf "%.2f", t/d}')x slower than JWT"
