#!/usr/bin/env bash
# Accuracy where the users are: the operating point, quality gates, several-photo enrolment
# and the per-group report on faces/ and faces-eastasia/ (BENCHMARKS.md, "Accuracy").
#
#   scripts/accuracy.sh            # evaluate with the committed models/fr_feature.json
#   scripts/accuracy.sh calibrate  # also re-measure the operating points into target/accuracy
#
# Writes the identities files with a group column to target/accuracy/ (from the labels in
# ../shared/data, never committed) and runs `faceguard eval` on them. Takes about 5 minutes on
# 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${FACEGUARD_DATA:-../shared/data}"
out=target/accuracy
mkdir -p "$out"
for set in faces faces-eastasia; do
    [ -f "$data/$set/identities.csv" ] || {
        echo "error: $data/$set/identities.csv not found (set FACEGUARD_DATA to the data directory)" >&2
        exit 1
    }
done
# Absolute paths, so that one file can mix both sets. Groups: faces/ is one group;
# faces-eastasia/ has press photos from LFW (greyscale, mostly older people) and photos of
# K-pop and J-pop idols (young, styled alike).
abs() { (cd "$1" && pwd); }
awk -F, -v d="$(abs "$data/faces")" \
    'NR == 1 { print "file,identity,group"; next } { print d "/" $1 "," $2 ",faces" }' \
    "$data/faces/identities.csv" >"$out/faces.csv"
awk -F, -v d="$(abs "$data/faces-eastasia")" \
    'NR == 1 { print "file,identity,group"; next }
     { g = ($2 ~ /^lfw_/) ? "eastasia-lfw" : "eastasia-idol"; print d "/" $1 "," $2 "," g }' \
    "$data/faces-eastasia/identities.csv" >"$out/faces-eastasia.csv"
{ cat "$out/faces.csv"; tail -n +2 "$out/faces-eastasia.csv"; } >"$out/all.csv"

cargo build --quiet --release -p faceguard-cli
fg=target/release/faceguard
if [ "${1:-}" = calibrate ]; then
    echo "== calibrate"
    "$fg" calibrate --identities "$out/faces.csv" --identities "$out/faces-eastasia.csv" \
        --out "$out/fr_feature.json"
fi
for set in faces faces-eastasia; do
    echo "== $set: every pair, quality gates on"
    "$fg" eval --identities "$out/$set.csv" --plot "$out/$set-det.png"
    echo "== $set: every pair, quality gates off"
    "$fg" eval --identities "$out/$set.csv" --no-quality
    echo "== $set: enrolled from 1 and from 3 photos"
    "$fg" eval --identities "$out/$set.csv" --enrol-photos 3
done
echo "== both sets, by group"
"$fg" eval --identities "$out/all.csv"
