// UTF-8 decoding and the few Unicode properties the tokenizers need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bricks::model::unicode {

struct CodeRange {
  uint32_t first, last;
};
extern const std::span<const CodeRange> kLetterRanges;  // general category L*
extern const std::span<const CodeRange> kNumberRanges;  // general category N*

// Returned for a byte that does not start a valid UTF-8 sequence (it then counts as one
// character of length 1, so no input byte is ever lost).
inline constexpr uint32_t kInvalid = 0xFFFFFFFFu;

// Decodes the character at `s[i]`; sets `len` to its byte length (>= 1).
uint32_t decode(std::string_view s, size_t i, size_t& len);
// Byte length of the UTF-8 character starting at s[i] (1 for invalid bytes).
size_t char_len(std::string_view s, size_t i);

bool is_letter(uint32_t cp);
bool is_number(uint32_t cp);
// White_Space property (as the \s of the regex engines the reference pre-tokenizers use).
bool is_space(uint32_t cp);

}  // namespace bricks::model::unicode
