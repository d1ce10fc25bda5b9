#!/usr/bin/env bash
# Prints the native libraries a C program must link after libfaceguard.a, as rustc reports
# them (`--print native-static-libs`) for the target given as $1 (default: the host).
set -euo pipefail
cd "$(dirname "$0")/.."
target=()
[ $# -gt 0 ] && target=(--target "$1")
cargo rustc --quiet --release -p faceguard-c "${target[@]}" --crate-type staticlib \
    -- --print native-static-libs 2>&1 |
    sed -n 's/^note: native-static-libs: //p' | tail -1
