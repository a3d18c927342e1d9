// Helpers the fuzz targets share: the builtin models' tokenizer, input bytes as a file for the
// readers that take a path, and the seeds a target writes for itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "bricks/model/tokenizer.h"

namespace bricks::fuzz {

// The tokenizer of the builtin models (`bricks make-model`, `bricks tokenize --builtin`):
// SentencePiece-style, 4096 tokens learnt from the training text, with <s> and </s>. Built
// once; shared by every input.
const model::Tokenizer& builtin_tokenizer();

// A file of this process's scratch directory (removed when the process exits normally),
// holding exactly `bytes`; it replaces what an earlier input wrote under that name.
std::filesystem::path write_scratch_file(const std::string& name, std::string_view bytes);

// Where seeds are written when the environment variable BRICKS_FUZZ_WRITE_SEEDS names a
// directory (tools/fuzz.sh sets it for targets whose seeds are binary and made by code).
// Calls `write` with that directory and exits the process; returns when the variable is unset.
void write_seeds_if_asked(const std::function<void(const std::filesystem::path& dir)>& write);

// Writes `bytes` to `dir`/`name`.
void write_file(const std::filesystem::path& dir, const std::string& name, std::string_view bytes);

}  // namespace bricks::fuzz
