#!/usr/bin/env bash
# The C API as camera firmware uses it. Installs the library with scripts/c-install.sh twice,
# static only and shared only, by running README.md's install and link blocks as written (only
# the prefix differs): the quick start linked through `pkg-config --static` and through
# pkg-config with an rpath, and the camera loop through CMake (examples/c/CMakeLists.txt),
# each run, with readelf checking what each binary needs at run time. Then the camera-loop
# example and the table-driven misuse test, linked by hand against target/release/libfaceguard.a
# as the README documents, run on NV12 frames made from the photos, natively and under valgrind
# (errors and leaks fail the test). Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/c-common.sh
. scripts/c-common.sh
for tool in "${CC:-cc}" pkg-config valgrind cmake readelf; do
    command -v "$tool" >/dev/null || {
        echo "error: $tool is missing for the C API tests: sudo apt-get install -y gcc pkg-config valgrind cmake binutils" >&2
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
documented="$(sed -n 's/^native libraries (Linux: x86_64, aarch64 and armv7): `\(.*\)`$/\1/p' README.md)"
if [ "$libs" != "$documented" ]; then
    echo "rustc says the native libraries are '$libs'; README.md says '$documented'" >&2
    exit 1
fi
echo "$libs"

echo "== the README's quick start compiles without a warning"
awk '/^```c$/{on=1; next} /^```$/{on=0} on' README.md >"$out/quickstart.c"
"$cc" "${cflags[@]}" -Iinclude -fsyntax-only "$out/quickstart.c"

echo "== docs/integration.md: its commands are the README's tested ones, its C code compiles"
guide_block() { # the Nth fenced block of language $1 in the guide, de-indented
    awk -v lang="$1" -v want="$2" '
        /^ *```/ { if (inside) { inside = 0; next } if ($0 ~ "```" lang "$") { n++; inside = (n == want); next } }
        inside { sub(/^   /, ""); print }' docs/integration.md
}
[[ "$(guide_block sh 3)" == "$(readme_block cross-armv7)" ]] ||
    { echo "docs/integration.md's build block differs from README.md's cross-armv7 block" >&2; exit 1; }
guide_block c 1 >"$out/guide_log.c"
[ -s "$out/guide_log.c" ] || { echo "no C block in docs/integration.md" >&2; exit 1; }
"$cc" "${cflags[@]}" -Iinclude -fsyntax-only "$out/guide_log.c"

echo "== frames"
cargo run --quiet --release --example nv12_frames -- "$out/frames"
short_stream "$out/frames" "$out/short"

# The README's two ways, each installed alone into its own prefix: the static library only
# (firmware), then the shared library only.
for type in staticlib cdylib; do
    echo "== the README's $type install, linked with cc and with CMake, run"
    dir="$PWD/$out/$type"
    run_readme_blocks "$dir" "$dir/prefix" "install-$type" "link-$type"
    assert_install "$dir/prefix" "$type"
    assert_client "$dir/app" "$type"
    assert_client "$dir/build/camera_loop" "$type"
    "$dir/build/camera_loop" models "$out/short" "$dir/vault" 50 >"$dir/camera_loop.log"
    tail -1 "$dir/camera_loop.log"
done

echo "== camera loop and misuse test, linked by hand"
# shellcheck disable=SC2086
"$cc" "${cflags[@]}" -Iinclude examples/c/camera_loop.c target/release/libfaceguard.a $libs \
    "${ldflags[@]}" -o "$out/camera_loop"
# shellcheck disable=SC2086
"$cc" "${cflags[@]}" -D_DEFAULT_SOURCE -Iinclude tests/c/misuse.c target/release/libfaceguard.a \
    $libs "${ldflags[@]}" -o "$out/misuse"
assert_client "$out/camera_loop" staticlib
"$out/camera_loop" models "$out/frames" "$out/vault" | tee "$out/camera_loop.log"
grep -q "no longer found" "$out/camera_loop.log"
grep -q "1 template purged from the files" "$out/camera_loop.log"
read -r first w h ys uvs _ <"$out/frames/frames.txt"
"$out/misuse" models "$out/frames/$first" "$w" "$h" "$ys" "$uvs" "$out/misuse-run"

echo "== under valgrind (a short stream: two frames of each of the first two people, one spoof)"
# With `light_models DIR pair` (scripts/c-common.sh): two presentation-attack models, one of
# each crop kind, colour order, input size and output layout, at half the shipped four's model
# runs; the native runs above use the shipped description.
light_models "$out/models-light" pair
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite,indirect --suppressions=tests/c/valgrind.supp)
# The two runs side by side (valgrind runs a program on one core; most machines have two).
# Two probes: one is a hard photo (a miss at the default threshold), hence 50 %.
"${vg[@]}" "$out/camera_loop" "$out/models-light" "$out/short" "$out/vault-vg" 50 >"$out/camera_loop.vg.log" &
loop=$!
"${vg[@]}" "$out/misuse" "$out/models-light" "$out/frames/$first" "$w" "$h" "$ys" "$uvs" "$out/misuse-vg" \
    >"$out/misuse.vg.log" &
misuse=$!
wait "$loop" || { cat "$out/camera_loop.vg.log"; echo "camera_loop failed under valgrind" >&2; exit 1; }
tail -3 "$out/camera_loop.vg.log"
wait "$misuse" || { cat "$out/misuse.vg.log"; echo "misuse failed under valgrind" >&2; exit 1; }
tail -1 "$out/misuse.vg.log"
echo "C API: all passed"
