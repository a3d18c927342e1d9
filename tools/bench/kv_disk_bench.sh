#!/usr/bin/env bash
# Resuming a conversation's turn from the disk tier against recomputing its prompt, by
# context length. Each of eight two-turn greedy chats opens with a prompt of L tokens and
# one output token; the second turn adds L tokens of user text. With the disk tier, the
# first turn's KV is kept (kv/block_group keep_conversations) on a host tier of one block in
# memory over a disk tier, so the second turn reads its first L tokens' KV back from disk and
# computes the rest; without it, nothing is kept and the second turn recomputes its whole
# prompt (2L + 1 tokens). A row is the median TTFT of the second turns either way, and the
# disk blocks read; the crossover is the shortest context L from which resuming from disk
# is faster.
#
# Usage: tools/bench/kv_disk_bench.sh [options] [PRESET]
#   PRESET               a generated model (default tiny; made under models/ when absent)
#   --lengths "64 128"   context lengths (default "16 32 64 128 240": the second turn of
#                        2L + 1 tokens fits the tiny model's context of 512)
#   --threads N          device.threads (default 0: all cores)
#   --disk-dir DIR       where the disk tier's file goes (default /var/tmp)
#   --build DIR          the build tree (default build/)
set -euo pipefail
cd "$(dirname "$0")/../.."
lengths="16 32 64 128 240" threads=0 disk_dir=/var/tmp build=build
while [ $# -gt 0 ]; do
  case "$1" in
    --lengths) lengths=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --disk-dir) disk_dir=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "kv_disk_bench.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
bricks=$build/bin/bricks
[ -x "$bricks" ] || { echo "kv_disk_bench.sh: $bricks is not built (cmake --build $build)" >&2; exit 2; }
preset=${1:-tiny}
model=$(pwd)/models/$preset-f32.gguf
mkdir -p models
[ -f "$model" ] || "$bricks" make-model --preset "$preset" --dtype f32 --out "$model" >&2
# One KV block (16 tokens, f32, all layers): the host tier's memory holds one.
case $preset in
  tiny) block_bytes=221184 ;;
  small) block_bytes=1179648 ;;
  *) echo "kv_disk_bench.sh: give tiny or small" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

manifest() {  # context length, "disk" or "recompute"
  local device keep
  if [ "$2" = disk ]; then
    device="host_kv_bytes: $block_bytes disk_kv_bytes: 1073741824 disk_dir: \"$disk_dir\""
    keep=true
  else
    device="host_kv_bytes: 0"
    keep=false
  fi
  cat <<M
name: "kv disk bench"
model { path: "$model" }
device { kind: "cpu" threads: $threads kv_cache_bytes: 268435456 kv_dtype: "f32" $device }
bricks { kind: "scheduler" name: "fastswitch" }
bricks { kind: "kv" name: "block_group" params { key: "keep_conversations" value { bool: $keep } } }
bricks { kind: "attention" name: "cpu_paged" }
workload {
  generator {
    rate: 2 seed: 4
    prompt_len { kind: "uniform" min: $1 max: $1 }
    output_len { kind: "uniform" min: 1 max: 1 }
    conversations { count: 8 turns: 2 think_time_s: 2 }
  }
  sampling { temperature: 0 ignore_eos: true }
}
M
}

# Median TTFT in ms of the second turns (prompts longer than L), and the disk blocks read.
run() {  # context length, mode
  manifest "$@" > "$work/m.textproto"
  rm -f "$work/r.json" "$work/r.jsonl"
  "$bricks" run --quiet --no-progress --report-json "$work/r.json" --requests-out "$work/r.jsonl" \
    "$work/m.textproto" >/dev/null 2>"$work/err" || { sed 's/^/  bricks: /' "$work/err" >&2; echo "0 0"; return; }
  local ttft read
  ttft=$(grep -o '"prompt_tokens": *[0-9]*\|"ttft_s": *[0-9.e+-]*' "$work/r.jsonl" |
         sed 's/.*: *//' | paste - - |
         awk -v l="$1" '{ if ($1 + 0 > l) print $2 * 1000 }' | sort -g |
         awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
                                   else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  read=$(grep -o '"blocks_read": *[0-9]*' "$work/r.json" | head -n1 | sed 's/.*: *//')
  echo "$ttft ${read:-0}"
}

echo "model $preset, $threads threads (0: all), disk tier in $disk_dir; TTFT of the second turn, median ms"
printf "%8s %14s %14s %12s\n" context recompute_ms from_disk_ms blocks_read
crossover=""
for l in $lengths; do
  set -- $(run "$l" recompute); recompute=$1
  set -- $(run "$l" disk); disk=$1 read=$2
  printf "%8d %14.1f %14.1f %12d\n" "$l" "$recompute" "$disk" "$read"
  if [ -z "$crossover" ] && awk -v a="$disk" -v b="$recompute" 'BEGIN { exit !(a > 0 && a < b) }'; then
    crossover=$l
  fi
done
echo "crossover: ${crossover:-none of these lengths} (resuming from disk is faster from this context length)"
