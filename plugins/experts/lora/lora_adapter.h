// A LoRA adapter prepared for the host's model: per (layer, projection) the low-rank
// update in the layouts the apply kernel streams, with the scale folded in.
//
// Thread safety: immutable after build; apply() reads it and writes only `y`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bricks/abi.h"
#include "lora_files.h"

namespace bricks_lora {

// y[out] += Bt^T (At^T x) for one projection: the shrink reads At row by row (one row per
// input feature), the expand reads Bt row by row (one row per rank), both contiguous.
struct LoraUpdate {
  int32_t rank = 0;
  int32_t in_dim = 0, out_dim = 0;
  std::vector<float> at;  // [in_dim][rank]  = A^T
  std::vector<float> bt;  // [rank][out_dim] = scale * B^T
};

class LoraAdapter {
 public:
  // Checks `file` against `base` and prepares every pair. Throws bricks::Error naming the
  // file and the tensor: a half of a pair missing, a layer past the model, shapes that do
  // not fit the projection, ranks of A and B that differ.
  static std::unique_ptr<LoraAdapter> build(AdapterFile file, const bricks_adapter_base& base,
                                            float load_scale);

  // nullptr when the adapter leaves (layer, proj) alone.
  const LoraUpdate* at(int32_t layer, int32_t proj) const;
  const bricks_adapter_info& info() const { return info_; }

 private:
  LoraAdapter() = default;
  std::string format_;
  int32_t num_layers_ = 0;
  std::vector<std::unique_ptr<LoraUpdate>> updates_;  // [layer * BRICKS_PROJ_COUNT_ + proj]
  bricks_adapter_info info_{};
};

// The (in, out) dims of projection `proj` of `base`.
void proj_dims(const bricks_adapter_base& base, int32_t proj, int32_t* in, int32_t* out);

// Adds the updates of `adapters` to the rows of `batch` (the bricks_adapter_apply contract):
// for each adapter present, its rows are gathered, shrunk through A and expanded through
// B, one pass over each matrix per adapter. `scratch` is reused between calls.
void apply_updates(const std::vector<std::unique_ptr<LoraAdapter>>& adapters,
                   const bricks_adapter_apply& batch, std::vector<float>& scratch,
                   std::vector<int32_t>& rows);

}  // namespace bricks_lora
