// The word splitters of byte-level BPE tokenizers, written by hand over code points. Each
// gives the same pieces as the corresponding regular expression with leftmost-first
// alternation:
//   Gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   Llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//           ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   Qwen2:  as Llama3 with \p{N} (one digit per piece) instead of \p{N}{1,3}
#pragma once

#include <string_view>
#include <vector>

#include "bricks/model/tokenizer.h"

namespace bricks::model {

// Splits `text` into consecutive pieces that together are exactly `text`.
std::vector<std::string_view> pretokenize(std::string_view text, PreTokenizer style);

}  // namespace bricks::model
