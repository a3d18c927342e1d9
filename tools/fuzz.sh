#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, in build-fuzz/) and runs
# each for a while from its seeds. See --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: tools/fuzz.sh TARGET SECONDS
       tools/fuzz.sh all SECONDS

Builds the fuzz target TARGET (or every one, one after another) in build-fuzz/ with clang,
libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer, then runs it for SECONDS from its
seeds and prints its executions, its coverage and the result.

Targets (tests/fuzz/, one file each, whose comment says what it feeds):
  fuzz_manifest_text   text-format manifests: parse and validate
  fuzz_manifest_json   JSON manifests: parse and validate
  fuzz_gguf            GGUF model files: reader, config, shapes, tokenizer
  fuzz_safetensors     safetensors model directories: config.json, tensors, tokenizer.json
  fuzz_tokenizer       tokenizers: builtin encode/decode, tokenizer.json, vocabularies
  fuzz_trace           JSONL workload traces
  fuzz_http_request    OpenAI request bodies of `bricks serve`, chat templates

Seeds come from tests/fuzz/corpus/TARGET/, from the repository's manifests and hostile test
files (manifest targets), and from tiny models the gguf and safetensors targets write
themselves. They are copied into a scratch corpus under build-fuzz/corpus/TARGET/, which
runs share and grow; the repository's files are never written.

A finding (crash, sanitizer report, leak, timeout, out-of-memory, or an exception that is
not the parser's own error) ends that target's run: the script prints the reproducer's path
(under build-fuzz/findings/TARGET/) and the last lines of the report, goes on with the next
target, and exits 1. Re-run a reproducer with: build-fuzz/bin/TARGET FILE

Environment: BRICKS_JOBS (build jobs; default nproc), BRICKS_FUZZ_ARGS (more libFuzzer
flags, e.g. "-max_len=65536" or "-dict=FILE").
Exit status: 0 nothing found, 1 a finding, 2 bad command line or the build failed.
EOF
}

targets_all=(fuzz_manifest_text fuzz_manifest_json fuzz_gguf fuzz_safetensors fuzz_tokenizer
             fuzz_trace fuzz_http_request)

if [ $# -ge 1 ] && { [ "$1" = --help ] || [ "$1" = -h ]; }; then usage; exit 0; fi
if [ $# -ne 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
  usage >&2
  exit 2
fi
seconds=$2
if [ "$1" = all ]; then
  targets=("${targets_all[@]}")
else
  case " ${targets_all[*]} " in
    *" $1 "*) targets=("$1") ;;
    *) echo "fuzz.sh: unknown target '$1' (targets: ${targets_all[*]}, or all)" >&2; exit 2 ;;
  esac
fi

cd "$(dirname "$0")/.."
root=$PWD
build=$root/build-fuzz
jobs=${BRICKS_JOBS:-$(nproc)}

echo "== fuzz build (clang, libFuzzer + ASan + UBSan, $build) =="
# ccache, where installed, makes a rebuild of an unchanged tree cost seconds (CI runs this).
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# -O1 -g1: the usual libFuzzer trade of speed against reports that still name lines.
if ! CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
      -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" -DBRICKS_FUZZ=ON \
      -DBRICKS_BUILD_TESTS=OFF -DBRICKS_BUILD_BENCH=OFF -DBRICKS_CUDA=OFF "${launcher[@]}" \
      ${BRICKS_UNITY_FLAGS:-} \
      >/dev/null ||
   ! cmake --build "$build" -j "$jobs" --target "${targets[@]}"; then
  echo "fuzz.sh: the build failed" >&2
  exit 2
fi

# Repository files that are seeds of a target besides tests/fuzz/corpus/TARGET.
repo_seeds() {
  case $1 in
    fuzz_manifest_text)
      ls manifests/*.textproto manifests/*/*.textproto tests/manifest/golden/*.textproto \
         tests/manifest/data/hostile/*.textproto 2>/dev/null ;;
    fuzz_manifest_json)
      ls tests/manifest/golden/*.json tests/manifest/data/hostile/*.json 2>/dev/null ;;
  esac
}

summary=()
found=0
for t in "${targets[@]}"; do
  bin=$build/bin/$t
  corpus=$build/corpus/$t
  findings=$build/findings/$t
  log=$build/logs/$t.log
  mkdir -p "$corpus" "$findings" "$(dirname "$log")"
  n=0
  for f in tests/fuzz/corpus/"$t"/* $(repo_seeds "$t"); do
    [ -f "$f" ] || continue
    cp "$f" "$corpus/seed-$n-$(basename "$f")"
    n=$((n + 1))
  done
  case $t in
    fuzz_gguf | fuzz_safetensors) BRICKS_FUZZ_WRITE_SEEDS=$corpus "$bin" >/dev/null 2>&1 ;;
  esac

  echo "== $t: ${seconds}s from $(ls "$corpus" | wc -l) inputs =="
  rc=0
  # shellcheck disable=SC2086  # BRICKS_FUZZ_ARGS is a list of flags
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$findings/" ${BRICKS_FUZZ_ARGS:-} "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    found=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
    result="FINDING (exit $rc): ${artifact:-no reproducer written; see $log}"
    echo "-- $t: last lines of $log:"
    tail -n 40 "$log"
  fi
  line=$(printf '%-20s %8ss  %12s execs  %-22s %s' "$t" "$seconds" "${execs:-?}" "${cov:-cov: ?}" "$result")
  echo "$line"
  summary+=("$line")
done

echo "== fuzz summary =="
printf '%s\n' "${summary[@]}"
exit "$found"
