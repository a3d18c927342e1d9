// The format loaders behind Model::open.
#pragma once

#include <filesystem>
#include <memory>

#include "bricks/model/model.h"

namespace bricks::model {

class GgufFile;

std::unique_ptr<Model> open_gguf(const std::filesystem::path& path);
std::unique_ptr<Model> open_safetensors_dir(const std::filesystem::path& dir);
// The tokenizer described by a GGUF file's tokenizer.ggml.* keys; nullptr when it has none.
std::unique_ptr<Tokenizer> gguf_tokenizer(const GgufFile& file);

}  // namespace bricks::model
