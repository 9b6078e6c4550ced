#!/usr/bin/env bash
# The test command: every crate's unit, integration and doc tests. The adapter suites talk to
# PostgreSQL, MariaDB and Redis on 127.0.0.1 (.ci/services.sh starts them when down); the
# PostgreSQL interop test runs the real npm @auth/pg-adapter and the client's live tests run
# the real next-auth handler, both installed here from their lockfiles.
set -euo pipefail
cd "$(dirname "$0")/.."
bash crates/tessera-sqlx/tests/js/setup.sh
[ -f tests/e2e/node_modules/.package-lock.json ] || (cd tests/e2e && npm ci --no-audit --no-fund)
# The client's live tests start the real server binary.
cargo build -p tessera-server
cargo test --workspace --all-features
