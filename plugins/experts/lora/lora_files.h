// Reading LoRA adapter files into plain float matrices: GGUF LoRA files (llama.cpp's
// convert_lora_to_gguf layout) and PEFT directories (adapter_config.json +
// adapter_model.safetensors). The brick never sees the host's model reader: a plugin
// stands alone, so the two formats are parsed here.
//
// Thread safety: pure functions of their inputs.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bricks/abi.h"

namespace bricks_lora {

// A row-major [rows][cols] matrix in f32, with the name it had in its file.
struct Matrix {
  std::string name;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<float> values;
};

// The A ([rank][in]) and B ([out][rank]) matrices of one projection.
struct MatrixPair {
  Matrix a, b;
  bool has_a = false, has_b = false;
};

// An adapter as its file says it, before it is checked against the base model.
struct AdapterFile {
  std::string path;
  std::string format;           // "gguf" or "peft"
  double alpha = 0.0;           // 0: scale 1 (the rank's own), as llama.cpp treats it
  bool rslora = false;          // PEFT use_rslora: scale alpha / sqrt(rank)
  bool rotate_half_qk = false;  // B rows of q and k are in the rotate-half RoPE layout
  std::map<std::pair<int32_t, int32_t>, MatrixPair> pairs;  // (layer, bricks_proj)
};

// Throws bricks::Error (invalid/unsupported) naming the file, the tensor and the fix.
AdapterFile read_gguf_adapter(const std::string& path);
AdapterFile read_peft_adapter(const std::string& dir);
// Picks the reader by what `path` is: a directory (PEFT), a .safetensors file (its PEFT
// directory) or a GGUF file.
AdapterFile read_adapter(const std::string& path);

}  // namespace bricks_lora
