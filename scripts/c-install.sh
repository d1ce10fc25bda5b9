#!/usr/bin/env bash
# Installs the C library as `cargo cinstall` does, for build systems without cargo-c:
#
#   PREFIX/lib/libfaceguard.a                          --library-type staticlib
#   PREFIX/lib/libfaceguard.so.0.1.0 (SONAME libfaceguard.so.0.1)
#          and the links libfaceguard.so.0.1, libfaceguard.so -> it
#                                                      --library-type cdylib
#   PREFIX/include/faceguard.h                         the checked-in header, as is
#   PREFIX/lib/pkgconfig/faceguard.pc
#
# usage: scripts/c-install.sh [OPTIONS] PREFIX [TARGET]
#   TARGET                       a Rust target triple (default: the host)
#   --library-type TYPE          staticlib or cdylib; repeat it for both, the default. A firmware
#                                that links statically installs staticlib only: with both in
#                                lib/, the linker's `-lfaceguard` takes the .so
#   --destdir DIR                write the files under DIR/PREFIX; the .pc still says PREFIX
#   --profile NAME               cargo profile (default release; see `[profile.firmware]`)
#   --features LIST              faceguard-c features (armv7-neon for armv7 with NEON)
#   --offline, --locked, --frozen  passed to cargo (vendored crates, Cargo.lock as it is)
set -euo pipefail
# realpath: the script may be reached through a link to scripts/.
cd "$(dirname "$(realpath "$0")")/.."

usage() {
    sed -n '/^# usage:/,/^set /{/^set /d; s/^# \{0,1\}//; p}' "$0" >&2
    exit "${1:-2}"
}
types=()
destdir=
profile=release
cargo_args=()
args=()
while (($#)); do
    case $1 in
    --library-type)
        [[ ${2-} == staticlib || ${2-} == cdylib ]] || { echo "--library-type takes staticlib or cdylib" >&2; usage; }
        types+=("$2")
        shift 2
        ;;
    --destdir) destdir="$(realpath -m "${2:?--destdir takes a directory}")"; shift 2 ;;
    --profile) profile="${2:?--profile takes a name}"; shift 2 ;;
    --features) cargo_args+=(--features "${2:?--features takes a list}"); shift 2 ;;
    --offline | --locked | --frozen) cargo_args+=("$1"); shift ;;
    -h | --help) usage 0 ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) args+=("$1"); shift ;;
    esac
done
((${#args[@]} == 1 || ${#args[@]} == 2)) || usage
[[ ${args[0]} == /* ]] || { echo "PREFIX must be an absolute path (it is written into faceguard.pc): ${args[0]}" >&2; exit 2; }
prefix="$(realpath -m "${args[0]}")"
((${#types[@]})) || types=(staticlib cdylib)
mapfile -t types < <(printf '%s\n' "${types[@]}" | sort -u)

# Where cargo builds (CARGO_TARGET_DIR or build.target-dir where set): `dev` and `test` into
# debug/, every other profile into <profile>/.
metadata="$(cargo metadata --format-version 1 --no-deps)"
dir="$(sed 's/.*"target_directory":"\([^"]*\)".*/\1/' <<<"$metadata")"
if ((${#args[@]} == 2)); then
    cargo_args+=(--target "${args[1]}")
    dir="$dir/${args[1]}"
fi
case $profile in dev | test) dir="$dir/debug" ;; *) dir="$dir/$profile" ;; esac

# One build of the crate types asked for, as cargo-c does; rustc's note on the native libraries
# the static library needs (replayed by cargo when the build is fresh) goes into the .pc.
crate_types="$(IFS=,; echo "${types[*]}")"
log="$(cargo rustc --quiet -p faceguard-c --lib --profile "$profile" "${cargo_args[@]}" \
    --crate-type "$crate_types" -- --print native-static-libs 2>&1)" || { echo "$log" >&2; exit 1; }
native_libs=
if [[ " ${types[*]} " == *" staticlib "* ]]; then
    native_libs="$(sed -n 's/^note: native-static-libs: //p' <<<"$log" | tail -1)"
    [[ -n $native_libs ]] || { echo "$log" >&2; echo "rustc printed no native-static-libs" >&2; exit 1; }
fi

version="$(sed -n 's/.*"name":"faceguard-c","version":"\([^"]*\)".*/\1/p' <<<"$metadata")"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "cannot read faceguard-c's version from cargo metadata: '$version'" >&2; exit 1; }
IFS=. read -r major minor patch <<<"$version"
# The SONAME policy, cargo-c's (crates/faceguard-c/build.rs gives the library this SONAME).
if ((major > 0)); then sover=$major; elif ((minor > 0)); then sover=0.$minor; else sover=0.0.$patch; fi

lib="$destdir$prefix/lib"
inc="$destdir$prefix/include"
mkdir -p "$lib/pkgconfig" "$inc"
# A reinstall with other library types must not leave the previous ones behind.
rm -f "$lib"/libfaceguard.a "$lib"/libfaceguard.so "$lib"/libfaceguard.so.*
libs_public=
for t in "${types[@]}"; do
    case $t in
    staticlib)
        install -m 644 "$dir/libfaceguard.a" "$lib/"
        ;;
    cdylib)
        install -m 755 "$dir/libfaceguard.so" "$lib/libfaceguard.so.$version"
        [[ $sover == "$version" ]] || ln -sf "libfaceguard.so.$version" "$lib/libfaceguard.so.$sover"
        ln -sf "libfaceguard.so.$version" "$lib/libfaceguard.so"
        ;;
    esac
done
# As cargo-c: a static-only install puts the native libraries in Libs too, so that a plain
# `pkg-config --libs` links; they are in Libs.private either way, for `pkg-config --static`.
[[ ${types[*]} == staticlib ]] && libs_public=" $native_libs"
install -m 644 include/faceguard.h "$inc/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@LIBS@|$libs_public|" \
    -e "s|@LIBS_PRIVATE@|$native_libs|" crates/faceguard-c/faceguard.pc.in >"$lib/pkgconfig/faceguard.pc"
echo "installed faceguard $version (${types[*]}) into $destdir$prefix"
