#!/usr/bin/env python3
"""Measures step times for a sim calibration table on a real GPU with PyTorch.

One engine step of a Llama-shaped model is timed as the GPU runs it: every decoder
layer's linear layers (fused qkv, o, gate/up, down) over the batch's tokens, attention
(a causal prefill over the prompt tokens, and a decode over each sequence's cached K/V),
and the output projection on the sampled rows. Weights are random bf16 of the model's
shape; one layer's weights serve every layer (each is far larger than the L2 cache, so
every layer still reads them from device memory). Times are CUDA-event times of the
forward pass replayed as a CUDA graph: the host's scheduling, launches and sampling are
not included.

Writes the CSV that core/sim/calibration.h reads, over a grid of batch shapes:

  python3 measure_step_times.py --model mistral-7b --out h100-80gb-mistral-7b.csv

This is a tool for making calibration files; nothing in the build runs it.
"""
import argparse
import sys

import torch
import torch.nn.functional as F

# The shapes of core/sim/model_presets.cpp (Llama-style, SwiGLU).
MODELS = {
    "llama-2-7b": dict(layers=32, hidden=4096, heads=32, kv_heads=32, ffn=11008, vocab=32000),
    "mistral-7b": dict(layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336, vocab=32000),
    "llama-3-8b": dict(layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336, vocab=128256),
}
HEAD_DIM = 128
PREFILL = [0, 128, 512, 2048]
DECODES = [0, 1, 32, 128]
CONTEXTS = [0, 65536, 262144]


class Layer:
    def __init__(self, m, dev):
        h, f = m["hidden"], m["ffn"]
        q, kv = m["heads"] * HEAD_DIM, m["kv_heads"] * HEAD_DIM
        r = lambda *s: torch.randn(*s, device=dev, dtype=torch.bfloat16) * 0.02
        self.m, self.q, self.kv = m, q, kv
        self.wqkv, self.wo = r(q + 2 * kv, h), r(h, q)
        self.wgu, self.wd = r(2 * f, h), r(h, f)
        self.norm = torch.ones(h, device=dev, dtype=torch.bfloat16)
        self.lm_head = r(m["vocab"], h)

    def run(self, x, prefill, decode_kv):
        m, q, kv = self.m, self.q, self.kv
        heads, kvh, f = m["heads"], m["kv_heads"], m["ffn"]
        t = x.shape[0]
        y = F.rms_norm(x, (x.shape[1],), self.norm)
        qkv = y @ self.wqkv.t()
        qs, ks, vs = qkv.split([q, kv, kv], dim=1)
        outs = []
        if prefill > 0:
            qp = qs[:prefill].view(1, prefill, heads, HEAD_DIM).transpose(1, 2)
            kp = ks[:prefill].view(1, prefill, kvh, HEAD_DIM).transpose(1, 2)
            vp = vs[:prefill].view(1, prefill, kvh, HEAD_DIM).transpose(1, 2)
            o = F.scaled_dot_product_attention(qp, kp, vp, is_causal=True, enable_gqa=True)
            outs.append(o.transpose(1, 2).reshape(prefill, q))
        if decode_kv is not None:
            k_cache, v_cache = decode_kv
            d = k_cache.shape[0]
            qd = qs[prefill:].view(d, 1, heads, HEAD_DIM).transpose(1, 2)
            o = F.scaled_dot_product_attention(qd, k_cache, v_cache, enable_gqa=True)
            outs.append(o.transpose(1, 2).reshape(d, q))
        a = torch.cat(outs) if len(outs) > 1 else outs[0]
        x = x + a @ self.wo.t()
        y = F.rms_norm(x, (x.shape[1],), self.norm)
        gu = y @ self.wgu.t()
        x = x + (F.silu(gu[:, :f]) * gu[:, f:]) @ self.wd.t()
        return x


def step_seconds(layer, prefill, decodes, context_sum, dev, repeats=5):
    torch.cuda.empty_cache()
    m = layer.m
    if prefill == 0 and decodes == 0:
        prefill_tokens, rows = 1, 0  # the fixed cost of a forward pass: one token, no sampling
    else:
        prefill_tokens, rows = prefill, (1 if prefill > 0 else 0) + decodes
    t = prefill_tokens + decodes
    x = torch.randn(t, m["hidden"], device=dev, dtype=torch.bfloat16)
    decode_kv = None
    if decodes > 0:
        ctx = max(1, context_sum // decodes)
        shape = (decodes, m["kv_heads"], ctx, HEAD_DIM)
        decode_kv = (torch.randn(shape, device=dev, dtype=torch.bfloat16),
                     torch.randn(shape, device=dev, dtype=torch.bfloat16))

    def forward():
        y = x
        for _ in range(m["layers"]):
            y = layer.run(y, prefill_tokens, decode_kv)
        if rows > 0:
            y[-rows:] @ layer.lm_head.t()

    # Replayed as a CUDA graph, as serving engines run decode steps, so that Python's
    # kernel launches do not pace the GPU.
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(2):
            forward()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        forward()
    graph.replay()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000.0)
    times.sort()
    return times[len(times) // 2]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="mistral-7b", choices=sorted(MODELS))
    p.add_argument("--out", default="-")
    a = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this measures a real GPU")
    dev = torch.device("cuda")
    layer = Layer(MODELS[a.model], dev)
    name = torch.cuda.get_device_name(dev)
    lines = [
        f"# Measured on {name} with PyTorch {torch.__version__}: {a.model}, tp 1, random bf16",
        "# weights, CUDA-event time of the forward pass replayed as a CUDA graph (median of 5),",
        "# no host overhead.",
        "# Made by core/sim/calibration/measure_step_times.py. Rows with no prefill and no",
        "# decodes hold the fixed cost of a forward pass (one token, nothing sampled).",
        "num_prefill_tokens,num_decode_seqs,decode_context_sum,seconds",
    ]
    for prefill in PREFILL:
        for decodes in DECODES:
            zero = None
            for context in CONTEXTS:
                if decodes == 0 and zero is not None:
                    s = zero  # the context of no decodes does not matter
                else:
                    s = step_seconds(layer, prefill, decodes, context, dev)
                    zero = s
                lines.append(f"{prefill},{decodes},{context},{s:.6f}")
                print(lines[-1], file=sys.stderr, flush=True)
    text = "\n".join(lines) + "\n"
    if a.out == "-":
        sys.stdout.write(text)
    else:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
