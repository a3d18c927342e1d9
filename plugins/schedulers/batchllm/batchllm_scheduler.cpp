#include "batchllm_scheduler.h"

#include <algorithm>

#include "bricks/capabilities.h"

namespace bricks::batchllm {

namespace {

BatchLlmConfig config_from(const Params& p) {
  BatchLlmConfig c;
  c.token_budget = static_cast<int32_t>(p.get_int("token_budget"));
  c.max_num_seqs = static_cast<int32_t>(p.get_int("max_num_seqs"));
  c.min_chunk = static_cast<int32_t>(p.get_int("min_chunk"));
  c.reserve_ratio = p.get_float("reserve_ratio");
  c.pin_prefixes = p.get_bool("pin_prefixes");
  c.preemption = p.get_string("preemption");
  c.min_group_size = static_cast<int32_t>(p.get_int("min_group_size"));
  c.min_prefix_blocks = static_cast<int32_t>(p.get_int("min_prefix_blocks"));
  if (c.token_budget < 1 || c.max_num_seqs < 1 || c.min_chunk < 1) {
    throw Error::invalid(
        "scheduler batchllm: token_budget, max_num_seqs and min_chunk must be >= 1");
  }
  if (!(c.reserve_ratio >= 0.0 && c.reserve_ratio <= 1.0)) {
    throw Error::invalid("scheduler batchllm: reserve_ratio " + std::to_string(c.reserve_ratio) +
                         " is outside [0, 1]; 0 admits on current tokens, 1 on the whole output");
  }
  if (c.preemption != "auto" && c.preemption != "recompute" && c.preemption != "swap") {
    throw Error::invalid("scheduler batchllm: preemption '" + c.preemption +
                         "' is not one of auto, recompute, swap");
  }
  if (c.min_group_size < 2 || c.min_prefix_blocks < 1) {
    throw Error::invalid(
        "scheduler batchllm: min_group_size must be >= 2 and min_prefix_blocks >= 1");
  }
  return c;
}

}  // namespace

BatchLlmScheduler::BatchLlmScheduler(const Host& host, const Params& params)
    : Scheduler(host), config_(config_from(params)), grouper_(GroupingRule{}) {}

void BatchLlmScheduler::prepare() {
  if (!kv_.bound()) {
    sched::KvClient client;
    client.bind(host().wired(BRICKS_KIND_KV), "batchllm");
    if (config_.preemption == "swap" && !client.has_swap()) {
      throw Error::invalid(
          "scheduler batchllm: preemption=swap needs a kv brick with capability " BRICKS_CAP_KV_SWAP
          " (swap_out, swap_in, take_copies); wire one such as kv/prefix_tree or set "
          "preemption: auto");
    }
    swap_ = config_.preemption == "swap" || (config_.preemption == "auto" && client.has_swap());
    kv_ = client;
  }
  const sched::KvPoolSize pool = sched::read_kv_pool(kv_, "batchllm");
  block_size_ = pool.block_size;
  pool_blocks_ = pool.blocks;
  if (count_.block_size() != block_size_) count_ = sched::BlockCount(block_size_);
  if (!grouper_ready_) {
    grouper_ =
        PrefixGrouper(GroupingRule{block_size_, config_.min_group_size, config_.min_prefix_blocks});
    grouper_ready_ = true;
  }
}

void BatchLlmScheduler::schedule(const bricks_sched_input& input, bricks_step_plan& plan) {
  prepare();
  if (input.num_requests < 0 || (input.num_requests > 0 && input.requests == nullptr)) {
    throw Error::invalid(
        "scheduler batchllm: schedule needs num_requests >= 0 and a request array");
  }
  place(input);
  buf_.clear();
  budget_cap_ = config_.token_budget;
  budget_ = budget_cap_;
  preempted_any_ = false;
  reserved_ = 0;
  running_reserved_ = false;
  classify(input);

  if (schedule_running(true)) schedule_running(false);
  if (!preempted_any_ && schedule_swapped()) admit_waiting();
  update_pin();
  buf_.publish(plan);
}

void BatchLlmScheduler::place(const bricks_sched_input& input) {
  const int32_t n = input.num_requests;
  const bricks_request_view* views = input.requests;
  carry_.match(views, n);
  // The same requests in the same order under the same grouping: every place carries over
  // as it is (the loop below would copy each one).
  places_kept_ = placed_generation_ == grouper_.generation() && carry_.unchanged() &&
                 rank_.size() == static_cast<size_t>(n);
  if (places_kept_) return;
  old_rank_.swap(rank_);
  old_group_.swap(group_);
  rank_.assign(static_cast<size_t>(n), INT64_MAX);
  group_.assign(static_cast<size_t>(n), -1);
  // Places from the last step hold while the grouping is the one they came from.
  const bool carried = placed_generation_ == grouper_.generation();
  bool unknown = false;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t p = carry_.prev(i);
    if (carried && p >= 0 && old_group_[static_cast<size_t>(p)] >= 0) {
      rank_[static_cast<size_t>(i)] = old_rank_[static_cast<size_t>(p)];
      group_[static_cast<size_t>(i)] = old_group_[static_cast<size_t>(p)];
      continue;
    }
    const Placement* at = grouper_.find(views[i].id);
    if (at == nullptr) {
      unknown = true;
      break;
    }
    rank_[static_cast<size_t>(i)] = at->rank;
    group_[static_cast<size_t>(i)] = at->group;
  }
  if (unknown) {
    grouper_.build(views, n);
    for (int32_t i = 0; i < n; ++i) {
      const Placement* at = grouper_.find(views[i].id);
      rank_[static_cast<size_t>(i)] = at != nullptr ? at->rank : INT64_MAX;
      group_[static_cast<size_t>(i)] = at != nullptr ? at->group : -1;
    }
  }
  placed_generation_ = grouper_.generation();
}

