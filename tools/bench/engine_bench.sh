#!/usr/bin/env bash
# End-to-end CPU engine speed on one GGUF file, optionally beside a peer engine measured in
# the same run on the same file: prompt processing at 128 and 512 tokens, batch-1 decode,
# total decode throughput of 4/8/16 concurrent sequences, at each thread count; and the
# machine's read bandwidth with the decode roofline it sets (read GB/s / weight bytes).
#
# Usage: tools/bench/engine_bench.sh [options] MODEL.gguf | PRESET [DTYPE]
#   MODEL.gguf              any model file the cpu device reads (f32/f16/bf16 or quantized)
#   PRESET [DTYPE]          a generated model (bricks make-model; made under models/ when absent)
#   --peer DIR              a llama.cpp build (llama-bench, llama-batched-bench) to run on the
#                           same file: every row prints bricks, peer and bricks/peer
#   --threads "1 2"         thread counts (default "1 2")
#   --compute f32|bf16      the linear layers' precision (device.compute; default f32)
#   --build DIR             the build tree (default build/: DIR/bin/bricks, DIR/bin/bench_kernels)
#   --isa avx2              limit both sides to AVX2 (with AVX-VNNI where the CPU has it), to
#                           measure an AVX2 machine's ratios on an AVX-512 one: Bricks through
#                           BRICKS_CPU_ISA and oneDNN's DNNL_MAX_CPU_ISA, the peer by loading
#                           only its CPU variants without AVX-512 (a llama.cpp built with them)
# Rows are tokens per second (0: the run failed, its error is on stderr); the peer's decode rows come from llama-bench -n 64 and
# llama-batched-bench -npp 16 -ntg 32, Bricks' from 16-token prompts and 33 new tokens. A batch
# row is the decode phase alone on both sides: sequences / mean TPOT for Bricks, S_TG for the peer.
set -euo pipefail
cd "$(dirname "$0")/../.."
peer="" threads="1 2" compute=f32 build=build isa=""
while [ $# -gt 0 ]; do
  case "$1" in
    --peer) peer=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --compute) compute=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --isa) isa=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "engine_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ -n "$isa" ] && [ "$isa" != avx2 ]; then
  echo "engine_bench.sh: --isa takes avx2 (got '$isa')" >&2
  exit 2
fi
bricks=$build/bin/bricks
[ -x "$bricks" ] || { echo "engine_bench.sh: $bricks is not built (cmake --build $build)" >&2; exit 2; }
target=${1:-1b}
if [ -f "$target" ]; then
  model=$(cd "$(dirname "$target")" && pwd)/$(basename "$target")
else
  dtype=${2:-f16}
  model=$(pwd)/models/$target-$dtype.gguf
  [ -f "$model" ] || "$bricks" make-model --preset "$target" --dtype "$dtype" --out "$model" >&2
