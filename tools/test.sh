#!/usr/bin/env bash
# Builds Bricks twice (release, and ASan+UBSan) and runs every test suite in both, runs the
# threaded suites under ThreadSanitizer, then runs each fuzz target briefly (tools/fuzz.sh).
# Usage: tools/test.sh            (from anywhere; build trees go to build/, build-asan/,
#                                  build-tsan/ and build-fuzz/)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${BRICKS_JOBS:-$(nproc)}
# Every tree compiles as a unity build: each target's sources in batches of eight, so the
# heavy headers (GoogleTest, Boost.Asio, protobuf, CLI11) are parsed once per batch rather
# than once per file. Sources of one target must therefore not define the same internal
# name twice; the per-ISA kernels, which must, opt out in core/cpu/CMakeLists.txt.
unity=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8)
export BRICKS_UNITY_FLAGS="${unity[*]}"  # tools/fuzz.sh configures its tree the same way

echo "== sanitizer build (ASan + UBSan) =="
# -g1: line tables are all a sanitizer report needs, and they keep this tree about half
# the size of a full -g build. -O1: the suites run the model's kernels, which at -O0 spend
# most of the stage's time; ASan's own documentation recommends -O1 for speed.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBRICKS_SANITIZE=ON \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" "${unity[@]}" \
      -DBRICKS_BUILD_BENCH=OFF -DBRICKS_CUDA=OFF >/dev/null
cmake --build build-asan -j "$jobs"
echo "== sanitizer tests =="
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j "$jobs" --timeout 600)

echo "== release build =="
# Benchmarks build where they run (cmake's default for this tree is ON), not in a test run.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBRICKS_BUILD_BENCH=OFF "${unity[@]}" >/dev/null
cmake --build build -j "$jobs"
echo "== release tests =="
(cd build && ctest --output-on-failure -j "$jobs" --timeout 600)

# -- ThreadSanitizer stage ------------------------------------------------------------------
# The suites whose threads are our own: the engine with its KV copier, weight stream and KV
# disk tier, and the server (its connections, engine thread and clients). Their kernels run on
# one thread here: the TBB and OpenMP runtimes are not instrumented, so every access a worker
# makes to what the caller wrote would be a report to suppress (seconds each) while their
# fork and join, the only synchronisation involved, stay invisible anyway. One pinned ctest per CPU keeps the
# kernels single-threaded (TBB and OpenMP size themselves to the affinity mask) and the
# machine busy.
echo "== thread sanitizer build (engine and server suites) =="
tsan_suites=(test_engine test_kv_disk test_serve_units test_serve_api test_serve_failure)
# One CTest test per GoogleTest case here (BRICKS_TEST_PER_CASE), so the stripes below share
# the cases of the five programs evenly.
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DBRICKS_TSAN=ON \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" "${unity[@]}" \
      -DBRICKS_BUILD_BENCH=OFF -DBRICKS_CUDA=OFF -DBRICKS_TEST_PER_CASE=ON >/dev/null
cmake --build build-tsan -j "$jobs" --target "${tsan_suites[@]}" bricks_plugins
echo "== thread sanitizer tests =="
label="^($(IFS='|'; echo "${tsan_suites[*]}"))\$"
cpus=()
for range in $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | tr ',' ' '); do
  cpus+=($(seq "${range%-*}" "${range#*-}"))
done
pids=()
for i in "${!cpus[@]}"; do
  [ "$i" -lt "$jobs" ] || break
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/../tools/tsan.supp" \
     taskset -c "${cpus[$i]}" ctest -L "$label" -I "$((i + 1)),,$(( ${#cpus[@]} < jobs ? ${#cpus[@]} : jobs ))" \
       --output-on-failure --timeout 600) &
  pids+=($!)
done
tsan_failed=0
for p in "${pids[@]}"; do wait "$p" || tsan_failed=1; done
[ "$tsan_failed" -eq 0 ] || { echo "thread sanitizer tests failed" >&2; exit 1; }

# -- fuzz stage ---------------------------------------------------------------------------
# Every fuzz target for a few seconds from its seeds (tools/fuzz.sh), so that a parser that
# regresses on the repository's own hostile inputs, or on what a short run finds, fails CI.
echo "== fuzz (${BRICKS_FUZZ_SECONDS:-5} s per target) =="
tools/fuzz.sh all "${BRICKS_FUZZ_SECONDS:-5}"
