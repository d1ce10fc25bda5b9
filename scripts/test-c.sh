#!/usr/bin/env bash
# The C API as camera firmware uses it: builds libfaceguard.a, checks the documented link
# line, installs with pkg-config, compiles the README's quick start, the camera-loop example
# and the table-driven misuse test with the system C compiler, runs them on NV12 frames made
# from the photos, then runs them again under valgrind (errors and leaks fail the test).
# Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in "${CC:-cc}" pkg-config valgrind; do
    command -v "$tool" >/dev/null || {
        echo "error: $tool is missing for the C API tests: sudo apt-get install -y gcc pkg-config valgrind" >&2
        exit 1
    }
done
out=target/c-test
rm -rf "$out"
mkdir -p "$out"
cc="${CC:-cc}"
cflags=(-std=c11 -Wall -Wextra -Werror -O2)
# tract's hand-written assembly objects carry no .note.GNU-stack: without this, the linker
# would make the stack executable.
ldflags=(-Wl,-z,noexecstack)

echo "== native libraries"
libs="$(scripts/c-libs.sh)"
documented="$(sed -n 's/^native libraries (Linux, x86_64 and aarch64): `\(.*\)`$/\1/p' README.md)"
if [ "$libs" != "$documented" ]; then
    echo "rustc says the native libraries are '$libs'; README.md says '$documented'" >&2
    exit 1
fi
echo "$libs"

echo "== install and pkg-config"
scripts/c-install.sh "$out/prefix"
export PKG_CONFIG_PATH="$PWD/$out/prefix/lib/pkgconfig"
pkg="$(pkg-config --cflags --libs --static faceguard)"

echo "== the README's quick start compiles as written"
awk '/^```c$/{on=1; next} /^```$/{on=0} on' README.md >"$out/quickstart.c"
[ -s "$out/quickstart.c" ] || { echo "no C quick start in README.md" >&2; exit 1; }
# shellcheck disable=SC2086
"$cc" "${cflags[@]}" "$out/quickstart.c" $pkg -o "$out/quickstart"
if readelf -lW "$out/quickstart" | grep -q 'GNU_STACK.*RWE'; then
    echo "the quick start links with an executable stack" >&2
    exit 1
fi

echo "== camera loop and misuse test"
cargo run --quiet --release --example nv12_frames -- "$out/frames"
# shellcheck disable=SC2086
"$cc" "${cflags[@]}" -Iinclude examples/c/camera_loop.c target/release/libfaceguard.a $libs \
    "${ldflags[@]}" -o "$out/camera_loop"
# shellcheck disable=SC2086
"$cc" "${cflags[@]}" -D_DEFAULT_SOURCE -Iinclude tests/c/misuse.c target/release/libfaceguard.a \
    $libs "${ldflags[@]}" -o "$out/misuse"
"$out/camera_loop" models "$out/frames" "$out/vault" | tee "$out/camera_loop.log"
grep -q "no longer found" "$out/camera_loop.log"
grep -q "1 template purged from the files" "$out/camera_loop.log"
read -r first w h ys uvs _ <"$out/frames/frames.txt"
"$out/misuse" models "$out/frames/$first" "$w" "$h" "$ys" "$uvs" "$out/misuse-run"

echo "== under valgrind (a short stream: two frames of each of the first two people)"
mkdir -p "$out/short"
awk '{ if (!($6 in seen)) { n++; seen[$6] = 0 } if (n <= 2 && seen[$6]++ < 2) print }' "$out/frames/frames.txt" \
    >"$out/short/frames.txt"
while read -r f _; do ln -sf "$PWD/$out/frames/$f" "$out/short/$f"; done <"$out/short/frames.txt"
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect)
# Two probes: one is a hard photo (a miss at the default threshold), hence 50 %.
"${vg[@]}" "$out/camera_loop" models "$out/short" "$out/vault-vg" 50 >"$out/camera_loop.vg.log"
tail -3 "$out/camera_loop.vg.log"
"${vg[@]}" "$out/misuse" models "$out/frames/$first" "$w" "$h" "$ys" "$uvs" "$out/misuse-vg" |
    tail -1
echo "C API: all passed"
