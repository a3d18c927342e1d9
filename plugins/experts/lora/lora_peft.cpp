// PEFT LoRA directories: adapter_config.json (r, lora_alpha, use_rslora, target_modules)
// and adapter_model.safetensors with tensors named
//   base_model.model.model.layers.N.self_attn.{q,k,v,o}_proj.lora_{A,B}.weight
//   base_model.model.model.layers.N.mlp.{gate,up,down}_proj.lora_{A,B}.weight
// lora_A is [rank][in], lora_B [out][rank] (PyTorch's Linear layout). q/k B rows are in
// Hugging Face's rotate-half RoPE layout; the builder permutes them.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "bricks/error.hpp"
#include "bricks/half.hpp"
#include "lora_files.h"

namespace bricks_lora {
namespace {

using bricks::Error;
using json = nlohmann::json;
namespace fs = std::filesystem;

json read_config(const fs::path& file) {
  std::ifstream is(file);
  if (!is) {
    throw Error::invalid(file.parent_path().string() +
                         ": no adapter_config.json; a PEFT adapter directory holds "
                         "adapter_config.json and adapter_model.safetensors");
  }
  try {
    return json::parse(is);
  } catch (const json::exception& e) {
    throw Error::invalid(file.string() + ": not valid JSON: " + e.what());
  }
}

// Maps "self_attn.q_proj" ... "mlp.down_proj" to a bricks_proj; -1 otherwise.
int32_t proj_of(const std::string& module) {
  static const char* const kNames[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                       "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                       "mlp.down_proj"};
  for (int32_t p = 0; p < BRICKS_PROJ_COUNT_; ++p) {
    if (module == kNames[p]) return p;
  }
  return -1;
}

// Splits a PEFT tensor name into layer, projection and A/B; false when it is not one.
bool parse_peft_name(const std::string& name, int32_t* layer, int32_t* proj, bool* is_a) {
  static const std::string kPrefix = "base_model.model.model.layers.";
  if (name.rfind(kPrefix, 0) != 0) return false;
  size_t at = kPrefix.size(), digits = 0;
  int64_t value = 0;
  while (at < name.size() && name[at] >= '0' && name[at] <= '9' && digits < 7) {
    value = value * 10 + (name[at++] - '0');
    ++digits;
  }
  if (digits == 0 || digits > 6 || at >= name.size() || name[at] != '.') return false;
  const std::string rest = name.substr(at + 1);
  for (const char* suffix : {".lora_A.weight", ".lora_B.weight"}) {
    const std::string s = suffix;
    if (rest.size() > s.size() && rest.compare(rest.size() - s.size(), s.size(), s) == 0) {
      *proj = proj_of(rest.substr(0, rest.size() - s.size()));
      if (*proj < 0) return false;
      *layer = static_cast<int32_t>(value);
      *is_a = s[6] == 'A';
      return true;
    }
  }
  return false;
}

void check_config(const json& c, const std::string& where, AdapterFile& out) {
  auto flag = [&](const char* key) {
    return c.contains(key) && c[key].is_boolean() && c[key].get<bool>();
  };
  const std::string type = c.value("peft_type", std::string("LORA"));
  if (type != "LORA") {
    throw Error::unsupported(where + ": peft_type '" + type +
                             "'; only LORA adapters are supported");
  }
  if (flag("fan_in_fan_out")) {
    throw Error::unsupported(where +
                             ": fan_in_fan_out is true (Conv1D layers, GPT-2 style); "
                             "Llama adapters store Linear layouts");
  }
  if (flag("use_dora")) {
    throw Error::unsupported(where +
                             ": use_dora is true; DoRA adapters are not supported, "
                             "train a plain LoRA adapter or merge the DoRA weights");
  }
  if (c.contains("alpha_pattern") && c["alpha_pattern"].is_object() &&
      !c["alpha_pattern"].empty()) {
    throw Error::unsupported(where +
                             ": alpha_pattern gives per-module alphas, which are not "
                             "supported; use one lora_alpha");
  }
  if (!c.contains("r") || !c["r"].is_number_integer() || c["r"].get<int64_t>() < 1) {
    throw Error::invalid(where + ": 'r' (the LoRA rank) is missing or not a positive integer");
  }
  out.alpha = 8.0;  // PEFT's default lora_alpha
  if (c.contains("lora_alpha")) {
    if (!c["lora_alpha"].is_number())
      throw Error::invalid(where + ": 'lora_alpha' is not a number");
    out.alpha = c["lora_alpha"].get<double>();
  }
  out.rslora = flag("use_rslora");
}

void read_safetensors(const fs::path& file, AdapterFile& out) {
  const std::string where = file.string();
  std::ifstream is(file, std::ios::binary);
  if (!is)
    throw Error::invalid(where +
                         ": cannot open (a PEFT directory needs adapter_model.safetensors)");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(is)),
                                std::istreambuf_iterator<char>());
  uint64_t header_len = 0;
  if (bytes.size() < 8) throw Error::invalid(where + ": too short to be a safetensors file");
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > bytes.size() - 8) {
    throw Error::invalid(where + ": header length " + std::to_string(header_len) +
                         " runs past the end of the file; it is truncated or not safetensors");
  }
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(header_len));
  } catch (const json::exception& e) {
    throw Error::invalid(where + ": the header is not valid JSON: " + e.what());
  }
  const uint64_t data_start = 8 + header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string& name = it.key();
    int32_t layer = 0, proj = 0;
    bool is_a = false;
    if (!parse_peft_name(name, &layer, &proj, &is_a)) {
      throw Error::unsupported(where + ": tensor '" + name +
                               "' is not the lora_A/lora_B weight of a layer projection this "
                               "brick adapts (q/k/v/o_proj, gate/up/down_proj); retrain "
                               "without that target or drop the tensor");
    }
    const json& t = it.value();
    const std::string dtype = t.value("dtype", std::string());
    const auto shape = t.value("shape", std::vector<int64_t>{});
    const auto offsets = t.value("data_offsets", std::vector<uint64_t>{});
    if (shape.size() != 2 || shape[0] < 1 || shape[1] < 1 || offsets.size() != 2 ||
        offsets[0] > offsets[1]) {
      throw Error::invalid(where + ": tensor '" + name + "' has a bad shape or data_offsets");
    }
    const size_t width = dtype == "F32" ? 4 : (dtype == "F16" || dtype == "BF16") ? 2 : 0;
    if (width == 0) {
      throw Error::unsupported(where + ": tensor '" + name + "' has dtype '" + dtype +
                               "'; use F32, F16 or BF16");
    }
    const uint64_t n = static_cast<uint64_t>(shape[0]) * static_cast<uint64_t>(shape[1]);
    if (offsets[1] - offsets[0] != n * width || offsets[1] > bytes.size() - data_start) {
      throw Error::invalid(where + ": tensor '" + name +
                           "' data does not match its shape or "
                           "lies past the end of the file");
    }
    Matrix m;
    m.name = name;
    m.rows = shape[0];
    m.cols = shape[1];
    m.values.resize(static_cast<size_t>(n));
    const char* src = bytes.data() + data_start + offsets[0];
    if (width == 4) {
      std::memcpy(m.values.data(), src, static_cast<size_t>(n) * 4);
    } else {
      for (uint64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        m.values[i] = dtype == "F16" ? bricks::f16_to_f32(h) : bricks::bf16_to_f32(h);
      }
    }
    MatrixPair& pair = out.pairs[{layer, proj}];
    (is_a ? pair.a : pair.b) = std::move(m);
    (is_a ? pair.has_a : pair.has_b) = true;
  }
}

}  // namespace

AdapterFile read_peft_adapter(const std::string& dir) {
  AdapterFile out;
  out.path = dir;
  out.format = "peft";
  out.rotate_half_qk = true;
  const fs::path config_file = fs::path(dir) / "adapter_config.json";
  check_config(read_config(config_file), config_file.string(), out);
  read_safetensors(fs::path(dir) / "adapter_model.safetensors", out);
  return out;
}

AdapterFile read_adapter(const std::string& path) {
  std::error_code ec;
  if (path.empty()) throw Error::invalid("adapter path is empty");
  if (fs::is_directory(path, ec)) return read_peft_adapter(path);
  if (!fs::exists(path, ec)) throw Error::invalid(path + ": no such file or directory");
  if (fs::path(path).extension() == ".safetensors") {
    return read_peft_adapter(fs::path(path).parent_path().string());
  }
  return read_gguf_adapter(path);
}

}  // namespace bricks_lora
