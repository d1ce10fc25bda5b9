#!/usr/bin/env bash
# Runs faceguard-match's tests (the SIMD kernels above all) on Arm under qemu-user:
#   1. aarch64, qemu's default CPU (has dotprod)  -> the neon and neon-dotprod kernels must run;
#   2. aarch64, QEMU_CPU=cortex-a53 (no dotprod)  -> neon must run, neon-dotprod must be off;
#   3. armv7 (gnueabihf), QEMU_CPU=cortex-a7, +neon and the armv7-neon feature -> the armv7-neon
#      kernels must run (as built for NEON camera SoCs);
#   4. the same without the feature -> the portable kernels only (kernel tests).
#   5. the C API: libfaceguard.a installed and examples/c/camera_loop.c linked for aarch64 and
#      armv7 (+neon, armv7-neon) as README.md shows, run under qemu (armv7: -cpu cortex-a7) on
#      real frames and compared probe by probe with the native run.
# Needs the two rustup targets, the Debian cross gccs/libcs, qemu-user and pkg-config (see the
# check below); `.ci/run` installs them.
#
#   scripts/test-cross.sh [--c-only]     # --c-only: step 5 alone
set -euo pipefail
cd "$(dirname "$0")/.."
c_only=false
[[ ${1-} == --c-only ]] && c_only=true

AARCH64=aarch64-unknown-linux-gnu
ARMV7=armv7-unknown-linux-gnueabihf

# --- tools -------------------------------------------------------------------------------------
missing=()
command -v cargo >/dev/null || missing+=("cargo (install Rust with rustup)")
if command -v rustc >/dev/null; then
    sysroot=$(rustc --print sysroot)
    for t in "$AARCH64" "$ARMV7"; do
        [[ -d "$sysroot/lib/rustlib/$t/lib" ]] || missing+=("Rust target $t")
    done
fi
for tool in aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc qemu-aarch64 qemu-arm pkg-config readelf cc; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
for crt in /usr/aarch64-linux-gnu/lib/crt1.o /usr/arm-linux-gnueabihf/lib/crt1.o; do
    [[ -f "$crt" ]] || missing+=("$crt (cross libc, libc6-dev-*-cross)")
done
if ((${#missing[@]})); then
    {
        echo "error: missing for the cross tests:"
        printf '  - %s\n' "${missing[@]}"
        echo "install them with (Debian/Ubuntu):"
        echo "  rustup target add $AARCH64 $ARMV7"
        echo "  sudo apt-get update && sudo apt-get install -y gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross qemu-user pkg-config binutils gcc"
    } >&2
    exit 1
fi

# --- configuration -----------------------------------------------------------------------------
# Global RUSTFLAGS would override the per-target flags below (and rebuild the host cache);
# a stray QEMU_CPU would change which kernel families the first run sees.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS QEMU_CPU FACEGUARD_EXPECT_ISAS FACEGUARD_EXPECT_NO_ISAS
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUNNER="qemu-arm -L /usr/arm-linux-gnueabihf"
# armv7 hard-float does not imply NEON; enable it for that target only.
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-feature=+neon"

run() { # heading, env assignments..., -- target, extra cargo test arguments...
    local heading=$1
    shift
    echo
    echo "=== $heading ==="
    local envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    local target=$2
    shift 2
    env "${envs[@]}" cargo test --release -p faceguard-match --target "$target" "$@"
}

if ! $c_only; then
run "aarch64, qemu default CPU (max): neon + neon-dotprod kernels" \
    FACEGUARD_EXPECT_ISAS=neon,neon-dotprod -- "$AARCH64"
run "aarch64, QEMU_CPU=cortex-a53: neon kernels, dotprod switched off" \
    QEMU_CPU=cortex-a53 FACEGUARD_EXPECT_ISAS=neon FACEGUARD_EXPECT_NO_ISAS=neon-dotprod -- "$AARCH64"
run "armv7 gnueabihf, QEMU_CPU=cortex-a7, +neon, feature armv7-neon: NEON kernels" \
    QEMU_CPU=cortex-a7 FACEGUARD_EXPECT_ISAS=armv7-neon -- "$ARMV7" --features armv7-neon
run "armv7 gnueabihf, QEMU_CPU=cortex-a7, without the armv7-neon feature: portable kernels" \
    QEMU_CPU=cortex-a7 FACEGUARD_EXPECT_NO_ISAS=armv7-neon -- "$ARMV7" --test kernels
fi

# The C API on Arm: README.md's cross blocks run as written (the static library cross-built and
# installed, the camera-loop example linked with Debian's cross gcc through pkg-config), the
# camera loop run under qemu on two frames of each of the first two people, and compared probe
# by probe with the native run of the same stream.
# shellcheck source=scripts/c-common.sh
. scripts/c-common.sh
out=target/c-test-cross
rm -rf "$out"
mkdir -p "$out"
cargo run --quiet --release --example nv12_frames -- "$out/frames"
short_stream "$out/frames" "$out/short"
cargo build --quiet --release -p faceguard-c
# The models the camera loop loads here: `light_models DIR one` (scripts/c-common.sh), the real
# detector and embedder with a liveness check of one presentation-attack model instead of the
# shipped four. Under qemu the four take longer than a probe consent lasts (a minute), which a
# real board does not; this run checks the cross-built library and its agreement with the
# native build, and the one model still refuses the stream's spoof. Native and emulated runs
# use the same.
light="$PWD/$out/models-light"
light_models "$light" one
# shellcheck disable=SC2046
cc -std=c11 -O2 -Iinclude examples/c/camera_loop.c target/release/libfaceguard.a \
    $(scripts/c-libs.sh) -Wl,-z,noexecstack -o "$out/camera_loop_native"
# Two probes: one is a hard photo (a miss at the default threshold), hence 50 %.
"$out/camera_loop_native" "$light" "$out/short" "$out/vault-native" 50 >"$out/native.log"
documented="$(sed -n 's/^native libraries (Linux: x86_64, aarch64 and armv7): `\(.*\)`$/\1/p' README.md)"

c_on_arm() { # name, qemu command (with its CPU), cross sysroot
    local name=$1 qemu=$2 sysroot=$3 dir="$PWD/$out/$1"
    echo
    echo "=== C API on $name: libfaceguard.a + examples/c/camera_loop.c under $qemu ==="
    run_readme_blocks "$dir" "$dir/prefix" "cross-$name"
    assert_install "$dir/prefix-$name" staticlib
    # The native libraries, as rustc reported them for this target (the .pc's Libs.private).
    local libs
    libs="$(sed -n 's/^Libs.private: //p' "$dir/prefix-$name/lib/pkgconfig/faceguard.pc")"
    [[ "$libs" == "$documented" ]] ||
        { echo "$name native libraries '$libs' differ from README.md's '$documented'" >&2; exit 1; }
    assert_client "$dir/camera_loop" staticlib
    $qemu -L "$sysroot" "$dir/camera_loop" "$light" "$out/short" "$dir/vault" 50 | tee "$dir/camera_loop.log"
    grep -q "no longer found" "$dir/camera_loop.log"
    compare_probes "$name" "$out/native.log" "$dir/camera_loop.log"
}
c_on_arm aarch64 qemu-aarch64 /usr/aarch64-linux-gnu
c_on_arm armv7 "qemu-arm -cpu cortex-a7" /usr/arm-linux-gnueabihf

echo
echo "cross tests passed: aarch64 (max, cortex-a53), armv7 (cortex-a7, NEON and portable), C API on aarch64 and armv7 (cortex-a7)"
