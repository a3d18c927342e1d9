// The tokens of one engine step, flattened in batch order, as a device computes them.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/request.h"

namespace bricks::engine {

struct ForwardBatch {
  std::vector<const Request*> requests;  // [B] the sequences, in batch order
  std::vector<int32_t> token_ids;   // [T]
  std::vector<int32_t> positions;   // [T] absolute position in its sequence
  std::vector<int32_t> slots;       // [T] KV slot (block * block_size + offset)
  std::vector<int32_t> qo_indptr;   // [B+1] tokens of sequence b: qo_indptr[b]..qo_indptr[b+1]
  std::vector<int32_t> logit_rows;  // rows of T whose next-token logits are wanted

  int32_t num_seqs() const { return static_cast<int32_t>(requests.size()); }
  int64_t num_tokens() const { return static_cast<int64_t>(token_ids.size()); }
  void clear();
};

}  // namespace bricks::engine
