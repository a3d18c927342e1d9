#include "stall_free.h"

#include <algorithm>

#include "bricks/error.hpp"

namespace bricks::sched {

namespace {
std::string id_text(uint64_t id) { return "request " + std::to_string(id); }
}  // namespace

void StallFreeBatcher::prepare(const bricks_brick_ref& kv) {
  const std::string who = std::string("scheduler ") + config_.brick;
  if (!kv_.bound()) {
    KvClient client;
    client.bind(kv, config_.brick);
    if (config_.swap && !client.has_swap()) {
      throw Error::invalid(who +
                           ": preemption=swap needs a kv brick with capability kv.swap "
                           "(swap_out, swap_in, take_copies); wire one such as kv/paged or set "
                           "preemption: recompute");
    }
    kv_ = client;
  }
  block_size_ = kv_.block_size();
  pool_blocks_ = kv_.stats().num_device_blocks;
  if (block_size_ < 1 || pool_blocks_ < 1) {
    throw Error::invalid(who +
                         ": the wired kv brick reports no blocks; configure it before the "
                         "first schedule");
  }
}

int32_t StallFreeBatcher::num_decodes(const bricks_sched_input& input) {
  int32_t n = 0;
  for (int32_t i = 0; i < input.num_requests; ++i) {
    const bricks_request_view& r = input.requests[i];
    n += (r.state == BRICKS_REQ_RUNNING && r.num_tokens - r.num_computed == 1) ? 1 : 0;
  }
  return n;
}

void StallFreeBatcher::classify(const bricks_sched_input& input) {
  views_ = input.requests;
  running_.clear();
  waiting_.clear();
  swapped_.clear();
  for (int32_t i = 0; i < input.num_requests; ++i) {
    switch (views_[i].state) {
      case BRICKS_REQ_RUNNING:
        running_.push_back(i);
        break;
      case BRICKS_REQ_SWAPPED:
        swapped_.push_back(i);
        break;
      default:
        waiting_.push_back(i);
        break;
    }
  }
  marks_.assign(running_.size(), kUnscheduled);
  num_running_ = static_cast<int32_t>(running_.size());
}

void StallFreeBatcher::schedule(const bricks_sched_input& input, int32_t budget,
                                bricks_step_plan& plan) {
  if (input.num_requests < 0 || (input.num_requests > 0 && input.requests == nullptr)) {
    throw Error::invalid(std::string("scheduler ") + config_.brick +
                         ": schedule needs num_requests >= 0 and a request array");
  }
  buf_.clear();
  budget_cap_ = std::max(budget, 1);
  budget_ = budget_cap_;
  preempted_any_ = false;
  classify(input);

  schedule_running(true);
  schedule_running(false);
  if (!preempted_any_ && schedule_swapped()) admit_waiting();
  buf_.publish(plan);
}

void StallFreeBatcher::preempt(size_t k) {
  const uint64_t id = views_[running_[k]].id;
  if (config_.swap && kv_.swap_out(id)) {
    buf_.preempted.push_back({id, BRICKS_PREEMPT_SWAP});
  } else {
    // Recompute, also the fallback when the host tier is full.
    kv_.release(id);
    buf_.preempted.push_back({id, BRICKS_PREEMPT_RECOMPUTE});
  }
  marks_[k] = kPreempted;
  --num_running_;
  preempted_any_ = true;
}

void StallFreeBatcher::fail(int32_t index, std::string reason) {
  const uint64_t id = views_[index].id;
  kv_.release(id);
  buf_.fail(id, std::move(reason));
}

std::string StallFreeBatcher::too_big(const bricks_request_view& r, int64_t tokens) const {
  return id_text(r.id) + " needs " + std::to_string(blocks_for(tokens)) + " KV blocks for " +
         std::to_string(tokens) + " tokens, more than the whole pool of " +
         std::to_string(pool_blocks_) + " blocks of " + std::to_string(block_size_) + " tokens";
}

bool StallFreeBatcher::allocate_running(size_t k, int32_t tokens) {
  const bricks_request_view& r = views_[running_[k]];
  while (!kv_.allocate(r, 0, tokens)) {
    size_t victim = running_.size();
    while (victim > 0 && marks_[victim - 1] != kUnscheduled) --victim;
    // running_[k] is unscheduled, so a victim always exists: the latest-arrived one.
    preempt(victim - 1);
    if (victim - 1 == k) return false;
  }
  return true;
}

void StallFreeBatcher::schedule_running(bool decodes) {
  for (size_t k = 0; k < running_.size(); ++k) {
    if (marks_[k] != kUnscheduled) continue;
    const int32_t index = running_[k];
    const bricks_request_view& r = views_[index];
    const int32_t left = r.num_tokens - r.num_computed;
    if (left <= 0 || (left == 1) != decodes) continue;
    if (budget_ <= 0) return;
    const int32_t tokens = std::min(left, budget_);
    if (tokens < left && tokens < min_chunk()) continue;  // a later step has more room
    const int64_t after = static_cast<int64_t>(r.num_computed) + tokens;
    if (blocks_for(after) > pool_blocks_) {
      fail(index, too_big(r, after));
      marks_[k] = kPreempted;
      --num_running_;
      continue;
    }
    if (!allocate_running(k, tokens)) continue;
    marks_[k] = kScheduled;
    buf_.items.push_back({r.id, tokens, 0});
    budget_ -= tokens;
  }
}

bool StallFreeBatcher::schedule_swapped() {
  for (int32_t index : swapped_) {
    const bricks_request_view& r = views_[index];
    if (!kv_.has_swap()) {
      fail(index, id_text(r.id) + " is swapped out but the wired kv brick cannot swap in");
      continue;
    }
    if (blocks_for(r.num_tokens) > pool_blocks_) {
      fail(index, too_big(r, r.num_tokens));
      continue;
    }
    const int32_t left = std::max(r.num_tokens - r.num_computed, 0);
    const int32_t tokens = std::min(left, budget_);
    // Only when its next tokens fit too: swapping in a request that cannot compute would
    // just swap it out again at the next block shortage.
    if (num_running_ >= config_.max_num_seqs || (left > 0 && tokens <= 0) ||
        kv_.stats().free_device_blocks <
            blocks_for(static_cast<int64_t>(r.num_computed) + tokens) ||
        !kv_.swap_in(r.id)) {
      return false;
    }
    buf_.swapped_in.push_back(r.id);
    ++num_running_;
    // Cannot fail after the check above; if it does, the request runs next step.
    if (tokens > 0 && kv_.allocate(r, 0, tokens)) {
      buf_.items.push_back({r.id, tokens, 0});
      budget_ -= tokens;
    }
  }
  return true;
}

void StallFreeBatcher::admit_waiting() {
  for (int32_t index : waiting_) {
    const bricks_request_view& r = views_[index];
    if (r.num_tokens < 1) {
      fail(index, id_text(r.id) + " has no tokens to compute");
      continue;
    }
    if (blocks_for(r.num_tokens) > pool_blocks_) {
      fail(index, too_big(r, r.num_tokens));
      continue;
    }
    if (num_running_ >= config_.max_num_seqs || budget_ <= 0) return;
    int32_t cached = kv_.lookup_prefix(r);
    if (cached < 0 || cached >= r.num_tokens) cached = 0;
    const int32_t want = r.num_tokens - cached;
    const int32_t tokens = std::min(want, budget_);
    if (tokens < want && tokens < min_chunk()) return;  // keeps arrival order
    if (!kv_.allocate(r, cached, tokens)) return;
    buf_.items.push_back({r.id, tokens, cached});
    budget_ -= tokens;
    ++num_running_;
  }
}

}  // namespace bricks::sched
