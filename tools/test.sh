#!/usr/bin/env bash
# Builds Bricks twice (release, and ASan+UBSan) and runs every test suite in both, then
# runs each fuzz target briefly (tools/fuzz.sh).
# Usage: tools/test.sh            (from anywhere; build trees go to build/, build-asan/ and
#                                  build-fuzz/)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${BRICKS_JOBS:-$(nproc)}

echo "== sanitizer build (ASan + UBSan) =="
# -g1: line tables are all a sanitizer report needs, and they keep this tree about half
# the size of a full -g build.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBRICKS_SANITIZE=ON \
      -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DCMAKE_C_FLAGS_DEBUG=-g1 \
      -DBRICKS_BUILD_BENCH=OFF -DBRICKS_CUDA=OFF >/dev/null
cmake --build build-asan -j "$jobs"
echo "== sanitizer tests =="
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j "$jobs" --timeout 600)

echo "== release build =="
# Benchmarks build where they run (cmake's default for this tree is ON), not in a test run.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBRICKS_BUILD_BENCH=OFF >/dev/null
cmake --build build -j "$jobs"
echo "== release tests =="
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

# -- fuzz stage ---------------------------------------------------------------------------
# Every fuzz target for a few seconds from its seeds (tools/fuzz.sh), so that a parser that
# regresses on the repository's own hostile inputs, or on what a short run finds, fails CI.
echo "== fuzz (${BRICKS_FUZZ_SECONDS:-5} s per target) =="
tools/fuzz.sh all "${BRICKS_FUZZ_SECONDS:-5}"
