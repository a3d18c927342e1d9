#include "bricks/model/file_type.h"

#include <cctype>

namespace bricks::model {
namespace {

bool is_medium(FileType ft) { return ft == FileType::Q4_K_M || ft == FileType::Q5_K_M; }

// llama.cpp's use_more_bits: the first and last eighth of the layers and every third between.
bool more_bits_layer(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

}  // namespace

const char* file_type_name(FileType ft) {
  switch (ft) {
    case FileType::Q4_K_M:
      return "q4_k_m";
    case FileType::Q5_K_M:
      return "q5_k_m";
    default:
      return dtype_name(file_type_base(ft));
  }
}

std::optional<FileType> file_type_from_name(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (FileType ft : kAllFileTypes) {
    if (lower == file_type_name(ft)) return ft;
  }
  return std::nullopt;
}

std::string supported_file_types() {
  std::string s;
  for (FileType ft : kAllFileTypes) s += (s.empty() ? "" : ", ") + std::string(file_type_name(ft));
  return s;
}

DType file_type_base(FileType ft) {
  switch (ft) {
    case FileType::F32:
      return DType::F32;
    case FileType::F16:
      return DType::F16;
    case FileType::BF16:
      return DType::BF16;
    case FileType::Q8_0:
      return DType::Q8_0;
    case FileType::Q4_0:
      return DType::Q4_0;
    case FileType::Q4_1:
      return DType::Q4_1;
    case FileType::Q5_0:
      return DType::Q5_0;
    case FileType::Q5_1:
      return DType::Q5_1;
    case FileType::Q4_K_S:
    case FileType::Q4_K_M:
      return DType::Q4_K;
    case FileType::Q5_K_S:
    case FileType::Q5_K_M:
      return DType::Q5_K;
    case FileType::Q6_K:
      return DType::Q6_K;
  }
  return DType::F32;
}

FileType file_type_of(DType t) {
  // Every base but a medium (_M) mix's is the base of one file type alone.
  for (FileType ft : kAllFileTypes) {
    if (!is_medium(ft) && file_type_base(ft) == t) return ft;
  }
  return FileType::F32;
}

bool is_quantizable(std::string_view name, size_t n_dims) {
  return n_dims >= 2 && !contains(name, "_norm.weight") && !contains(name, "ffn_gate_inp.weight");
}

int tensor_layer(std::string_view name) {
  constexpr std::string_view kPrefix = "blk.";
  if (name.substr(0, kPrefix.size()) != kPrefix) return -1;
  int layer = 0;
  size_t i = kPrefix.size();
  for (; i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])); ++i) {
    if (layer > 100000000) return -1;
    layer = layer * 10 + (name[i] - '0');
  }
  const bool digits = i > kPrefix.size();
  return digits && i < name.size() && name[i] == '.' ? layer : -1;
}

DType preferred_tensor_type(FileType ft, const TensorSlot& s) {
  const DType base = file_type_base(ft);
  if (!dtype_is_quantized(base)) return base;
  const bool more_bits = is_medium(ft) && more_bits_layer(s.layer, s.n_layers);
  if (s.name == "output.weight" || (!s.has_output && s.name == "token_embd.weight")) {
    if (!row_fits(base, s.row)) return DType::Q8_0;
    return base == DType::Q8_0 ? DType::Q8_0 : DType::Q6_K;
  }
  if (s.name == "token_embd.weight") return base;
  if (contains(s.name, "attn_v.weight")) {
    if (s.n_experts == 8) return DType::Q8_0;
    if (more_bits) return DType::Q6_K;
    if (ft == FileType::Q4_K_S && s.layer < 4) return DType::Q5_K;
    return base;
  }
  if (contains(s.name, "attn_k.weight")) return s.n_experts == 8 ? DType::Q8_0 : base;
  if (contains(s.name, "ffn_down")) {
    if (more_bits) return DType::Q6_K;
    if (ft == FileType::Q4_K_S && s.layer < s.n_layers / 8) return DType::Q5_K;
    return base;
  }
  if (contains(s.name, "attn_output.weight") && s.n_experts == 8 &&
      (ft == FileType::Q4_K_S || ft == FileType::Q4_K_M)) {
    return DType::Q5_K;
  }
  return base;
}

DType fit_row(DType t, int64_t row) {
  if (row_fits(t, row)) return t;
  DType fallback = DType::F16;
  switch (t) {
    case DType::Q4_K:
      fallback = DType::Q5_0;
      break;
    case DType::Q5_K:
      fallback = DType::Q5_1;
      break;
    case DType::Q6_K:
      fallback = DType::Q8_0;
      break;
    default:
      break;
  }
  return row_fits(fallback, row) ? fallback : DType::F16;
}

DType tensor_type(FileType ft, const TensorSlot& s) {
  return fit_row(preferred_tensor_type(ft, s), s.row);
}

}  // namespace bricks::model
