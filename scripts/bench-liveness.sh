#!/usr/bin/env bash
# The liveness check's time per face under faceguard (tract) and onnxruntime, one after the
# other on the same machine and the same labelled photos (BENCHMARKS.md, "Liveness").
#
#   scripts/bench-liveness.sh [LABELS.csv]   # default ../shared/data/antispoof/dev/labels.csv
#
# Needs python3 with numpy, opencv-python (5.x) and onnxruntime (tools/pad_reference.py).
# Last line: `liveness per face: tract X ms, onnxruntime Y ms, ratio R`.
set -euo pipefail
cd "$(dirname "$0")/.."
labels="${1:-../shared/data/antispoof/dev/labels.csv}"
python=${PYTHON:-python3}
"$python" -c "import cv2, numpy, onnxruntime" 2>/dev/null || {
    echo "error: $python lacks numpy, opencv-python or onnxruntime (pip install them, or set PYTHON)" >&2
    exit 1
}
scripts/fetch-models.sh >/dev/null
cargo build --quiet --release -p faceguard-cli
tract=$(target/release/faceguard eval-liveness --labels "$labels" 2>/dev/null |
    sed -n 's/^time: \([0-9.]*\) ms per judged face.*/\1/p')
ort=$("$python" tools/pad_reference.py --time "$labels" 2>/dev/null |
    sed -n 's/.* faces, \([0-9.]*\) ms per face.*/\1/p')
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
awk -v t="$tract" -v o="$ort" \
    'BEGIN { printf "liveness per face: tract %.1f ms, onnxruntime %.1f ms, ratio %.2f\n", t, o, t / o }'
