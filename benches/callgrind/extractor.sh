#!/usr/bin/env bash
# Instructions per request of the extractor bench's routes, counted by callgrind: repeatable
# on a shared machine where the wall-clock figures move by a fifth from run to run.
# Per route: the instructions of one `oneshot` through the router (`AuthService` is the
# outermost layer of both routes), and of the engine's session read inside it.
# Usage: benches/callgrind/extractor.sh   (needs valgrind; builds the bench with line tables)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target/callgrind}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
(cd "$root" && CARGO_PROFILE_BENCH_DEBUG=line-tables-only CARGO_TARGET_DIR=$target \
  cargo bench -q -p tessera-axum --bench extractor --no-run)
bench=$(ls -t "$target"/release/deps/extractor-* | grep -v '\.d$' | head -1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# Criterion filters are regular expressions: plain words only.
for route in "unprotected" "Session extractor"; do
  valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bench" --bench --profile-time 2 \
    "$route" >/dev/null 2>&1
  echo "--- $route"
  python3 "$here/per_call.py" "$out/cg" "AuthService<S> as tower_service::Service" \
    "tessera::engine::Auth::session::{{closure}}" | grep -v "drop_in_place"
done
