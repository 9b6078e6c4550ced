#!/usr/bin/env bash
# The test command: every crate's unit, integration and doc tests. The adapter suites talk to
# PostgreSQL, MariaDB and Redis on 127.0.0.1 (started by .ci/services.sh when down).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --all-features
