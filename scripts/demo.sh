#!/usr/bin/env bash
# The main job: places the models, builds, and runs the demo on the real photos
# (detect, consent, enrol, identify, deletion request).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/fetch-models.sh
exec cargo run --release --example demo -- "$@"