int32_t BatchLlmScheduler::prefix_of(int32_t group) const {
  return group < 0 ? 0 : grouper_.groups()[static_cast<size_t>(group)].prefix_tokens;
}

void BatchLlmScheduler::classify(const bricks_sched_input& input) {
  views_ = input.requests;
  auto by_rank = [&](int32_t a, int32_t b) {
    const int64_t ra = rank_[static_cast<size_t>(a)], rb = rank_[static_cast<size_t>(b)];
    return ra != rb ? ra < rb : a < b;
  };
  const int32_t n = input.num_requests;
  // States as running / swapped / waiting (anything else), and whether each was
  // preempted, read once from the views so that sorting reads only these.
  // When the places were kept and these are as in the last step too, every order below is
  // the one sorting would give again.
  bool same = places_kept_ && states_.size() == static_cast<size_t>(n);
  states_.resize(static_cast<size_t>(n));
  preempted_before_.resize(static_cast<size_t>(n));
  {
    // Raw pointers and a running difference keep this pass over every view (the whole
    // queue) free of reloads and branches.
    const bricks_request_view* const views = views_;
    uint8_t* const states = states_.data();
    uint8_t* const preempted_before = preempted_before_.data();
    uint32_t differ = 0;
    for (int32_t i = 0; i < n; ++i) {
      const bricks_request_state s = views[i].state;
      const uint8_t state = s == BRICKS_REQ_RUNNING || s == BRICKS_REQ_SWAPPED
                                ? static_cast<uint8_t>(s)
                                : static_cast<uint8_t>(BRICKS_REQ_WAITING);
      const uint8_t preempted = views[i].num_preemptions > 0 ? 1 : 0;
      differ |= static_cast<uint32_t>(states[i] ^ state) | (preempted_before[i] ^ preempted);
      states[i] = state;
      preempted_before[i] = preempted;
    }
    same = same && differ == 0;
  }
  auto in_state = [&](bricks_request_state state) {
    return [this, state](int32_t i) {
      return states_[static_cast<size_t>(i)] == static_cast<uint8_t>(state);
    };
  };
  if (!same) {
    carry_.sort_carried(running_, n, in_state(BRICKS_REQ_RUNNING), by_rank);
    carry_.sort_carried(swapped_, n, in_state(BRICKS_REQ_SWAPPED), by_rank);
    // Requests preempted by recompute come back before new ones: they already held KV once.
    carry_.sort_carried(waiting_, n, in_state(BRICKS_REQ_WAITING), [&](int32_t a, int32_t b) {
      const bool pa = preempted_before_[static_cast<size_t>(a)] != 0;
      const bool pb = preempted_before_[static_cast<size_t>(b)] != 0;
      return pa != pb ? pa : by_rank(a, b);
    });
  }
  marks_.assign(running_.size(), kUnscheduled);
  planned_.assign(running_.size(), 0);
  taken_.assign(waiting_.size(), 0);
  num_running_ = static_cast<int32_t>(running_.size());
  computing_.assign(grouper_.groups().size(), 0);
  computed_.assign(grouper_.groups().size(), 0);
  if (shared_generation_ != grouper_.generation()) {
    shared_generation_ = grouper_.generation();
    shared_prefixes_ = std::any_of(grouper_.groups().begin(), grouper_.groups().end(),
                                   [](const PrefixGroup& g) { return g.prefix_tokens > 0; });
  }
  if (!shared_prefixes_) return;  // no group shares a prefix: nothing is computing one
  for (int32_t index : running_) {
    const bricks_request_view& r = views_[index];
    const int32_t g = group_of(index);
    if (g < 0 || prefix_of(g) == 0) continue;
    (r.num_computed < prefix_of(g) ? computing_ : computed_)[static_cast<size_t>(g)] = 1;
  }
}

