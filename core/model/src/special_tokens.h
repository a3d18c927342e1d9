// Finding control tokens written literally in text ("<s>", "<|im_start|>") before the
// text is tokenized, so they become their ids rather than being spelt out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bricks::model {

struct TextOrToken {
  std::string_view text;  // used when id < 0
  int32_t id = -1;
};

class SpecialTokens {
 public:
  void add(std::string text, int32_t id);
  // Splits `text` into runs of plain text and special tokens (longest match wins).
  std::vector<TextOrToken> split(std::string_view text) const;

 private:
  std::vector<std::pair<std::string, int32_t>> tokens_;  // longest first
};

}  // namespace bricks::model
