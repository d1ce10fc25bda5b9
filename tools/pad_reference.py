#!/usr/bin/env python3
"""Reference scores for the liveness agreement test (tests/liveness_agreement.rs).

For each photo below (paths relative to ../shared/data), the largest face YuNet finds under
OpenCV 5 (score 0.5, NMS 0.3, on the photo resized so that its long side is 640, box mapped
back), and a second box moved towards the top-left corner so that every crop leaves the frame:
each presentation-attack model of models/liveness.json is run by onnxruntime on its crop,
cut the way the description says, independently of faceguard's code:

* square: a square of round(scale * longer side) pixels, left/top edge round(centre - side/2)
  (halves away from zero, as Rust rounds), the frame mirrored where the square leaves it
  (cv2.copyMakeBorder, BORDER_REFLECT_101), resized with cv2.resize INTER_LINEAR;
* shifted: Silent-Face-Anti-Spoofing's _get_new_box, then cv2.resize INTER_LINEAR.

The crop is resized as float32 (the authors resize 8-bit pixels and so round each to an
integer: at most half a level of difference). Photos are decoded by cv2.imread, which turns
them upright as their EXIF orientation says, as faceguard's decoder does (the Silent-Face
samples are stored on their side with such an orientation). Writes JSON: per photo and box, each model's
probability of "live" and the fused score (the weighted mean of clamped log-odds).

    python3 tools/pad_reference.py [--data ../shared/data] [--models models] > tests/reference/liveness_onnxruntime.json

With `--time LABELS.csv`, times instead the liveness check under onnxruntime (1 thread) on the
largest face of every image of an `eval-liveness` labels file: crops and every model, per face,
best of 3 passes; the last line is `onnxruntime liveness: N faces, X ms per face`, to set beside
`faceguard eval-liveness`'s `time:` line on the same machine (scripts/bench-liveness.sh).

Needs numpy, opencv-python (5.x) and onnxruntime.
"""

import argparse
import json
import math
import os

import cv2
import numpy as np
import onnxruntime as ort

PHOTOS = [
    "antispoof/image_F1.jpg",
    "antispoof/image_F2.jpg",
    "antispoof/image_T1.jpg",
    "antispoof/inspireface_rgb_fake.jpg",
    "antispoof/dev/live_pourfard_real-person52.jpg",
    "antispoof/dev/live_jomariya_real-0.png",
    "antispoof/dev/spoof_jomariya_fake-547.png",
    "antispoof/dev/spoof_hyperfas_data-fake_screen.png",
    "faces/deepface/img1.jpg",
    "faces/deepface/img5.jpg",
    "faces/deepface/img11.jpg",
    "faces/deepface/img22.jpg",
    "faces/deepface/couple.jpg",
]
LOG_ODDS_LIMIT = 9.0


def round_half_away(v):
    return math.copysign(math.floor(abs(v) + 0.5), v)


def largest_face(img, yunet, score=0.5):
    h, w = img.shape[:2]
    s = min(1.0, 640.0 / max(h, w))
    small = img if s >= 1.0 else cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    det = cv2.FaceDetectorYN.create(yunet, "", (small.shape[1], small.shape[0]), score, 0.3)
    _, faces = det.detect(small)
    if faces is None or len(faces) == 0:
        return None
    f = max(faces, key=lambda f: f[2] * f[3])
    return [float(v / s) for v in f[:4]]


def square_crop(img, box, scale, size):
    x, y, w, h = box
    side = max(round_half_away(max(w, h) * scale), 1.0)
    x0 = int(round_half_away(x + w / 2 - side / 2))
    y0 = int(round_half_away(y + h / 2 - side / 2))
    side = int(side)
    H, W = img.shape[:2]
    pad = max(0, -x0, -y0, x0 + side - W, y0 + side - H)
    if pad:
        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    crop = img[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side].astype(np.float32)
    return cv2.resize(crop, (size[0], size[1]), interpolation=cv2.INTER_LINEAR)


