#!/usr/bin/env python3
"""Times the same models as faceguard under OpenCV 5 and onnxruntime, single-threaded.

For each benchmark frame (see tools/make_frames.py; made on the fly when missing):

* YuNet under OpenCV (`cv2.FaceDetectorYN`, score 0.6, NMS 0.3) on the frame resized so that its
  long side is 640 (INTER_AREA, never upscaled): the input faceguard gives YuNet. OpenCV pads to
  a multiple of 32 internally, as faceguard does.
* YuNet under onnxruntime on the same resized frame: BGR float32 NCHW, zero-padded to multiples
  of 32. `session.run` and the pre-processing are timed separately.
* fr_feature under OpenCV DNN and under onnxruntime on a 112x112 crop aligned with
  `cv2.FaceRecognizerSF.alignCrop` on the largest face: RGB, (x - 127) / 128.

Every measurement is warmed up, then timed `--iterations` times; one machine-readable line each:

    ref engine=opencv model=yunet stage=detect frame=640x480 input=640x480 median_ms=.. min_ms=.. iterations=30

stage: `load` (creating the detector / net / session; OpenCV's detector also runs once, as it
only sets its net up on the first frame), `decode` (cv2.imread of the frame file), `resize`
(frame -> long side 640), `detect` (FaceDetectorYN.detect: its own blob,
padding, inference, decoding and NMS), `preprocess` (everything before the model: resize,
channel order, scaling, padding), `run` (the model alone), `align` (alignCrop), `total`
(what faceguard's detect_ms covers: resize + detection, or align + preprocess + run for the
embedder). Plus `ref env ...` lines with the CPU and library versions.

    python3 tools/bench_reference.py [FRAMES_DIR] [--iterations N] [--warmup N]
    python3 tools/bench_reference.py --summary LOG   # Markdown table of a scripts/bench.sh log
"""

import os

# Single-threaded, and quiet: set before the libraries start their thread pools.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import make_frames  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
YUNET = MODELS / "face_detection_yunet_2023mar.onnx"
FR_FEATURE = MODELS / "fr_feature.onnx"
FETCH_HINT = "run `scripts/fetch-models.sh` to place the models in models/"

MAX_SIDE = 640  # faceguard's DetectorConfig::default().max_side
ALIGN = 32  # YuNet input sides are multiples of this
SCORE, NMS = 0.6, 0.3  # faceguard's detector defaults


def cpu_model():
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn, iterations, warmup):
    """Runs `fn` `warmup` times untimed, then `iterations` times; returns the times in ms."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / 1e6)
    return times


def report(engine, model, stage, frame, inp, times):
    print(
        f"ref engine={engine} model={model} stage={stage} frame={frame[0]}x{frame[1]} "
        f"input={inp[0]}x{inp[1]} median_ms={statistics.median(times):.3f} "
        f"min_ms={min(times):.3f} iterations={len(times)}",
        flush=True,
    )


def scaled_size(w, h):
    """faceguard's input_geometry: long side at most MAX_SIDE, never upscaled, rounded."""
    s = min(1.0, MAX_SIDE / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))


def resize(frame, size):
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


