#!/usr/bin/env bash
# End-to-end CPU engine speed on one GGUF file, optionally beside a peer engine measured in
# the same run on the same file: prompt processing at 128 and 512 tokens, batch-1 decode,
# total decode throughput of 4/8/16 concurrent sequences, at each thread count; and the
# machine's read bandwidth with the decode roofline it sets (read GB/s / the weight bytes a
# decoded token reads, which Bricks reports).
#
# Usage: tools/bench/engine_bench.sh [options] MODEL.gguf | PRESET [DTYPE]
#   MODEL.gguf              any model file the cpu device reads (f32/f16/bf16 or quantized)
#   PRESET [DTYPE]          a generated model (bricks make-model; made under models/ when absent)
#   --peer DIR              a llama.cpp build (llama-bench, llama-batched-bench) to run on the
#                           same file: every row prints bricks, peer and bricks/peer
#   --threads "1 2"         thread counts (default "1 2")
#   --compute f32|bf16      the linear layers' precision (device.compute; default f32)
#   --q8-lanes              q8_0 matrices in the lane layout (device.q8_lane_layout): faster
#                           batched decode, slower batch 1, on AVX512_VNNI in f32 compute
#   --build DIR             the build tree (default build/: DIR/bin/bricks, DIR/bin/bench_kernels)
#   --isa avx2              limit both sides to AVX2 (with AVX-VNNI where the CPU has it), to
#                           measure an AVX2 machine's ratios on an AVX-512 one: Bricks through
#                           BRICKS_CPU_ISA and oneDNN's DNNL_MAX_CPU_ISA, the peer by loading
#                           only its CPU variants without AVX-512 (a llama.cpp built with them)
#   --repeat N              N rounds (default 1), each the peer and then Bricks: rows print
#                           medians, the ratio is the median of the rounds' ratios with their
#                           range. Batch-1 decode runs on both sides back to back, between two
#                           read sweeps, and Bricks' is also put against the roofline of their
#                           mean (a shared machine's memory can change speed between minutes)
# Rows are tokens per second (0: the run failed, its error is on stderr). The peer's decode rows
# come from llama-bench -n 64 (batch 1) and llama-batched-bench -npp 16 -ntg 32; Bricks' from
# 16-token prompts and as many decode steps: 65 new tokens at batch 1, 33 in a batch. A batch
# row is the decode phase alone on both sides: sequences / mean TPOT for Bricks, S_TG for the peer.
# A prompt row is a warm step on both sides: llama-bench's mean after its warm-up run, and for
# Bricks five prompts run one a step, (the fifth's TTFT - the third's) / 2.
set -euo pipefail
cd "$(dirname "$0")/../.."
peer="" threads="1 2" compute=f32 build=build isa="" repeat=1 lanes=false
while [ $# -gt 0 ]; do
  case "$1" in
    --peer) peer=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --compute) compute=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --isa) isa=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --q8-lanes) lanes=true; shift ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "engine_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
case "$repeat" in
  '' | *[!0-9]* | 0) echo "engine_bench.sh: --repeat takes a count of rounds, 1 or more (got '$repeat')" >&2; exit 2 ;;
esac
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

manifest() {  # threads, requests, prompt_len, output_len[, tokens a step (default 4096)]
  cat <<M
name: "bench"
model { path: "$model" }
device { kind: "cpu" threads: $1 kv_cache_bytes: 1073741824 kv_dtype: "f16" compute: "$compute" q8_lane_layout: $lanes }
bricks { kind: "scheduler" name: "fcfs" params { key: "max_num_batched_tokens" value { int: ${5:-4096} } } }
bricks { kind: "kv" name: "paged" }
bricks { kind: "attention" name: "cpu_paged" }
workload {
  generator { num_requests: $2 prompt_len_min: $3 prompt_len_max: $3 output_len_min: $4 output_len_max: $4 seed: 1 }
  sampling { ignore_eos: true }
}
M
}

run() {  # threads, requests, prompt, output[, tokens a step] -> report json (nothing when the run fails)
  manifest "$@" > "$work/m.textproto"
  rm -f "$work/r.json"
  "$bricks" run --quiet --no-progress --report-json "$work/r.json" "$work/m.textproto" \
    >/dev/null 2>"$work/err" || { sed 's/^/  bricks: /' "$work/err" >&2; return 0; }
  cat "$work/r.json"
}

num() { grep -o "\"$1\": [0-9.e+-]*" | head -n1 | awk '{print $2}'; }

# llama-bench's tok/s for a prompt of $2 and $3 new tokens, from its CSV on stdin.
bench_col() { grep -E ",\"$1\",\"$2\"," | awk -F'"' '{print $(NF-3)}' | tail -n1; }