def shifted_crop(img, box, scale, size):
    # Silent-Face-Anti-Spoofing, src/generate_patches.py: CropImage._get_new_box.
    H, W = img.shape[:2]
    x, y, w, h = box
    scale = min((H - 1) / h, min((W - 1) / w, scale))
    nw, nh = w * scale, h * scale
    cx, cy = w / 2 + x, h / 2 + y
    lx, ly, rx, ry = cx - nw / 2, cy - nh / 2, cx + nw / 2, cy + nh / 2
    if lx < 0:
        rx -= lx
        lx = 0
    if ly < 0:
        ry -= ly
        ly = 0
    if rx > W - 1:
        lx -= rx - W + 1
        rx = W - 1
    if ry > H - 1:
        ly -= ry - H + 1
        ry = H - 1
    lx, ly, rx, ry = (min(max(int(v), 0), m) for v, m in ((lx, W - 1), (ly, H - 1), (rx, W - 1), (ry, H - 1)))
    crop = img[ly:ry + 1, lx:rx + 1].astype(np.float32)
    return cv2.resize(crop, (size[0], size[1]), interpolation=cv2.INTER_LINEAR)


def live_probability(session, spec, img_bgr, box, flip=False):
    crop_spec = spec["crop"]
    cut = square_crop if crop_spec["kind"] == "square" else shifted_crop
    crop = cut(img_bgr, box, crop_spec["scale"], spec["input"])  # BGR float32
    if flip:  # the mirrored crop (tools/pad_loso.py)
        crop = crop[:, ::-1]
    if spec["color_order"] == "rgb":
        crop = crop[:, :, ::-1]
    x = (crop - np.array(spec["mean"], np.float32)) / np.array(spec["std"], np.float32)
    x = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
    out = session.run(None, {session.get_inputs()[0].name: x})[0].reshape(-1).astype(np.float64)
    if spec["output"] == "logits":
        e = np.exp(out - out.max())
        out = e / e.sum()
    return float(out[spec["live_class"]])


def log_odds(p):
    limit = 1.0 / (1.0 + math.exp(LOG_ODDS_LIMIT))
    p = min(max(p, limit), 1.0 - limit)
    return max(-LOG_ODDS_LIMIT, min(LOG_ODDS_LIMIT, math.log(p / (1.0 - p))))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(root, "..", "shared", "data"))
    ap.add_argument("--models", default=os.path.join(root, "models"))
    ap.add_argument("--time", metavar="LABELS.csv", help="time the check on a labels file instead")
    args = ap.parse_args()
    with open(os.path.join(args.models, "liveness.json")) as f:
        desc = json.load(f)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sessions = [ort.InferenceSession(os.path.join(args.models, m["file"]), opts) for m in desc["models"]]
    yunet = os.path.join(args.models, "face_detection_yunet_2023mar.onnx")
    if args.time:
        time_check(args.time, desc, sessions, yunet)
        return
    photos = []
    for name in PHOTOS:
        img = cv2.imread(os.path.join(args.data, name), cv2.IMREAD_COLOR)
        box = largest_face(img, yunet)
        if box is None:
            continue
        x, y, w, h = box
        boxes = [box, [-0.3 * w, -0.25 * h, w, h]]
        for b in boxes:
            probs = [live_probability(s, m, img, b) for s, m in zip(sessions, desc["models"])]
            weights = [m.get("weight", 1.0) for m in desc["models"]]
            fused = sum(wt * log_odds(p) for wt, p in zip(weights, probs)) / sum(weights)
            photos.append({"photo": name, "box": b, "live_probability": probs, "score": fused})
    json.dump({
        "tool": "tools/pad_reference.py",
        "description": desc["name"],
        "models": [m["name"] for m in desc["models"]],
        "versions": {"opencv": cv2.__version__, "onnxruntime": ort.__version__},
        "faces": photos,
    }, __import__("sys").stdout, indent=1)
    print()


def time_check(labels, desc, sessions, yunet):
    import csv
    import time
    root = os.path.dirname(os.path.abspath(labels))
    faces = []
    with open(labels) as f:
        for row in csv.DictReader(f):
            img = cv2.imread(os.path.join(root, row["file"]), cv2.IMREAD_COLOR)
            box = None if img is None else largest_face(img, yunet)
            if box is not None:
                faces.append((img, box))
    best = None
    for _ in range(3):
        started = time.perf_counter()
        for img, box in faces:
            for s, m in zip(sessions, desc["models"]):
                live_probability(s, m, img, box)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    print(f"onnxruntime {ort.__version__} liveness: {len(faces)} faces, {1000 * best / max(1, len(faces)):.1f} ms per face (crops and {len(sessions)} models, 1 thread, best of 3)")


if __name__ == "__main__":
    main()
