#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: faceguard and the same models under OpenCV 5 and onnxruntime,
# single-threaded, in one run on one machine.
#
#   scripts/bench.sh [--iterations N] [--criterion]
#
# 1. builds the faceguard tool (cargo build --release -p faceguard-cli);
# 2. makes a VGA (640x480) and a 1080p (1920x1080) frame from a real photo
#    (tools/make_frames.py -> target/bench-frames/, never committed);
# 3. runs `faceguard bench FRAME --iterations N` on both frames;
# 4. runs tools/bench_reference.py (OpenCV 5 FaceDetectorYN + DNN, onnxruntime) on both frames;
# 5. prints a Markdown table of the medians; with --criterion, also runs `cargo bench`.
#
# Everything goes to stdout and to target/bench-results/bench-<time>.log.
# Everything runs pinned to one CPU (FACEGUARD_BENCH_CPU, default 0; set it empty to not pin).
# Needs: cargo, python3 with opencv-python-headless (5.x), onnxruntime, onnx, numpy; the models
# in models/ (scripts/fetch-models.sh) and the photos in ../shared/data (or $FACEGUARD_DATA).
set -euo pipefail

iterations=30
criterion=0
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) iterations="$2"; shift 2 ;;
    --iterations=*) iterations="${1#*=}"; shift ;;
    --criterion) criterion=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
frames="$root/target/bench-frames"
results="$root/target/bench-results"
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log="$results/bench-$stamp.log"
lines="$results/lines-$stamp.txt" # the machine-readable lines, for the summary
: >"$lines"
exec > >(tee "$log") 2>&1

cpu="${FACEGUARD_BENCH_CPU-0}"
pin=()
if [ -n "$cpu" ] && command -v taskset >/dev/null; then
  pin=(taskset -c "$cpu")
fi
# Single-threaded everywhere (tract runs on the calling thread; these cover the rest).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

for m in face_detection_yunet_2023mar.onnx fr_feature.onnx; do
  if [ ! -f "models/$m" ]; then
    echo "model models/$m is missing: run \`scripts/fetch-models.sh\` to place the models in models/" >&2
    exit 1
  fi
done

echo "== environment"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (modified)')"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') ($(nproc) logical CPUs)"
echo "os: $(uname -srm)"
echo "rustc: $(rustc --version)"
echo "pinned to: ${pin[*]:-no pinning}"
echo "iterations: $iterations"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== build"
cargo build --release -p faceguard-cli

echo "== frames"
python3 tools/make_frames.py "$frames"

echo "== faceguard"
bin="$root/target/release/faceguard"
for f in "$frames/frame-640x480.jpg" "$frames/frame-1920x1080.jpg"; do
  echo "-- faceguard bench $f --iterations $iterations"
  out=$("${pin[@]}" "$bin" bench "$f" --iterations "$iterations")
  echo "$out"
  # The last line is the machine-readable one: image=WxH load_ms=.. detect_ms=.. ...
  echo "faceguard $(tail -n 1 <<<"$out")" | tee -a "$lines"
done

echo "== reference: OpenCV 5 and onnxruntime"
"${pin[@]}" python3 tools/bench_reference.py "$frames" --iterations "$iterations" | tee -a "$lines"

if [ "$criterion" = 1 ]; then
  echo "== criterion (cargo bench)"
  "${pin[@]}" cargo bench --bench pipeline --bench matching
fi

echo "== summary (median ms, single-threaded)"
python3 tools/bench_reference.py --summary "$lines"
echo
echo "log: $log (machine-readable lines: $lines)"
