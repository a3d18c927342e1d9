// Hugging Face tokenizer.json with a BPE model. Supported: byte_fallback BPE with the
// SentencePiece normalizer (Prepend/Replace "▁", or a Metaspace pre-tokenizer), and
// byte-level BPE (ByteLevel pre-tokenizer, optionally after a GPT-2/Llama-3/Qwen2 Split
// regex). The NFC normalizer of some files is not applied: input is taken as already NFC.
#include <nlohmann/json.hpp>

#include "bricks/model/model_error.h"
#include "bricks/model/tokenizer.h"

namespace bricks::model {
namespace {

using json = nlohmann::json;

// Visits `node` and, for "Sequence" nodes, each member (under `list_key`).
template <class F>
void each_step(const json& node, const char* list_key, F&& f) {
  if (!node.is_object()) return;
  if (node.value("type", "") == "Sequence" && node.contains(list_key) && node[list_key].is_array()) {
    for (const json& s : node[list_key]) each_step(s, list_key, f);
  } else {
    f(node);
  }
}

std::vector<std::pair<std::string, std::string>> read_merges(const json& m, const std::string& where) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!m.is_array()) return out;
  out.reserve(m.size());
  for (const json& e : m) {
    if (e.is_string()) {
      const std::string s = e.get<std::string>();
      const size_t sp = s.find(' ', 1);
      if (sp == std::string::npos) throw ModelError(where + ": merge '" + s + "' is not 'left right'");
      out.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      out.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
    } else {
      throw ModelError(where + ": model.merges holds an entry that is neither 'a b' nor [a, b]");
    }
  }
  return out;
}

PreTokenizer regex_style(const std::string& re) {
  if (re.find("\\p{N}{1,3}") != std::string::npos) return PreTokenizer::Llama3;
  if (re.find("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+") != std::string::npos) return PreTokenizer::Qwen2;
  return PreTokenizer::Gpt2;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json(std::string_view text, const std::string& where,
                                               std::optional<int32_t> bos_override,
                                               std::optional<int32_t> eos_override) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw ModelError(where + ": not valid JSON: " + e.what());
  }
  try {
    const json& model = j.at("model");
    const std::string type = model.value("type", "");
    if (type != "BPE") {
      throw ModelError(where + ": tokenizer model type '" + type +
                       "' is not supported (only BPE: SentencePiece-style or byte-level)");
    }
    // Tokens by id: the model's vocab plus added tokens; ids never given stay Unused.
    std::vector<std::string> tokens;
    std::vector<TokenType> types;
    auto put = [&](int64_t id, const std::string& s, TokenType t) {
      if (id < 0 || id > 10'000'000) throw ModelError(where + ": token id " + std::to_string(id) + " out of range");
      if (static_cast<size_t>(id) >= tokens.size()) {
        tokens.resize(static_cast<size_t>(id) + 1);
        types.resize(static_cast<size_t>(id) + 1, TokenType::Unused);
      }
      tokens[static_cast<size_t>(id)] = s;
      types[static_cast<size_t>(id)] = t;
    };
    for (const auto& [piece, id] : model.at("vocab").items()) put(id.get<int64_t>(), piece, TokenType::Normal);
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
      for (const json& a : j["added_tokens"]) {
        put(a.at("id").get<int64_t>(), a.at("content").get<std::string>(),
            a.value("special", false) ? TokenType::Control : TokenType::UserDefined);
      }
    }
    // A special (added) token of that text if there is one, else any token of that text.
    auto id_of = [&](const std::string& s) -> int32_t {
      int32_t any = -1;
      for (size_t i = 0; i < tokens.size(); ++i) {
        if (tokens[i] != s || types[i] == TokenType::Unused) continue;
        if (types[i] == TokenType::Control) return static_cast<int32_t>(i);
        if (any < 0) any = static_cast<int32_t>(i);
      }
      return any;
    };
    // BOS: the special token the post-processor puts before a single sequence.
    int32_t bos = -1;
    if (j.contains("post_processor") && j["post_processor"].is_object()) {
      each_step(j["post_processor"], "processors", [&](const json& p) {
        if (p.value("type", "") != "TemplateProcessing" || !p.contains("single")) return;
        const json& first = p["single"].at(0);
        if (first.contains("SpecialToken")) bos = id_of(first["SpecialToken"].at("id").get<std::string>());
      });
    }
    int32_t eos = -1;
    for (const char* e : {"</s>", "<|end_of_text|>", "<|endoftext|>"}) {
      const int32_t id = id_of(e);
      if (id >= 0 && (eos < 0 || types[static_cast<size_t>(eos)] != TokenType::Control)) eos = id;
    }
    if (bos_override) bos = *bos_override;
    if (eos_override) eos = *eos_override;

    bool byte_level = false, space_prefix = false, metaspace = false;
    PreTokenizer style = PreTokenizer::Gpt2;
    auto scan_pre = [&](const json& p) {
      const std::string t = p.value("type", "");
      if (t == "ByteLevel") {
        byte_level = true;
        if (p.value("use_regex", true)) style = PreTokenizer::Gpt2;
      } else if (t == "Split" && p.contains("pattern") && p["pattern"].contains("Regex")) {
        style = regex_style(p["pattern"]["Regex"].get<std::string>());
      } else if (t == "Metaspace") {
        metaspace = true;
        space_prefix = p.value("prepend_scheme", std::string("always")) != "never" &&
                       p.value("add_prefix_space", true);
      }
    };
    if (j.contains("pre_tokenizer")) each_step(j["pre_tokenizer"], "pretokenizers", scan_pre);
    if (j.contains("decoder")) each_step(j["decoder"], "decoders", [&](const json& d) {
      if (d.value("type", "") == "ByteLevel") byte_level = true;
    });
    if (j.contains("normalizer")) each_step(j["normalizer"], "normalizers", [&](const json& n) {
      if (n.value("type", "") == "Prepend" && n.value("prepend", "") == "\xE2\x96\x81") space_prefix = true;
    });

    auto merges = read_merges(model.value("merges", json::array()), where);
    if (byte_level) {
      BpeVocab v{std::move(tokens), std::move(types), std::move(merges), style, bos, eos};
      v.ignore_merges = model.value("ignore_merges", false);
      return make_bpe_tokenizer(std::move(v), where);
    }
    if (!model.value("byte_fallback", false) && !metaspace && !space_prefix) {
      throw ModelError(where + ": BPE tokenizer is neither byte-level nor SentencePiece-style "
                       "(no ByteLevel pre-tokenizer, no byte_fallback); not supported");
    }
    SpmVocab v;
    v.tokens = std::move(tokens);
    v.types = std::move(types);
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      const std::string& t = v.tokens[i];
      if (v.types[i] == TokenType::Normal && t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') {
        v.types[i] = TokenType::Byte;
      }
    }
    v.merges = std::move(merges);
    v.bos = bos;
    v.eos = eos;
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      v.unk = id_of(model["unk_token"].get<std::string>());
      if (v.unk >= 0) v.types[static_cast<size_t>(v.unk)] = TokenType::Unknown;
    }
    v.add_space_prefix = space_prefix;
    return make_spm_tokenizer(std::move(v), where);
  } catch (const json::exception& e) {
    throw ModelError(where + ": malformed tokenizer: " + e.what());
  }
}

}  // namespace bricks::model
