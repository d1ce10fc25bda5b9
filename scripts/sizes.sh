#!/usr/bin/env bash
# Firmware sizes (BENCHMARKS.md, "Firmware sizes"): for each target, the static library
# installed with scripts/c-install.sh --library-type staticlib, and examples/c/camera_loop.c
# linked against it with the target's gcc through `pkg-config --static`; prints the size of each,
# as built and stripped with the target's binutils strip:
#   libfaceguard.a   strip --strip-unneeded (debug sections and local symbols go; the symbols
#                    a link needs stay: `strip -s` would leave an archive nothing can link)
#   camera_loop      strip -s (an executable needs no symbol table)
# With --time, also the camera loop's user CPU time per frame on the host (x86_64 only: Arm
# runs under qemu would measure qemu), best of 3, on every frame `nv12_frames` makes.
#
#   scripts/sizes.sh [--profile NAME] [--time] [TARGET...]   # default: release, the three targets
#
# Not run by CI: a profile with LTO takes many minutes a target on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=release
time_it=false
targets=()
while (($#)); do
    case $1 in
    --profile) profile="${2:?}"; shift 2 ;;
    --time) time_it=true; shift ;;
    -*) echo "usage: scripts/sizes.sh [--profile NAME] [--time] [TARGET...]" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
    esac
done
host="$(rustc -vV | sed -n 's/^host: //p')"
((${#targets[@]})) || targets=("$host" aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-feature=+neon"
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
out="$PWD/target/sizes/$profile"
mkdir -p "$out"

size() { stat -c %s "$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.2f MiB", b / 1048576 }'; }
printf '| target | profile | libfaceguard.a | stripped (--strip-unneeded) | camera_loop | stripped (-s) |\n'
printf '|---|---|---:|---:|---:|---:|\n'
for t in "${targets[@]}"; do
    case $t in
    "$host") cc=cc strip=strip features=() ;;
    aarch64-unknown-linux-gnu) cc=aarch64-linux-gnu-gcc strip=aarch64-linux-gnu-strip features=() ;;
    armv7-unknown-linux-gnueabihf) cc=arm-linux-gnueabihf-gcc strip=arm-linux-gnueabihf-strip features=(--features armv7-neon) ;;
    *) echo "no C toolchain known for $t" >&2; exit 2 ;;
    esac
    command -v "$cc" >/dev/null || { echo "error: $cc is missing (see scripts/test-cross.sh)" >&2; exit 1; }
    prefix="$out/$t"
    # The host's build needs no --target (and so uses the cache of every other host build).
    target_arg=("$t")
    [[ $t == "$host" ]] && target_arg=()
    scripts/c-install.sh --library-type staticlib --profile "$profile" "${features[@]}" "$prefix" "${target_arg[@]}" >&2
    # shellcheck disable=SC2046
    "$cc" -O2 -o "$out/$t/camera_loop" examples/c/camera_loop.c \
        $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs --static faceguard)
    "$strip" --strip-unneeded -o "$out/$t/libfaceguard.stripped.a" "$prefix/lib/libfaceguard.a"
    "$strip" -s -o "$out/$t/camera_loop.stripped" "$out/$t/camera_loop"
    a=$(size "$prefix/lib/libfaceguard.a") as=$(size "$out/$t/libfaceguard.stripped.a")
    b=$(size "$out/$t/camera_loop") bs=$(size "$out/$t/camera_loop.stripped")
    printf '| %s | %s | %s | %s | %s | %s |\n' "$t" "$profile" "$(mib "$a")" "$(mib "$as")" "$(mib "$b")" "$(mib "$bs")"
done

if $time_it; then
    frames="$PWD/target/sizes/frames"
    [[ -f $frames/frames.txt ]] || cargo run --quiet --release --example nv12_frames -- "$frames" >&2
    n=$(wc -l <"$frames/frames.txt")
    best=
    for _ in 1 2 3; do
        rm -rf "$out/vault"
        u=$( { /usr/bin/time -f %U "$out/$host/camera_loop" models "$frames" "$out/vault" >/dev/null; } 2>&1 | tail -1)
        best=$(awk -v a="$u" -v b="${best:-$u}" 'BEGIN { print (a < b ? a : b) }')
    done
    awk -v s="$best" -v n="$n" -v p="$profile" \
        'BEGIN { printf "camera_loop (%s, %s frames): %.1f ms user CPU a frame (best of 3, models loaded included)\n", p, n, 1000 * s / n }'
fi
