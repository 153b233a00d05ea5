#!/usr/bin/env bash
# Configures and builds Impasto (Release, Ninja, ccache) into build/.
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
# Each torch translation unit needs ~1 GB of memory to compile; two at a time
# suit the 2-core machines we build on. Override with IMPASTO_JOBS.
cmake --build build -j "${IMPASTO_JOBS:-2}"
