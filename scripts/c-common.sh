# shellcheck shell=bash
# Helpers shared by scripts/test-c.sh, test-cinstall.sh and test-cross.sh (sourced, from the
# repository's root): README blocks run as written, checks of an install and of the C programs
# linked against it, the short frame stream and the probe-by-probe comparison of two runs.

# The SONAME's version (cargo-c's policy, crates/faceguard-c/build.rs): 0.<minor> for 0.x.
c_sover() {
    local version major minor patch
    version="$(cargo metadata --format-version 1 --no-deps |
        sed -n 's/.*"name":"faceguard-c","version":"\([^"]*\)".*/\1/p')"
    IFS=. read -r major minor patch <<<"$version"
    if ((major > 0)); then echo "$major"; elif ((minor > 0)); then echo "0.$minor"; else echo "0.0.$patch"; fi
}

# readme_block NAME: the fenced block right after the line `<!-- c-test: NAME -->` in README.md.
readme_block() {
    awk -v marker="<!-- c-test: $1 -->" '
        $0 == marker { found = 1; next }
        found && !inside && /^```/ { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }' README.md
}

# run_readme_blocks DIR PREFIX NAME...: runs each README block as written, each in a fresh
# shell, in DIR, which holds the README's quick start as app.c and links to the repository's
# scripts/, examples/ and models/ (what a newcomer has in a clone); only the install prefix
# /opt/faceguard is replaced by PREFIX. Nothing of the caller's pkg-config or CMake search
# paths gets in.
run_readme_blocks() {
    local dir=$1 prefix=$2 name script
    shift 2
    mkdir -p "$dir"
    awk '/^```c$/{on=1; next} /^```$/{on=0} on' README.md >"$dir/app.c"
    [[ -s $dir/app.c ]] || { echo "no C quick start in README.md" >&2; return 1; }
    for l in scripts examples models include; do ln -sfn "$PWD/$l" "$dir/$l"; done
    for name; do
        script="$(readme_block "$name")"
        [[ -n $script ]] || { echo "README.md has no block under <!-- c-test: $name -->" >&2; return 1; }
        script="${script//\/opt\/faceguard/$prefix}"
        echo "--- README block '$name', in $dir (/opt/faceguard -> $prefix)"
        (cd "$dir" && env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR -u CMAKE_PREFIX_PATH \
            bash -euo pipefail -xc "$script")
    done
}

# assert_install PREFIX staticlib|cdylib: exactly the files of that library type, the header
# as checked in, the SONAME and its links, and a .pc whose link line keeps the stack
# non-executable.
assert_install() {
    local prefix=$1 type=$2 sover files expected
    sover="$(c_sover)"
    cmp include/faceguard.h "$prefix/include/faceguard.h" ||
        { echo "installed header differs from include/faceguard.h" >&2; return 1; }
    files="$(cd "$prefix/lib" && find . -maxdepth 1 -name 'libfaceguard*' -printf '%f %y\n' | sort)"
    case $type in
    staticlib) expected="libfaceguard.a f" ;;
    cdylib)
        local full
        full="$(cd "$prefix/lib" && echo libfaceguard.so.*.*.*)"
        expected="$(printf '%s\n' "libfaceguard.so l" "libfaceguard.so.$sover l" "$full f" | sort)"
        [[ $(readlink "$prefix/lib/libfaceguard.so") == "$full" &&
            $(readlink "$prefix/lib/libfaceguard.so.$sover") == "$full" ]] ||
            { echo "libfaceguard.so and .so.$sover must link to $full" >&2; return 1; }
        local soname
        soname="$(readelf -dW "$prefix/lib/$full" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
        [[ $soname == "libfaceguard.so.$sover" ]] ||
            { echo "$full has SONAME '$soname', not libfaceguard.so.$sover" >&2; return 1; }
        ;;
    esac
    [[ $files == "$expected" ]] ||
        { printf 'a %s install holds\n%s\ninstead of\n%s\n' "$type" "$files" "$expected" >&2; return 1; }
    PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --libs --static faceguard | grep -q -- '-Wl,-z,noexecstack' ||
        { echo "faceguard.pc's link line lacks -Wl,-z,noexecstack" >&2; return 1; }
}

# assert_client BINARY staticlib|cdylib: a static client needs no libfaceguard at run time, a
# shared one needs it by its SONAME; neither has an executable stack.
assert_client() {
    local bin=$1 type=$2 needed
    needed="$(readelf -dW "$bin" | sed -n 's/.*(NEEDED).*\[\(libfaceguard[^]]*\)\]/\1/p')"
    case $type in
    staticlib) [[ -z $needed ]] || { echo "$bin, linked statically, needs $needed" >&2; return 1; } ;;
    cdylib) [[ $needed == "libfaceguard.so.$(c_sover)" ]] ||
        { echo "$bin needs '$needed', not libfaceguard.so.$(c_sover)" >&2; return 1; } ;;
    esac
    if readelf -lW "$bin" | grep -q 'GNU_STACK.*RWE'; then
        echo "$bin has an executable stack" >&2
        return 1
    fi
    echo "$bin: ${needed:-no libfaceguard.so} needed, stack not executable"
}

# short_stream FRAMES_DIR DIR: two frames of each of the first two people of FRAMES_DIR and
# its first spoof, linked into DIR (the stream the valgrind and qemu runs use).
short_stream() {
    local src=$1 dst=$2 f
    mkdir -p "$dst"
    awk '$6 == "spoof" { if (!spoof++) print; next }
         { if (!($6 in seen)) { n++; seen[$6] = 0 } if (n <= 2 && seen[$6]++ < 2) print }' \
        "$src/frames.txt" >"$dst/frames.txt"
    while read -r f _; do ln -sf "$(realpath "$src/$f")" "$dst/$f"; done <"$dst/frames.txt"
}

# light_models DIR one|pair: models/ as the C programs load it, with a lighter liveness check
# than the shipped four presentation-attack models, linked or written into DIR:
#   one   Silent-Face's MiniFASNetV2 (80x80) alone, at its authors' crop: for qemu, where the
#         four outlast a probe consent (a minute), which a real board does not;
#   pair  the two-model description of BENCHMARKS.md ("Is there a better fusion?"):
#         MiniFASNet-98.20 at a square 2.0 crop (RGB, 128x128, two classes) and MiniFASNetV2 at
#         its shifted crop (BGR, 80x80, three classes), weighted: for valgrind, both crop kinds,
#         colour orders, input sizes and output layouts at half the four's model runs (the
#         shipped description, with a file listed twice, runs natively).
light_models() {
    local dir=$1 kind=$2 f files models threshold
    local v2='{ "name": "silent-face-v2@2.7", "file": "sfas_minifasnetv2_2.7_80x80.onnx",
      "input": [80, 80], "crop": { "kind": "shifted", "scale": 2.7 }, "color_order": "bgr",
      "mean": [0, 0, 0], "std": [1, 1, 1], "classes": 3, "live_class": 1, "output": "logits"'
    case $kind in
    one) files="sfas_minifasnetv2_2.7_80x80.onnx" threshold=1.3 models="$v2 }" ;;
    pair)
        files="antispoof_minifasnet_98.20.onnx sfas_minifasnetv2_2.7_80x80.onnx" threshold=1.651
        models='{ "name": "minifasnet-98.20@2.0", "file": "antispoof_minifasnet_98.20.onnx",
      "input": [128, 128], "crop": { "kind": "square", "scale": 2.0 }, "color_order": "rgb",
      "mean": [0, 0, 0], "std": [255, 255, 255], "classes": 2, "live_class": 0,
      "output": "logits", "weight": 0.524 },
    '"$v2"', "weight": 0.476 }'
        ;;
    *) echo "light_models: one or pair, not '$kind'" >&2; return 2 ;;
    esac
    mkdir -p "$dir"
    for f in face_detection_yunet_2023mar.onnx fr_feature.onnx fr_feature.json $files; do
        ln -sf "$PWD/models/$f" "$dir/$f"
    done
    cat >"$dir/liveness.json" <<JSON
{
  "name": "light: $kind (scripts/c-common.sh)",
  "threshold": $threshold,
  "min_face": 40,
  "models": [
    $models
  ]
}
JSON
}

# compare_probes NAME REFERENCE_LOG LOG: camera_loop's probes in LOG are those of
# REFERENCE_LOG (a native run on the same stream): same subjects, same decisions, scores
# within 0.005.
compare_probes() {
    local name=$1 ref=$2 log=$3
    probes() { grep -E '^  (ok|MISS) ' "$1" | tr -d '()' | awk '{ print $2, $4, $6 }'; }
    [[ $(probes "$ref" | wc -l) == $(probes "$log" | wc -l) ]] ||
        { echo "$name and the native run saw a different number of probes" >&2; return 1; }
    paste -d' ' <(probes "$ref") <(probes "$log") | awk -v name="$name" '
        { d = $3 - $6; if (d < 0) d = -d
          if ($1 != $4 || $2 != $5 || d > 0.005) { print name " differs from the native run: " $0; bad = 1 }
          n++ }
        END { if (n == 0) { print "no probes compared"; bad = 1 } exit bad }'
    echo "$name and the native run agree on every probe (subject, decision, score within 0.005)"
}
