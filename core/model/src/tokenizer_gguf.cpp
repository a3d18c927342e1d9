// The tokenizer stored in a GGUF file's tokenizer.ggml.* keys.
#include "bricks/model/gguf.h"
#include "loaders.h"

namespace bricks::model {
namespace {

std::vector<std::string> strings(const GgufFile& f, const char* key) {
  std::vector<std::string> out;
  const GgufArray* a = f.get_array(key);
  if (a == nullptr) return out;
  out.reserve(a->items.size());
  for (size_t i = 0; i < a->items.size(); ++i) {
    const std::string* s = a->items[i].as_string();
    if (s == nullptr) {
      throw ModelError(f.path().string() + ": key '" + key + "' item " + std::to_string(i) +
                       " is not a string");
    }
    out.push_back(*s);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> merges(const GgufFile& f) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& m : strings(f, "tokenizer.ggml.merges")) {
    const size_t sp = m.find(' ', 1);
    if (sp == std::string::npos) {
      throw ModelError(f.path().string() + ": key 'tokenizer.ggml.merges': entry '" + m +
                       "' is not 'left right'");
    }
    out.emplace_back(m.substr(0, sp), m.substr(sp + 1));
  }
  return out;
}

template <class T, class Conv>
std::vector<T> numbers(const GgufFile& f, const char* key, size_t n, Conv conv) {
  std::vector<T> out;
  const GgufArray* a = f.get_array(key);
  if (a == nullptr) return out;
  if (a->items.size() != n) {
    throw ModelError(f.path().string() + ": key '" + key + "' has " +
                     std::to_string(a->items.size()) + " items for " + std::to_string(n) + " tokens");
  }
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto v = conv(a->items[i]);
    if (!v) {
      throw ModelError(f.path().string() + ": key '" + key + "' item " + std::to_string(i) +
                       " is not a number");
    }
    out.push_back(static_cast<T>(*v));
  }
  return out;
}

int32_t id_key(const GgufFile& f, const char* key) {
  const auto v = f.get_int(key);
  return v ? static_cast<int32_t>(*v) : -1;
}

}  // namespace

std::unique_ptr<Tokenizer> gguf_tokenizer(const GgufFile& f) {
  const std::string where = f.path().string();
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model || *model == "no_vocab") return nullptr;
  std::vector<std::string> tokens = strings(f, "tokenizer.ggml.tokens");
  if (tokens.empty()) throw ModelError(where + ": key 'tokenizer.ggml.tokens' is missing or empty");
  const size_t n = tokens.size();
  std::vector<TokenType> types = numbers<TokenType>(
      f, "tokenizer.ggml.token_type", n, [](const GgufValue& v) { return v.as_int(); });

  if (*model == "llama") {
    SpmVocab v;
    v.tokens = std::move(tokens);
    v.types = std::move(types);
    v.scores = numbers<float>(f, "tokenizer.ggml.scores", n,
                              [](const GgufValue& x) { return x.as_float(); });
    v.merges = merges(f);  // normally absent for SentencePiece files; scores decide then
    v.bos = id_key(f, "tokenizer.ggml.bos_token_id");
    v.eos = id_key(f, "tokenizer.ggml.eos_token_id");
    v.unk = id_key(f, "tokenizer.ggml.unknown_token_id");
    v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
    v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(true);
    return make_spm_tokenizer(std::move(v), where);
  }
  if (*model == "gpt2") {
    BpeVocab v;
    v.tokens = std::move(tokens);
    v.types = std::move(types);
    v.merges = merges(f);
    v.bos = id_key(f, "tokenizer.ggml.bos_token_id");
    v.eos = id_key(f, "tokenizer.ggml.eos_token_id");
    v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(false);
    const std::string pre = f.get_string("tokenizer.ggml.pre").value_or("default");
    if (pre == "default" || pre == "gpt2" || pre == "gpt-2") {
      v.pre = PreTokenizer::Gpt2;
    } else if (pre == "llama-bpe" || pre == "llama3" || pre == "smaug-bpe") {
      v.pre = PreTokenizer::Llama3;
      v.ignore_merges = true;
    } else if (pre == "qwen2") {
      v.pre = PreTokenizer::Qwen2;
    } else {
      throw ModelError(where + ": key 'tokenizer.ggml.pre' = '" + pre + "' is not supported "
                       "(supported: default, gpt2, llama-bpe, qwen2)");
    }
    return make_bpe_tokenizer(std::move(v), where);
  }
  throw ModelError(where + ": key 'tokenizer.ggml.model' = '" + *model +
                   "' is not supported (supported: llama, gpt2)");
}

}  // namespace bricks::model
