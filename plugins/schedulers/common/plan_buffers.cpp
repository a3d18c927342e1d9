#include "plan_buffers.h"

namespace bricks::sched {

void PlanBuffers::clear() {
  items.clear();
  preempted.clear();
  swapped_in.clear();
  failed.clear();
  reasons.clear();
}

void PlanBuffers::fail(uint64_t id, std::string reason) {
  failed.push_back({id, nullptr});
  reasons.push_back(std::move(reason));
}

void PlanBuffers::publish(bricks_step_plan& plan) {
  // reasons may have reallocated while failures were added: point at them only now.
  for (size_t i = 0; i < failed.size(); ++i) failed[i].reason = reasons[i].c_str();
  plan.items = items.data();
  plan.num_items = static_cast<int32_t>(items.size());
  plan.preempted = preempted.data();
  plan.num_preempted = static_cast<int32_t>(preempted.size());
  plan.swapped_in = swapped_in.data();
  plan.num_swapped_in = static_cast<int32_t>(swapped_in.size());
  plan.failed = failed.data();
  plan.num_failed = static_cast<int32_t>(failed.size());
}

int64_t PlanBuffers::total_tokens() const {
  int64_t n = 0;
  for (const bricks_sched_item& it : items) n += it.num_tokens;
  return n;
}

}  // namespace bricks::sched
