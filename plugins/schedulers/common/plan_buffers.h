// The arrays of one step plan, owned by the scheduler and reused every step so that a
// steady state allocates nothing. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bricks/abi.h"

namespace bricks::sched {

struct PlanBuffers {
  std::vector<bricks_sched_item> items;
  std::vector<bricks_sched_preemption> preempted;
  std::vector<uint64_t> swapped_in;
  std::vector<bricks_sched_failure> failed;
  std::vector<std::string> reasons;  // failed[i].reason points into reasons[i] once published

  void clear();
  void fail(uint64_t id, std::string reason);
  // Points `plan` at the buffers; they stay valid until the next clear().
  void publish(bricks_step_plan& plan);
  // Tokens over all items.
  int64_t total_tokens() const;
};

}  // namespace bricks::sched