fi
if [ -n "$peer" ] && [ ! -x "$peer/llama-bench" ]; then
  echo "engine_bench.sh: $peer/llama-bench not found (--peer takes a llama.cpp build dir)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$isa" = avx2 ]; then
  export BRICKS_CPU_ISA=avx2 DNNL_MAX_CPU_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2
  if [ -n "$peer" ]; then
    # llama.cpp loads the best libggml-cpu-<variant>.so next to its programs: a copy of the
    # build without the AVX-512 variants picks haswell (AVX2) or alderlake (AVX-VNNI).
    mkdir "$work/peer"
    kept=0
    for f in "$peer"/*; do
      [ -f "$f" ] || continue
      name=$(basename "$f")
      case "$name" in
        libggml-cpu-x64.so | libggml-cpu-sse42.so | libggml-cpu-sandybridge.so | \
          libggml-cpu-ivybridge.so | libggml-cpu-piledriver.so | libggml-cpu-haswell.so | \
          libggml-cpu-alderlake.so) cp -p "$f" "$work/peer/"; kept=$((kept + 1)) ;;
        libggml-cpu-*) ;;
        *) cp -p "$f" "$work/peer/" ;;
      esac
    done
    if [ "$kept" -eq 0 ]; then
      echo "engine_bench.sh: --isa avx2: $peer has no libggml-cpu-<variant>.so to choose from" \
        "(build llama.cpp with GGML_BACKEND_DL and GGML_CPU_ALL_VARIANTS)" >&2
      exit 2
    fi
    peer=$work/peer
  fi
fi

manifest() {  # threads, requests, prompt_len, output_len
  cat <<M
name: "bench"
model { path: "$model" }
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

run() {  # threads, requests, prompt, output -> report json (nothing when the run fails)
  manifest "$@" > "$work/m.textproto"
  rm -f "$work/r.json"
  "$bricks" run --quiet --no-progress --report-json "$work/r.json" "$work/m.textproto" \
    >/dev/null 2>"$work/err" || { sed 's/^/  bricks: /' "$work/err" >&2; return 0; }
  cat "$work/r.json"
}

num() { grep -o "\"$1\": [0-9.e+-]*" | head -n1 | awk '{print $2}'; }

peer_rows() {  # threads -> "pp128 pp512 tg1 tg4 tg8 tg16" (llama.cpp's tok/s)
  local csv b
  csv=$("$peer/llama-bench" -m "$model" -t "$1" -p 128,512 -n 64 -r 3 -o csv 2>/dev/null)
  col() { echo "$csv" | grep -E ",\"$1\",\"$2\"," | awk -F'"' '{print $(NF-3)}' | tail -n1; }
  b=$("$peer/llama-batched-bench" -m "$model" -t "$1" -c 4096 -b 2048 -ub 512 -npp 16 -ntg 32 \
        -npl 4,8,16 2>/dev/null)
  tg() { echo "$b" | awk -F'|' -v n="$1" '$4+0 == n && $2+0 == 16 {gsub(/ /, "", $9); print $9}'; }
  echo "$(col 128 0) $(col 512 0) $(col 0 64) $(tg 4) $(tg 8) $(tg 16)"
}

row() {  # threads, name, bricks value, peer value
  if [ -n "$peer" ]; then
    awk -v t="$1" -v n="$2" -v a="$3" -v b="$4" \
      'BEGIN{printf "%-7d %-22s %9.2f %9.2f %7.2f\n", t, n, a, b, (b > 0 ? a / b : 0)}'
  else
    awk -v t="$1" -v n="$2" -v a="$3" 'BEGIN{printf "%-7d %-22s %9.2f\n", t, n, a}'
  fi
}

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
echo "flags: $(grep -o -w -E 'avx2|avx512f|avx512bw|avx512_vnni|avx_vnni|avx512_bf16|avx512_fp16|amx_tile|amx_bf16|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ')"
bytes=$(stat -c %s "$model")
[ -n "$isa" ] && echo "limited to: $isa (BRICKS_CPU_ISA, DNNL_MAX_CPU_ISA${peer:+, and the AVX2 CPU variants of the peer})"
echo "model: $model ($(awk -v b="$bytes" 'BEGIN{printf "%.1f MiB", b/1048576}')), compute $compute"
if [ -x "$build/bin/bench_kernels" ]; then
  read_json=$("$build/bin/bench_kernels" --benchmark_filter='^ReadSweep' --benchmark_format=json 2>/dev/null)
  for t in $threads; do
    gbs=$(echo "$read_json" | tr -d '\n ' | grep -o "\"name\":\"ReadSweep/$t[^}]*" | grep -o '"GB/s":[0-9.e+]*' | head -n1 | cut -d: -f2)
    awk -v t="$t" -v g="$gbs" -v b="$bytes" \
      'BEGIN{if (g > 0) printf "threads %d: read sweep %.1f GB/s (bench_kernels ReadSweep), file bytes per token at that rate: %.2f tok/s\n", t, g, g*1e9/b}'
  done
fi
if [ -n "$peer" ]; then
  printf "%-7s %-22s %9s %9s %7s\n" threads row bricks peer ratio
else
  printf "%-7s %-22s %9s\n" threads row bricks
fi
for t in $threads; do
  p=(0 0 0 0 0 0)
  [ -n "$peer" ] && read -r -a p <<< "$(peer_rows "$t")"
  i=0
  for n in 128 512; do
    ttft=$(run "$t" 1 "$n" 1 | num mean)
    row "$t" "prefill $n" "$(awk -v n="$n" -v s="$ttft" 'BEGIN{print (s > 0 ? n/s : 0)}')" "${p[$i]:-0}"
    i=$((i + 1))
  done
  tpot=$(run "$t" 1 16 33 | tr -d '\n' | grep -o '"tpot_s": {[^}]*}' | num mean)
  row "$t" "decode batch 1" "$(awk -v s="$tpot" 'BEGIN{print (s > 0 ? 1/s : 0)}')" "${p[2]:-0}"
  i=3
  for b in 4 8 16; do
    # Every sequence decodes in every step once the prompts are in, so b / TPOT is the
    # decode phase's total rate: llama-batched-bench's S_TG, which leaves out the prompts.
    tpot=$(run "$t" "$b" 16 33 | tr -d '\n' | grep -o '"tpot_s": {[^}]*}' | num mean)
    row "$t" "decode batch $b total" "$(awk -v b="$b" -v s="$tpot" 'BEGIN{print (s > 0 ? b/s : 0)}')" "${p[$i]:-0}"
    i=$((i + 1))
  done
done
