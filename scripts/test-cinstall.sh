#!/usr/bin/env bash
# The cargo-c way of README.md's "Build, install and link", for humans (not CI: installing
# cargo-c takes 15 minutes and more on 2 cores, and `cargo cinstall` builds everything again
# into target/<host triple>/ with its own flags): runs the README's `cargo cinstall` blocks as
# written, static only and shared only, each into a prefix of its own, then the same link blocks
# as scripts/test-c.sh (the quick start through pkg-config, the camera loop through CMake), runs
# the programs, checks with readelf what they need at run time, and checks that the install
# holds the same files and faceguard.pc as scripts/c-install.sh's.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/c-common.sh
. scripts/c-common.sh
if ! command -v cargo-cinstall >/dev/null; then
    cat >&2 <<'EOF'
error: cargo-c is not installed (no cargo-cinstall in PATH). Install it with
    sudo apt-get install -y pkg-config libssl-dev    # cargo-c builds cargo, which needs them
    cargo install cargo-c --locked                   # 15 minutes and more on 2 cores
then run scripts/test-cinstall.sh again.
EOF
    exit 1
fi
for tool in "${CC:-cc}" pkg-config cmake readelf; do
    command -v "$tool" >/dev/null || {
        echo "error: $tool is missing: sudo apt-get install -y gcc pkg-config cmake binutils" >&2
        exit 1
    }
done
echo "cargo-c: $(cargo cinstall --version 2>/dev/null || cargo-cinstall --version)"
out=target/c-test-cinstall
rm -rf "$out"
mkdir -p "$out"
cargo run --quiet --release --example nv12_frames -- "$out/frames"
short_stream "$out/frames" "$out/short"

for type in staticlib cdylib; do
    echo "== cargo cinstall --library-type $type, linked with cc and with CMake, run"
    dir="$PWD/$out/$type"
    run_readme_blocks "$dir" "$dir/prefix" "cinstall-$type" "link-$type"
    assert_install "$dir/prefix" "$type"
    assert_client "$dir/app" "$type"
    assert_client "$dir/build/camera_loop" "$type"
    "$dir/build/camera_loop" models "$out/short" "$dir/vault" 50 >"$dir/camera_loop.log"
    tail -1 "$dir/camera_loop.log"

    echo "== the same install as scripts/c-install.sh --library-type $type"
    scripts/c-install.sh --library-type "$type" "$dir/plain"
    list() { (cd "$1" && find . \( -type f -o -type l \) -printf '%p %y %l\n' | sort); }
    diff <(list "$dir/prefix") <(list "$dir/plain") ||
        { echo "cargo cinstall and scripts/c-install.sh install different files" >&2; exit 1; }
    diff <(sed "s|$dir/prefix|PREFIX|" "$dir/prefix/lib/pkgconfig/faceguard.pc") \
        <(sed "s|$dir/plain|PREFIX|" "$dir/plain/lib/pkgconfig/faceguard.pc") ||
        { echo "cargo cinstall's faceguard.pc (after the README's sed) differs from scripts/c-install.sh's" >&2; exit 1; }
    echo "same files, same faceguard.pc"
done
echo "cargo-c install: all passed"
