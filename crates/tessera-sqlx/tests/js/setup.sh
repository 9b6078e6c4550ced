#!/usr/bin/env bash
# Installs the pinned @auth/pg-adapter and pg for tessera-sqlx's PostgreSQL interop test
# (tests/it/pg_interop.rs), exactly as package-lock.json records them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
npm ci --no-audit --no-fund
