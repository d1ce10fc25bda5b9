#!/usr/bin/env python3
"""Leave-one-source-out (LOSO) study of the presentation-attack fusion rules of models/liveness.json.

Every image of ../shared/data/antispoof/dev (live and attacks), faces/deepface (live) and
faces-eastasia (live) is decoded by cv2.imread, which turns it upright as its EXIF orientation
says, as faceguard's decoder does. Its largest YuNet face is found as pad_reference.largest_face
does, but with faceguard's DetectorConfig score threshold 0.6 (NMS 0.3, long side 640). As in
faceguard (src/liveness/model.rs), faces whose shorter box side is under `min_face` (40) are
skipped as too small, and faces whose colourfulness is under `min_colour` (2.0) as colourless;
the greyscale eastasia photos go that way. Each model of liveness.json is run on its crop
(pad_reference's square_crop / shifted_crop, onnxruntime with 1 thread) and on the mirrored crop,
and its probability of "live" becomes clamped log-odds (pad_reference.log_odds).

The rules are judged by LOSO over the dev sources (owner/repo): each source is held out in
turn, the rule (weights and/or threshold) is fitted on the rest and judges the held-out images,
and the decisions are pooled. Thresholds are the equal-error point of the training fold
(minimising max(APCER, BPCER), the median of any tied range). Two training regimes:

* dev only: the extra live photos are never fitted on; their BPCER is that of the rule fitted
  on all dev;
* dev+extra: the training folds also hold the deepface and colour eastasia photos, weighted
  attacks 0.5, dev live 0.25, extra live 0.25; the extra BPCER holds out each extra source in turn.

Rules: (1) the shipped weighted mean at the shipped threshold (fitted on all dev, so NOT held
out: for reference); (2) the same mean with its threshold fitted per fold; (3) the same with
flips (each view the mean of its crop and the mirrored crop); (4) non-negative logistic
regression (L2, C = 0.05, L-BFGS-B) on the views, the score being the weighted mean; (5) the
minimum of the views; (6) the regression on two views alone, MiniFASNet@2.0 and Silent-Face
V2@2.7. Prints a markdown table of the pooled figures, then the LR fitted on all
dev+extra for MiniFASNet@2.0 + Silent-Face V2@2.7, then, last, the line
`loso: attacks=N live=M shipped_apcer=A shipped_bpcer=B`: the dev attacks and dev live faces
judged, and the pooled APCER / BPCER of rule (2), dev only.

    python3 tools/pad_loso.py [--data ../shared/data] [--models models] [--features OUT.csv]

`--features` also writes the per-image log-odds as CSV. Needs numpy, opencv-python (5.x),
onnxruntime and scipy. A development study (the evidence behind liveness.json's rule), not
run by the tests.
"""

import argparse
import csv
import json
import os
import sys

import cv2
import numpy as np
import onnxruntime as ort
from scipy.optimize import minimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pad_reference as pr  # noqa: E402

SCORE = 0.6  # faceguard's DetectorConfig default (pad_reference.py finds faces at 0.5)
C = 0.05  # L2 strength of the logistic regression
ATTACKS = ["mask", "print", "replay", "screen", "unknown"]
LR_PAIR = ["minifasnet-98.20@2.0", "silent-face-v2@2.7"]


def colourfulness(img, box):
    """Port of faceguard's colourfulness: mean (|R-G|+|G-B|+|B-R|)/3 on a 16x16 grid of the box."""
    x, y, w, h = box
    H, W = img.shape[:2]
    x0, x1 = max(x, 0.0), min(x + w, W - 1.0)
    y0, y1 = max(y, 0.0), min(y + h, H - 1.0)
    if not (x1 >= x0 and y1 >= y0):
        return 0.0
    total = 0.0
    for j in range(16):
        for i in range(16):
            px, py = int(x0 + (x1 - x0) * (i + 0.5) / 16), int(y0 + (y1 - y0) * (j + 0.5) / 16)
            b, g, r = (float(v) for v in img[py, px])
            total += (abs(r - g) + abs(g - b) + abs(b - r)) / 3
    return total / 256


def images(data):
    """(set, path relative to data, label, attack, source owner/repo) of every image studied."""
    with open(os.path.join(data, "antispoof/dev/labels.csv")) as f:
        for r in csv.DictReader(f):
            yield "dev", "antispoof/dev/" + r["file"], r["label"], r["attack"], r["source"].split(":")[0]
    for n in sorted(os.listdir(os.path.join(data, "faces/deepface"))):
        if n.endswith(".jpg"):
            yield "deepface", "faces/deepface/" + n, "live", "none", "serengil/deepface"
    with open(os.path.join(data, "faces-eastasia/identities.csv")) as f:
        for r in csv.DictReader(f):
            yield "eastasia", "faces-eastasia/" + r["file"], "live", "none", r["source"].split(":")[0]


