#!/usr/bin/env python3
"""PyTorch's scaled_dot_product_attention on the shapes cuda_attention_bench times, one JSON
line per case: the peer for prefill TFLOP/s and decode bandwidth (Llama-2-7B heads, bf16).

    python3 tools/gpu/sdpa_reference.py
"""
import json
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the GPU machine has PyTorch; say so plainly elsewhere
    print(json.dumps({"skipped": f"no PyTorch: {e}"}))
    sys.exit(0)

HEADS, HEAD_DIM = 32, 128


def timed(fn, reps=20):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    times.sort()
    return times[len(times) // 2]


def prefill(name, seqs, length):
    q = torch.randn(seqs, HEADS, length, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    k = torch.randn_like(q)
    v = torch.randn_like(q)
    sec = timed(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True))
    pairs = seqs * length * (length + 1) // 2
    flops = 4.0 * HEAD_DIM * pairs * HEADS
    print(json.dumps({"case": name, "peer": "torch sdpa bf16", "ms": sec * 1e3,
                      "TFLOP_per_s": flops / sec / 1e12}), flush=True)


def decode(name, seqs, keys):
    q = torch.randn(seqs, HEADS, 1, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    k = torch.randn(seqs, HEADS, keys, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    v = torch.randn_like(k)
    sec = timed(lambda: F.scaled_dot_product_attention(q, k, v))
    kv_bytes = 2.0 * seqs * keys * HEADS * HEAD_DIM * 2
    print(json.dumps({"case": name, "peer": "torch sdpa bf16 (contiguous KV)",
                      "ms": sec * 1e3, "kv_GB_per_s": kv_bytes / sec / 1e9}), flush=True)


def main():
    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "torch sees no CUDA device"}))
        return
    print(json.dumps({"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__}))
    for b in (1, 16, 64):
        for kv in (1024, 4096):
            decode(f"decode b{b} kv{kv}", b, kv)
    prefill("prefill 1x2048", 1, 2048)
    prefill("prefill 8x1024", 8, 1024)
    prefill("prefill 4x4096", 4, 4096)


if __name__ == "__main__":
    main()
