#!/usr/bin/env bash
# Weight streaming against its roofline, measured in one run: the disk's sequential read
# rate (dd with O_DIRECT over the model file), batch-1 decode with every weight in memory,
# and batch-1 decode under device.weight_memory_bytes = SHARE x the file's size, whose
# streamed layers are read from the file every step (docs/tiers.md).
#
# Usage: tools/bench/weight_stream_bench.sh [options] MODEL.gguf | PRESET [DTYPE]
#   MODEL.gguf         a model file (f16/bf16/f32 or quantized, dense)
#   PRESET [DTYPE]     a generated model (bricks make-model; made under models/ when absent;
#                      default 1b f16)
#   --shares "0.5"     budgets as shares of the file's size (default "0.5 0.75")
#   --threads N        worker threads (default 2)
#   --build DIR        the build tree (default build/)
# Per budget: decode tok/s, the bytes read per step, the roofline step time
# max(bytes read / disk rate, resident decode step) and the share of it reached, and how
# much of the compute was hidden behind the reads: (read + compute - step) / compute.
set -euo pipefail
cd "$(dirname "$0")/../.."
shares="0.5 0.75" threads=2 build=build
while [ $# -gt 0 ]; do
  case "$1" in
    --shares) shares=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "weight_stream_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
bricks=$build/bin/bricks
[ -x "$bricks" ] || { echo "weight_stream_bench.sh: $bricks is not built (cmake --build $build)" >&2; exit 2; }
target=${1:-1b}
if [ -f "$target" ]; then
  model=$(cd "$(dirname "$target")" && pwd)/$(basename "$target")
else
  model=$(pwd)/models/$target-${2:-f16}.gguf
  [ -f "$model" ] || "$bricks" make-model --preset "$target" --dtype "${2:-f16}" --out "$model" >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bytes=$(stat -c %s "$model")

run() {  # budget bytes -> report json (nothing when the run fails)
  cat > "$work/m.textproto" <<M
name: "weight stream bench"
model { path: "$model" }
device { kind: "cpu" threads: $threads kv_cache_bytes: 268435456 kv_dtype: "f16" weight_memory_bytes: $1 }
bricks { kind: "scheduler" name: "fcfs" }
bricks { kind: "kv" name: "paged" }
bricks { kind: "attention" name: "cpu_paged" }
workload {
  generator { num_requests: 1 prompt_len_min: 16 prompt_len_max: 16 output_len_min: 33 output_len_max: 33 seed: 1 }
  sampling { ignore_eos: true }
}
M
  rm -f "$work/r.json"
  "$bricks" run --quiet --no-progress --report-json "$work/r.json" "$work/m.textproto" \
    >/dev/null 2>"$work/err" || { sed 's/^/  bricks: /' "$work/err" >&2; return 0; }
  tr -d '\n' < "$work/r.json"
}
num() { grep -o "\"$1\": [0-9.e+-]*" | head -n1 | awk '{print $2}'; }
tpot() { grep -o '"tpot_s": {[^}]*}' | num mean; }

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $threads threads"
echo "model: $model ($(awk -v b="$bytes" 'BEGIN{printf "%.2f GB", b/1e9}'))"
# The disk's rate: the whole file in 1 MiB O_DIRECT reads, best of 3 (a shared disk varies
# from run to run; the best makes the roofline the hardest to reach).
disk=0
for i in 1 2 3; do
  d=$(dd if="$model" of=/dev/null bs=1M iflag=direct 2>&1 | awk '/copied/ {print $1 / $(NF-3)}')
  disk=$(awk -v a="$disk" -v b="$d" 'BEGIN{print (b > a ? b : a)}')
done
echo "disk: $(awk -v d="$disk" 'BEGIN{printf "%.2f GB/s", d/1e9}') sequential O_DIRECT read of the model file (1 MiB reads, best of 3)"
resident=$(run 0 | tpot)
awk -v s="$resident" 'BEGIN{printf "all resident: %.2f tok/s decode (%.1f ms per step)\n", 1/s, s*1e3}'
printf "%-7s %-10s %9s %14s %12s %10s %10s\n" share budget-GB tok/s read-GB/step roofline-ms reached hidden
for share in $shares; do
  budget=$(awk -v s="$share" -v b="$bytes" 'BEGIN{printf "%d", s*b}')
  json=$(run "$budget")
  step=$(echo "$json" | tpot)
  steps=$(echo "$json" | num steps)
  read=$(echo "$json" | num bytes_read)
  awk -v share="$share" -v budget="$budget" -v step="$step" -v steps="$steps" -v rd="$read" \
      -v disk="$disk" -v comp="$resident" 'BEGIN{
    per = rd / steps; r = per / disk; roof = (r > comp ? r : comp);
    hidden = (r + comp - step) / comp; if (hidden < 0) hidden = 0; if (hidden > 1) hidden = 1;
    printf "%-7s %-10.2f %9.2f %14.3f %12.1f %9.0f%% %9.0f%%\n", share, budget/1e9, 1/step,
           per/1e9, roof*1e3, 100*roof/step, 100*hidden}'
done
