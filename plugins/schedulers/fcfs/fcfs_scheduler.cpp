#include "fcfs_scheduler.h"

#include <algorithm>

namespace bricks::fcfs {

namespace {
std::string id_text(uint64_t id) { return "request " + std::to_string(id); }
}  // namespace

FcfsScheduler::FcfsScheduler(const Host& host, const Params& params)
    : Scheduler(host),
      max_num_seqs_(static_cast<int32_t>(params.get_int("max_num_seqs"))),
      max_num_batched_tokens_(static_cast<int32_t>(params.get_int("max_num_batched_tokens"))),
      swap_mode_(params.get_string("preemption") == "swap"),
      chunked_(params.get_bool("enable_chunked_prefill")) {
  const std::string mode = params.get_string("preemption");
  if (mode != "recompute" && mode != "swap") {
    throw Error::invalid("scheduler fcfs: preemption '" + mode + "' is not one of recompute, swap");
  }
  if (max_num_seqs_ < 1 || max_num_batched_tokens_ < 1) {
    throw Error::invalid("scheduler fcfs: max_num_seqs and max_num_batched_tokens must be >= 1");
  }
}

void FcfsScheduler::schedule(const bricks_sched_input& input, bricks_step_plan& plan) {
  if (!kv_.bound()) {
    KvClient kv;
    kv.bind(host().wired(BRICKS_KIND_KV), "fcfs");
    if (swap_mode_ && !kv.has_swap()) {
      throw Error::invalid(
          "scheduler fcfs: preemption=swap needs a kv brick with capability kv.swap "
          "(swap_out, swap_in, take_copies); wire one such as kv/paged or set "
          "preemption: recompute");
    }
    kv_ = kv;
  }
  if (input.num_requests < 0 || (input.num_requests > 0 && input.requests == nullptr)) {
    throw Error::invalid("scheduler fcfs: schedule needs num_requests >= 0 and a request array");
  }
  block_size_ = kv_.block_size();
  pool_blocks_ = kv_.stats().num_device_blocks;
  if (block_size_ < 1 || pool_blocks_ < 1) {
    throw Error::invalid(
        "scheduler fcfs: the wired kv brick reports no blocks; configure it "
        "before the first schedule");
  }

  views_ = input.requests;
  budget_ = max_num_batched_tokens_;
  preempted_any_ = false;
  running_.clear();
  waiting_.clear();
  swapped_.clear();
  items_.clear();
  preempted_.clear();
  swapped_in_.clear();
  failed_.clear();
  reasons_.clear();
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
  num_running_ = static_cast<int32_t>(running_.size());

  if (chunked_) {
    schedule_running();
    const bool all_back = preempted_any_ ? false : schedule_swapped_all();
    if (!preempted_any_ && all_back) schedule_prefills();
  } else {
    const bool prefilled = swapped_.empty() && schedule_prefills();
    if (!prefilled) {
      schedule_running();
      if (!preempted_any_) schedule_swapped_all();
    }
  }

  for (size_t i = 0; i < failed_.size(); ++i) failed_[i].reason = reasons_[i].c_str();
  plan.items = items_.data();
  plan.num_items = static_cast<int32_t>(items_.size());
  plan.preempted = preempted_.data();
  plan.num_preempted = static_cast<int32_t>(preempted_.size());
  plan.swapped_in = swapped_in_.data();
  plan.num_swapped_in = static_cast<int32_t>(swapped_in_.size());
  plan.failed = failed_.data();
  plan.num_failed = static_cast<int32_t>(failed_.size());
}

void FcfsScheduler::preempt(int32_t index) {
  const uint64_t id = req(index).id;
  if (swap_mode_ && kv_.swap_out(id)) {
    preempted_.push_back({id, BRICKS_PREEMPT_SWAP});
  } else {
    // Recompute, also the fallback when the host tier is full.
    kv_.release(id);
    preempted_.push_back({id, BRICKS_PREEMPT_RECOMPUTE});
  }
  --num_running_;
  preempted_any_ = true;
}

void FcfsScheduler::fail(int32_t index, std::string reason) {
  const uint64_t id = req(index).id;
  kv_.release(id);
  failed_.push_back({id, nullptr});
  reasons_.push_back(std::move(reason));
}

std::string FcfsScheduler::too_big(const bricks_request_view& r, int64_t tokens) const {
  return id_text(r.id) + " needs " + std::to_string(blocks_for(tokens)) + " KV blocks for " +
         std::to_string(tokens) + " tokens, more than the whole pool of " +
         std::to_string(pool_blocks_) + " blocks of " + std::to_string(block_size_) + " tokens";
}

void FcfsScheduler::schedule_running() {
  size_t end = running_.size();
  for (size_t k = 0; k < end; ++k) {
    const int32_t index = running_[k];
    const bricks_request_view& r = req(index);
    const int32_t left = r.num_tokens - r.num_computed;
    if (left <= 0) continue;
    if (budget_ <= 0) break;
    const int32_t tokens = std::min(left, budget_);
    const int64_t after = static_cast<int64_t>(r.num_computed) + tokens;
    if (blocks_for(after) > pool_blocks_) {
      fail(index, too_big(r, after));
      --num_running_;
      continue;
    }
    bool preempted_self = false;
    while (!kv_.allocate(r, 0, tokens)) {
      if (end > k + 1) {
        preempt(running_[--end]);
      } else {
        preempt(index);
        preempted_self = true;
        break;
      }
    }
    if (preempted_self) break;
    items_.push_back({r.id, tokens, 0});
    budget_ -= tokens;
  }
}

bool FcfsScheduler::schedule_swapped_all() {
  for (int32_t index : swapped_) {
    const bricks_request_view& r = req(index);
    if (!kv_.has_swap()) {
      fail(index, id_text(r.id) + " is swapped out but the wired kv brick cannot swap in");
      continue;
    }
    if (blocks_for(r.num_tokens) > pool_blocks_) {
      fail(index, too_big(r, r.num_tokens));
      continue;
    }
    const int32_t tokens = std::min(std::max(r.num_tokens - r.num_computed, 0), budget_);
    // Only when its next tokens fit too: swapping in a request that cannot compute would
    // just swap it out again at the next block shortage.
    if (num_running_ >= max_num_seqs_ ||
        kv_.stats().free_device_blocks <
            blocks_for(static_cast<int64_t>(r.num_computed) + tokens) ||
        !kv_.swap_in(r.id)) {
      return false;
    }
    swapped_in_.push_back(r.id);
    ++num_running_;
    if (tokens > 0) {
      // Cannot fail after the check above; if it does, the request runs next step.
      if (kv_.allocate(r, 0, tokens)) {
        items_.push_back({r.id, tokens, 0});
        budget_ -= tokens;
      }
    }
  }
  return true;
}

bool FcfsScheduler::schedule_prefills() {
  bool any = false;
  if (!chunked_) {
    // Recomputes longer than the budget run in chunks; finish those first.
    for (int32_t index : running_) {
      const bricks_request_view& r = req(index);
      const int32_t left = r.num_tokens - r.num_computed;
      if (left <= 1) continue;
      if (budget_ <= 0) return any;
      const int32_t tokens = std::min(left, budget_);
      if (blocks_for(static_cast<int64_t>(r.num_computed) + tokens) > pool_blocks_ ||
          !kv_.allocate(r, 0, tokens)) {
        return any;
      }
      items_.push_back({r.id, tokens, 0});
      budget_ -= tokens;
      any = true;
    }
  }
  for (int32_t index : waiting_) {
    const bricks_request_view& r = req(index);
    if (r.num_tokens < 1) {
      fail(index, id_text(r.id) + " has no tokens to compute");
      continue;
    }
    if (blocks_for(r.num_tokens) > pool_blocks_) {
      fail(index, too_big(r, r.num_tokens));
      continue;
    }
    if (!chunked_ && r.prompt_len > max_num_batched_tokens_) {
      fail(index, id_text(r.id) + " has a prompt of " + std::to_string(r.prompt_len) +
                      " tokens, more than max_num_batched_tokens=" +
                      std::to_string(max_num_batched_tokens_) +
                      "; raise it or set enable_chunked_prefill");
      continue;
    }
    if (num_running_ >= max_num_seqs_ || budget_ <= 0) break;
    int32_t cached = kv_.lookup_prefix(r);
    if (cached < 0 || cached >= r.num_tokens) cached = 0;
    const int32_t want = r.num_tokens - cached;
    int32_t tokens = want;
    if (want > budget_) {
      // A recompute of prompt + output may exceed the budget though the prompt did not:
      // it runs in chunks so that preemption never turns into failure.
      if (!chunked_ && want <= max_num_batched_tokens_) break;
      tokens = budget_;
    }
    if (!kv_.allocate(r, cached, tokens)) break;
    items_.push_back({r.id, tokens, cached});
    budget_ -= tokens;
    ++num_running_;
    any = true;
    if (tokens < want) break;
  }
  return any;
}

}  // namespace bricks::fcfs
