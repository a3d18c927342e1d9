#!/usr/bin/env python3
"""Builds tests/data/peer/micro-mixed.gguf and its golden output with llama.cpp.

Run by hand (not by the tests), from the repository root, with a built `bricks` and the
llama.cpp build in ../shared/peers/llama.cpp:

    python3 tests/data/peer/make_mixed_quant.py BUILD/bin/bricks ../shared/peers/llama.cpp

1. `bricks make-model --preset micro --dtype f16` writes the f16 model (seed 0); this
   script multiplies its output matrix by OUTPUT_SCALE, so that the next-token distribution
   of the random weights is peaked (unscaled, every token's log-probability is close to
   -log(512)); the greedy choices are the same either way.
2. llama.cpp's llama-quantize writes it as Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K and
   Q6_K (--pure: every matrix in that type).
3. This script copies each matrix's bytes, unchanged, from the file of the type the table
   below gives it, so one small file holds every block type, all made by llama.cpp's
   quantizer.
4. llama.cpp's llama-simple writes the greedy continuation of each prompt in PROMPTS, which
   goes to micro-mixed.golden with a header saying how it was made.
"""
import os
import struct
import subprocess
import sys
import tempfile

# ggml type ids
TYPES = {"q4_0": 2, "q4_1": 3, "q5_0": 6, "q5_1": 7, "q8_0": 8, "q4_K": 12, "q5_K": 13,
         "q6_K": 14}
PEER_NAME = {"q4_0": "Q4_0", "q4_1": "Q4_1", "q5_0": "Q5_0", "q5_1": "Q5_1", "q8_0": "Q8_0",
             "q4_K": "Q4_K_S", "q5_K": "Q5_K_S", "q6_K": "Q6_K"}
# Which type each matrix takes: every type at least twice, in attention and FFN shapes.
CHOICE = {
    "token_embd.weight": "q8_0", "output.weight": "q6_K",
    "blk.0.attn_q.weight": "q4_0", "blk.0.attn_k.weight": "q4_1",
    "blk.0.attn_v.weight": "q5_0", "blk.0.attn_output.weight": "q5_1",
    "blk.0.ffn_gate.weight": "q4_K", "blk.0.ffn_up.weight": "q5_K",
    "blk.0.ffn_down.weight": "q6_K",
    "blk.1.attn_q.weight": "q4_K", "blk.1.attn_k.weight": "q5_K",
    "blk.1.attn_v.weight": "q6_K", "blk.1.attn_output.weight": "q8_0",
    "blk.1.ffn_gate.weight": "q4_0", "blk.1.ffn_up.weight": "q5_1",
    "blk.1.ffn_down.weight": "q4_1",
}
PROMPTS = ["Once upon a time", "The little dog", "She said hello", "A big red ball"]
NEW_TOKENS = 24
OUTPUT_SCALE = 24.0

