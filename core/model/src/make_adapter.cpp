// Deterministic random LoRA adapters, as GGUF LoRA files or PEFT directories.
#include "bricks/model/make_adapter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bricks/model/gguf.h"

namespace bricks::model {
namespace {

constexpr const char* kTargets[] = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                    "ffn_gate", "ffn_up", "ffn_down"};
constexpr const char* kPeftModules[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                        "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                        "mlp.down_proj"};

int target_index(const std::string& t) {
  for (int i = 0; i < 7; ++i) {
    if (t == kTargets[i]) return i;
  }
  return -1;
}

uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform values with standard deviation `stddev`, from a stream keyed by seed and name.
std::vector<float> random_values(uint64_t seed, const std::string& name, int64_t n, float stddev) {
  uint64_t key = 0xCBF29CE484222325ull;  // FNV-1a of the name
  for (unsigned char c : name) key = (key ^ c) * 0x100000001B3ull;
  key ^= mix(seed);
  std::vector<float> v(static_cast<size_t>(n));
  const double half_width = std::sqrt(3.0) * stddev;
  for (int64_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(mix(key + static_cast<uint64_t>(i)) >> 11) * 0x1.0p-53;
    v[static_cast<size_t>(i)] = static_cast<float>((2.0 * u - 1.0) * half_width);
  }
  return v;
}

std::vector<unsigned char> encode(DType dt, const std::vector<float>& v) {
  std::vector<unsigned char> out(*dtype_bytes(dt, static_cast<int64_t>(v.size())));
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::F32) {
      std::memcpy(out.data() + 4 * i, &v[i], 4);
    } else {
      const uint16_t h = dt == DType::F16 ? f32_to_f16(v[i]) : f32_to_bf16(v[i]);
      std::memcpy(out.data() + 2 * i, &h, 2);
    }
  }
  return out;
}

std::string gguf_name(const AdapterMatrices& m, char half) {
  return "blk." + std::to_string(m.layer) + "." + m.target + ".weight.lora_" + half;
}

void write_gguf(const MakeAdapterOptions& o, const std::vector<AdapterMatrices>& ms) {
  GgufWriter w;
  w.set("general.architecture", GgufValue::str("llama"));
  w.set("general.type", GgufValue::str("adapter"));
  w.set("general.name", GgufValue::str(o.base.name + "-lora"));
  w.set("adapter.type", GgufValue::str("lora"));
  w.set("adapter.lora.alpha", GgufValue::f32(o.alpha));
  std::vector<const std::vector<float>*> data;
  for (const AdapterMatrices& m : ms) {
    w.add_tensor(gguf_name(m, 'a'), o.dtype, {m.in, m.rank});
    w.add_tensor(gguf_name(m, 'b'), o.dtype, {m.rank, m.out});
    data.push_back(&m.a);
    data.push_back(&m.b);
  }
  w.write(o.out, [&](size_t i, const GgufWriter::Sink& sink) {
    const std::vector<unsigned char> bytes = encode(o.dtype, *data[i]);
    sink(bytes.data(), bytes.size());
  });
}

// GGUF's adjacent-pair q/k rows back to Hugging Face's rotate-half order.
std::vector<float> rotate_half_rows(const std::vector<float>& b, int64_t rows, int64_t cols,
                                    int64_t head_dim) {
  std::vector<float> out(b.size());
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < rows / head_dim; ++h) {
    for (int64_t j = 0; j < half; ++j) {
      for (int64_t k = 0; k < 2; ++k) {
        const int64_t gguf_row = h * head_dim + 2 * j + k, hf_row = h * head_dim + k * half + j;
        std::copy_n(b.begin() + gguf_row * cols, cols, out.begin() + hf_row * cols);
      }
    }
  }
  return out;
}

