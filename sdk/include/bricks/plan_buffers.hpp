// bricks/plan_buffers.hpp: the arrays of one step plan.
//
// A scheduler owns the arrays its plan points at until its next call (bricks_step_plan).
// PlanBuffers keeps them in member vectors reused every step, so that a steady state
// allocates nothing:
//
//   buf.clear();                          // first thing in schedule()
//   buf.items.push_back({r.id, n, cached});
//   buf.fail(r.id, "why, in one sentence");
//   buf.publish(plan);                    // last thing in schedule()
//
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bricks/abi.h"

namespace bricks::sched {

struct PlanBuffers {
  std::vector<bricks_sched_item> items;
  std::vector<bricks_sched_preemption> preempted;
  std::vector<uint64_t> swapped_in;
  std::vector<bricks_sched_failure> failed;
  std::vector<std::string> reasons;  // failed[i].reason points into reasons[i] once published

  void clear() {
    items.clear();
    preempted.clear();
    swapped_in.clear();
    failed.clear();
    reasons.clear();
  }
  // Fails request `id` with `reason` in this step's plan.
  void fail(uint64_t id, std::string reason) {
    failed.push_back({id, nullptr});
    reasons.push_back(std::move(reason));
  }
  // Points `plan` at the buffers; they stay valid until the next clear().
  void publish(bricks_step_plan& plan) {
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
  // Tokens over all items.
  int64_t total_tokens() const {
    int64_t n = 0;
    for (const bricks_sched_item& it : items) n += it.num_tokens;
    return n;
  }
};

}  // namespace bricks::sched
