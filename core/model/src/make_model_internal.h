// Parts of make_model shared between its files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "bricks/model/tokenizer.h"

namespace bricks::model {

std::string_view training_text();

// A SentencePiece-style vocabulary of exactly `size` tokens: <unk>, <s>, </s>, the 256 byte
// tokens, pieces learnt by BPE over `text` (score -rank), every character of `text` and of
// printable ASCII, then pieces made by extending learnt pieces to fill the size.
// Deterministic: the same text and size give the same vocabulary.
struct TrainedVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<TokenType> types;
};
TrainedVocab train_vocab(std::string_view text, int32_t size);

}  // namespace bricks::model
