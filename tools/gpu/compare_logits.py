#!/usr/bin/env python3
"""Compares `bricks generate --json --logprobs 20` outputs: the cuda device against the cpu
device, and both against a transformers Llama on the same GGUF file (teacher-forced on the
cuda run's tokens). Prints one JSON object; exits 1 when a check fails.

    python3 tools/gpu/compare_logits.py CUDA.json CPU.json MODEL.gguf

Checks: greedy ids equal (cuda vs cpu, and vs transformers' own greedy run); for every step
and every token in both top-20 lists, |logprob difference| <= 1e-2 * max(1, |logprob|).
"""
import json
import sys


def top_map(step):
    return {t["id"]: t["logprob"] for t in step["top"]}


def worst_relative(a_steps, b_steps):
    worst = 0.0
    for a, b in zip(a_steps, b_steps):
        ta, tb = top_map(a), top_map(b)
        for tok in set(ta) & set(tb):
            worst = max(worst, abs(ta[tok] - tb[tok]) / max(1.0, abs(tb[tok])))
    return worst


def hf_logprobs(model_path, prompt_ids, ids):
    import os
    import torch
    from transformers import AutoModelForCausalLM

    d, f = os.path.split(os.path.abspath(model_path))
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, torch_dtype=torch.bfloat16)
    model = model.to("cuda").eval()
    seq = torch.tensor([prompt_ids + ids], device="cuda")
    with torch.no_grad():
        logits = model(seq).logits[0].float()
    lp = torch.log_softmax(logits, dim=-1)
    steps = []
    for i in range(len(ids)):
        row = lp[len(prompt_ids) - 1 + i]
        top = torch.topk(row, 20)
        steps.append({"top": [{"id": int(t), "logprob": float(v)}
                              for v, t in zip(top.values, top.indices)]})
    greedy = model.generate(torch.tensor([prompt_ids], device="cuda"), max_new_tokens=len(ids),
                            do_sample=False)[0][len(prompt_ids):].tolist()
    return steps, greedy


def main():
    cuda = json.load(open(sys.argv[1]))
    cpu = json.load(open(sys.argv[2]))
    out = {"tokens": len(cuda["ids"]),
           "greedy_equal_cuda_cpu": cuda["ids"] == cpu["ids"],
           "worst_rel_logprob_cuda_cpu": worst_relative(cuda["logprobs"], cpu["logprobs"])}
    ok = out["greedy_equal_cuda_cpu"] and out["worst_rel_logprob_cuda_cpu"] <= 1e-2
    try:
        steps, greedy = hf_logprobs(sys.argv[3], cuda["prompt_ids"], cuda["ids"])
        out["greedy_equal_cuda_transformers"] = greedy == cuda["ids"]
        out["worst_rel_logprob_cuda_transformers"] = worst_relative(cuda["logprobs"], steps)
        ok = ok and out["greedy_equal_cuda_transformers"] and \
            out["worst_rel_logprob_cuda_transformers"] <= 1e-2
    except Exception as e:  # transformers without GGUF support, no gguf package, ...
        out["transformers"] = f"not compared: {type(e).__name__}: {e}"
    out["pass"] = ok
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
