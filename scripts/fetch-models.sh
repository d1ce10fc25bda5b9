#!/usr/bin/env bash
# Places the ONNX models faceguard needs into models/, verifying SHA-256.
#
# Source, in order: the mirror directory $FACEGUARD_MODEL_MIRROR (default: ../shared/models
# beside the repository), else the public sources listed in models/README.md.
# Models are data, not code: they are never committed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/models"
mirror="${FACEGUARD_MODEL_MIRROR:-$root/../shared/models}"

# name  sha256  how-to-download
models=(
  "face_detection_yunet_2023mar.onnx 8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4"
  "fr_feature.onnx 87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"
  "antispoof_minifasnet_98.20.onnx af2381b88f38769222ed93379e12444e2a50814575de1c46170de570c55a42b6"
  "sfas_minifasnetv2_2.7_80x80.onnx bbda55bc08218adce935676fc5f6205772a3bcf345d663ea6d2c934f10ee0311"
  "sfas_minifasnetv1se_4.0_80x80.onnx fee5f520ef3a605c09605a80d87c51b6aed50d324f356e62f8534ea6e22cb446"
)

verify() { # file sha
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

download() { # name target
  local tmp
  tmp=$(mktemp -d)
  case "$1" in
    face_detection_yunet_2023mar.onnx)
      # OpenCV Zoo stores it with Git LFS; this address serves the LFS object.
      curl -fsSL -o "$2" \
        "https://media.githubusercontent.com/media/opencv/opencv_zoo/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx"
      ;;
    fr_feature.onnx)
      (cd "$tmp" && npm pack --silent faceplugin-face-recognition-js@0.0.1 >/dev/null \
        && tar -xzf faceplugin-face-recognition-js-0.0.1.tgz package/model/fr_feature.onnx)
      mv "$tmp/package/model/fr_feature.onnx" "$2"
      ;;
    antispoof_minifasnet_98.20.onnx)
      curl -fsSL -o "$2" \
        "https://raw.githubusercontent.com/johnraivenolazo/face-antispoof-onnx/main/models/best/98.20/best_model.onnx"
      ;;
    sfas_*)
      # Published only as PyTorch weights: models/README.md says how to convert them.
      echo "error: $1 has no ONNX download: convert it from Silent-Face-Anti-Spoofing's weights as models/README.md says, and put it in the mirror" >&2
      rm -rf "$tmp"
      return 1
      ;;
  esac
  rm -rf "$tmp"
}

for entry in "${models[@]}"; do
  read -r name sha <<<"$entry"
  target="$dest/$name"
  if verify "$target" "$sha"; then
    echo "ok       $name"
    continue
  fi
  if [ -f "$mirror/$name" ]; then
    cp "$mirror/$name" "$target.part"
    how="copied from $mirror"
  else
    echo "fetching $name (no mirror at $mirror)" >&2
    download "$name" "$target.part" || {
      echo "error: could not download $name; put it in $mirror or set FACEGUARD_MODEL_MIRROR" >&2
      exit 1
    }
    how="downloaded"
  fi
  if ! verify "$target.part" "$sha"; then
    echo "error: $name ($how) has SHA-256 $(sha256sum "$target.part" | cut -d' ' -f1), expected $sha" >&2
    rm -f "$target.part"
    exit 1
  fi
  mv "$target.part" "$target"
  echo "placed   $name ($how, SHA-256 verified)"
done
