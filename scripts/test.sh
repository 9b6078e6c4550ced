#!/usr/bin/env bash
# The test command: every crate's unit, integration and doc tests. The adapter suites talk to
# PostgreSQL, MariaDB and Redis on 127.0.0.1 (.ci/services.sh starts them when down), and the
# PostgreSQL interop test runs the real npm @auth/pg-adapter (installed here from its lockfile).
set -euo pipefail
cd "$(dirname "$0")/.."
bash crates/tessera-sqlx/tests/js/setup.sh
cargo test --workspace --all-features
