// The Tokenizer queries that a tokenizer answers straight from its vocabulary: BOS, EOS, the
// vocabulary size and token texts. `Vocab` (SpmVocab, BpeVocab) has tokens, bos and eos.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "bricks/model/tokenizer.h"

namespace bricks::model {

template <class Vocab>
class VocabTokenizer : public Tokenizer {
 public:
  int32_t bos() const override { return v_.bos; }
  int32_t eos() const override { return v_.eos; }
  int32_t vocab_size() const override { return static_cast<int32_t>(v_.tokens.size()); }
  // "" for an id outside the vocabulary.
  const std::string& token_text(int32_t id) const override {
    static const std::string kEmpty;
    return id >= 0 && id < vocab_size() ? v_.tokens[static_cast<size_t>(id)] : kEmpty;
  }

 protected:
  explicit VocabTokenizer(Vocab v) : v_(std::move(v)) {}

  Vocab v_;
};

}  // namespace bricks::model
