// scheduler/splitfuse: DeepSpeed-FastGen's Dynamic SplitFuse.
//
// Every forward pass is filled to forward_size tokens when enough work exists: running
// decodes (one token each) first, then ongoing partial prompts, then new prompts in arrival
// order. A prompt longer than the room left is split at any token and continues in the next
// passes; shorter prompts are fused whole, several per pass (the shared rule of
// stall_free.h with no minimum chunk).
#pragma once

#include <cstdint>

#include "bricks/bricks.hpp"
#include "stall_free.h"

namespace bricks::splitfuse {

class SplitFuseScheduler final : public Scheduler {
 public:
  SplitFuseScheduler(const Host& host, const Params& params);

  // Throws sched::KvError carrying the kv brick's own error when a kv call fails.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override;

 private:
  int32_t forward_size_;
  sched::StallFreeBatcher batcher_;
};

}  // namespace bricks::splitfuse
