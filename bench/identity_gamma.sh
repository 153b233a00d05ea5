#!/bin/sh
# Measures the portrait guard's default γ: d(C, G) of every face, without the
# identity term and with γ = 100, 1000 and 10000, for darknet-reference at
# β = 1e6 (strong style, The Scream) on the face photos of
# ../shared/images/faces (the 16 crops and the two group photos), then on a
# group portrait at a larger size. One thread, one render at a time.
#
#   bench/identity_gamma.sh [BUILD_DIR] [SHARED_DIR]
#
# The table is in the README (Portrait guard). Takes about two and a half
# hours on one core.
set -eu
build=${1:-build}
shared=${2:-../shared}
bench="$build/bench/impasto-identity-bench"
model="$shared/models/darknet-reference/darknet-reference-conv5.onnx"
style="$shared/images/the_scream.jpg"
export IMPASTO_FACE_MODELS="${IMPASTO_FACE_MODELS:-$shared/models/face-api}"
for f in "$bench" "$model" "$style" "$shared/images/faces"; do
  [ -e "$f" ] || { echo "identity_gamma.sh: $f is missing (build first; needs ../shared)" >&2; exit 2; }
done
common="--model $model --style $style --beta 1e6 --iterations 300 --threads 1"
# The 150 px face crops, each with a border of its own edges (the detector
# needs context), at 384 px.
"$bench" $common --photos "$shared/images/faces" --size 384 --pad 1 --gammas 0,100,1000,10000
# A group portrait (three faces) at 768 px.
"$bench" $common --image "$shared/images/faces/bbt1.jpg" --size 768 --gammas 0,1000,10000
