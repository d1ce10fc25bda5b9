#!/usr/bin/env bash
# Runs faceguard-match's tests (the SIMD kernels above all) on Arm under qemu-user:
#   1. aarch64, qemu's default CPU (has dotprod)  -> the neon and neon-dotprod kernels must run;
#   2. aarch64, QEMU_CPU=cortex-a53 (no dotprod)  -> neon must run, neon-dotprod must be off;
#   3. armv7 (gnueabihf), QEMU_CPU=cortex-a7, +neon and the armv7-neon feature -> the armv7-neon
#      kernels must run (as built for NEON camera SoCs);
#   4. the same without the feature -> the portable kernels only (kernel tests).
# Needs the two rustup targets, the Debian cross gccs/libcs and qemu-user (see check below);
#   5. the C API: libfaceguard.a and examples/c/camera_loop.c cross-built for aarch64 and run
#      under qemu on real frames.
# `.ci/run` installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

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
for tool in aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc qemu-aarch64 qemu-arm; do
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
        echo "  sudo apt-get update && sudo apt-get install -y gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross qemu-user"
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

run "aarch64, qemu default CPU (max): neon + neon-dotprod kernels" \
    FACEGUARD_EXPECT_ISAS=neon,neon-dotprod -- "$AARCH64"
run "aarch64, QEMU_CPU=cortex-a53: neon kernels, dotprod switched off" \
    QEMU_CPU=cortex-a53 FACEGUARD_EXPECT_ISAS=neon FACEGUARD_EXPECT_NO_ISAS=neon-dotprod -- "$AARCH64"
run "armv7 gnueabihf, QEMU_CPU=cortex-a7, +neon, feature armv7-neon: NEON kernels" \
    QEMU_CPU=cortex-a7 FACEGUARD_EXPECT_ISAS=armv7-neon -- "$ARMV7" --features armv7-neon
run "armv7 gnueabihf, QEMU_CPU=cortex-a7, without the armv7-neon feature: portable kernels" \
    QEMU_CPU=cortex-a7 FACEGUARD_EXPECT_NO_ISAS=armv7-neon -- "$ARMV7" --test kernels

# The C API on aarch64: the static library cross-built, the camera-loop example cross-compiled
# with the system's aarch64 gcc against it, run under qemu on two frames of each of the first
# two people.
echo
echo "=== C API on aarch64: libfaceguard.a + examples/c/camera_loop.c under qemu ==="
out=target/c-test-aarch64
rm -rf "$out"
mkdir -p "$out/short"
cargo build --release -p faceguard-c --target "$AARCH64"
libs="$(scripts/c-libs.sh "$AARCH64")"
documented="$(sed -n 's/^native libraries (Linux, x86_64 and aarch64): `\(.*\)`$/\1/p' README.md)"
[[ "$libs" == "$documented" ]] || { echo "aarch64 native libraries '$libs' differ from README.md's '$documented'" >&2; exit 1; }
# shellcheck disable=SC2086
aarch64-linux-gnu-gcc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude examples/c/camera_loop.c \
    "target/$AARCH64/release/libfaceguard.a" $libs -Wl,-z,noexecstack -o "$out/camera_loop"
cargo run --quiet --release --example nv12_frames -- "$out/frames"
awk '{ if (!($6 in seen)) { n++; seen[$6] = 0 } if (n <= 2 && seen[$6]++ < 2) print }' "$out/frames/frames.txt" \
    >"$out/short/frames.txt"
while read -r f _; do ln -sf "$PWD/$out/frames/$f" "$out/short/$f"; done <"$out/short/frames.txt"
# The same stream natively, for comparison: the same people found, with the same scores.
cargo build --quiet --release -p faceguard-c
# shellcheck disable=SC2086
cc -std=c11 -O2 -Iinclude examples/c/camera_loop.c target/release/libfaceguard.a \
    $(scripts/c-libs.sh) -Wl,-z,noexecstack -o "$out/camera_loop_native"
"$out/camera_loop_native" models "$out/short" "$out/vault-native" 50 >"$out/native.log"
# Two probes: one is a hard photo (a miss at the default threshold), hence 50 %.
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/camera_loop" models "$out/short" "$out/vault" 50 |
    tee "$out/camera_loop.log"
grep -q "no longer found" "$out/camera_loop.log"
probes() { grep -E '^  (ok|MISS) ' "$1" | tr -d '()' | awk '{ print $2, $4, $6 }'; }
paste -d' ' <(probes "$out/native.log") <(probes "$out/camera_loop.log") | awk '
    { d = $3 - $6; if (d < 0) d = -d
      if ($1 != $4 || $2 != $5 || d > 0.005) { print "aarch64 differs from x86_64: " $0; bad = 1 }
      n++ }
    END { if (n == 0) { print "no probes compared"; bad = 1 } exit bad }'
echo "aarch64 and x86_64 agree on every probe (subject, and score within 0.005)"

echo
echo "cross tests passed: aarch64 (max, cortex-a53), armv7 (cortex-a7, NEON and portable), C API on aarch64"