void write_peft(const MakeAdapterOptions& o, const std::vector<AdapterMatrices>& ms) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec) throw ModelError(o.out.string() + ": cannot create the directory: " + ec.message());
  const char* dtype_name = o.dtype == DType::F32 ? "F32" : o.dtype == DType::F16 ? "F16" : "BF16";
  nlohmann::ordered_json header;
  std::vector<std::vector<unsigned char>> blobs;
  uint64_t offset = 0;
  auto add = [&](const std::string& name, int64_t rows, int64_t cols, const std::vector<float>& v) {
    blobs.push_back(encode(o.dtype, v));
    header[name] = {{"dtype", dtype_name},
                    {"shape", {rows, cols}},
                    {"data_offsets", {offset, offset + blobs.back().size()}}};
    offset += blobs.back().size();
  };
  for (const AdapterMatrices& m : ms) {
    const std::string base = "base_model.model.model.layers." + std::to_string(m.layer) + "." +
                             kPeftModules[target_index(m.target)];
    const bool qk = m.target == "attn_q" || m.target == "attn_k";
    add(base + ".lora_A.weight", m.rank, m.in, m.a);
    add(base + ".lora_B.weight", m.out, m.rank,
        qk ? rotate_half_rows(m.b, m.out, m.rank, o.base.head_dim) : m.b);
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned
  std::ofstream st(o.out / "adapter_model.safetensors", std::ios::binary | std::ios::trunc);
  const uint64_t len = text.size();
  st.write(reinterpret_cast<const char*>(&len), 8);
  st.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& b : blobs)
    st.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!st) throw ModelError((o.out / "adapter_model.safetensors").string() + ": write failed");

  nlohmann::ordered_json config = {
      {"peft_type", "LORA"}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", o.base.name},
      {"r", o.rank},         {"lora_alpha", o.alpha},    {"lora_dropout", 0.0},
      {"bias", "none"},      {"fan_in_fan_out", false},  {"use_rslora", false}};
  std::vector<std::string> modules;
  for (const std::string& t : o.targets) {
    const std::string m = kPeftModules[target_index(t)];
    modules.push_back(m.substr(m.find('.') + 1));
  }
  config["target_modules"] = modules;
  std::ofstream cf(o.out / "adapter_config.json", std::ios::trunc);
  cf << config.dump(2) << "\n";
  if (!cf) throw ModelError((o.out / "adapter_config.json").string() + ": write failed");
}

}  // namespace

void projection_dims(const LlamaConfig& c, const std::string& target, int64_t* in, int64_t* out) {
  const int64_t h = c.hidden, q = int64_t{c.n_heads} * c.head_dim,
                kv = int64_t{c.n_kv_heads} * c.head_dim, f = c.ffn;
  switch (target_index(target)) {
    case 0:
      *in = h;
      *out = q;
      return;
    case 1:
    case 2:
      *in = h;
      *out = kv;
      return;
    case 3:
      *in = q;
      *out = h;
      return;
    case 4:
    case 5:
      *in = h;
      *out = f;
      return;
    case 6:
      *in = f;
      *out = h;
      return;
    default:
      throw ModelError("adapter target '" + target +
                       "' is not one of attn_q, attn_k, attn_v, "
                       "attn_output, ffn_gate, ffn_up, ffn_down");
  }
}

std::vector<AdapterMatrices> adapter_matrices(const MakeAdapterOptions& o) {
  if (o.rank < 1) throw ModelError("adapter rank " + std::to_string(o.rank) + " must be >= 1");
  if (o.targets.empty()) throw ModelError("the adapter needs at least one target projection");
  std::vector<int32_t> layers = o.layers;
  if (layers.empty()) {
    for (int32_t l = 0; l < o.base.n_layers; ++l) layers.push_back(l);
  }
  std::vector<AdapterMatrices> out;
  for (int32_t l : layers) {
    if (l < 0 || l >= o.base.n_layers) {
      throw ModelError("adapter layer " + std::to_string(l) + " is not in the model's " +
                       std::to_string(o.base.n_layers) + " layers");
    }
    for (const std::string& t : o.targets) {
      AdapterMatrices m;
      m.layer = l;
      m.target = t;
      m.rank = o.rank;
      projection_dims(o.base, t, &m.in, &m.out);
      m.a = random_values(o.seed, gguf_name(m, 'a'), m.rank * m.in, o.stddev);
      m.b = random_values(o.seed, gguf_name(m, 'b'), m.out * m.rank, o.stddev);
      out.push_back(std::move(m));
    }
  }
  return out;
}

void make_adapter(const MakeAdapterOptions& o) {
  if (o.out.empty()) throw ModelError("make_adapter: no output path given");
  if (o.dtype == DType::Q8_0) throw ModelError("make_adapter: dtype must be f32, f16 or bf16");
  if (o.out.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(o.out.parent_path(), ec);
    if (ec) throw ModelError(o.out.parent_path().string() + ": cannot create: " + ec.message());
  }
  const std::vector<AdapterMatrices> ms = adapter_matrices(o);
  if (o.format == "gguf") {
    write_gguf(o, ms);
  } else if (o.format == "peft") {
    write_peft(o, ms);
  } else {
    throw ModelError("adapter format '" + o.format + "' is not gguf or peft");
  }
}

}  // namespace bricks::model
