// Fuzzes the tokenizers. Bytes that begin with '{' are a Hugging Face tokenizer.json, loaded
// and then used to encode and decode. Any other bytes are text for the builtin models'
// tokenizer (encode, decode, the bytes read as token ids and decoded) and, one token per line,
// the vocabulary of a SentencePiece-style and of a byte-level BPE tokenizer ("a b" lines are
// merges too), which then encode the same text. A ModelError is the outcome a bad vocabulary
// should have; any other exception, a crash or a sanitizer report is a finding, and so is an
// encode that gives an id outside the vocabulary.
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bricks/model/tokenizer.h"
#include "fuzz_support.h"

namespace {

using namespace bricks::model;

void round_trip(const Tokenizer& tok, std::string_view text) {
  for (bool bos : {false, true}) {
    const std::vector<int32_t> ids = tok.encode(text, bos);
    (void)tok.decode(ids);
    for (int32_t id : ids) {
      if (id < 0 || id >= tok.vocab_size()) __builtin_trap();  // encode made an id it cannot have
      (void)tok.piece(id);
      (void)tok.token_text(id);
    }
  }
}

// Lines of `text`, at most `max` distinct ones.
std::vector<std::string> distinct_lines(std::string_view text, size_t max) {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  size_t at = 0;
  while (at <= text.size() && out.size() < max) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    if (!line.empty() && seen.insert(std::string(line)).second) out.emplace_back(line);
    at = end + 1;
  }
  return out;
}

void vocab_from_lines(std::string_view text) {
  const std::vector<std::string> lines = distinct_lines(text, 512);
  std::vector<std::pair<std::string, std::string>> merges;
  for (const std::string& l : lines) {
    const size_t sp = l.find(' ', 1);
    if (sp != std::string::npos && sp + 1 < l.size())
      merges.emplace_back(l.substr(0, sp), l.substr(sp + 1));
  }
  const auto n = static_cast<int32_t>(lines.size());
  try {
    SpmVocab v;
    v.tokens = lines;
    for (int32_t i = 0; i < n; ++i) v.scores.push_back(-static_cast<float>(i));
    if (text.size() % 2 == 0) v.merges = merges;  // by rank instead of by score
    v.unk = n > 0 ? 0 : -1;
    v.bos = n > 1 ? 1 : -1;
    v.eos = n > 2 ? 2 : -1;
    v.add_space_prefix = text.size() % 3 != 0;
    round_trip(*make_spm_tokenizer(std::move(v), "fuzz"), text);
  } catch (const ModelError&) {
  }
  try {
    BpeVocab v;
    v.tokens = lines;
    v.merges = merges;
    v.pre = static_cast<PreTokenizer>(text.size() % 3);
    v.ignore_merges = text.size() % 5 == 0;
    v.eos = n > 0 ? 0 : -1;
    round_trip(*make_bpe_tokenizer(std::move(v), "fuzz"), text);
  } catch (const ModelError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!text.empty() && text[0] == '{') {
    try {
      round_trip(*load_tokenizer_json(text, "tokenizer.json"),
                 "Hello, world!\n  <s> x\xC3\xA9\xFF");
    } catch (const ModelError&) {
    }
    return 0;
  }
  const Tokenizer& builtin = bricks::fuzz::builtin_tokenizer();
  round_trip(builtin, text);
  std::vector<int32_t> ids(size / sizeof(int32_t));
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * sizeof(int32_t));
  (void)builtin.decode(ids);
  vocab_from_lines(text);
  return 0;
}
