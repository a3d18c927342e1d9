// Fuzzes the safetensors reader: the bytes are a model directory, its files joined by the line
// kSeparator below, in this order: config.json, model.safetensors, tokenizer.json,
// tokenizer_config.json (trailing files may be left out, and then are absent). The directory
// is opened as a model (config, safetensors header and tensor table, shapes, the q/k row
// permutation, the tokenizer, the chat template). A ModelError is the outcome bad bytes should
// have; any other exception, a crash or a sanitizer report is a finding.
//
// Seeds are tiny checkpoints made here (BRICKS_FUZZ_WRITE_SEEDS, see fuzz_support.h).
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bricks/model/model.h"
#include "fuzz_support.h"

namespace {

using namespace bricks::model;

constexpr std::string_view kSeparator = "\n--bricks-fuzz-file--\n";
constexpr const char* kFiles[] = {"config.json", "model.safetensors", "tokenizer.json",
                                  "tokenizer_config.json"};

// A safetensors file of F32 tensors `names` with HF shapes `shapes`, all zeros.
std::string safetensors_bytes(const std::vector<std::pair<std::string, std::vector<int64_t>>>& ts) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (const auto& [name, shape] : ts) {
    uint64_t n = 4;
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    header[name] = {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {offset, offset + n}}};
    offset += n;
  }
  const std::string h = header.dump();
  const uint64_t len = h.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &len, 8);
  return out + h + std::string(offset, '\0');
}

// One layer, hidden 8, two heads of 4 sharing one KV head, a vocabulary of 6; with
// `with_tokenizer` a byte-fallback tokenizer.json and a chat template beside it.
std::string tiny_checkpoint(bool untied, bool with_tokenizer) {
  const int64_t h = 8, vocab = 6, ffn = 8, kv = 4;
  nlohmann::json config = {{"model_type", "llama"},    {"hidden_size", h},
                           {"num_hidden_layers", 1},   {"num_attention_heads", 2},
                           {"num_key_value_heads", 1}, {"intermediate_size", ffn},
                           {"vocab_size", vocab},      {"max_position_embeddings", 64},
                           {"bos_token_id", 1},        {"eos_token_id", {2}}};
  std::vector<std::pair<std::string, std::vector<int64_t>>> ts = {
      {"model.embed_tokens.weight", {vocab, h}},
      {"model.norm.weight", {h}},
      {"model.layers.0.input_layernorm.weight", {h}},
      {"model.layers.0.post_attention_layernorm.weight", {h}},
      {"model.layers.0.self_attn.q_proj.weight", {h, h}},
      {"model.layers.0.self_attn.k_proj.weight", {kv, h}},
      {"model.layers.0.self_attn.v_proj.weight", {kv, h}},
      {"model.layers.0.self_attn.o_proj.weight", {h, h}},
      {"model.layers.0.mlp.gate_proj.weight", {ffn, h}},
      {"model.layers.0.mlp.up_proj.weight", {ffn, h}},
      {"model.layers.0.mlp.down_proj.weight", {h, ffn}},
  };
  if (untied) ts.push_back({"lm_head.weight", {vocab, h}});
  std::string out = config.dump() + std::string(kSeparator) + safetensors_bytes(ts);
  if (!with_tokenizer) return out;
  const nlohmann::json tokenizer = {
      {"model",
       {{"type", "BPE"},
        {"byte_fallback", true},
        {"unk_token", "<unk>"},
        {"vocab",
         {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}, {"<0x41>", 3}, {"\xE2\x96\x81", 4}, {"a", 5}}},
        {"merges", nlohmann::json::array()}}},
      {"added_tokens", {{{"id", 1}, {"content", "<s>"}, {"special", true}}}},
      {"normalizer", {{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}}},
  };
  const nlohmann::json tokenizer_config = {
      {"chat_template", {{{"name", "default"}, {"template", "{{ '<|im_start|>' }}"}}}}};
  return out + std::string(kSeparator) + tokenizer.dump() + std::string(kSeparator) +
         tokenizer_config.dump();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  bricks::fuzz::write_seeds_if_asked([](const std::filesystem::path& dir) {
    bricks::fuzz::write_file(dir, "tied", tiny_checkpoint(false, false));
    bricks::fuzz::write_file(dir, "untied_tokenizer", tiny_checkpoint(true, true));
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::filesystem::path dir;
  for (const char* name : kFiles) {
    const size_t end = rest.find(kSeparator);
    std::filesystem::path file = bricks::fuzz::write_scratch_file(name, rest.substr(0, end));
    dir = file.parent_path();
    if (end == std::string_view::npos) {
      rest = {};
      // The files this input does not give are absent, not left over from an earlier one.
      bool after = false;
      for (const char* other : kFiles) {
        if (after) std::filesystem::remove(dir / other);
        after = after || std::strcmp(other, name) == 0;
      }
      break;
    }
    rest.remove_prefix(end + kSeparator.size());
  }
  try {
    const std::unique_ptr<Model> m = Model::open(dir);
    unsigned sum = 0;
    for (const TensorView& t : m->tensors()) {
      const auto* p = static_cast<const unsigned char*>(t.data);
      for (size_t i = 0; i < t.nbytes; ++i) sum += p[i];
    }
    volatile unsigned sink = sum;
    (void)sink;
    if (m->has_tokenizer()) {
      const Tokenizer& tok = m->tokenizer();
      (void)tok.decode(tok.encode("Hello world <s>", true));
    }
    (void)m->chat_template();
  } catch (const ModelError&) {
  }
  return 0;
}