int64_t BatchLlmScheduler::projected_tokens(const bricks_request_view& r) const {
  const int64_t to_come = std::max(0, r.max_new_tokens - r.num_generated - 1);
  // std::ceil of a product in [0, 2^31), without the call to libm that it compiles to here.
  const double reserve = config_.reserve_ratio * static_cast<double>(to_come);
  int64_t up = static_cast<int64_t>(reserve);
  if (static_cast<double>(up) < reserve) ++up;
  return static_cast<int64_t>(r.num_tokens) + up;
}

void BatchLlmScheduler::preempt(size_t k) {
  const uint64_t id = views_[running_[k]].id;
  buf_.preempted.push_back({id, kv_.preempt(id, swap_)});
  marks_[k] = kPreempted;
  --num_running_;
  preempted_any_ = true;
}

void BatchLlmScheduler::fail(int32_t index, std::string reason) {
  const uint64_t id = views_[index].id;
  kv_.release(id);
  buf_.fail(id, std::move(reason));
}

std::string BatchLlmScheduler::too_big(const bricks_request_view& r, int64_t tokens) const {
  return sched::too_big_reason(r, tokens, count_, pool_blocks_);
}

bool BatchLlmScheduler::make_room(size_t k, int32_t tokens) {
  const bricks_request_view& r = views_[running_[k]];
  do {
    if (pin_id_ != 0) {  // a pin is only worth keeping while nothing runs short
      drop_pin();
      continue;
    }
    size_t victim = running_.size();
    while (victim > 0 && marks_[victim - 1] != kUnscheduled) --victim;
    // running_[k] is unscheduled, so a victim always exists: the latest in admission order.
    preempt(victim - 1);
    if (victim - 1 == k) return false;
  } while (!kv_.extend(r, tokens));
  return true;
}

bool BatchLlmScheduler::schedule_running(bool decodes) {
  // In locals, which the loop keeps in registers (the calls in it could change members as
  // far as the compiler knows); none of these arrays is resized during the phase.
  const bricks_request_view* const views = views_;
  const int32_t* const running = running_.data();
  Mark* const marks = marks_.data();
  const size_t n = running_.size();
  bool prefills = false;
  for (size_t k = 0; k < n; ++k) {
    if (marks[k] != kUnscheduled) continue;
    const int32_t index = running[k];
    const bricks_request_view& r = views[index];
    const int32_t left = r.num_tokens - r.num_computed;
    prefills = prefills || left > 1;
    if (left <= 0 || (left == 1) != decodes) continue;
    if (budget_ <= 0) return false;
    const int32_t tokens = std::min(left, budget_);
    if (tokens < left && tokens < min_chunk()) continue;  // a later step has more room
    const int64_t after = static_cast<int64_t>(r.num_computed) + tokens;
    if (blocks_for(after) > pool_blocks_) {
      fail(index, too_big(r, after));
      marks[k] = kPreempted;
      --num_running_;
      continue;
    }
    if (!kv_.extend(r, tokens) && !make_room(k, tokens)) continue;
    marks[k] = kScheduled;
    planned_[k] = tokens;
    buf_.items.push_back({r.id, tokens, 0});
    budget_ -= tokens;
  }
  return prefills && budget_ > 0;
}

int64_t BatchLlmScheduler::reserved() {
  if (running_reserved_) return reserved_;
  running_reserved_ = true;
  // marks_ and planned_ are final once the running phase is over, so this is the sum
  // taken right after it.
  for (size_t k = 0; k < running_.size(); ++k) {
    if (marks_[k] == kPreempted) continue;
    const bricks_request_view& r = views_[running_[k]];
    const int64_t held = blocks_for(static_cast<int64_t>(r.num_computed) + planned_[k]);
    reserved_ += std::max<int64_t>(0, blocks_for(projected_tokens(r)) - held);
  }
  return reserved_;
}

