#!/usr/bin/env bash
# Load test of `bricks serve` against `bricks run` on the same workload: for each
# concurrency C, the manifest's scheduler runs at most C sequences (max_num_seqs = C) and
# `bricks bench --endpoint --max-concurrency C` keeps at most C streams open, so both do
# the same work in the same shape. Prints each side's output throughput, their ratio, the
# client-side TTFT and the TTFT the server adds (client minus engine).
#
# Usage: tools/bench/serve_bench.sh [BUILD_DIR] [MANIFEST] [CONCURRENCIES]
#        tools/bench/serve_bench.sh build manifests/serve-load.textproto "64 256"
set -euo pipefail
build=${1:-build}
manifest=${2:-manifests/serve-load.textproto}
concurrencies=${3:-64 256}
bricks="$build/bin/bricks"
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

lscpu | sed -n 's/^Model name: *//p' | head -1 | sed 's/^/cpu: /'
for c in $concurrencies; do
  m="$work/load-$c.textproto"
  sed -E "s/(key: \"max_num_seqs\" value \{ int: )[0-9]+/\1$c/" "$manifest" > "$m"
  "$bricks" run "$m" --report-json "$work/run-$c.json" --quiet >/dev/null 2>"$work/run-$c.err"

  "$bricks" serve "$m" --port 0 --max-queued 100000 >"$work/serve-$c.out" 2>"$work/serve-$c.err" &
  server_pid=$!
  for _ in $(seq 600); do
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\).*|\1|p' "$work/serve-$c.out")
    [ -n "$port" ] && break
    sleep 0.1
  done
  "$bricks" bench "$m" --endpoint "http://127.0.0.1:$port" --max-concurrency "$c" \
    --no-progress --out "$work/bench-$c" >"$work/bench-$c.txt" 2>&1 || true
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=

  python3 - "$c" "$work/run-$c.json" "$work/bench-$c/endpoint.json" <<'PY'
import json, sys
c, run, ep = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))[0]
def get(d, *ks):
    for k in ks: d = d[k]
    return d
rt = get(run, "throughput", "output_tokens_per_s")
st = get(ep, "throughput", "output_tokens_per_s")
print(f"concurrency {c}: run {rt:.1f} tok/s, serve {st:.1f} tok/s, serve/run {st/rt:.3f}; "
      f"requests {ep['requests']['finished']}/{ep['requests']['submitted']} finished, {ep['errors']} errors; "
      f"client TTFT median {get(ep,'ttft_s','median')*1e3:.1f} ms; "
      f"server-added TTFT median {ep['added_ttft_s']['median']*1e3:.3f} ms, "
      f"P99 {ep['added_ttft_s']['p99']*1e3:.3f} ms")
PY
done
