#!/usr/bin/env python3
"""Makes the benchmark frames: a VGA (640x480) and a 1080p (1920x1080) JPEG from a real photo.

The photo is scaled (INTER_AREA) so that it covers the frame, then centre-cropped: the faces of
the default photo (couple.jpg, 2280x1588, two faces) stay inside both frames, and the photo is
only ever scaled down. The frames are written to a directory given on the command line
(default: target/bench-frames/, which git ignores: never commit images).

    python3 tools/make_frames.py [OUT_DIR] [--photo PATH]

Prints one line per frame: `frame path=.. size=WxH source=.. faces=N` (faces as found by
OpenCV's FaceDetectorYN when the YuNet model is in models/; -1 when it is not).
"""

import argparse
import os
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("FACEGUARD_DATA", ROOT.parent / "shared" / "data"))
DEFAULT_PHOTO = DATA / "faces" / "deepface" / "couple.jpg"
DEFAULT_OUT = ROOT / "target" / "bench-frames"
YUNET = ROOT / "models" / "face_detection_yunet_2023mar.onnx"

# name -> (width, height)
FRAMES = {"vga": (640, 480), "1080p": (1920, 1080)}


def frame_path(out_dir, size):
    """Where the frame of `size` = (w, h) lives in `out_dir`."""
    return Path(out_dir) / f"frame-{size[0]}x{size[1]}.jpg"


def cover_crop(img, width, height):
    """Scales `img` so that it covers width x height, then crops the centre."""
    h, w = img.shape[:2]
    s = max(width / w, height / h)
    sw, sh = max(width, round(w * s)), max(height, round(h * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(img, (sw, sh), interpolation=interp)
    x0, y0 = (sw - width) // 2, (sh - height) // 2
    return scaled[y0 : y0 + height, x0 : x0 + width].copy()


def count_faces(img):
    """Faces found by FaceDetectorYN at long side 640 (as faceguard), or -1 without YuNet."""
    if not YUNET.is_file():
        return -1
    h, w = img.shape[:2]
    s = min(1.0, 640 / max(w, h))
    dw, dh = round(w * s), round(h * s)
    small = img if (dw, dh) == (w, h) else cv2.resize(img, (dw, dh), interpolation=cv2.INTER_AREA)
    det = cv2.FaceDetectorYN.create(str(YUNET), "", (dw, dh), 0.6, 0.3)
    _, faces = det.detect(small)
    return 0 if faces is None else len(faces)


def make_frames(out_dir=DEFAULT_OUT, photo=DEFAULT_PHOTO, quiet=False):
    """Writes every frame into `out_dir`; returns {name: path}."""
    img = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if img is None:
        sys.exit(f"cannot read photo {photo}: the repository expects ../shared/data beside it "
                 "(or set FACEGUARD_DATA)")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (w, h) in FRAMES.items():
        frame = cover_crop(img, w, h)
        path = frame_path(out_dir, (w, h))
        if not cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 95]):
            sys.exit(f"cannot write {path}")
        paths[name] = path
        if not quiet:
            print(f"frame path={path} size={w}x{h} source={Path(photo).name} "
                  f"faces={count_faces(frame)}")
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", nargs="?", default=str(DEFAULT_OUT),
                    help="output directory (default: target/bench-frames)")
    ap.add_argument("--photo", default=str(DEFAULT_PHOTO), help="source photo (default: couple.jpg)")
    args = ap.parse_args()
    make_frames(args.out_dir, args.photo)


if __name__ == "__main__":
    main()
