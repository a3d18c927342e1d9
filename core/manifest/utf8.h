// UTF-8 as a manifest's strings must be: checked where they are read, so a bad byte is an
// error at its place rather than an exception in whatever prints the string later.
// Internal to bricks_manifest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bricks::manifest {

// The fix that goes with every invalid-UTF-8 error.
inline constexpr const char* kUtf8Fix =
    "save the manifest as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)";

// The length (1 to 4) of the well-formed UTF-8 sequence at the start of `s`, or 0 when it
// is not one: a stray continuation byte, a truncated sequence, an overlong form, a
// surrogate or a code point above U+10FFFF. 0 for empty `s`.
size_t utf8_sequence_length(std::string_view s);

// The offset of the first byte of `s` that is not part of well-formed UTF-8, or npos.
size_t first_invalid_utf8(std::string_view s);

}  // namespace bricks::manifest