bool BatchLlmScheduler::schedule_swapped() {
  for (int32_t index : swapped_) {
    const bricks_request_view& r = views_[index];
    if (std::string why = sched::swap_in_refusal(kv_, r, count_, pool_blocks_); !why.empty()) {
      fail(index, std::move(why));
      continue;
    }
    const int32_t left = std::max(r.num_tokens - r.num_computed, 0);
    const int32_t tokens = std::min(left, budget_);
    const int64_t held = blocks_for(static_cast<int64_t>(r.num_computed) + tokens);
    // Only when its next tokens fit too: swapping in a request that cannot compute would
    // just swap it out again at the next block shortage.
    if (num_running_ >= config_.max_num_seqs || (left > 0 && tokens <= 0) ||
        kv_.stats().free_device_blocks < held || !kv_.swap_in(r.id)) {
      return false;
    }
    buf_.swapped_in.push_back(r.id);
    ++num_running_;
    reserved_ += std::max<int64_t>(0, blocks_for(projected_tokens(r)) - held);
    // Cannot fail after the check above; if it does, the request runs next step.
    if (tokens > 0 && kv_.allocate(r, 0, tokens)) {
      buf_.items.push_back({r.id, tokens, 0});
      budget_ -= tokens;
    }
  }
  return true;
}

void BatchLlmScheduler::admit_waiting() {
  for (size_t w = 0; w < waiting_.size(); ++w) {
    const int32_t index = waiting_[w];
    const bricks_request_view& r = views_[index];
    if (std::string why = sched::admit_refusal(r, count_, pool_blocks_); !why.empty()) {
      fail(index, std::move(why));
      taken_[w] = 1;
      continue;
    }
    if (num_running_ >= config_.max_num_seqs || budget_ <= 0) return;
    const int32_t group = group_of(index);
    const int32_t prefix = prefix_of(group);
    int32_t cached = kv_.lookup_prefix(r);
    if (cached < 0 || cached >= r.num_tokens || cached % block_size_ != 0) cached = 0;
    // A follower waits for the member computing the shared prefix, then takes it cached.
    if (prefix > 0 && cached < prefix && computing_[static_cast<size_t>(group)] &&
        !computed_[static_cast<size_t>(group)]) {
      return;
    }
    const int32_t want = r.num_tokens - cached;
    const int32_t tokens = std::min(want, budget_);
    if (tokens < want && tokens < min_chunk()) return;  // keeps the order
    // Memory-centric admission: the candidate's projected blocks (its shared prefix counted
    // once) and the growth reserved for the running ones must fit the free blocks. With
    // nothing running the request goes in as far as the pool allows.
    const int64_t peak = blocks_for(projected_tokens(r));
    if (num_running_ > 0 &&
        peak - cached / block_size_ + reserved() > kv_.stats().free_device_blocks) {
      return;
    }
    bool ok = kv_.allocate(r, cached, tokens);
    if (!ok && pin_id_ != 0) {
      drop_pin();  // the hit stays cached: nothing was allocated in between
      ok = kv_.allocate(r, cached, tokens);
    }
    if (!ok) return;
    buf_.items.push_back({r.id, tokens, cached});
    budget_ -= tokens;
    ++num_running_;
    taken_[w] = 1;
    reserved_ += std::max<int64_t>(0, peak - blocks_for(static_cast<int64_t>(cached) + tokens));
    if (prefix > 0 && cached < prefix) computing_[static_cast<size_t>(group)] = 1;
  }
}

void BatchLlmScheduler::update_pin() {
  if (!config_.pin_prefixes) return;
  size_t w = 0;
  while (w < waiting_.size() && taken_[w]) ++w;
  if (w == waiting_.size()) {
    drop_pin();
    return;
  }
  const bricks_request_view& head = views_[waiting_[w]];
  const int32_t prefix = prefix_of(group_of(waiting_[w]));
  if (prefix > 0 && head.tokens != nullptr && pin_id_ != 0 &&
      static_cast<int32_t>(pin_tokens_.size()) == prefix &&
      std::equal(pin_tokens_.begin(), pin_tokens_.end(), head.tokens)) {
    return;  // already pinned
  }
  drop_pin();
  if (prefix <= 0 || head.tokens == nullptr || kv_.lookup_prefix(head) < prefix) return;
  // A view of the prefix alone plus one token (the last token is never a hit): allocating
  // it with num_cached = prefix and num_new = 0 takes a reference on the cached blocks only.
  // The kv brick counts it in its prefix stats like a request, once per pinned prefix.
  bricks_request_view pin = head;
  pin.id = kPinIdBit | next_pin_++;
  pin.state = BRICKS_REQ_WAITING;
  pin.prompt_len = prefix + 1;
  pin.num_tokens = prefix + 1;
  pin.num_computed = 0;
  pin.num_generated = 0;
  pin.max_new_tokens = 1;
  if (!kv_.allocate(pin, prefix, 0)) return;
  pin_id_ = pin.id;
  pin_tokens_.assign(head.tokens, head.tokens + prefix);
}

void BatchLlmScheduler::drop_pin() {
  if (pin_id_ == 0) return;
  kv_.release(pin_id_);
  pin_id_ = 0;
  pin_tokens_.clear();
}

}  // namespace bricks::batchllm
