// A Model over a Hugging Face checkpoint directory: config.json, one or more *.safetensors
// files (u64 header length, JSON header, data) and optionally tokenizer.json and the chat
// template (chat_template.jinja or tokenizer_config.json). HF names map
// onto GGUF's; q/k rows are permuted from rotate-half to adjacent-pair RoPE (those two
// tensors are copied; everything else stays mapped).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "loaders.h"
#include "mapped_file.h"

namespace bricks::model {
namespace {

using json = nlohmann::json;

json read_json(const std::filesystem::path& p) {
  std::ifstream is(p);
  if (!is) throw ModelError(p.string() + ": cannot open");
  try {
    return json::parse(is);
  } catch (const json::exception& e) {
    throw ModelError(p.string() + ": not valid JSON: " + e.what());
  }
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream is(p, std::ios::binary);
  std::ostringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

// Rows of one head, rotate-half order (i, i + d/2 pair) -> adjacent pairs (2i, 2i + 1).
std::vector<unsigned char> permute_rope_rows(const TensorView& t, int32_t n_head) {
  std::vector<unsigned char> out(t.nbytes);
  const int64_t rows = t.ne[1];
  const int64_t d = rows / n_head, half = d / 2;
  const size_t row_bytes = t.nbytes / static_cast<size_t>(rows);
  const auto* src = static_cast<const unsigned char*>(t.data);
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t j = 0; j < half; ++j) {
      for (int64_t k = 0; k < 2; ++k) {
        const int64_t dst_row = h * d + 2 * j + k, src_row = h * d + k * half + j;
        std::memcpy(out.data() + static_cast<size_t>(dst_row) * row_bytes,
                    src + static_cast<size_t>(src_row) * row_bytes, row_bytes);
      }
    }
  }
  return out;
}

class SafetensorsModel final : public Model {
 public:
  explicit SafetensorsModel(const std::filesystem::path& dir) {
    path_ = dir;
    read_config(dir / "config.json");
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".safetensors") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) throw ModelError(dir.string() + ": no *.safetensors files in the directory");
    for (const auto& f : files) read_file(f);
    index_tensors();
    config_.tied_embeddings = find("output.weight") == nullptr;
    for (TensorView& t : tensors_) {
      const bool q = t.name.ends_with(".attn_q.weight"), k = t.name.ends_with(".attn_k.weight");
      if (!q && !k) continue;
      const int32_t heads = q ? config_.n_heads : config_.n_kv_heads;
      if (t.ne.size() != 2 || t.ne[1] != int64_t{heads} * config_.head_dim) continue;  // validate() reports it
      owned_.push_back(permute_rope_rows(t, heads));
      t.data = owned_.back().data();
      t.file = nullptr;
    }
    validate();
    if (std::filesystem::exists(dir / "tokenizer.json")) {
      tokenizer_ = load_tokenizer_json(read_text(dir / "tokenizer.json"),
                                       (dir / "tokenizer.json").string(), bos_, eos_);
    }
    read_chat_template(dir);
  }

 private:
  void read_config(const std::filesystem::path& p) {
    if (!std::filesystem::exists(p)) {
      throw ModelError(p.parent_path().string() + ": no config.json (a safetensors model "
                       "directory needs the Hugging Face config.json beside the weights)");
    }
    const json j = read_json(p);
    if (!j.is_object()) throw ModelError(p.string() + ": not a JSON object");
    try {
      read_config_keys(p, j);
    } catch (const json::exception& e) {
      throw ModelError(p.string() + ": a key has a value of the wrong type: " + e.what());
    }
  }

  // read_config's reading of the object `j`; nlohmann's own type errors are left to it.
  void read_config_keys(const std::filesystem::path& p, const json& j) {
    auto num = [&](const char* key, bool required, double fallback) -> double {
      if (!j.contains(key) || j[key].is_null()) {
        if (required) throw ModelError(p.string() + ": missing key '" + key + "'");
        return fallback;
      }
      if (!j[key].is_number()) throw ModelError(p.string() + ": key '" + key + "' is not a number");
      return j[key].get<double>();
    };
    // A size or count: converting a double outside int32 to one would be undefined.
    auto count = [&](const char* key, bool required, double fallback) -> int32_t {
      const double v = num(key, required, fallback);
      if (!(v >= INT32_MIN && v <= INT32_MAX)) {
        throw ModelError(p.string() + ": key '" + key + "' = " + std::to_string(v) +
                         " is out of range");
      }
      return static_cast<int32_t>(v);
    };
    const std::string type = j.value("model_type", "");
    if (type != "llama" && type != "mistral" && type != "qwen2") {
      throw ModelError(p.string() + ": model_type '" + type + "' is not supported "
                       "(supported: llama, mistral, qwen2)");
    }
    if (j.contains("num_local_experts")) {
      throw ModelError(p.string() + ": mixture-of-experts safetensors checkpoints are not "
                       "supported; convert the model to GGUF");
    }
    LlamaConfig& c = config_;
    c.arch = "llama";
    c.name = j.contains("_name_or_path") && j["_name_or_path"].is_string()
                 ? j["_name_or_path"].get<std::string>() : p.parent_path().filename().string();
    c.hidden = count("hidden_size", true, 0);
    c.n_layers = count("num_hidden_layers", true, 0);
    c.n_heads = count("num_attention_heads", true, 0);
    c.n_kv_heads = count("num_key_value_heads", false, c.n_heads);
    c.ffn = count("intermediate_size", true, 0);
    c.vocab_size = count("vocab_size", true, 0);
    c.context_length = count("max_position_embeddings", false, 2048);
    c.rms_eps = static_cast<float>(num("rms_norm_eps", false, 1e-5));
    c.rope_theta = static_cast<float>(num("rope_theta", false, 10000));
    if (c.n_heads <= 0) throw ModelError(p.string() + ": num_attention_heads must be positive");
    c.head_dim = count("head_dim", false, c.hidden / c.n_heads);
    auto first_id = [&](const char* key) -> std::optional<int32_t> {
      if (!j.contains(key)) return std::nullopt;
      const json& v = j[key].is_array() && !j[key].empty() ? j[key][0] : j[key];
      if (!v.is_number_integer()) return std::nullopt;
      return v.get<int32_t>();
    };
    bos_ = first_id("bos_token_id");
    eos_ = first_id("eos_token_id");
  }

  // transformers writes the template to chat_template.jinja (newer versions) or into
  // tokenizer_config.json, as a string or as a list of named templates; it prefers the
  // .jinja file, and so do we.
  void read_chat_template(const std::filesystem::path& dir) {
    if (std::filesystem::exists(dir / "chat_template.jinja")) {
      chat_template_ = read_text(dir / "chat_template.jinja");
      return;
    }
    const std::filesystem::path p = dir / "tokenizer_config.json";
    if (!std::filesystem::exists(p)) return;
    const json j = read_json(p);
    if (!j.is_object() || !j.contains("chat_template") || j["chat_template"].is_null()) return;
    const json& t = j["chat_template"];
    if (t.is_string()) {
      chat_template_ = t.get<std::string>();
      return;
    }
    if (t.is_array()) {
      for (const json& e : t) {
        // A "name" that is not a string names no template (value() would throw for it).
        if (e.is_object() && e.contains("name") && e["name"] == "default" &&
            e.contains("template") && e["template"].is_string()) {
          chat_template_ = e["template"].get<std::string>();
          return;
        }
      }
      return;  // only named templates (tool_use, rag): none is the conversation template
    }
    throw ModelError(p.string() + ": key 'chat_template' is neither a string nor a list of "
                     "{name, template} objects");
  }

  // GGUF name of an HF tensor name; empty when the tensor is not one the engine uses.
  static std::string map_name(const std::string& hf, const std::string& file) {
    static const std::regex kLayer(R"(model\.layers\.(\d+)\.(.+))");
    if (hf == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf == "model.norm.weight") return "output_norm.weight";
    if (hf == "lm_head.weight") return "output.weight";
    std::smatch m;
    if (!std::regex_match(hf, m, kLayer)) return {};
    static const std::pair<const char*, const char*> kMap[] = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"},
    };
    const std::string rest = m[2].str();
    for (const auto& [from, to] : kMap) {
      if (rest == from) return "blk." + m[1].str() + "." + to;
    }
    if (rest.ends_with(".bias")) {
      throw ModelError(file + ": tensor '" + hf + "': bias terms (as in Qwen2 attention) are "
                       "not supported by this runtime");
    }
    return {};
  }

  void read_file(const std::filesystem::path& p) {
    const std::string file = p.string();
    maps_.push_back(std::make_unique<MappedFile>(p));
    const MappedFile& mf = *maps_.back();
    uint64_t header_len = 0;
    if (mf.size() < 8) throw ModelError(file + ": file truncated: shorter than the 8-byte header length");
    std::memcpy(&header_len, mf.data(), 8);
    if (header_len > mf.size() - 8) {
      throw ModelError(file + ": header length " + std::to_string(header_len) +
                       " runs past the end of the file (" + std::to_string(mf.size()) + " bytes)");
    }
    json h;
    try {
      h = json::parse(mf.data() + 8, mf.data() + 8 + header_len);
    } catch (const json::exception& e) {
      throw ModelError(file + ": header is not valid JSON: " + e.what());
    }
    if (!h.is_object()) throw ModelError(file + ": header is not a JSON object");
    const uint64_t data_start = 8 + header_len, data_size = mf.size() - data_start;
    const auto file_path = std::make_shared<const std::filesystem::path>(p);
    for (const auto& [hf, info] : h.items()) {
      if (hf == "__metadata__") continue;
      const std::string name = map_name(hf, file);
      if (name.empty()) continue;
      const std::string where = file + ": tensor '" + hf + "': ";
      try {
        const std::string dt = info.at("dtype").get<std::string>();
        DType dtype;
        if (dt == "F32") dtype = DType::F32;
        else if (dt == "F16") dtype = DType::F16;
        else if (dt == "BF16") dtype = DType::BF16;
        else throw ModelError(where + "dtype " + dt + " is not supported (F32, F16, BF16)");
        std::vector<int64_t> ne;
        for (const json& d : info.at("shape")) ne.insert(ne.begin(), d.get<int64_t>());
        int64_t numel = 1;
        for (int64_t d : ne) {
          if (d < 0 || (d > 0 && numel > INT64_MAX / d)) throw ModelError(where + "bad shape");
          numel *= d;
        }
        const auto b = info.at("data_offsets").at(0).get<uint64_t>();
        const auto e = info.at("data_offsets").at(1).get<uint64_t>();
        if (b > e || e > data_size) {
          throw ModelError(where + "data_offsets [" + std::to_string(b) + ", " + std::to_string(e) +
                           "] lie outside the " + std::to_string(data_size) + " data bytes");
        }
        if (e - b != *dtype_bytes(dtype, numel)) {
          throw ModelError(where + "holds " + std::to_string(e - b) + " bytes but its shape and "
                           "dtype need " + std::to_string(*dtype_bytes(dtype, numel)));
        }
        if (!seen_.insert(name).second) throw ModelError(where + "appears twice");
        tensors_.push_back({name, dtype, std::move(ne), mf.data() + data_start + b,
                            static_cast<size_t>(e - b), file_path, data_start + b});
      } catch (const json::exception& ex) {
        throw ModelError(where + "malformed entry: " + ex.what());
      }
    }
  }

  std::vector<std::unique_ptr<MappedFile>> maps_;
  std::vector<std::vector<unsigned char>> owned_;
  std::optional<int32_t> bos_, eos_;
  std::set<std::string> seen_;
};

}  // namespace

std::unique_ptr<Model> open_safetensors_dir(const std::filesystem::path& dir) {
  return std::make_unique<SafetensorsModel>(dir);
}

}  // namespace bricks::model
