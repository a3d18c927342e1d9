// A model whose tensors are another model's with some replaced (merged checkpoints, an
// adapter baked into the weights), and writing any model back as a GGUF file.
//
// Thread safety: an OverlayModel is immutable after construction, like every Model.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bricks/model/model.h"

namespace bricks::model {

class OverlayModel final : public Model {
 public:
  // `source`'s config, tokenizer and tensors, except those named in `replacements`, whose
  // bytes replace the source's (same dtype and shape, so the same byte count). `path` is
  // what path() reports (error messages, reports). Throws ModelError naming a replacement
  // that is not a tensor of `source` or has the wrong byte count.
  OverlayModel(std::shared_ptr<const Model> source,
               std::map<std::string, std::vector<unsigned char>> replacements,
               std::filesystem::path path);
  ~OverlayModel() override;

  const Model& source() const { return *source_; }

 private:
  std::shared_ptr<const Model> source_;
  std::map<std::string, std::vector<unsigned char>> owned_;
};

// Writes `m` as a GGUF v3 file at `out`: the metadata (and alignment) of the GGUF file
// `metadata_from` (the tokenizer, the llama.* keys), then every tensor of `m` in its order
// with its dtype and shape. Written under a temporary name and renamed, so a failed write
// leaves no file. Throws ModelError (metadata_from not GGUF, write errors).
void write_model_gguf(const Model& m, const std::filesystem::path& metadata_from,
                      const std::filesystem::path& out);

// f32 values in the encoding of `dtype` (Q8_0: values.size() a multiple of 32).
std::vector<unsigned char> encode_f32(DType dtype, const std::vector<float>& values);

}  // namespace bricks::model
