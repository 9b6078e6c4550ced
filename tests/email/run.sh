#!/usr/bin/env bash
# Email (magic link) end-to-end test:
#   a real SMTP server on loopback (npm smtp-server + mailparser, one plain+AUTH, one STARTTLS
#   with a private CA), the real tessera-server binary configured by TOML with email providers,
#   and the real next-auth/react client (tests/e2e/app) in headless Debian chromium.
#
#   tests/email/run.sh            # uses target/debug/tessera-server (built here if needed)
#
# Installs what it needs (npm ci here and in tests/e2e, Debian chromium and openssl), builds the
# test page and the server, runs `node --test email.test.mjs`. Anything missing is a failure,
# never a skip. Optional env: TESSERA_BIN (skip the cargo build), EMAIL_E2E_KEEP_TMP=1.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
E2E="$ROOT/tests/e2e"
cd "$HERE"

log() { echo "email-e2e: $*" >&2; }
die() {
  log "FAIL: $*"
  exit 1
}

# --- dependencies ----------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: older than the lockfile = stale.
npm_ci() {
  local dir="$1"
  if [[ ! -f "$dir/node_modules/.package-lock.json" || "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]]; then
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund >&2) || die "npm ci failed in $dir"
  fi
}
npm_ci "$HERE"
npm_ci "$E2E"
[[ -d node_modules/smtp-server && -d node_modules/mailparser && -d node_modules/playwright-core ]] ||
  die "tests/email/node_modules is incomplete after npm ci"
[[ -d "$E2E/node_modules/next-auth" ]] || die "tests/e2e/node_modules is incomplete after npm ci"

log "building the test page (tests/e2e/build.mjs)"
(cd "$E2E" && node build.mjs >&2) || die "could not build the test page"
[[ -f "$E2E/.out/static/index.html" && -f "$E2E/.out/static/main.js" ]] || die "the test page was not built"

apt_install() {
  log "installing Debian $*"
  apt-get update >&2 && apt-get install -y --no-install-recommends "$@" >&2 || die "could not install $*"
}
[[ -x /usr/bin/chromium ]] || apt_install chromium
[[ -x /usr/bin/chromium ]] || die "/usr/bin/chromium is missing"
command -v openssl >/dev/null || apt_install openssl
command -v openssl >/dev/null || die "openssl is missing"

if [[ -n "${TESSERA_BIN:-}" ]]; then
  BIN="$TESSERA_BIN"
else
  log "cargo build -p tessera-server"
  (cd "$ROOT" && cargo build -q -p tessera-server >&2) || die "cargo build -p tessera-server failed"
  BIN="$ROOT/target/debug/tessera-server"
fi
[[ -x "$BIN" ]] || die "tessera-server binary not found or not executable: $BIN"

# --- scratch space and a private CA for the STARTTLS server ---------------------------------------
TMP="$(mktemp -d "${TMPDIR:-/tmp}/tessera-email-e2e.XXXXXX")"
cleanup() {
  if [[ "${EMAIL_E2E_KEEP_TMP:-}" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

log "minting a test CA and a 127.0.0.1 certificate"
(
  cd "$TMP"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=Tessera email e2e CA" -keyout ca.key -out ca.pem
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=127.0.0.1" -keyout smtp.key -out smtp.csr
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >smtp.ext
  openssl x509 -req -in smtp.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile smtp.ext -out smtp.pem
) >"$TMP/openssl.log" 2>&1 || {
  cat "$TMP/openssl.log" >&2
  die "openssl could not mint the test certificates"
}

# --- tests -------------------------------------------------------------------------------------
TESSERA_BIN="$BIN" STATIC_DIR="$E2E/.out/static" WORK_DIR="$TMP" \
  TLS_CA="$TMP/ca.pem" TLS_KEY="$TMP/smtp.key" TLS_CERT="$TMP/smtp.pem" \
  node --test --test-timeout=180000 email.test.mjs
