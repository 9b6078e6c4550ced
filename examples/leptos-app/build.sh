#!/usr/bin/env bash
# Builds examples/leptos-app with plain cargo + the wasm-bindgen CLI (no cargo-leptos):
#
#   1. the browser bundle: `--lib --target wasm32-unknown-unknown --features hydrate`, then
#      wasm-bindgen → $SITE_ROOT/pkg/tessera_example_leptos{.js,_bg.wasm}
#   2. the server: `--bin tessera-example-leptos --features ssr`
#
# Idempotent: installs what is missing (the wasm32 target; wasm-bindgen-cli pinned to the exact
# wasm-bindgen version in Cargo.lock, into <repo>/target/tools) and otherwise only lets cargo
# rebuild what changed.
#
#   examples/leptos-app/build.sh            # debug build (fast to compile; what the e2e uses)
#   examples/leptos-app/build.sh --release  # release build
#
# Env: CARGO_TARGET_DIR (default <repo>/target), SITE_ROOT (default $CARGO_TARGET_DIR/leptos-app/site).
# Prints the server binary path and the site root as its last two lines.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SITE_ROOT="${SITE_ROOT:-$TARGET_DIR/leptos-app/site}"
TOOLS="$ROOT/target/tools"
NAME=tessera_example_leptos

log() { echo "leptos-app build: $*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}

PROFILE_ARGS=()
PROFILE_DIR=debug
case "${1:-}" in
  "") ;;
  --release)
    PROFILE_ARGS=(--release)
    PROFILE_DIR=release
    ;;
  *) die "usage: $0 [--release]" ;;
esac

command -v cargo >/dev/null || die "cargo is not on PATH"

# --- the wasm32 target ---------------------------------------------------------------------------
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown >&2 || die "could not add the wasm32-unknown-unknown target"
fi

# --- wasm-bindgen CLI, the exact version of the wasm-bindgen crate in Cargo.lock -----------------
WB_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")"
[[ -n "$WB_VERSION" ]] || die "no wasm-bindgen in $ROOT/Cargo.lock"
WASM_BINDGEN="$TOOLS/bin/wasm-bindgen"
# One of exactly this version already on PATH will do.
if [[ ! -x "$WASM_BINDGEN" ]] && command -v wasm-bindgen >/dev/null &&
  [[ "$(wasm-bindgen --version 2>/dev/null)" == "wasm-bindgen $WB_VERSION" ]]; then
  WASM_BINDGEN="$(command -v wasm-bindgen)"
fi
if [[ ! -x "$WASM_BINDGEN" ]] || [[ "$("$WASM_BINDGEN" --version 2>/dev/null)" != "wasm-bindgen $WB_VERSION" ]]; then
  WASM_BINDGEN="$TOOLS/bin/wasm-bindgen"
  log "installing wasm-bindgen-cli $WB_VERSION into $TOOLS (a few minutes, once)"
  # Without --locked: the CLI's own lockfile pins a crate version the registry no longer has.
  cargo install --root "$TOOLS" wasm-bindgen-cli --version "$WB_VERSION" --force >&2 ||
    die "cargo install wasm-bindgen-cli $WB_VERSION failed"
fi
[[ "$("$WASM_BINDGEN" --version)" == "wasm-bindgen $WB_VERSION" ]] ||
  die "$WASM_BINDGEN is not version $WB_VERSION"

cd "$ROOT"

# --- 1. browser bundle -----------------------------------------------------------------------------
log "cargo build (wasm32, hydrate, $PROFILE_DIR)"
cargo build -p tessera-example-leptos --lib --target wasm32-unknown-unknown --features hydrate \
  "${PROFILE_ARGS[@]}" >&2
WASM="$TARGET_DIR/wasm32-unknown-unknown/$PROFILE_DIR/$NAME.wasm"
[[ -f "$WASM" ]] || die "$WASM was not built"
mkdir -p "$SITE_ROOT/pkg"
log "wasm-bindgen → $SITE_ROOT/pkg"
"$WASM_BINDGEN" "$WASM" --target web --no-typescript --out-dir "$SITE_ROOT/pkg" --out-name "$NAME" >&2
[[ -f "$SITE_ROOT/pkg/$NAME.js" && -f "$SITE_ROOT/pkg/${NAME}_bg.wasm" ]] || die "wasm-bindgen produced no bundle"

# --- 2. server -------------------------------------------------------------------------------------
log "cargo build (server, ssr, $PROFILE_DIR)"
cargo build -p tessera-example-leptos --bin tessera-example-leptos --features ssr "${PROFILE_ARGS[@]}" >&2
SERVER="$TARGET_DIR/$PROFILE_DIR/tessera-example-leptos"
[[ -x "$SERVER" ]] || die "$SERVER was not built"

log "done"
echo "$SERVER"
echo "$SITE_ROOT"
