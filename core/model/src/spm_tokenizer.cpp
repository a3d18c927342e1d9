// SentencePiece-style BPE: spaces become U+2581 ("▁"), characters merge pairwise by piece
// score (or by merge rank for Hugging Face files), and characters not in the vocabulary fall
// back to their UTF-8 bytes as <0xXX> tokens.
#include <array>
#include <cstdio>

#include "bpe_merge.h"
#include "bricks/model/model_error.h"
#include "bricks/model/tokenizer.h"
#include "special_tokens.h"
#include "vocab_index.h"
#include "vocab_tokenizer.h"

namespace bricks::model {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581

// The byte of a "<0xAB>" piece, or -1.
int byte_of(std::string_view t) {
  if (t.size() != 6 || t.substr(0, 3) != "<0x" || t[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

class SpmTokenizer final : public VocabTokenizer<SpmVocab> {
 public:
  SpmTokenizer(SpmVocab v, const std::string& where) : VocabTokenizer(std::move(v)) {
    const auto n = static_cast<int32_t>(v_.tokens.size());
    if (n == 0) throw ModelError(where + ": the vocabulary is empty");
    if (!v_.scores.empty() && v_.scores.size() != v_.tokens.size()) {
      throw ModelError(where + ": " + std::to_string(v_.scores.size()) + " scores for " +
                       std::to_string(n) + " tokens");
    }
    if (!v_.types.empty() && v_.types.size() != v_.tokens.size()) {
      throw ModelError(where + ": " + std::to_string(v_.types.size()) + " token types for " +
                       std::to_string(n) + " tokens");
    }
    for (int32_t id : {v_.bos, v_.eos, v_.unk}) {
      if (id >= n) throw ModelError(where + ": special token id " + std::to_string(id) +
                                    " is outside the vocabulary of " + std::to_string(n));
    }
    if (v_.types.empty()) {
      v_.types.resize(v_.tokens.size(), TokenType::Normal);
      for (int32_t i = 0; i < n; ++i) {
        if (byte_of(v_.tokens[i]) >= 0) v_.types[i] = TokenType::Byte;
      }
      for (int32_t id : {v_.bos, v_.eos}) {
        if (id >= 0) v_.types[id] = TokenType::Control;
      }
      if (v_.unk >= 0) v_.types[v_.unk] = TokenType::Unknown;
    }
    byte_ids_.fill(-1);
    ids_.reserve(v_.tokens.size());
    for (int32_t i = 0; i < n; ++i) {
      const TokenType t = v_.types[i];
      if (t == TokenType::Byte) {
        if (int b = byte_of(v_.tokens[i]); b >= 0) byte_ids_[b] = i;
      } else if (t != TokenType::Control && t != TokenType::Unused && t != TokenType::Unknown) {
        ids_.emplace(v_.tokens[i], i);  // the first of duplicate pieces wins
      }
      if (t == TokenType::Control || t == TokenType::UserDefined || t == TokenType::Unknown) {
        specials_.add(v_.tokens[i], i);
      }
    }
    merges_.build(v_.merges);
  }

  std::vector<int32_t> encode(std::string_view text, bool add_bos) const override {
    std::vector<int32_t> out;
    if (add_bos && v_.bos >= 0) out.push_back(v_.bos);
    bool after_special = true;  // the text start counts as a boundary for the space prefix
    for (const TextOrToken& part : specials_.split(text)) {
      if (part.id >= 0) {
        out.push_back(part.id);
        after_special = true;
        continue;
      }
      std::string norm;
      if (v_.add_space_prefix && after_special) norm += kSpace;
      for (char c : part.text) {
        if (c == ' ') norm += kSpace; else norm += c;
      }
      after_special = false;
      encode_piece(norm, out);
    }
    return out;
  }

  std::string decode(std::span<const int32_t> ids) const override {
    std::string out;
    bool first = true;
    for (int32_t id : ids) {
      std::string p = piece(id);
      if (p.empty()) continue;
      if (first && v_.add_space_prefix && p[0] == ' ') p.erase(0, 1);
      first = false;
      out += p;
    }
    return out;
  }

  std::string piece(int32_t id) const override {
    if (id < 0 || id >= vocab_size()) return {};
    const std::string& t = v_.tokens[id];
    switch (v_.types[id]) {
      case TokenType::Control:
      case TokenType::Unused: return {};
      case TokenType::Byte: {
        const int b = byte_of(t);
        return b < 0 ? std::string{} : std::string(1, static_cast<char>(b));
      }
      default: break;
    }
    std::string out;
    for (size_t i = 0; i < t.size();) {
      if (t.compare(i, kSpace.size(), kSpace) == 0) {
        out += ' ';
        i += kSpace.size();
      } else {
        out += t[i++];
      }
    }
    return out;
  }

 private:
  void encode_piece(std::string_view text, std::vector<int32_t>& out) const {
    auto by_score = [&](std::string_view a, std::string_view b) -> std::optional<double> {
      std::string m;
      m.reserve(a.size() + b.size());
      m.append(a).append(b);
      auto it = ids_.find(m);
      if (it == ids_.end()) return std::nullopt;
      return v_.scores.empty() ? 0.0 : static_cast<double>(v_.scores[it->second]);
    };
    auto by_rank = [&](std::string_view a, std::string_view b) -> std::optional<double> {
      const int32_t r = merges_.rank(a, b);
      if (r < 0) return std::nullopt;
      return -static_cast<double>(r);
    };
    const std::vector<std::string_view> pieces =
        merges_.empty() ? bpe_merge(text, by_score) : bpe_merge(text, by_rank);
    for (std::string_view p : pieces) {
      if (auto it = ids_.find(p); it != ids_.end()) {
        out.push_back(it->second);
        continue;
      }
      for (char c : p) {
        const int32_t id = byte_ids_[static_cast<unsigned char>(c)];
        if (id >= 0) {
          out.push_back(id);
        } else if (v_.unk >= 0) {
          out.push_back(v_.unk);
          break;  // one <unk> per unknown character
        }
      }
    }
  }

  TokenIds ids_;
  MergeRanks merges_;
  std::array<int32_t, 256> byte_ids_{};
  SpecialTokens specials_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(SpmVocab vocab, const std::string& where) {
  return std::make_unique<SpmTokenizer>(std::move(vocab), where);
}

}  // namespace bricks::model