def features(data, models, desc):
    """One row per image: its labels, status (ok / noface / small / colourless) and, when ok,
    the log-odds of every view unflipped then flipped."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sessions = {m["file"]: ort.InferenceSession(os.path.join(models, m["file"]), opts) for m in desc["models"]}
    yunet = os.path.join(models, "face_detection_yunet_2023mar.onnx")
    rows = []
    for st, rel, label, attack, src in images(data):
        img = cv2.imread(os.path.join(data, rel), cv2.IMREAD_COLOR)
        box = None if img is None else pr.largest_face(img, yunet, SCORE)
        row = dict(set=st, file=rel, label=label, attack=attack, source=src, status="noface", side="", colour="", x=None)
        if box is not None:
            side, col = min(box[2], box[3]), colourfulness(img, box)
            row.update(side=f"{side:.1f}", colour=f"{col:.2f}")
            row["status"] = "small" if side < desc.get("min_face", 40) else (
                "colourless" if col < desc.get("min_colour", 2.0) else "ok")
            if row["status"] == "ok":
                row["x"] = [pr.log_odds(pr.live_probability(sessions[m["file"]], m, img, box, flip))
                            for flip in (False, True) for m in desc["models"]]
        rows.append(row)
    return rows


def eer_threshold(s, y, w):
    """Threshold minimising the weighted max(APCER, BPCER) (median of a tied range), and that max."""
    u = np.unique(s)
    cands = np.concatenate([[u[0] - 1], (u[1:] + u[:-1]) / 2, [u[-1] + 1]])
    sp, lv = y == 0, y == 1
    ap = np.array([(w[sp] * (s[sp] >= t)).sum() for t in cands]) / w[sp].sum()
    bp = np.array([(w[lv] * (s[lv] < t)).sum() for t in cands]) / w[lv].sum()
    m = np.maximum(ap, bp)
    return float(np.median(cands[np.flatnonzero(m <= m.min() + 1e-12)])), float(m.min())


def sample_weights(grp, use_extra):
    """Per-image training weights: attacks 0.5, live 0.5 (dev live 0.25 + extra 0.25 with extra)."""
    shares = (("spoof", 0.5), ("devlive", 0.25), ("extra", 0.25)) if use_extra else (("spoof", 0.5), ("devlive", 0.5))
    w = np.zeros(len(grp))
    for name, share in shares:
        m = grp == name
        w[m] = share / max(m.sum(), 1)
    return w * len(grp)


def fit_lr(X, y, sw):
    """Weighted L2 logistic regression with non-negative view weights: (weights, intercept)."""
    k = X.shape[1]

    def loss(p):
        z = X @ p[:k] + p[k]
        g = 1 / (1 + np.exp(-z)) - y
        value = (sw * (np.logaddexp(0, -z) * y + np.logaddexp(0, z) * (1 - y))).sum() + (p[:k] ** 2).sum() / (2 * C)
        return value, np.concatenate([X.T @ (sw * g) + p[:k] / C, [(sw * g).sum()]])
    p0 = np.concatenate([np.full(k, 0.1), [0.0]])
    p = minimize(loss, p0, jac=True, method="L-BFGS-B", bounds=[(0, None)] * k + [(None, None)]).x
    return p[:k], p[k]


def fit(kind, X, y, w, fixed=None):
    """Fits a rule on training views X: returns (score function, threshold, extras)."""
    if kind == "fixed":  # fixed = (view weights, threshold)
        wts, t = fixed
        return (lambda Z: Z @ wts / wts.sum()), t, {}
    if kind == "min":
        score, extras = (lambda Z: Z.min(1)), {}
    elif kind == "mean":
        score, extras = (lambda Z: Z.mean(1)), {}
    else:
        coef, b = fit_lr(X, y, w)
        score, extras = (lambda Z: Z @ coef / max(coef.sum(), 1e-12)), {"raw": coef, "intercept": b}
    return score, eer_threshold(score(X), y, w)[0], extras


def loso(kind, X, d, use_extra, fixed=None):
    """Pooled held-out decisions (True = accepted as live) of a rule, as described above."""
    dec = np.zeros(len(X), bool)
    dev, extra = d["set"] == "dev", d["set"] != "dev"
    folds = []  # (held out, training) masks
    for s in dict.fromkeys(d["source"][dev]):
        test = dev & (d["source"] == s)
        folds.append((test, ~test if use_extra else dev & ~test))
    if use_extra:
        for s in dict.fromkeys(d["source"][extra]):
            test = extra & (d["source"] == s)
            folds.append((test, ~test))
    else:
        folds.append((extra, dev))
    for test, train in folds:
        score, t, _ = fit(kind, X[train], d["y"][train], sample_weights(d["grp"][train], use_extra), fixed)
        dec[test] = score(X[test]) >= t
    return dec


def summary(dec, d):
    """Table cells: pooled APCER (and per attack type), BPCER on dev live, deepface, eastasia."""
    sp, dl = (d["set"] == "dev") & (d["y"] == 0), (d["set"] == "dev") & (d["y"] == 1)
    cells = [f"{dec[sp].mean():.3f} ({dec[sp].sum()}/{sp.sum()})"]
    cells += [f"{dec[sp & (d['attack'] == a)].sum()}/{(sp & (d['attack'] == a)).sum()}" for a in ATTACKS]
    for m in (dl, d["set"] == "deepface", d["set"] == "eastasia"):
        cells.append(f"{(~dec[m]).mean():.3f} ({(~dec[m]).sum()}/{m.sum()})")
    return cells, float(dec[sp].mean()), float((~dec[dl]).mean())


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(root, "..", "shared", "data"))
    ap.add_argument("--models", default=os.path.join(root, "models"))
    ap.add_argument("--features", metavar="OUT.csv", help="also write the per-image log-odds here")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # one warning per detector otherwise
    with open(os.path.join(args.models, "liveness.json")) as f:
        desc = json.load(f)
    names = [m["name"] for m in desc["models"]]
    k = len(names)
    rows = features(args.data, args.models, desc)
    if args.features:
        with open(args.features, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["set", "file", "label", "attack", "source", "status", "side", "colour"]
                         + names + [n + "_flip" for n in names])
            for r in rows:
                out.writerow([r[c] for c in ("set", "file", "label", "attack", "source", "status", "side", "colour")]
                             + ([f"{v:.6f}" for v in r["x"]] if r["x"] else [""] * (2 * k)))
    for st in ("dev", "deepface", "eastasia"):
        counts = {s: sum(r["set"] == st and r["status"] == s for r in rows) for s in ("ok", "noface", "small", "colourless")}
        print(f"{st}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    ok = [r for r in rows if r["status"] == "ok"]
    d = {c: np.array([r[c] for r in ok]) for c in ("set", "attack", "source")}
    d["y"] = np.array([r["label"] == "live" for r in ok], int)
    d["grp"] = np.where(d["set"] == "dev", np.where(d["y"] == 1, "devlive", "spoof"), "extra")
    F = np.array([r["x"] for r in ok])
    views, flips = F[:, :k], (F[:, :k] + F[:, k:]) / 2
    shipped = (np.array([m.get("weight", 1.0) for m in desc["models"]]), desc["threshold"])
    pair = [names.index(n) for n in LR_PAIR]
    mean = f"mean of {k}"
    rules = [
        (f"(1) shipped {mean}, fixed t={desc['threshold']} (NOT held out)", "fixed", views, False),
        (f"(2) shipped {mean}, EER t per fold", "mean", views, False),
        (f"(2) shipped {mean}, EER t per fold", "mean", views, True),
        (f"(3) {mean} + flips", "mean", flips, False),
        (f"(3) {mean} + flips", "mean", flips, True),
        (f"(4) LR>=0 on the {k} views", "lr", views, True),
        (f"(4) LR>=0 on the {k} views + flips", "lr", flips, True),
        (f"(5) min of {k}", "min", views, False),
        (f"(5) min of {k}", "min", views, True),
        (f"(6) LR>=0 on {' + '.join(LR_PAIR)}", "lr", views[:, pair], True),
    ]
    print("\n| rule [training] | APCER | " + " | ".join(a if a != "unknown" else "unkn." for a in ATTACKS)
          + " | BPCER dev | BPCER deepface | BPCER eastasia |")
    print("|---" * (len(ATTACKS) + 5) + "|")
    headline = None
    for label, kind, X, use_extra in rules:
        cells, apcer, bpcer = summary(loso(kind, X, d, use_extra, shipped), d)
        print(f"| {label} [{'dev+extra' if use_extra else 'dev only'}] | " + " | ".join(cells) + " |")
        if kind == "mean" and X is views and not use_extra:
            headline = (apcer, bpcer)
    score, t, lr = fit("lr", views[:, pair], d["y"], sample_weights(d["grp"], True))
    cells, _, _ = summary(score(views[:, pair]) >= t, d)
    wn = lr["raw"] / lr["raw"].sum()
    print(f"\nLR>=0 on all dev+extra, {' + '.join(LR_PAIR)}: weights {wn[0]:.4f} / {wn[1]:.4f} "
          f"(raw {lr['raw'][0]:.4f} / {lr['raw'][1]:.4f}, intercept {lr['intercept']:.4f}), "
          f"equal-error threshold {t:.3f}; apparent APCER {cells[0]}, BPCER dev {cells[6]}, "
          f"deepface {cells[7]}, eastasia {cells[8]}")
    sp, lv = (d["set"] == "dev") & (d["y"] == 0), (d["set"] == "dev") & (d["y"] == 1)
    print(f"loso: attacks={sp.sum()} live={lv.sum()} shipped_apcer={headline[0]:.4f} shipped_bpcer={headline[1]:.4f}")


if __name__ == "__main__":
    main()
