#!/usr/bin/env bash
# Builds Impasto with AddressSanitizer and UndefinedBehaviorSanitizer (gcc)
# into build-asan/ and runs the core and CLI test suites under them; the first
# memory error or undefined behaviour fails its test. The GUI, its tests and the
# benchmarks are left out. Usage: scripts/sanitize.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
# LibTorch and the other system libraries are not instrumented; leaks inside
# them are suppressed in tests/sanitize/lsan.supp (see the comments there).
# Set before building, since the build runs the test binaries to list their tests.
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Release -DIMPASTO_SANITIZE=address,undefined \
  -DIMPASTO_BUILD_GUI=OFF -DIMPASTO_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "${IMPASTO_JOBS:-2}" --target impasto_base_tests impasto_models_tests \
  impasto_engine_tests impasto_cli_tests
ctest --test-dir build-asan --output-on-failure -j "${IMPASTO_TEST_JOBS:-2}" -E '^install\.' "$@"