peer_rows() {  # threads -> "pp128 pp512 - tg4 tg8 tg16" (llama.cpp's tok/s; batch 1: peer_tg1)
  local csv b
  csv=$("$peer/llama-bench" -m "$model" -t "$1" -p 128,512 -n 0 -r 3 -o csv 2>/dev/null)
  b=$("$peer/llama-batched-bench" -m "$model" -t "$1" -c 4096 -b 2048 -ub 512 -npp 16 -ntg 32 \
        -npl 4,8,16 2>/dev/null)
  tg() { echo "$b" | awk -F'|' -v n="$1" '$4+0 == n && $2+0 == 16 {gsub(/ /, "", $9); print $9}'; }
  echo "$(bench_col 128 0 <<< "$csv") $(bench_col 512 0 <<< "$csv") - $(tg 4) $(tg 8) $(tg 16)"
}

peer_tg1() {  # threads -> llama.cpp's batch-1 decode tok/s (llama-bench -n 64)
  "$peer/llama-bench" -m "$model" -t "$1" -p 0 -n 64 -r 3 -o csv 2>/dev/null | bench_col 0 64
}

bricks_rows() {  # threads -> "pp128 pp512 tg1 tg4 tg8 tg16" (Bricks' tok/s)
  local t=$1 out="" n b tpot report
  for n in 128 512; do
    # Five prompts of n tokens, one a step: prompt k's TTFT is k steps, so (the fifth's - the
    # third's) / 2 is the time of a warm step. The first step of a fresh process also faults in
    # the KV pages it writes, which on a VM can add half a second; llama-bench warms up first.
    report=$(run "$t" 5 "$n" 1 "$n" | tr -d '\n' | grep -o '"ttft_s": {[^}]*}' || true)
    out="$out $(awk -v n="$n" -v hi="$(num max <<< "$report")" -v mid="$(num median <<< "$report")" \
      'BEGIN{print (hi > mid && mid > 0 ? 2 * n / (hi - mid) : 0)}')"
  done
  # Batch-1 decode of both sides back to back, between two read sweeps whose mean sets the
  # roofline (memory on a shared machine can change speed between minutes); and the weight
  # bytes a token reads.
  local before after
  : > "$work/sweep"
  : > "$work/peer_tg1"
  before=$(sweep_gbs "$t")
  [ -n "$peer" ] && peer_tg1 "$t" > "$work/peer_tg1"
  # 64 decode steps, as llama-bench -n 64 times: one run of 32 moved by a fifth between rounds.
  report=$(run "$t" 1 16 65 | tr -d '\n')
  after=$(sweep_gbs "$t")
  [ -n "$before" ] && awk -v a="$before" -v b="$after" 'BEGIN{print (a + b) / 2}' > "$work/sweep"
  grep -o '[0-9.]* MiB read per token' <<< "$report" | awk '{printf "%.0f\n", $1 * 1048576}' > "$work/bytes" || true
  tpot=$(grep -o '"tpot_s": {[^}]*}' <<< "$report" | num mean)
  out="$out $(awk -v s="$tpot" 'BEGIN{print (s > 0 ? 1/s : 0)}')"
  for b in 4 8 16; do
    # Every sequence decodes in every step once the prompts are in, so b / TPOT is the
    # decode phase's total rate: llama-batched-bench's S_TG, which leaves out the prompts.
    tpot=$(run "$t" "$b" 16 33 | tr -d '\n' | grep -o '"tpot_s": {[^}]*}' | num mean)
    out="$out $(awk -v b="$b" -v s="$tpot" 'BEGIN{print (s > 0 ? b/s : 0)}')"
  done
  echo "$out"
}

sweep_gbs() {  # threads -> bench_kernels' read sweep in GB/s (empty without bench_kernels)
  [ -x "$build/bin/bench_kernels" ] || return 0
  "$build/bin/bench_kernels" --benchmark_filter="^ReadSweep/$1/" --benchmark_format=json 2>/dev/null |
    tr -d '\n ' | grep -o '"GB/s":[0-9.e+]*' | head -n1 | cut -d: -f2
}

# The median of the numbers on stdin: as it is, or with `fixed` to 2 decimals, or with `range`
# also their "[min-max]".
median() {
  sort -g | awk -v how="${1:-}" '{v[NR] = $1}
    END {
      if (NR == 0) { print 0; exit }
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      if (how == "range") printf "%.2f [%.2f-%.2f]\n", m, v[1], v[NR]
      else if (how == "fixed") printf "%.2f\n", m
      else print m
    }'
}

