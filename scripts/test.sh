#!/usr/bin/env bash
# Builds Impasto and runs the whole test suite (core and GUI) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export QT_QPA_PLATFORM=offscreen
# Tests use the machine's cores themselves; two ctest jobs keep them both busy.
ctest --test-dir build --output-on-failure -j "${IMPASTO_TEST_JOBS:-2}"
