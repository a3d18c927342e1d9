// Deterministic random LoRA adapters for a model shape, written as a GGUF LoRA file or a
// PEFT directory: the fixtures of the adapter tests and of manifests/lora.textproto.
//
// Both formats of the same options hold the same adapter: each matrix's values come from a
// PRNG stream keyed by the seed and the GGUF tensor name, and the PEFT writer stores the q/k
// lora_B rows in Hugging Face's rotate-half layout, which a reader permutes back.
//
// Thread safety: pure functions of their options (they write only `out`).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "bricks/model/dtype.h"
#include "bricks/model/model.h"

namespace bricks::model {

struct MakeAdapterOptions {
  LlamaConfig base;  // the model shape the adapter fits
  int32_t rank = 8;
  float alpha = 16.f;  // scale = alpha / rank
  // GGUF projection names: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down.
  std::vector<std::string> targets = {"attn_q", "attn_v"};
  std::vector<int32_t> layers;  // empty: every layer
  std::string format = "gguf";  // "gguf" (a file) or "peft" (a directory)
  DType dtype = DType::F32;     // F32, F16 or BF16
  float stddev = 0.02f;         // of the A and B values
  uint64_t seed = 0;
  std::filesystem::path out;
};

// The values of one matrix as the adapter holds them in GGUF layout: lora_a is
// [rank][in], lora_b [out][rank], row-major. Tests use it to merge W + scale * B A.
struct AdapterMatrices {
  int32_t layer = 0;
  std::string target;  // GGUF projection name
  int64_t in = 0, out = 0, rank = 0;
  std::vector<float> a, b;
};
std::vector<AdapterMatrices> adapter_matrices(const MakeAdapterOptions& o);

// The (in, out) of a GGUF projection name for `c`; throws ModelError for an unknown name.
void projection_dims(const LlamaConfig& c, const std::string& target, int64_t* in, int64_t* out);

// Writes the adapter (replacing `out`). Throws ModelError for a bad option or a write error.
void make_adapter(const MakeAdapterOptions& o);

}  // namespace bricks::model
