#include "step_batch.h"

#include <algorithm>

#include "bricks/error.hpp"

namespace bricks::sched {

void StepBatch::bind(const bricks_brick_ref& ref) {
  if (kv.bound()) return;
  KvClient client;
  client.bind(ref, brick_);
  if (swap_ && !client.has_swap()) {
    throw Error::invalid(std::string("scheduler ") + brick_ +
                         ": preemption=swap needs a kv brick with capability kv.swap "
                         "(swap_out, swap_in, take_copies); wire one such as kv/paged or set "
                         "preemption: recompute");
  }
  kv = client;
}

void StepBatch::check_input(const bricks_sched_input& input) const {
  if (input.num_requests < 0 || (input.num_requests > 0 && input.requests == nullptr)) {
    throw Error::invalid(std::string("scheduler ") + brick_ +
                         ": schedule needs num_requests >= 0 and a request array");
  }
}

void StepBatch::read_pool() {
  block_size = kv.block_size();
  pool_blocks = kv.stats().num_device_blocks;
  if (block_size < 1 || pool_blocks < 1) {
    throw Error::invalid(std::string("scheduler ") + brick_ +
                         ": the wired kv brick reports no blocks; configure it before the "
                         "first schedule");
  }
  if (count_.block_size() != block_size) count_ = BlockCount(block_size);
}

void StepBatch::begin(const bricks_sched_input& input, int32_t step_budget) {
  check_input(input);
  buf.clear();
  budget = step_budget;
  preempted_any = false;
  views = input.requests;
  running.clear();
  waiting.clear();
  swapped.clear();
  for (int32_t i = 0; i < input.num_requests; ++i) {
    switch (views[i].state) {
      case BRICKS_REQ_RUNNING:
        running.push_back(i);
        break;
      case BRICKS_REQ_SWAPPED:
        swapped.push_back(i);
        break;
      default:
        waiting.push_back(i);
        break;
    }
  }
  marks.assign(running.size(), kUnscheduled);
  num_running = static_cast<int32_t>(running.size());
}

void StepBatch::preempt(size_t k) {
  const uint64_t id = views[running[k]].id;
  if (swap_ && kv.swap_out(id)) {
    buf.preempted.push_back({id, BRICKS_PREEMPT_SWAP});
  } else {
    // Recompute, also the fallback when the host tier is full.
    kv.release(id);
    buf.preempted.push_back({id, BRICKS_PREEMPT_RECOMPUTE});
  }
  marks[k] = kPreempted;
  --num_running;
  preempted_any = true;
}

void StepBatch::fail(int32_t index, std::string reason) {
  const uint64_t id = views[index].id;
  kv.release(id);
  buf.fail(id, std::move(reason));
}

std::string StepBatch::too_big(const bricks_request_view& r, int64_t tokens) const {
  return id_text(r.id) + " needs " + std::to_string(blocks_for(tokens)) + " KV blocks for " +
         std::to_string(tokens) + " tokens, more than the whole pool of " +
         std::to_string(pool_blocks) + " blocks of " + std::to_string(block_size) + " tokens";
}

bool StepBatch::allocate_running(size_t k, int32_t tokens) {
  const bricks_request_view& r = views[running[k]];
  while (!kv.extend(r, tokens)) {
    size_t victim = running.size();
    while (victim > 0 && marks[victim - 1] != kUnscheduled) --victim;
    // running[k] is unscheduled, so a victim always exists: the latest-arrived one.
    preempt(victim - 1);
    if (victim - 1 == k) return false;
  }
  return true;
}

void StepBatch::schedule_running(Phase phase, int32_t min_chunk) {
  for (size_t k = 0; k < running.size(); ++k) {
    if (marks[k] != kUnscheduled) continue;
    const int32_t index = running[k];
    const bricks_request_view& r = views[index];
    const int32_t left = r.num_tokens - r.num_computed;
    if (left <= 0) continue;
    if (phase != Phase::kAll && (left == 1) != (phase == Phase::kDecodes)) continue;
    if (budget <= 0) return;
    const int32_t tokens = std::min(left, budget);
    if (tokens < left && tokens < min_chunk) continue;  // a later step has more room
    const int64_t after = static_cast<int64_t>(r.num_computed) + tokens;
    if (blocks_for(after) > pool_blocks) {
      fail(index, too_big(r, after));
      marks[k] = kPreempted;
      --num_running;
      continue;
    }
    if (!allocate_running(k, tokens)) continue;
    marks[k] = kScheduled;
    buf.items.push_back({r.id, tokens, 0});
    budget -= tokens;
  }
}

}  // namespace bricks::sched
