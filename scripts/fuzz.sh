#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz (clang, ASan + UBSan) into
# build-fuzz/ and runs each for SECONDS (default 25). Fails when a harness
# crashes, leaks, runs out of memory or hangs on an input; that input is kept
# in build-fuzz/findings/<harness>/ until the next run (replay: build-fuzz/tests/fuzz/<harness> FILE).
# New inputs that reach new code go to build-fuzz/corpus/<harness>/; the seeds
# in tests/fuzz/corpus/ are only read.
# Usage: scripts/fuzz.sh [SECONDS] [HARNESS...]   (default: all harnesses)
# IMPASTO_FUZZ_SEED: libFuzzer's random seed (default 1, so runs repeat; 0 picks one).
# IMPASTO_FUZZ_ARGS: more libFuzzer flags, e.g. "-fork=1 -ignore_crashes=1" for long runs.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-25}
shift || true
harnesses=("$@")
if ((${#harnesses[@]} == 0)); then
  harnesses=(fuzz_state_dict fuzz_tfjs fuzz_manifest fuzz_image fuzz_png_text fuzz_preset)
fi

# Only the harnesses and the torch-free library they link are built.
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DIMPASTO_FUZZ=ON -DIMPASTO_BUILD_TESTS=OFF -DIMPASTO_BUILD_GUI=OFF -DIMPASTO_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "${IMPASTO_JOBS:-2}" --target "${harnesses[@]}"

failed=()
for harness in "${harnesses[@]}"; do
  rm -rf "build-fuzz/findings/$harness"
  mkdir -p "build-fuzz/corpus/$harness" "build-fuzz/findings/$harness"
  echo "== $harness: ${seconds} s"
  # -rss_limit_mb also caps single allocations (malloc_limit_mb defaults to it).
  # shellcheck disable=SC2086
  if ! "build-fuzz/tests/fuzz/$harness" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -seed="${IMPASTO_FUZZ_SEED:-1}" -dict="tests/fuzz/dict/$harness.dict" -print_final_stats=1 \
    -artifact_prefix="build-fuzz/findings/$harness/" ${IMPASTO_FUZZ_ARGS:-} \
    "build-fuzz/corpus/$harness" "tests/fuzz/corpus/$harness" 2>"build-fuzz/$harness.log" ||
    [[ -n "$(ls -A "build-fuzz/findings/$harness")" ]]; then  # -fork=1 -ignore_crashes=1 exits 0
    failed+=("$harness")
    tail -n 60 "build-fuzz/$harness.log"
  fi
  grep -E '^stat::number_of_executed_units|^Done ' "build-fuzz/$harness.log" || true
done

if ((${#failed[@]})); then
  echo "Fuzzing found problems in: ${failed[*]} (inputs in build-fuzz/findings/)" >&2
  exit 1
fi
echo "Fuzzing found nothing in ${#harnesses[@]} harness(es), ${seconds} s each."
