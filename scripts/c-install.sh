#!/usr/bin/env bash
# Installs the C library into PREFIX: lib/libfaceguard.a, lib/libfaceguard.so,
# include/faceguard.h and lib/pkgconfig/faceguard.pc.
#
#   scripts/c-install.sh PREFIX [TARGET]     # TARGET: a Rust target triple, default the host
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="$(realpath -m "${1:?usage: scripts/c-install.sh PREFIX [TARGET]}")"
target_args=()
dir=target/release
if [ $# -gt 1 ]; then
    target_args=(--target "$2")
    dir="target/$2/release"
fi
cargo build --quiet --release -p faceguard-c "${target_args[@]}"
libs="$(scripts/c-libs.sh "${@:2}")"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' crates/faceguard-c/Cargo.toml | head -1)"
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
cp "$dir/libfaceguard.a" "$dir/libfaceguard.so" "$prefix/lib/"
cp include/faceguard.h "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@NATIVE_LIBS@|$libs|" \
    crates/faceguard-c/faceguard.pc.in >"$prefix/lib/pkgconfig/faceguard.pc"
echo "installed faceguard $version into $prefix"