def yunet_input(small):
    """BGR uint8 HxWx3 -> float32 [1,3,H',W'] zero-padded to multiples of 32."""
    h, w = small.shape[:2]
    ph, pw = -(-h // ALIGN) * ALIGN, -(-w // ALIGN) * ALIGN
    x = np.zeros((1, 3, ph, pw), np.float32)
    x[0, :, :h, :w] = small.transpose(2, 0, 1)
    return x


def fr_blob(crop_bgr):
    """112x112 BGR crop -> float32 [1,3,112,112] RGB, (x - 127) / 128 (models/README.md)."""
    return cv2.dnn.blobFromImage(
        crop_bgr, scalefactor=1 / 128, size=(112, 112), mean=(127, 127, 127), swapRB=True
    )


def session(model):
    """A single-threaded CPU session for `model` (a path or serialised bytes)."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if isinstance(model, Path):
        model = str(model)
    return ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])


def yunet_any_size():
    """YuNet with its input height and width made symbolic: the file fixes 640x640 (and its
    value_info the shapes inside), which onnxruntime enforces. OpenCV and tract ignore them."""
    import onnx

    m = onnx.load(str(YUNET))
    dims = m.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "height", "width"
    del m.graph.value_info[:]
    for out in m.graph.output:
        out.type.tensor_type.shape.dim[1].dim_param = "anchors"
    return m.SerializeToString()


def bench_frame(path, args, recognizer, fr_net, fr_sess, yunet_sess):
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if frame is None:
        sys.exit(f"cannot read frame {path}")
    fh, fw = frame.shape[:2]
    size = (fw, fh)
    small_size = scaled_size(fw, fh)
    n, w = args.iterations, args.warmup

    # Decoding the file, as faceguard's load_ms.
    report("opencv", "jpeg", "decode", size, size,
           timed(lambda: cv2.imread(str(path), cv2.IMREAD_COLOR), n, w))

    # Loading the models (faceguard's load_ms: both models, parsed and prepared).
    small = resize(frame, small_size)
    loads = min(n, 5)
    report("opencv", "yunet", "load", size, small_size, timed(
        lambda: cv2.FaceDetectorYN.create(str(YUNET), "", small_size, SCORE, NMS).detect(small),
        loads, 0))
    report("opencv", "fr_feature", "load", size, (112, 112),
           timed(lambda: cv2.dnn.readNetFromONNX(str(FR_FEATURE)), loads, 0))
    report("onnxruntime", "yunet", "load", size, small_size,
           timed(lambda: session(yunet_any_size()), loads, 0))
    report("onnxruntime", "fr_feature", "load", size, (112, 112),
           timed(lambda: session(FR_FEATURE), loads, 0))

    # (a) YuNet in OpenCV.
    det = cv2.FaceDetectorYN.create(str(YUNET), "", small_size, SCORE, NMS)
    _, faces = det.detect(small)
    nfaces = 0 if faces is None else len(faces)
    print(f"ref check engine=opencv model=yunet frame={fw}x{fh} faces={nfaces}", flush=True)
    report("opencv", "yunet", "resize", size, small_size,
           timed(lambda: resize(frame, small_size), n, w))
    report("opencv", "yunet", "detect", size, small_size, timed(lambda: det.detect(small), n, w))
    report("opencv", "yunet", "total", size, small_size,
           timed(lambda: det.detect(resize(frame, small_size)), n, w))

    # (b) YuNet in onnxruntime, same resized frame.
    x = yunet_input(small)
    padded = (x.shape[3], x.shape[2])
    name = yunet_sess.get_inputs()[0].name
    outs = dict(zip([o.name for o in yunet_sess.get_outputs()], yunet_sess.run(None, {name: x})))
    strong = sum(
        int((np.sqrt(np.clip(outs[f"cls_{s}"], 0, 1) * np.clip(outs[f"obj_{s}"], 0, 1)) >= SCORE).sum())
        for s in (8, 16, 32)
    )
    print(f"ref check engine=onnxruntime model=yunet frame={fw}x{fh} anchors_over_{SCORE}={strong}",
          flush=True)
    report("onnxruntime", "yunet", "preprocess", size, padded,
           timed(lambda: yunet_input(resize(frame, small_size)), n, w))
    report("onnxruntime", "yunet", "run", size, padded,
           timed(lambda: yunet_sess.run(None, {name: x}), n, w))

    # (c) fr_feature on an aligned crop of the largest face (landmarks in frame coordinates).
    if nfaces == 0:
        print(f"ref check frame={fw}x{fh}: no face found, fr_feature skipped", flush=True)
        return
    face = max(faces, key=lambda f: f[2] * f[3]).copy()
    face[0:14:2] *= np.float32(fw / small_size[0])  # box and landmarks back to the frame
    face[1:14:2] *= np.float32(fh / small_size[1])
    crop = recognizer.alignCrop(frame, face)
    blob = fr_blob(crop)
    fr_in = fr_sess.get_inputs()[0].name

    def cv_forward():
        fr_net.setInput(blob)
        return fr_net.forward()

    emb_cv = cv_forward().ravel()
    emb_ort = fr_sess.run(None, {fr_in: blob})[0].ravel()
    cos = float(emb_cv @ emb_ort / (np.linalg.norm(emb_cv) * np.linalg.norm(emb_ort)))
    print(f"ref check model=fr_feature frame={fw}x{fh} cosine_opencv_vs_onnxruntime={cos:.6f}",
          flush=True)
    crop_size = (112, 112)
    report("opencv", "fr_feature", "align", size, crop_size,
           timed(lambda: recognizer.alignCrop(frame, face), n, w))
    report("opencv", "fr_feature", "preprocess", size, crop_size, timed(lambda: fr_blob(crop), n, w))
    report("opencv", "fr_feature", "run", size, crop_size, timed(cv_forward, n, w))

    def cv_total():
        fr_net.setInput(fr_blob(recognizer.alignCrop(frame, face)))
        return fr_net.forward()

    report("opencv", "fr_feature", "total", size, crop_size, timed(cv_total, n, w))
    report("onnxruntime", "fr_feature", "run", size, crop_size,
           timed(lambda: fr_sess.run(None, {fr_in: blob}), n, w))


def parse_fields(line):
    return dict(kv.split("=", 1) for kv in line.split() if "=" in kv)


def summary(log_path):
    """A Markdown table of one scripts/bench.sh log: faceguard's `faceguard image=..` lines
    beside the `ref ..` lines of this script (medians in ms)."""
    ours, ref = {}, {}
    for line in open(log_path, encoding="utf-8", errors="replace"):
        line = line.strip()
        if line.startswith("faceguard image="):
            f = parse_fields(line)
            ours[f["image"]] = f
        elif line.startswith("ref engine="):
            f = parse_fields(line)
            ref[(f["frame"], f["engine"], f["model"], f["stage"])] = float(f["median_ms"])
    frames = sorted({k[0] for k in ref} | set(ours), key=lambda s: int(s.split("x")[0]))

    def r(frame, *keys):
        vals = [ref.get((frame, *k)) for k in keys]
        return "–" if None in vals else f"{sum(vals):.1f}"

    def g(frame, key):
        v = ours.get(frame, {}).get(key)
        return "–" if v is None else f"{float(v):.1f}"

    print("| frame | stage | faceguard (tract) | OpenCV 5 | onnxruntime |")
    print("|---|---|---:|---:|---:|")
    for fr in frames:
        rows = [
            ("load both models", g(fr, "load_ms"),
             r(fr, ("opencv", "yunet", "load"), ("opencv", "fr_feature", "load")),
             r(fr, ("onnxruntime", "yunet", "load"), ("onnxruntime", "fr_feature", "load"))),
            ("detect: resize to long side 640 + YuNet", g(fr, "detect_ms"),
             r(fr, ("opencv", "yunet", "total")),
             r(fr, ("onnxruntime", "yunet", "preprocess"), ("onnxruntime", "yunet", "run"))
             + " (no decoding/NMS)"),
            ("align 112x112", g(fr, "align_ms"), r(fr, ("opencv", "fr_feature", "align")), "–"),
            ("embed fr_feature", g(fr, "embed_ms"),
             r(fr, ("opencv", "fr_feature", "preprocess"), ("opencv", "fr_feature", "run")),
             r(fr, ("opencv", "fr_feature", "preprocess"), ("onnxruntime", "fr_feature", "run"))),
        ]
        for stage, a, b, c in rows:
            print(f"| {fr} | {stage} | {a} | {b} | {c} |")
    if ours:
        rss = ", ".join(f"{k}: {v.get('peak_rss_mib', '–')} MiB" for k, v in ours.items())
        print(f"\nfaceguard peak RSS: {rss}")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--summary":
        summary(sys.argv[2])
        return
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="python3 tools/bench_reference.py --summary LOG prints the Markdown table of a "
        "scripts/bench.sh log.",
    )
    ap.add_argument("frames_dir", nargs="?", default=str(make_frames.DEFAULT_OUT),
                    help="directory with the frames (default: target/bench-frames)")
    ap.add_argument("--iterations", type=int, default=30, help="timed runs each (default 30)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    args = ap.parse_args()
    if args.iterations < 1 or args.warmup < 0:
        sys.exit("--iterations must be at least 1 and --warmup at least 0")
    for m in (YUNET, FR_FEATURE):
        if not m.is_file():
            sys.exit(f"model {m} is missing: {FETCH_HINT}")

    cv2.setNumThreads(1)
    print(f'ref env cpu="{cpu_model()}" logical_cpus={os.cpu_count()} '
          f"python={platform.python_version()} opencv={cv2.__version__} "
          f"onnxruntime={ort.__version__} numpy={np.__version__} "
          f"opencv_threads={cv2.getNumThreads()} ort_intra_op=1 ort_inter_op=1", flush=True)

    paths = [make_frames.frame_path(args.frames_dir, s) for s in make_frames.FRAMES.values()]
    if not all(p.is_file() for p in paths):
        make_frames.make_frames(args.frames_dir)

    # alignCrop does not use the model; FaceRecognizerSF just needs one to be created.
    recognizer = cv2.FaceRecognizerSF.create(str(FR_FEATURE), "")
    fr_net = cv2.dnn.readNetFromONNX(str(FR_FEATURE))
    fr_sess = session(FR_FEATURE)
    yunet_sess = session(yunet_any_size())
    for p in paths:
        bench_frame(p, args, recognizer, fr_net, fr_sess, yunet_sess)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ref env python_peak_rss_mib={peak:.1f} (all engines in one process: not comparable "
          "to faceguard's peak_rss_mib)", flush=True)


if __name__ == "__main__":
    main()
