#!/usr/bin/env bash
# Builds Bricks twice (release, and ASan+UBSan) and runs every test suite in both, and
# the threaded suites (engine and KV copier, serve, cpu kernels) a third time under
# ThreadSanitizer.
# Usage: tools/test.sh            (from anywhere; build trees go to build/, build-asan/ and
#                                  build-tsan/)
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

echo "== thread sanitizer build (threaded suites) =="
# Only the suites that run threads, and the plugins they load: the rest are single-threaded
# and the tree above already ran them under ASan.
tsan_suites=(test_engine test_serve_units test_serve_api test_serve_failure test_cpu_linear
             test_cpu_ops)
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBRICKS_TSAN=ON \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" \
      -DBRICKS_BUILD_BENCH=OFF -DBRICKS_CUDA=OFF >/dev/null
cmake --build build-tsan -j "$jobs" --target "${tsan_suites[@]}" bricks_plugins
echo "== thread sanitizer tests =="
labels=$(IFS='|'; echo "^(${tsan_suites[*]})\$")
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/../tools/tsan.supp" \
   ctest --output-on-failure -j "$jobs" --timeout 600 -L "$labels")

echo "== release build =="
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$jobs"
echo "== release tests =="
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

# -- fuzz stage ---------------------------------------------------------------------------
# Every fuzz target for a few seconds from its seeds (tools/fuzz.sh), so that a parser that
# regresses on the repository's own hostile inputs, or on what a short run finds, fails CI.
echo "== fuzz (${BRICKS_FUZZ_SECONDS:-10} s per target) =="
tools/fuzz.sh all "${BRICKS_FUZZ_SECONDS:-10}"
