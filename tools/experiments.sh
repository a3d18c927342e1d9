#!/usr/bin/env bash
# Runs the paper-comparison experiments of the scheduler bricks on the sim device and
# writes each one's results to out/experiments/<name>/ (bench.json or placement JSON, SVG
# plots, summary.md with our number beside the paper's). docs/experiments.md explains the
# settings and the results.
#
#   tools/experiments.sh sarathi|splitfuse|splitfuse70b|fastswitch|batchllm|disagg|disagg66|trace|melange|holmes|all
#
# Environment: BRICKS (default build/bin/bricks) is the CLI to use; BRICKS_TRACE (default
# ../shared/data/azure-llm-2023/code.csv) is the Azure trace the `trace` experiment replays,
# which `all` skips with a line when the file is not there. Every experiment takes
# under five minutes on a 2-core machine, but melange: about 20 minutes the first time (it
# profiles four GPU types per request-size bucket), seconds once its profiles are cached.
# Needs bash and python3 (summaries, the batch traces and two plots); nothing else beyond
# the build.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bricks="${BRICKS:-build/bin/bricks}"
man=manifests/experiments
names=(sarathi splitfuse splitfuse70b fastswitch batchllm disagg disagg66 trace melange holmes)

usage() {
  local IFS='|'
  echo "usage: tools/experiments.sh ${names[*]}|all" >&2
  exit 2
}

