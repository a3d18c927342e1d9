// GPT-2 byte-level BPE: text is split into words by the pre-tokenizer, each word's bytes are
// written as printable characters (GPT-2's byte-to-unicode table), and characters merge
// pairwise by merge rank. Every byte has a token, so any input encodes.
#include <array>

#include "bpe_merge.h"
#include "bricks/model/model_error.h"
#include "bricks/model/tokenizer.h"
#include "bricks/model/utf8.h"
#include "pretokenize.h"
#include "special_tokens.h"
#include "unicode.h"
#include "vocab_index.h"
#include "vocab_tokenizer.h"

namespace bricks::model {
namespace {

// GPT-2's table: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in
// byte order, so every byte becomes one visible character.
struct ByteMap {
  std::array<uint32_t, 256> to_cp{};
  std::array<std::string, 256> to_utf8{};
  std::unordered_map<uint32_t, unsigned char> from_cp;
  ByteMap() {
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      to_cp[b] = printable ? static_cast<uint32_t>(b) : next++;
      append_utf8(to_utf8[b], to_cp[b]);
      from_cp.emplace(to_cp[b], static_cast<unsigned char>(b));
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

class BpeTokenizer final : public VocabTokenizer<BpeVocab> {
 public:
  BpeTokenizer(BpeVocab v, const std::string& where) : VocabTokenizer(std::move(v)) {
    const auto n = static_cast<int32_t>(v_.tokens.size());
    if (n == 0) throw ModelError(where + ": the vocabulary is empty");
    if (!v_.types.empty() && v_.types.size() != v_.tokens.size()) {
      throw ModelError(where + ": " + std::to_string(v_.types.size()) + " token types for " +
                       std::to_string(n) + " tokens");
    }
    for (int32_t id : {v_.bos, v_.eos}) {
      if (id >= n) throw ModelError(where + ": special token id " + std::to_string(id) +
                                    " is outside the vocabulary of " + std::to_string(n));
    }
    if (v_.types.empty()) v_.types.assign(v_.tokens.size(), TokenType::Normal);
    ids_.reserve(v_.tokens.size());
    for (int32_t i = 0; i < n; ++i) {
      const TokenType t = v_.types[i];
      if (t == TokenType::Control || t == TokenType::UserDefined) {
        specials_.add(v_.tokens[i], i);
      } else {
        ids_.emplace(v_.tokens[i], i);
      }
    }
    merges_.build(v_.merges);
    const ByteMap& bm = byte_map();
    for (int b = 0; b < 256; ++b) {
      if (ids_.find(bm.to_utf8[b]) == ids_.end()) {
        throw ModelError(where + ": byte-level vocabulary lacks the token for byte " +
                         std::to_string(b) + " ('" + bm.to_utf8[b] + "')");
      }
    }
  }

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override {
    std::vector<int32_t> out;
    if (add_bos && v_.bos >= 0) out.push_back(v_.bos);
    const ByteMap& bm = byte_map();
    auto by_rank = [&](std::string_view a, std::string_view b) -> std::optional<double> {
      const int32_t r = merges_.rank(a, b);
      if (r < 0) return std::nullopt;
      return -static_cast<double>(r);
    };
    std::string mapped;
    for (const TextOrToken& part : specials_.split(text)) {
      if (part.id >= 0) {
        out.push_back(part.id);
        continue;
      }
      for (std::string_view word : pretokenize(part.text, v_.pre)) {
        mapped.clear();
        for (char c : word) mapped += bm.to_utf8[static_cast<unsigned char>(c)];
        if (v_.ignore_merges) {
          if (auto it = ids_.find(mapped); it != ids_.end()) {
            out.push_back(it->second);
            continue;
          }
        }
        for (std::string_view p : bpe_merge(mapped, by_rank)) {
          if (auto it = ids_.find(p); it != ids_.end()) {
            out.push_back(it->second);
            continue;
          }
          // A merge whose result is not a token: spell it as single characters instead.
          for (size_t i = 0; i < p.size();) {
            const size_t len = unicode::char_len(p, i);
            if (auto it = ids_.find(p.substr(i, len)); it != ids_.end()) out.push_back(it->second);
            i += len;
          }
        }
      }
    }
    return out;
  }

  std::string decode(std::span<const int32_t> ids) const override {
    std::string out;
    for (int32_t id : ids) out += piece(id);
    return out;
  }

  std::string piece(int32_t id) const override {
    if (id < 0 || id >= vocab_size()) return {};
    const TokenType t = v_.types[id];
    if (t == TokenType::Control || t == TokenType::Unused) return {};
    const std::string& text = v_.tokens[id];
    if (t == TokenType::UserDefined) return text;
    const ByteMap& bm = byte_map();
    std::string out;
    for (size_t i = 0; i < text.size();) {
      size_t len;
      const uint32_t cp = unicode::decode(text, i, len);
      auto it = bm.from_cp.find(cp);
      if (it != bm.from_cp.end()) {
        out += static_cast<char>(it->second);
      } else {
        out.append(text, i, len);  // not a byte-level character: keep it as written
      }
      i += len;
    }
    return out;
  }

 private:
  TokenIds ids_;
  MergeRanks merges_;
  SpecialTokens specials_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeVocab vocab, const std::string& where) {
  return std::make_unique<BpeTokenizer>(std::move(vocab), where);
}

}  // namespace bricks::model
