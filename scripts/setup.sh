#!/usr/bin/env bash
# Quick start: installs what is missing, builds, and runs the main job: the
# studio rendering Tübingen in the style of The Starry Night with the small
# darknet-reference model from ../shared. Without a display it renders the same
# job with the CLI into out/tubingen-starry-night.png instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh

shared=../shared
content=$shared/images/tubingen.jpg
style=$shared/images/starry_night.jpg
model=$shared/models/darknet-reference/darknet-reference-conv5.onnx
if [[ ! -f $model ]]; then
  echo "Built. ../shared is not here, so there is no demo job to run."
  echo "Start the studio with build/app/impasto, or see README.md for impasto-cli."
  exit 0
fi
if [[ -n ${DISPLAY:-}${WAYLAND_DISPLAY:-} && -x build/app/impasto ]]; then
  exec build/app/impasto "$content" "$style" --model "$model" --start
fi
mkdir -p out
echo "No display: rendering the demo job with impasto-cli."
build/app/impasto-cli --content "$content" --style "$style" --model "$model" \
  --size 384 --iterations 300 --output out/tubingen-starry-night.png