names=("prefill 128" "prefill 512" "decode batch 1" "decode batch 4 total" "decode batch 8 total" "decode batch 16 total")
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
echo "flags: $(grep -o -w -E 'avx2|avx512f|avx512bw|avx512_vnni|avx_vnni|avx512_bf16|avx512_fp16|amx_tile|amx_bf16|amx_int8' /proc/cpuinfo | sort -u | tr '\n' ' ')"
bytes=$(stat -c %s "$model")
[ -n "$isa" ] && echo "limited to: $isa (BRICKS_CPU_ISA, DNNL_MAX_CPU_ISA${peer:+, and the AVX2 CPU variants of the peer})"
echo "model: $model ($(awk -v b="$bytes" 'BEGIN{printf "%.1f MiB", b/1048576}')), compute $compute"
# Per round r and thread count t: the sweep S, the peer's rows P and Bricks' rows B.
declare -A S P B
for ((r = 1; r <= repeat; r++)); do
  [ "$repeat" -gt 1 ] && echo "engine_bench.sh: round $r of $repeat" >&2
  for t in $threads; do
    p=(0 0 0 0 0 0)
    [ -n "$peer" ] && read -r -a p <<< "$(peer_rows "$t")"
    read -r -a b <<< "$(bricks_rows "$t")"
    [ -n "$peer" ] && p[2]=$(cat "$work/peer_tg1")
    S[$t,$r]=$(cat "$work/sweep")
    read_bytes=$(cat "$work/bytes")
    echo "engine_bench.sh: round $r, $t threads: read sweep ${S[$t,$r]:-?} GB/s;" \
      "batch-1 decode ${b[2]:-0} tok/s, peer ${p[2]:-0}" >&2
    for i in 0 1 2 3 4 5; do
      P[$t,$i,$r]=${p[$i]:-0}
      B[$t,$i,$r]=${b[$i]:-0}
    done
  done
done
# The roofline's bytes: the weights a decoded token reads, as Bricks reports them (every
# matrix once and one embedding row, so without the rest of an untied embedding table), else
# the whole file.
roof_bytes=${read_bytes:-$bytes}
roof_what=$(awk -v b="$roof_bytes" -v f="$bytes" 'BEGIN{printf "%.1f MiB read per token (file %.1f MiB)", b/1048576, f/1048576}')
[ -n "${read_bytes:-}" ] || roof_what="file bytes per token"
rounds="" spread=fixed
if [ "$repeat" -gt 1 ]; then
  rounds=", median of $repeat rounds"
  spread=range
fi
for t in $threads; do
  gbs=$(for ((r = 1; r <= repeat; r++)); do echo "${S[$t,$r]:-}"; done | grep . | median || true)
  awk -v t="$t" -v g="$gbs" -v b="$roof_bytes" -v w="$rounds" -v what="$roof_what" \
    'BEGIN{if (g > 0) printf "threads %d: read sweep %.1f GB/s (bench_kernels ReadSweep, mean of the runs right before and after batch-1 decode%s), %s at that rate: %.2f tok/s\n", t, g, w, what, g*1e9/b}'
done
if [ -n "$peer" ]; then
  printf "%-7s %-22s %9s %9s %7s\n" threads row bricks peer ratio
else
  printf "%-7s %-22s %9s\n" threads row bricks
fi
for t in $threads; do
  for i in 0 1 2 3 4 5; do
    bv=$(for ((r = 1; r <= repeat; r++)); do echo "${B[$t,$i,$r]}"; done | median)
    if [ -n "$peer" ]; then
      pv=$(for ((r = 1; r <= repeat; r++)); do echo "${P[$t,$i,$r]}"; done | median)
      ratio=$(for ((r = 1; r <= repeat; r++)); do
        awk -v a="${B[$t,$i,$r]}" -v b="${P[$t,$i,$r]}" 'BEGIN{print (b > 0 ? a / b : 0)}'
      done | median "$spread")
      awk -v t="$t" -v n="${names[$i]}" -v a="$bv" -v b="$pv" -v q="$ratio" \
        'BEGIN{printf "%-7d %-22s %9.2f %9.2f %7s\n", t, n, a, b, q}'
    else
      awk -v t="$t" -v n="${names[$i]}" -v a="$bv" 'BEGIN{printf "%-7d %-22s %9.2f\n", t, n, a}'
    fi
  done
  # Batch-1 decode against the roofline of the round it ran in.
  roof=$(for ((r = 1; r <= repeat; r++)); do
    awk -v d="${B[$t,2,$r]}" -v g="${S[$t,$r]:-0}" -v b="$roof_bytes" \
      'BEGIN{if (g > 0) printf "%.1f\n", 100 * d / (g * 1e9 / b)}'
  done | median "$spread")
  if [ -n "${S[$t,1]:-}" ]; then
    echo "threads $t: decode batch 1 at ${roof} % of its round's roofline"
  fi
done
