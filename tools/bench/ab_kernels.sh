#!/usr/bin/env bash
# Two builds (or two settings) of bench_kernels against each other, alternated: on a machine
# whose memory and clock change speed from one minute to the next, only pairs run back to back
# separate effects of a few percent. Each round runs A and B once each (B first in every other
# round, so that a drift favours neither) on the benchmarks the filter selects; at the end it
# prints, per benchmark, each side's median counter and the median of the rounds' ratios B / A
# with their range.
#
# Usage: tools/bench/ab_kernels.sh [options] A B FILTER
#   A, B            bench_kernels binaries; a side may carry environment settings before the
#                   binary, as one word: "BRICKS_CPU_ISA=avx2 build/bin/bench_kernels"
#   FILTER          --benchmark_filter regex (say ReadSweep/2 too to see the memory's speed)
#   --rounds N      rounds (default 8)
#   --counter NAME  the counter to compare (default GB/s; GFLOP/s for Gemm and Crossover;
#                   real_time for the small ops, where B/A above 1 is B slower)
#
# Example: copy a build's bench_kernels aside, change the kernel, rebuild, then
#   tools/bench/ab_kernels.sh /tmp/bench_kernels.old build/bin/bench_kernels \
#       'DecodeLayers/thr:2/type:8/lanes:1'
set -euo pipefail
rounds=8 counter=GB/s
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --counter) counter=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "ab_kernels.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
if [ ${#args[@]} -ne 3 ]; then
  echo "ab_kernels.sh: need A, B and FILTER (see --help)" >&2
  exit 2
fi
side_a=${args[0]} side_b=${args[1]} filter=${args[2]}
case "$rounds" in ''|*[!0-9]*|0) echo "ab_kernels.sh: --rounds takes a positive integer, not '$rounds'" >&2; exit 2 ;; esac
for side in "$side_a" "$side_b"; do
  bin=${side##* }
  if [ ! -x "$bin" ]; then
    echo "ab_kernels.sh: '$bin' is not an executable bench_kernels (build it with -DBRICKS_BUILD_BENCH=ON)" >&2
    exit 2
  fi
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One run of a side: "name value" per benchmark that reports the counter.
run_side() {
  local side=$1 file=$2
  # shellcheck disable=SC2086  # the side's words: settings, then the binary
  env $side --benchmark_filter="$filter" --benchmark_format=json > "$file.json" 2> "$file.err" || {
    echo "ab_kernels.sh: '$side' failed:" >&2
    tail -5 "$file.err" >&2
    exit 1
  }
  python3 - "$file.json" "$counter" > "$file" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
data = json.loads(text[text.index("{"):])
for b in data["benchmarks"]:
    if b.get("run_type") == "iteration" and sys.argv[2] in b:
        print(b["run_name"].replace("/min_time:0.100", "").replace("/min_time:1.000", "")
              .replace("/real_time", ""), b[sys.argv[2]])
PY
}

for i in $(seq 1 "$rounds"); do
  if [ $((i % 2)) -eq 1 ]; then
    run_side "$side_a" "$out/a$i"; run_side "$side_b" "$out/b$i"
  else
    run_side "$side_b" "$out/b$i"; run_side "$side_a" "$out/a$i"
  fi
  echo "ab_kernels.sh: round $i of $rounds" >&2
done

python3 - "$out" "$rounds" "$counter" <<'PY'
import statistics, sys
out, rounds, counter = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def read(path):
    return dict((l.rsplit(" ", 1)[0], float(l.rsplit(" ", 1)[1])) for l in open(path) if l.strip())
ratios, a_all, b_all = {}, {}, {}
for i in range(1, rounds + 1):
    a, b = read(f"{out}/a{i}"), read(f"{out}/b{i}")
    for name in a:
        if name in b and a[name] > 0:
            ratios.setdefault(name, []).append(b[name] / a[name])
            a_all.setdefault(name, []).append(a[name])
            b_all.setdefault(name, []).append(b[name])
if not ratios:
    sys.exit(f"ab_kernels.sh: no benchmark matched the filter on both sides with a {counter} "
             "counter (--counter picks another: GFLOP/s, real_time, ...)")
width = max(len(n) for n in ratios)
print(f"{'benchmark':<{width}}  {'A ' + counter:>10}  {'B ' + counter:>10}  B/A median [min-max] of {rounds} rounds")
for name, r in ratios.items():
    print(f"{name:<{width}}  {statistics.median(a_all[name]):>10.2f}  {statistics.median(b_all[name]):>10.2f}"
          f"  {statistics.median(r):.3f} [{min(r):.3f}-{max(r):.3f}]")
PY
