#!/usr/bin/env bash
# Fuzzing: every cargo-fuzz target in fuzz/ (libFuzzer) runs for FUZZ_SECONDS (default 60)
# from a copy of its committed seed corpus (fuzz/corpus/<target>, never grown here). Any
# crash, failed invariant, timeout or out-of-memory fails the script, after all targets ran;
# the failing inputs are left in fuzz/artifacts/<target>/ and printed.
#
# Stable toolchain: AddressSanitizer needs nightly's -Zsanitizer, so by default the targets are
# built with `--sanitizer none` (libFuzzer's coverage and the targets' assertions, debug
# assertions and overflow checks still apply; the engine itself forbids unsafe code).
# FUZZ_SANITIZER=address builds with ASan on the stable compiler through RUSTC_BOOTSTRAP=1
# (memory errors in the dependencies' unsafe code; about 3x fewer executions per second).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
secs=${FUZZ_SECONDS:-60}

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version

# Its own build directory: the fuzz build's instrumentation flags differ from every other.
export CARGO_TARGET_DIR=${TESSERA_FUZZ_TARGET:-/var/tmp/target-fuzz-libfuzzer}
sanitizer=${FUZZ_SANITIZER:-none}
flags=(--sanitizer "$sanitizer")
if [ "$sanitizer" != none ]; then
  export RUSTC_BOOTSTRAP=1
fi

cd fuzz
start=$(date +%s)
cargo fuzz build "${flags[@]}"
echo "fuzz build: $(( $(date +%s) - start ))s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for t in $(cargo fuzz list); do
  if [ ! -d "corpus/$t" ] || [ -z "$(ls -A "corpus/$t")" ]; then
    echo "fuzz target $t has no seed corpus in fuzz/corpus/$t" >&2
    failed+=("$t (no corpus)")
    continue
  fi
  rm -rf "artifacts/$t"
  # A copy: what libFuzzer adds to its corpus stays out of the repository.
  mkdir -p "$work/$t"
  cp "corpus/$t"/* "$work/$t/"
  echo
  echo "--- fuzz $t for ${secs}s"
  if ! cargo fuzz run "${flags[@]}" "$t" "$work/$t" -- \
      -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
    failed+=("$t")
    for a in "artifacts/$t"/*; do
      [ -f "$a" ] && { echo "failing input $a (base64):"; base64 -w0 "$a"; echo; }
    done
  fi
done

echo
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzzing passed: every target ran ${secs}s without a crash"
