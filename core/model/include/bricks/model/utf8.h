// UTF-8 encoding, shared by the tokenizers and by every reader that decodes escapes.
#pragma once

#include <cstdint>
#include <string>

namespace bricks::model {

// Appends code point `cp` (at most U+10FFFF, not a surrogate) encoded as UTF-8.
void append_utf8(std::string& out, uint32_t cp);

}  // namespace bricks::model
