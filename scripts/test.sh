#!/usr/bin/env bash
# The whole test suite, from a fresh clone with shared/ beside it: places the models, checks
# formatting, builds once in release mode and runs every test (unit, integration, CLI,
# compile-fail, doc tests), then the C API's tests (scripts/test-c.sh: the static library,
# the C example and the misuse test, natively and under valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "error: cargo not found: install Rust with rustup first" >&2; exit 1; }
scripts/fetch-models.sh
cargo fmt --all -- --check
cargo test --release --workspace "$@"
scripts/test-c.sh
