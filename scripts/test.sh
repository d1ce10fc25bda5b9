#!/usr/bin/env bash
# The whole test suite, from a fresh clone with shared/ beside it: places the models, checks
# formatting, builds once in release mode and runs every test (unit, integration, CLI,
# compile-fail, doc tests; the CLI's in crates/faceguard-cli), packages the crates meant for
# crates.io, then runs the C API's tests (scripts/test-c.sh: the static library, the C example
# and the misuse test, natively and under valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "error: cargo not found: install Rust with rustup first" >&2; exit 1; }
scripts/fetch-models.sh
cargo fmt --all -- --check
cargo test --release --workspace "$@"
# The crates meant for crates.io package (manifests, path dependencies with versions; what the
# include lists let in is tests/package.rs's). faceguard and faceguard-cli are not built from
# their packages here: that compiles tract and the CLI again in the dev profile (8 minutes and
# 2.3 GB on 2 cores); faceguard-match is (seconds). --offline: cargo test has just fetched
# every crate.
cargo package --offline --allow-dirty --quiet --no-verify --workspace --exclude faceguard-c
cargo package --offline --allow-dirty --quiet -p faceguard-match
scripts/test-c.sh
