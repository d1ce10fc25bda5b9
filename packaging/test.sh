#!/usr/bin/env bash
# Runs what the recipes in packaging/ run, as far as a machine without Yocto or Buildroot can:
#
#   1. the crates vendored as Buildroot's download step vendors them
#        cargo vendor --manifest-path crates/faceguard-c/Cargo.toml --locked VENDOR
#      and cargo pointed at them in place of crates.io (Buildroot's .cargo/config, Yocto's
#      ${CARGO_HOME}/config: here a CARGO_HOME of its own);
#   2. with only those crates and Cargo.lock as it is (--frozen = --offline --locked), the
#      dependency graph of faceguard-c resolved and every crate it needs found, for aarch64 and
#      armv7 (`cargo fetch` and `cargo tree`);
#   3. Buildroot's build and install command, scripts/c-install.sh --offline --locked
#      --library-type staticlib --destdir DIST /usr TARGET, for aarch64 (against the
#      registry's crates, whose build scripts/test-cross.sh has already made, so that only
#      faceguard-c itself compiles), and the staging tree it leaves;
#   4. the Yocto recipe's licence checksum against crates/faceguard-c/Cargo.toml.
#
# Not in CI: compiling against the vendored crates. Cargo fingerprints a crate by the path of
# its sources, so vendored crates rebuild every dependency (tract included) from scratch, about
# 10 minutes a target on 2 cores; `packaging/test.sh --full` does it for aarch64, in a target
# directory of its own (target/packaging/target) so that the main cache stays valid.
# cargo-c itself is tested by scripts/test-cinstall.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
full=false
[[ ${1-} == --full ]] && full=true

AARCH64=aarch64-unknown-linux-gnu
ARMV7=armv7-unknown-linux-gnueabihf
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_RUSTFLAGS="-C target-feature=+neon"
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
out=target/packaging
rm -rf "$out"
mkdir -p "$out/cargo_home"

echo "== 1. vendoring (Buildroot's download step)"
# (--quiet would also silence the configuration it prints on stdout.)
cargo vendor --manifest-path crates/faceguard-c/Cargo.toml --locked "$PWD/$out/VENDOR" \
    >"$out/cargo_home/config.toml" 2>"$out/vendor.log" || { cat "$out/vendor.log" >&2; exit 1; }
grep -q 'replace-with = "vendored-sources"' "$out/cargo_home/config.toml" ||
    { echo "cargo vendor printed no source replacement" >&2; exit 1; }
echo "$(find "$out/VENDOR" -mindepth 1 -maxdepth 1 | wc -l) crates vendored"
vendored() { env CARGO_HOME="$PWD/$out/cargo_home" "$@"; }

echo "== 2. offline, locked, vendored crates only: faceguard-c's graph for aarch64 and armv7"
for t in "$AARCH64" "$ARMV7"; do
    vendored cargo fetch --frozen --manifest-path crates/faceguard-c/Cargo.toml --target "$t"
    vendored cargo tree --frozen --manifest-path crates/faceguard-c/Cargo.toml --target "$t" \
        -e normal,build --features armv7-neon --prefix none >"$out/tree-$t.txt"
    grep -q '^tract-onnx ' "$out/tree-$t.txt"
    echo "$t: $(sort -u "$out/tree-$t.txt" | wc -l) crates resolved from the vendored sources"
done

echo "== 3. Buildroot's build and install command, aarch64"
scripts/c-install.sh --offline --locked --library-type staticlib --destdir "$out/dist" /usr "$AARCH64"
(cd "$out/dist" && find . -type f | sort) >"$out/dist.txt"
printf '%s\n' ./usr/include/faceguard.h ./usr/lib/libfaceguard.a ./usr/lib/pkgconfig/faceguard.pc |
    diff - "$out/dist.txt"
grep -qx 'prefix=/usr' "$out/dist/usr/lib/pkgconfig/faceguard.pc"
[[ $(readelf -hW "$out/dist/usr/lib/libfaceguard.a" | sed -n 's/^ *Machine: *//p' | sort -u) == AArch64 ]]
echo "staging tree: $(tr '\n' ' ' <"$out/dist.txt")(prefix=/usr, AArch64)"

echo "== 4. the Yocto recipe's LIC_FILES_CHKSUM"
chk="$(sed -n 's/^LIC_FILES_CHKSUM = "file:\/\/\(.*\)"$/\1/p' packaging/yocto/faceguard_0.1.0.bb)"
IFS=';' read -r file begin end md5 <<<"$chk"
actual="$(sed -n "${begin#beginline=},${end#endline=}p" "$file" | md5sum | cut -d' ' -f1)"
[[ $actual == "${md5#md5=}" ]] ||
    { echo "LIC_FILES_CHKSUM says ${md5#md5=} for $file lines ${begin#beginline=}-${end#endline=}; they hash to $actual" >&2; exit 1; }
echo "$file lines ${begin#beginline=}-${end#endline=}: md5 $actual, as the recipe says"

if $full; then
    echo "== 5. (--full) Buildroot's build against the vendored crates, aarch64 (a cold build)"
    SECONDS=0
    vendored env CARGO_TARGET_DIR="$PWD/$out/target" scripts/c-install.sh --offline --locked \
        --library-type staticlib --destdir "$out/dist-vendored" /usr "$AARCH64"
    cmp "$out/dist/usr/lib/pkgconfig/faceguard.pc" "$out/dist-vendored/usr/lib/pkgconfig/faceguard.pc"
    echo "built against the vendored crates in $SECONDS s"
fi
echo "packaging: all passed"