if [[ $# -ne 1 ]]; then usage; fi
if [[ ! -x "$bricks" ]]; then
  echo "error: $bricks not found or not executable; build the 'bricks' target or set BRICKS" >&2
  exit 3
fi
if ! command -v python3 >/dev/null; then
  echo "error: python3 is needed for the summaries and traces; install python3" >&2
  exit 3
fi

# summarise WHAT DIR: summary tables (markdown, ours beside the paper's), the batch traces and
# the two plots the CLI does not draw; the python below, fed on stdin.
summarise() { python3 - "$@" <<'PY'
import json, os, random, sys

what, out = sys.argv[1], sys.argv[2]


def load(path):
    if not os.path.exists(path):
        sys.exit(f"error: {path} is missing; the run before it failed (see the .txt beside it)")
    with open(path) as f:
        return json.load(f)


def label(m):
    return m.split("-", 1)[1]


def capacity_rows(bench):
    rows = {}
    for c in bench["capacity"]:
        g = c.get("goodput", {}).get("max_rate")
        rows[label(c["manifest"])] = (c["capacity"]["max_rate"], g)
    return rows


def bar_svg(path, title, unit, bars):
    """Horizontal bars: bars is [(label, value, colour)]."""
    h, left, width = 26, 300, 420
    top = 44
    peak = max(v for _, v, _ in bars) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" '
             f'height="{top + h * len(bars) + 20}" font-family="sans-serif" font-size="12">',
             f'<text x="10" y="22" font-size="14" font-weight="bold">{title}</text>']
    for i, (name, v, colour) in enumerate(bars):
        y = top + i * h
        w = width * v / peak
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{name}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{h - 8}" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{left + w + 5:.1f}" y="{y + 15}">{v:.2f} {unit}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


if what == "sarathi":
    print("| SLO (P99 TBT) | fcfs capacity | sarathi capacity | ours | paper |")
    print("|---|---|---|---|---|")
    for slo, budget, paper in (("strict", "512", "2.6x"), ("relaxed", "2048", "- (headline is for the strict SLO)")):
        rows = capacity_rows(load(f"{out}/{slo}/bench.json"))
        f, s = rows["fcfs"][0], rows[f"sarathi{budget}"][0]
        t = "0.1 s" if slo == "strict" else "0.5 s"
        print(f"| {slo} {t}, budget {budget} | {f:.2f} req/s | {s:.2f} req/s | "
              f"{s / f:.2f}x | {paper} |")

elif what == "splitfuse":
    b = load(f"{out}/bench.json")
    rows = capacity_rows(b)
    eff = {}
    tbt = {}
    for r in b["runs"]:
        if not r["swept"]:
            continue
        m = label(r["manifest"])
        e = r["report"]["slo"]["effective_requests_per_s"]
        eff[m] = max(eff.get(m, 0), e)
        if abs(r["rate"] - 2.0) < 1e-9:
            tbt[m] = r["report"]["itl_s"]["p99"]
    f, s = rows["fcfs"], rows["splitfuse"]
    print("| metric | fcfs | splitfuse | ours | paper |")
    print("|---|---|---|---|---|")
    print(f"| goodput (90 % within TTFT 2 s, TPOT 50 ms) | {f[1]:.2f} req/s | {s[1]:.2f} req/s "
          f"| {s[1] / f[1]:.2f}x | up to 2.3x (effective throughput) |")
    print(f"| peak effective throughput over the rate sweep | {eff['fcfs']:.2f} req/s | "
          f"{eff['splitfuse']:.2f} req/s | {eff['splitfuse'] / eff['fcfs']:.2f}x | up to 2.3x |")
    print(f"| capacity (P99 TTFT and TPOT within the SLO) | {f[0]:.2f} req/s | {s[0]:.2f} req/s "
          f"| {s[0] / f[0]:.2f}x | - |")
    print(f"| P99 time between tokens at 2 req/s | {tbt['fcfs'] * 1e3:.0f} ms | "
          f"{tbt['splitfuse'] * 1e3:.0f} ms | {tbt['fcfs'] / tbt['splitfuse']:.1f}x lower | "
          f"3.7x lower P95 token latency |")

elif what == "fastswitch":
    b = load(f"{out}/bench.json")
    runs = {}
    for r in b["runs"]:
        rep = r["report"]
        inter = next((t["ttft_p99_s"] for t in rep["tenants"] if t["name"] == "interactive"), 0)
        runs[(label(r["manifest"]), r["rate"])] = (
            rep["ttft_s"]["p99"], rep["itl_s"]["p99"], inter, rep["preemptions"])
    rates = sorted({k[1] for k in runs})
    print("| turns/s | P99 TTFT fastswitch / priority-paged / fcfs (s) | TTFT gain vs priority-paged"
          " / fcfs | P99 TBT fastswitch / priority-paged / fcfs (ms) | interactive tenant P99 TTFT"
          " (s) | preemptions |")
    print("|---|---|---|---|---|---|")
    for rate in rates:
        a, p, f = (runs[(m, rate)] for m in ("fastswitch", "priority-paged", "fcfs"))
        print(f"| {rate:g} | {a[0]:.2f} / {p[0]:.2f} / {f[0]:.2f} | {p[0] / a[0]:.2f}x / "
              f"{f[0] / a[0]:.2f}x | {a[1] * 1e3:.0f} / {p[1] * 1e3:.0f} / {f[1] * 1e3:.0f} | "
              f"{a[2]:.2f} / {p[2]:.2f} / {f[2]:.2f} | {a[3]} / {p[3]} / {f[3]} |")
    print("\nPaper: 1.4-11.2x lower P95/P99 TTFT and TBT than vLLM-style preemption.")

elif what == "batchllm-traces":
    # 64 groups of 32 requests sharing a prefix, all at time 0; one seed per trace.
    def trace(prefix, own, outs, shuffle, seed):
        rng = random.Random(seed)
        reqs = [{"arrival_s": 0, "prompt_len": prefix + rng.randint(*own),
                 "output_len": rng.randint(*outs), "prefix_group": g + 1, "prefix_len": prefix}
                for g in range(64) for _ in range(32)]
        if shuffle:
            rng.shuffle(reqs)
        return reqs
    for name, reqs in (("mixed-shuffled", trace(1536, (64, 512), (32, 384), True, 1)),
                       ("mixed-grouped", trace(1536, (64, 512), (32, 384), False, 1)),
                       ("longprefix-shuffled", trace(3072, (32, 256), (8, 128), True, 1))):
        with open(f"{out}/trace-{name}.jsonl", "w") as f:
            for r in reqs:
                f.write(json.dumps(r) + "\n")

elif what == "batchllm":
    print("| trace | fcfs+paged job time | batchllm+prefix_tree job time | ours | tokens/s "
          "fcfs / batchllm | prefix hits fcfs / batchllm | preemptions fcfs / batchllm | paper |")
    print("|---|---|---|---|---|---|---|---|")
    bars = []
    for t in ("mixed-shuffled", "mixed-grouped", "longprefix-shuffled"):
        f, b = (load(f"{out}/{s}-{t}.json") for s in ("fcfs", "batchllm"))
        print(f"| {t} | {f['duration_s']:.0f} s | {b['duration_s']:.0f} s | "
              f"{f['duration_s'] / b['duration_s']:.2f}x | "
              f"{f['throughput']['total_tokens_per_s']:.0f} / "
              f"{b['throughput']['total_tokens_per_s']:.0f} | "
              f"{f['prefix_cache_hit_rate'] * 100:.1f} % / {b['prefix_cache_hit_rate'] * 100:.1f} % | "
              f"{f['preemptions']} / {b['preemptions']} | 1.3-10.8x |")
        bars.append((f"{t}: fcfs + paged", f["duration_s"], "#d62728"))
        bars.append((f"{t}: batchllm + prefix_tree", b["duration_s"], "#1f77b4"))
    with open(f"{out}/bench.json", "w") as fh:
        json.dump({t: {s: load(f"{out}/{s}-{t}.json") for s in ("fcfs", "batchllm")}
                   for t in ("mixed-shuffled", "mixed-grouped", "longprefix-shuffled")},
                  fh, indent=2)
    bar_svg(f"{out}/job_time.svg", "BatchLLM: total job time, 2048 requests (lower is better)",
            "s", bars)

elif what == "disagg":
    print("| workload | run length | best disaggregated per GPU | best colocated fcfs per GPU "
          "| best colocated sarathi per GPU | disagg / fcfs | disagg / sarathi | paper |")
    print("|---|---|---|---|---|---|---|---|")
    for w in ("sharegpt", "chat"):
        full = load(f"{out}/{w}-fcfs.json")
        sar = load(f"{out}/{w}-sarathi.json")
        d, c, s = (full["best_disaggregated"], full["best_colocated"], sar["best_colocated"])
        print(f"| {w} | {full['requests_per_gpu']} req/GPU | {d['goodput_per_gpu']:.2f} "
              f"({d['placement']}) | {c['goodput_per_gpu']:.2f} ({c['placement']}) | "
              f"{s['goodput_per_gpu']:.2f} ({s['placement']}) | "
              f"{d['goodput_per_gpu'] / c['goodput_per_gpu']:.2f}x | "
              f"{d['goodput_per_gpu'] / s['goodput_per_gpu']:.2f}x | up to 4.48x (vs vLLM) |")
        if w == "sharegpt":
            bars = [(r["placement"], r["goodput_per_gpu"],
                     "#1f77b4" if r["disaggregated"] else "#d62728") for r in full["results"]]
            bars += [(r["placement"] + " (sarathi)", r["goodput_per_gpu"], "#ff7f0e")
                     for r in sar["results"]]
            bar_svg(f"{out}/goodput_per_gpu.svg",
                    "OPT-13B, ShareGPT: goodput per GPU (TTFT 0.25 s, TPOT 0.1 s, 90 %)",
                    "req/s", bars)
    short = load(f"{out}/sharegpt-fcfs-short.json")
    with open(f"{out}/bench.json", "w") as fh:
        json.dump({n: load(f"{out}/{n}.json") for n in
                   ("sharegpt-fcfs", "sharegpt-sarathi", "chat-fcfs", "chat-sarathi",
                    "sharegpt-fcfs-short")}, fh, indent=2)
    d, c = short["best_disaggregated"], short["best_colocated"]
    print(f"| sharegpt | {short['requests_per_gpu']} req/GPU (too short) | "
          f"{d['goodput_per_gpu']:.2f} ({d['placement']}) | {c['goodput_per_gpu']:.2f} "
          f"({c['placement']}) | - | {d['goodput_per_gpu'] / c['goodput_per_gpu']:.2f}x | - | "
          f"(runs too short: see the doc) |")
elif what == "splitfuse70b":
    def steps(path):
        """Per kind of step (prefill, decode, mixed): count, total s, mean ms, mean prefill
        tokens and decode sequences, from a --trace-out timeline."""
        kinds = {}
        for e in load(path)["traceEvents"]:
            if e.get("cat") != "step" or e["name"] == "idle":
                continue
            k = kinds.setdefault(e["name"], [0, 0.0, 0, 0])
            k[0] += 1
            k[1] += e["dur"] / 1e6
            k[2] += e["args"]["prefill_tokens"]
            k[3] += e["args"]["decode_seqs"]
        return kinds

    print("| generation SLA (TTFT <= 5 s) | fcfs goodput | splitfuse goodput | ours | "
          "fcfs / splitfuse peak effective throughput | ours | paper |")
    print("|---|---|---|---|---|---|---|")
    for t, rate in (("0.5", "2"), ("0.25", "4"), ("0.167", "6")):
        b = load(f"{out}/tpot{t}/bench.json")
        rows = capacity_rows(b)
        eff = {}
        for r in b["runs"]:
            if r["swept"]:
                m = label(r["manifest"])
                eff[m] = max(eff.get(m, 0), r["report"]["slo"]["effective_requests_per_s"])
        f, s = rows["fcfs"][1], rows["splitfuse"][1]
        print(f"| {rate} tokens/s (TPOT <= {t} s) | {f:.2f} req/s | {s:.2f} req/s | "
              f"{s / f:.2f}x | {eff['fcfs']:.2f} / {eff['splitfuse']:.2f} req/s | "
              f"{eff['splitfuse'] / eff['fcfs']:.2f}x | up to 2.3x |")
    print()
    print("Latencies over the rate sweep (ms):")
    print()
    print("| rate | fcfs TTFT p50 / p99 | splitfuse TTFT p50 / p99 | fcfs TPOT p50 / p99 | "
          "splitfuse TPOT p50 / p99 | fcfs / splitfuse P99 gap between tokens |")
    print("|---|---|---|---|---|---|")
    runs = {}
    for r in load(f"{out}/tpot0.25/bench.json")["runs"]:
        if r["swept"]:
            runs[(label(r["manifest"]), r["rate"])] = r["report"]
    for rate in sorted({k[1] for k in runs}):
        f, s = runs[("fcfs", rate)], runs[("splitfuse", rate)]
        print(f"| {rate:g} | {f['ttft_s']['p50'] * 1e3:.0f} / {f['ttft_s']['p99'] * 1e3:.0f} | "
              f"{s['ttft_s']['p50'] * 1e3:.0f} / {s['ttft_s']['p99'] * 1e3:.0f} | "
              f"{f['tpot_s']['p50'] * 1e3:.0f} / {f['tpot_s']['p99'] * 1e3:.0f} | "
              f"{s['tpot_s']['p50'] * 1e3:.0f} / {s['tpot_s']['p99'] * 1e3:.0f} | "
              f"{f['itl_s']['p99'] * 1e3:.0f} / {s['itl_s']['p99'] * 1e3:.0f} |")
    print()
    print("Steps at 1.5 req/s (from the --trace-out timelines):")
    print()
    print("| scheduler | kind | steps | share of busy time | mean step | mean prefill tokens "
          "| mean decode sequences |")
    print("|---|---|---|---|---|---|---|")
    for sched in ("fcfs", "splitfuse"):
        kinds = steps(f"{out}/{sched}-r1.5-trace.json")
        busy = sum(k[1] for k in kinds.values())
        for name, (n, secs, pt, ds) in sorted(kinds.items()):
            print(f"| {sched} | {name} | {n} | {100 * secs / busy:.0f} % of {busy:.0f} s | "
                  f"{1e3 * secs / n:.0f} ms | {pt / n:.0f} | {ds / n:.1f} |")

elif what == "disagg66":
    print("| workload (SLO) | run length | best disaggregated per GPU | best colocated fcfs per GPU "
          "| disagg / fcfs | paper |")
    print("|---|---|---|---|---|---|")
    for w, slo in (("sharegpt", "TTFT 2.5 s, TPOT 0.15 s"), ("summary", "TTFT 15 s, TPOT 0.15 s")):
        j = load(f"{out}/{w}-fcfs.json")
        d, c = j["best_disaggregated"], j["best_colocated"]
        print(f"| {w} ({slo}) | {j['requests_per_gpu']} req/GPU | {d['goodput_per_gpu']:.2f} "
              f"({d['placement']}) | {c['goodput_per_gpu']:.2f} ({c['placement']}) | "
              f"{d['goodput_per_gpu'] / c['goodput_per_gpu']:.2f}x | up to 4.48x (vs vLLM) |")
        bars = [(r["placement"], r["goodput_per_gpu"],
                 "#1f77b4" if r["disaggregated"] else "#d62728") for r in j["results"]]
        bar_svg(f"{out}/{w}_goodput_per_gpu.svg",
                f"OPT-66B, {w}: goodput per GPU ({slo}, 90 %)", "req/s", bars)
    b = load(f"{out}/summary-12gpu/bench.json")
    g = b["capacity"][0]["goodput"]["max_rate"]
    c = load(f"{out}/summary-fcfs.json")["best_colocated"]
    print(f"| summary (TTFT 15 s, TPOT 0.15 s), 12 GPUs | 500 req/GPU | {g / 12:.2f} (4 prefill x "
          f"tp2 + 1 decode x tp4) | {c['goodput_per_gpu']:.2f} ({c['placement']}, scales "
          f"per GPU) | {g / 12 / c['goodput_per_gpu']:.2f}x | up to 4.48x (vs vLLM) |")
    with open(f"{out}/bench.json", "w") as fh:
        json.dump({n: load(f"{out}/{n}.json") for n in ("sharegpt-fcfs", "summary-fcfs")},
                  fh, indent=2)
elif what == "trace":
    scales = sys.argv[3].split(",")
    schedulers = sys.argv[4].split(",")
    print("| scheduler | rate | finished | truncated | TTFT p50 / p99 s | TPOT p50 / p99 ms "
          "| output tok/s | preemptions | simulated s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scale in scales:
        for sched in schedulers:
            r = load(f"{out}/{sched}-x{scale}.json")
            q, ttft, tpot = r["requests"], r["ttft_s"], r["tpot_s"]
            print(f"| {sched} | {1 / float(scale):g}x | {q['finished']} / {q['submitted']} | "
                  f"{q['prompts_truncated']} | {ttft['p50']:.2f} / {ttft['p99']:.2f} | "
                  f"{tpot['p50'] * 1e3:.1f} / {tpot['p99'] * 1e3:.1f} | "
                  f"{r['throughput']['output_tokens_per_s']:.1f} | {r['preemptions']} | "
                  f"{r['duration_s']:.0f} |")
else:
    sys.exit(f"error: unknown summarise step {what}")
PY
}

run_sarathi() {
  local out=out/experiments/sarathi
  rm -rf "$out" && mkdir -p "$out"
  # Strict SLO: P99 TBT 0.1 s, Sarathi-Serve at budget 512 against vLLM-like FCFS.
  "$bricks" bench "$man/sarathi-fcfs.textproto" "$man/sarathi-sarathi512.textproto" \
    --rates 0.5,1,1.5,2,2.5 --capacity --tolerance 0.04 --slo-tbt 0.1 --no-progress \
    --out "$out/strict" >"$out/strict.txt"
  # Relaxed SLO: P99 TBT 0.5 s, budget 2048.
  "$bricks" bench "$man/sarathi-fcfs.textproto" "$man/sarathi-sarathi2048.textproto" \
    --rates 0.5,1,1.5,2,2.5 --capacity --tolerance 0.04 --slo-tbt 0.5 --no-progress \
    --out "$out/relaxed" >"$out/relaxed.txt"
  summarise sarathi "$out" | tee "$out/summary.md"
}

run_splitfuse() {
  local out=out/experiments/splitfuse
  rm -rf "$out" && mkdir -p "$out"
  "$bricks" bench "$man/splitfuse-fcfs.textproto" "$man/splitfuse-splitfuse.textproto" \
    --rates 1,1.5,2,2.25,2.5,2.75,3 --capacity --tolerance 0.03 --no-progress \
    --out "$out" >"$out/bench.txt"
  summarise splitfuse "$out" | tee "$out/summary.md"
}

# DeepSpeed-FastGen's headline setting: Llama-2-70B on 4 A100s (tensor parallel 4), long
# prompts; goodput under its generation SLA at 2, 4 (the manifests') and 6 tokens/s, and
# the step timelines of both schedulers at 1.5 req/s.
run_splitfuse70b() {
  local out=out/experiments/splitfuse70b
  rm -rf "$out" && mkdir -p "$out"
  local t s
  for t in 0.5 0.25 0.167; do
    "$bricks" bench "$man/splitfuse70b-fcfs.textproto" "$man/splitfuse70b-splitfuse.textproto" \
      --rates 0.5,1,1.25,1.5,1.75,2 --capacity --tolerance 0.03 --slo-tpot "$t" --no-progress \
      --out "$out/tpot$t" >"$out/tpot$t.txt"
  done
  for s in fcfs splitfuse; do
    sed 's/^\( *rate:\) 1 /\1 1.5/' "$man/splitfuse70b-$s.textproto" >"$out/$s-r1.5.textproto"
    "$bricks" run "$out/$s-r1.5.textproto" --quiet --no-progress \
      --report-json "$out/$s-r1.5.json" --trace-out "$out/$s-r1.5-trace.json"
  done
  summarise splitfuse70b "$out" | tee "$out/summary.md"
}

run_fastswitch() {
  local out=out/experiments/fastswitch
  rm -rf "$out" && mkdir -p "$out"
  "$bricks" bench "$man/fastswitch-fastswitch.textproto" \
    "$man/fastswitch-priority-paged.textproto" "$man/fastswitch-fcfs.textproto" \
    --rates 1,1.5,2,2.5,3 --cdf-rate 2 --no-progress --out "$out" >"$out/bench.txt"
  summarise fastswitch "$out" | tee "$out/summary.md"
}

run_batchllm() {
  local out=out/experiments/batchllm
  rm -rf "$out" && mkdir -p "$out"
  summarise batchllm-traces "$out"
  local t s
  for t in mixed-shuffled mixed-grouped longprefix-shuffled; do
    for s in fcfs batchllm; do
      "$bricks" run "$man/batchllm-$s-$t.textproto" --quiet --no-progress \
        --report-json "$out/$s-$t.json"
    done
  done
  summarise batchllm "$out" | tee "$out/summary.md"
}

run_disagg() {
  local out=out/experiments/disagg
  rm -rf "$out" && mkdir -p "$out"
  # 1000 requests per GPU and run (the placement default): with 150 a run at a high rate
  # ends before its queues reach a steady state, which inflates goodput (see the doc).
  local n=1000 w
  for w in sharegpt chat; do
    "$bricks" placement "$man/disagg-$w.textproto" --gpus 4 --requests-per-gpu $n \
      --colocated-scheduler fcfs --json "$out/$w-fcfs.json" >"$out/$w-fcfs.txt" 2>&1 || true
    "$bricks" placement "$man/disagg-$w.textproto" --gpus 4 --requests-per-gpu $n \
      --colocated-scheduler sarathi --no-disaggregated --json "$out/$w-sarathi.json" \
      >"$out/$w-sarathi.txt" 2>&1 || true
  done
  # The same search with runs of 150 requests per GPU, to show how far short runs mislead.
  "$bricks" placement "$man/disagg-sharegpt.textproto" --gpus 4 --requests-per-gpu 150 \
    --colocated-scheduler fcfs \
    --json "$out/sharegpt-fcfs-short.json" >"$out/sharegpt-fcfs-short.txt" 2>&1 || true
  summarise disagg "$out" | tee "$out/summary.md"
}

# DistServe's OPT-66B settings on up to 8 A100s (tensor parallel 2, 4 or 8: the weights need
# two GPUs): the chatbot workload (ShareGPT) and the summarization one (long prompts, short
# outputs), disaggregated against colocated vLLM-style FCFS.
run_disagg66() {
  local out=out/experiments/disagg66
  rm -rf "$out" && mkdir -p "$out"
  local w
  for w in sharegpt summary; do
    # 500 requests per GPU and run: at the few requests per second per GPU that OPT-66B
    # serves, arrivals span minutes and the queues settle (1000 moves goodput by ~1 %).
    "$bricks" placement "$man/disagg66-$w.textproto" --gpus 8 --tp 2 4 8 \
      --requests-per-gpu 500 --colocated-scheduler fcfs --json "$out/$w-fcfs.json" \
      >"$out/$w-fcfs.txt" 2>&1 || true
  done
  # Summarization on 12 GPUs, 4 prefill x tp2 + 1 decode x tp4 (the manifest's placement).
  "$bricks" bench "$man/disagg66-summary.textproto" --rates 8,8.5,9,9.5 --capacity \
    --tolerance 0.03 --no-progress --out "$out/summary-12gpu" >"$out/summary-12gpu.txt"
  summarise disagg66 "$out" | tee "$out/summary.md"
}

# Mélange: the cheapest GPU mix (a10g, l4, a100-80gb, h100-80gb) for Llama-2-7B under a
# TPOT SLO of 120 ms, for short chat, long documents and a mix of both, each at two rates,
# beside the best single GPU type. The profiles are cached in $out/cache and shared by the
# three workloads (same bricks, device and SLO), so only the first plans profile.
run_melange() {
  local out=out/experiments/melange
  mkdir -p "$out"
  local spec w r
  for spec in chat:4 chat:16 long:1 long:4 mixed:2 mixed:8; do
    w=${spec%%:*}
    r=${spec##*:}
    "$bricks" plan "manifests/melange-$w.textproto" --slo-tpot 0.12 --rate "$r" \
      --cache "$out/cache" --json-out "$out/$w-$r.json" >"$out/$w-$r.txt" 2>"$out/$w-$r.err" ||
      true
  done
  python3 - "$out" <<'PY' | tee "$out/summary.md"
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
paper = {"chat": "up to 77 %", "long": "up to 33 %", "mixed": "up to 51 %"}
print("| workload | rate | mix | $/h | best single type | $/h | saving | check | paper |")
print("|---|---|---|---|---|---|---|---|---|")
for f in sorted(out.glob("*.json"), key=lambda p: (p.stem.split("-")[0], float(p.stem.split("-")[1]))):
    w, r = f.stem.split("-")
    j = json.loads(f.read_text())
    best = j["best_single"]
    single = f"{best['gpus']} x {best['gpu']}" if best else "none"
    single_cost = f"{best['cost_per_hour']:.2f}" if best else "-"
    saving = f"**{j['saving'] * 100:.1f} %**" if best else "-"
    c = j["check"]
    check = (f"{c['attainment'] * 100:.1f} % met, {'accepted' if c['accepted'] else 'rejected'}"
             if c else "not run")
    print(f"| {w} | {r} req/s | {j['mix']['description']} | {j['mix']['cost_per_hour']:.2f} | "
          f"{single} | {single_cost} | {saving} | {check} | {paper[w]} |")
PY
}

# Holmes: NIC-aware placement of DistServe-style Llama-2-13B prefill and decode instances on
# four 2-GPU A100 nodes, on three networks with the same nodes: RDMA everywhere, two RDMA
# fabrics (InfiniBand, RoCE) joined only by 25 Gbit/s Ethernet, and Ethernet everywhere.
# Each placement of the 8 GPUs (tensor parallelism 2, one or two pipeline stages) is laid
# out NIC-aware and NIC-oblivious and its goodput found by simulation.
run_holmes() {
  local out=out/experiments/holmes
  rm -rf "$out" && mkdir -p "$out"
  local t
  for t in all-rdma mixed-nic all-ethernet; do
    "$bricks" placement "$man/holmes.textproto" --topology "manifests/topologies/$t.textproto" \
      --tp 2 --pp 1,2 --requests-per-gpu 1000 --json "$out/$t.json" >"$out/$t.txt" \
      2>"$out/$t.err" || true
  done
  python3 - "$out" <<'PY' | tee "$out/summary.md"
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
runs = {t: json.loads((out / f"{t}.json").read_text())
        for t in ("all-rdma", "mixed-nic", "all-ethernet")}
top = max(b["goodput_rps"] for b in (runs["all-rdma"]["best_nic_aware"],
                                     runs["all-rdma"]["best_nic_oblivious"]) if b)
print("| network | layout | best placement | goodput (req/s) | of all-RDMA | KV crosses |")
print("|---|---|---|---|---|---|")
for t, label in (("all-rdma", "all-RDMA"), ("mixed-nic", "mixed (IB + RoCE, Ethernet between)"),
                 ("all-ethernet", "all-Ethernet")):
    for key, layout in (("best_nic_aware", "NIC-aware"), ("best_nic_oblivious", "NIC-oblivious")):
        b = runs[t][key]
        if not b:
            print(f"| {label} | {layout} | none met the SLO | 0 | 0 % | - |")
            continue
        kinds = sorted({k for i in b["layout"] if i["role"] == "prefill" for k in i["kv_over"]})
        print(f"| {label} | {layout} | {b['placement']} | {b['goodput_rps']:.2f} | "
              f"{b['goodput_rps'] / top * 100:.0f} % | {', '.join(kinds)} |")
PY
}

# The Azure LLM inference code trace of 2023 (one hour, 8,819 requests) on Llama-2-7B and one
# A100, every single-instance scheduler, as recorded and replayed two and four times as
# fast. Prompts longer than the context keep their last tokens (truncate_prompt).
run_trace() {
  local out=out/experiments/trace
  local trace="${BRICKS_TRACE:-../shared/data/azure-llm-2023/code.csv}"
  if [[ ! -f "$trace" ]]; then
    echo "trace: skipped, $trace is not there (set BRICKS_TRACE to the Azure code trace CSV)"
    return 0
  fi
  trace="$(cd "$(dirname "$trace")" && pwd)/$(basename "$trace")"
  rm -rf "$out" && mkdir -p "$out"
  local scales=1,0.5,0.25 schedulers=fcfs,sarathi,splitfuse,fastswitch,batchllm
  local sched scale params
  for sched in ${schedulers//,/ }; do
    case $sched in
      # Without chunked prefill a prompt runs in one step, so the step's token limit must
      # hold the model's whole context (vLLM's rule).
      fcfs) params='params { key: "max_num_batched_tokens" value { int: 4096 } }' ;;
      sarathi) params='params { key: "token_budget" value { int: 512 } }' ;;
      *) params='' ;;
    esac
    for scale in ${scales//,/ }; do
      cat >"$out/$sched-x$scale.textproto" <<EOF
name: "azure code trace x$scale: $sched, llama-2-7b on a100-80gb"
device { kind: "sim" gpu: "a100-80gb" sim_model: "llama-2-7b" kv_dtype: "f16"
         gpu_memory_utilization: 0.9 host_kv_bytes: 34359738368 }
bricks { kind: "scheduler" name: "$sched" $params }
bricks { kind: "kv" name: "paged" }
bricks { kind: "attention" name: "reference" }
workload { trace: "$trace" trace_time_scale: $scale context_overflow: "truncate_prompt" }
EOF
      "$bricks" run "$out/$sched-x$scale.textproto" --quiet --no-progress \
        --report-json "$out/$sched-x$scale.json" || true
    done
  done
  summarise trace "$out" "$scales" "$schedulers" | tee "$out/summary.md"
}

case "$1" in
  all)
    for n in "${names[@]}"; do
      echo "== $n"
      "run_$n"
    done
    ;;
  sarathi | splitfuse | splitfuse70b | fastswitch | batchllm | disagg | disagg66 | trace | melange | \
    holmes) "run_$1" ;;
  *) usage ;;
esac
