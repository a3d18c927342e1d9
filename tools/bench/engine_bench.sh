#!/usr/bin/env bash
# End-to-end engine speed on a generated model: prompt processing at 128 and 512 tokens,
# batch-1 decode, and total decode throughput at 4/8/16 concurrent sequences, at 1 and 2
# threads. Usage: tools/bench/engine_bench.sh [PRESET] [DTYPE] [COMPUTE]
#   (defaults: 1b f16 f32; the model is made under models/ when absent;
#    BENCH_THREADS="2" limits the thread counts measured)
set -euo pipefail
cd "$(dirname "$0")/../.."
preset=${1:-1b}
dtype=${2:-f16}
compute=${3:-f32}
bricks=build/bin/bricks
model=models/$preset-$dtype.gguf
[ -f "$model" ] || "$bricks" make-model --preset "$preset" --dtype "$dtype" --out "$model"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

manifest() {  # threads, requests, prompt_len, output_len
  cat <<M
name: "bench"
model { path: "$(pwd)/$model" }
device { kind: "cpu" threads: $1 kv_cache_bytes: 1073741824 kv_dtype: "f16" compute: "$compute" }
bricks { kind: "scheduler" name: "fcfs" params { key: "max_num_batched_tokens" value { int: 4096 } } }
bricks { kind: "kv" name: "paged" }
bricks { kind: "attention" name: "cpu_paged" }
workload {
  generator { num_requests: $2 prompt_len_min: $3 prompt_len_max: $3 output_len_min: $4 output_len_max: $4 seed: 1 }
  sampling { ignore_eos: true }
}
M
}

run() {  # threads, requests, prompt, output -> report json
  manifest "$@" > "$work/m.textproto"
  "$bricks" run --quiet --no-progress --report-json "$work/r.json" "$work/m.textproto" >/dev/null
  cat "$work/r.json"
}

num() { grep -o "\"$1\": [0-9.e+-]*" | head -n1 | awk '{print $2}'; }

echo "model $model, compute $compute"
for t in ${BENCH_THREADS:-1 2}; do
  for p in 128 512; do
    ttft=$(run "$t" 1 "$p" 1 | num mean)
    awk -v p="$p" -v s="$ttft" -v t="$t" 'BEGIN{printf "threads %d  prefill %4d tokens: %8.1f tok/s (%.3f s)\n", t, p, p/s, s}'
  done
  tpot=$(run "$t" 1 16 33 | tr -d '\n' | grep -o '"tpot_s": {[^}]*}' | num mean)
  awk -v s="$tpot" -v t="$t" 'BEGIN{printf "threads %d  decode batch 1: %8.2f tok/s (%.1f ms/token)\n", t, 1/s, s*1e3}'
  for b in 4 8 16; do
    tput=$(run "$t" "$b" 16 33 | num output_tokens_per_s)
    awk -v b="$b" -v x="$tput" -v t="$t" 'BEGIN{printf "threads %d  decode batch %2d: %8.2f output tok/s\n", t, b, x}'
  done
done