VALUE_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return v[0] if len(v) == 1 else v

    def string(self):
        n = self.take("Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s

    def skip_value(self, t):
        if t == 8:
            self.string()
        elif t == 9:
            item, n = self.take("I"), self.take("Q")
            for _ in range(n):
                self.skip_value(item)
        else:
            self.pos += VALUE_SIZES[t]


def read_gguf(path):
    """(metadata bytes, kv count, alignment, [(name, ne, type, bytes)])"""
    data = open(path, "rb").read()
    r = Reader(data)
    assert r.take("I") == 0x46554747 and r.take("I") == 3, path
    n_tensors, n_kv = r.take("Q"), r.take("Q")
    kv_start, alignment = r.pos, 32
    for _ in range(n_kv):
        key = r.string()
        t = r.take("I")
        if key == b"general.alignment":
            alignment = r.take("I")
        else:
            r.skip_value(t)
    kv = data[kv_start:r.pos]
    infos = []
    for _ in range(n_tensors):
        name = r.string().decode()
        ne = [r.take("Q") for _ in range(r.take("I"))]
        infos.append((name, ne, r.take("I"), r.take("Q")))
    base = (r.pos + alignment - 1) // alignment * alignment
    ends = sorted(o for *_, o in infos) + [len(data) - base]
    tensors = []
    for name, ne, t, off in infos:
        end = min(e for e in ends if e > off)
        tensors.append((name, ne, t, data[base + off:base + end]))
    return kv, n_kv, alignment, tensors


def write_gguf(path, kv, n_kv, alignment, tensors):
    pad = lambda n: (alignment - n % alignment) % alignment
    head = struct.pack("<IIQQ", 0x46554747, 3, len(tensors), n_kv) + kv
    offset, blobs = 0, []
    for name, ne, t, blob in tensors:
        head += struct.pack("<Q", len(name)) + name.encode() + struct.pack("<I", len(ne))
        head += b"".join(struct.pack("<Q", d) for d in ne) + struct.pack("<IQ", t, offset)
        blobs.append(blob + b"\0" * pad(len(blob)))
        offset += len(blobs[-1])
    with open(path, "wb") as f:
        f.write(head + b"\0" * pad(len(head)) + b"".join(blobs))


def tensor_bytes(ne, t):
    block = {2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 12: (256, 144),
             13: (256, 176), 14: (256, 210), 0: (1, 4), 1: (1, 2)}[t]
    n = 1
    for d in ne:
        n *= d
    return n // block[0] * block[1]


def main():
    bricks, peer = sys.argv[1], sys.argv[2]
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        f16 = os.path.join(tmp, "micro-f16.gguf")
        subprocess.run([bricks, "make-model", "--preset", "micro", "--dtype", "f16", "--out", f16],
                       check=True, stdout=subprocess.DEVNULL)
        kv, n_kv, alignment, base = read_gguf(f16)
        scaled = []
        for name, ne, t, blob in base:
            if name == "output.weight":
                assert t == 1, "output.weight is not f16"
                n = len(blob) // 2
                vals = struct.unpack("<%de" % n, blob[:2 * n])
                blob = struct.pack("<%de" % n, *(v * OUTPUT_SCALE for v in vals))
            scaled.append((name, ne, t, blob[:tensor_bytes(ne, t)]))
        write_gguf(f16, kv, n_kv, alignment, scaled)
        by_type = {}
        for t, peer_name in PEER_NAME.items():
            out = os.path.join(tmp, t + ".gguf")
            subprocess.run([os.path.join(peer, "llama-quantize"), "--pure", f16, out, peer_name],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            by_type[t] = {n: (ne, ty, b) for n, ne, ty, b in read_gguf(out)[3]}
        kv, n_kv, alignment, base = read_gguf(f16)
        mixed = []
        for name, ne, t, blob in base:
            if name in CHOICE:
                want = CHOICE[name]
                ne2, t2, blob2 = by_type[want][name]
                assert t2 == TYPES[want], f"{name}: {want} file holds type {t2}"
                mixed.append((name, ne2, t2, blob2[:tensor_bytes(ne2, t2)]))
            else:
                mixed.append((name, ne, t, blob[:tensor_bytes(ne, t)]))
        model = os.path.join(here, "micro-mixed.gguf")
        write_gguf(model, kv, n_kv, alignment, mixed)
    lines = [b"# micro-mixed.gguf: greedy continuations by llama.cpp (commit c392e509),",
             b"# llama-simple -m micro-mixed.gguf -n %d PROMPT; the matrices were quantized by" % NEW_TOKENS,
             b"# its llama-quantize --pure after the output matrix was scaled by %g" % OUTPUT_SCALE,
             b"# (tests/data/peer/make_mixed_quant.py says how).",
             b"# One prompt per line: PROMPT<TAB>CONTINUATION, the bytes the model wrote after the",
             b"# prompt (random weights write pieces of UTF-8 characters too)."]
    for p in PROMPTS:
        out = subprocess.run([os.path.join(peer, "llama-simple"), "-m", model, "-n",
                              str(NEW_TOKENS), p], check=True, capture_output=True).stdout
        start = out.index(p.encode()) + len(p)
        cont = out[start:].rstrip(b"\n")
        assert b"\t" not in cont and b"\n" not in cont, repr(cont)
        lines.append(p.encode() + b"\t" + cont)
    with open(os.path.join(here, "micro-mixed.golden"), "wb") as f:
        f.write(b"\n".join(lines) + b"\n")


if __name__ == "__main__":
    main()
