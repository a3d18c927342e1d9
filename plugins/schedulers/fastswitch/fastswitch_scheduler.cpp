#include "fastswitch_scheduler.h"

#include <algorithm>
#include <type_traits>

#include "bricks/capabilities.h"

namespace bricks::fastswitch {

namespace {

PreemptMode parse_mode(const std::string& mode) {
  if (mode == "swap") return PreemptMode::kSwap;
  if (mode == "recompute") return PreemptMode::kRecompute;
  if (mode == "auto") return PreemptMode::kAuto;
  throw Error::invalid("scheduler fastswitch: preempt_mode '" + mode +
                       "' is not one of swap, recompute, auto");
}

}  // namespace

FastSwitchScheduler::FastSwitchScheduler(const Host& host, const Params& params) : Scheduler(host) {
  config_.max_num_seqs = static_cast<int32_t>(params.get_int("max_num_seqs"));
  config_.token_budget = static_cast<int32_t>(params.get_int("token_budget"));
  config_.preempt_mode = parse_mode(params.get_string("preempt_mode"));
  config_.weights.priority_weight = params.get_float("priority_weight");
  config_.weights.fairness_weight = params.get_float("fairness_weight");
  config_.weights.fairness_quantum = params.get_float("fairness_quantum");
  config_.priority_update_steps = static_cast<int32_t>(params.get_int("priority_update_steps"));
  config_.min_run_steps = static_cast<int32_t>(params.get_int("min_run_steps"));
  config_.preempt_margin = params.get_float("preempt_margin");
  config_.auto_recompute_tokens = static_cast<int32_t>(params.get_int("auto_recompute_tokens"));
  config_.displace_limit = static_cast<int32_t>(params.get_int("displace_limit"));
  if (config_.max_num_seqs < 1 || config_.token_budget < 1 || config_.priority_update_steps < 1 ||
      config_.min_run_steps < 0 || config_.displace_limit < 0 ||
      config_.auto_recompute_tokens < 0) {
    throw Error::invalid(
        "scheduler fastswitch: max_num_seqs, token_budget and priority_update_steps must be "
        ">= 1; min_run_steps, displace_limit and auto_recompute_tokens >= 0");
  }
  if (!(config_.weights.fairness_quantum > 0.0) || config_.weights.priority_weight < 0.0 ||
      config_.weights.fairness_weight < 0.0 || config_.preempt_margin < 0.0) {
    throw Error::invalid(
        "scheduler fastswitch: fairness_quantum must be > 0; priority_weight, fairness_weight "
        "and preempt_margin >= 0");
  }
  ledger_ = TenantLedger(config_.weights);
}

void FastSwitchScheduler::prepare() {
  if (!kv_.bound()) {
    sched::KvClient client;
    client.bind(host().wired(BRICKS_KIND_KV), "fastswitch");
    if (config_.preempt_mode == PreemptMode::kSwap && !client.has_swap()) {
      throw Error::invalid(
          "scheduler fastswitch: preempt_mode=swap needs a kv brick with "
          "capability " BRICKS_CAP_KV_SWAP
          " (swap_out, swap_in, take_copies); wire one such as kv/block_group or set "
          "preempt_mode: auto or recompute");
    }
    kv_ = client;
  }
  const sched::KvPoolSize pool = sched::read_kv_pool(kv_, "fastswitch");
  block_size_ = pool.block_size;
  pool_blocks_ = pool.blocks;
  if (count_.block_size() != block_size_) count_ = sched::BlockCount(block_size_);
}

// admit and serve_running are defined before the walk and kept small so that they are
// inlined there: its common case is a running request whose next tokens fit the blocks it
// holds. make_room is the rare rest.
inline void FastSwitchScheduler::admit(int32_t index, int32_t tokens, int32_t cached) {
  const bricks_request_view& r = views_[index];
  buf_.items.push_back({r.id, tokens, cached});
  budget_ -= tokens;
  ledger_.charge(r.tenant, tokens);
  marks_[static_cast<size_t>(index)] = kScheduled;
}

inline void FastSwitchScheduler::serve_running(int32_t pos, int32_t index,
                                               const bricks_request_view& r) {
  const int32_t left = r.num_tokens - r.num_computed;
  if (left <= 0 || budget_ <= 0) return;
  const int32_t tokens = std::min(left, budget_);
  const int64_t after = static_cast<int64_t>(r.num_computed) + tokens;
  if (blocks_for(after) > pool_blocks_) {
    fail(index, too_big(r, after));
    return;
  }
  if (!kv_.extend(r, tokens) && !make_room(pos, r, tokens)) return;
  admit(index, tokens, 0);
}

bool FastSwitchScheduler::make_room(int32_t pos, const bricks_request_view& r, int32_t tokens) {
  do {
    const int32_t victim = victim_below(pos, false);
    if (victim < 0) return false;  // waits with its KV until a block frees up
    preempt(victim);
  } while (!kv_.extend(r, tokens));
  return true;
}

void FastSwitchScheduler::schedule(const bricks_sched_input& input, bricks_step_plan& plan) {
  prepare();
  if (input.num_requests < 0 || (input.num_requests > 0 && input.requests == nullptr)) {
    throw Error::invalid(
        "scheduler fastswitch: schedule needs num_requests >= 0 and a request array");
  }
  views_ = input.requests;
  step_ = input.step;
  buf_.clear();
  budget_ = config_.token_budget;
  admit_blocked_ = false;
  rank(input);

  // In locals, which the walk keeps in registers (the calls in it could change members as
  // far as the compiler knows); none of these arrays is resized during the walk.
  const int32_t* const order = order_.data();
  const int32_t ranked = static_cast<int32_t>(order_.size());
  const bricks_request_view* const views = views_;
  const Mark* const marks = marks_.data();
  const uint64_t fit = fit_tokens();
  int32_t served_left = served_left_, refused_left = refused_left_;
  for (int32_t pos = 0; pos < ranked; ++pos) {
    // What is left are waiting requests that can neither be admitted nor fail: done.
    if (served_left == 0 && refused_left == 0 && (admit_blocked_ || budget_ <= 0)) break;
    const int32_t index = order[pos];
    const bricks_request_view& r = views[index];
    if (r.state == BRICKS_REQ_RUNNING || r.state == BRICKS_REQ_SWAPPED) {
      --served_left;
    } else if (refused(r, fit)) {
      --refused_left;
    }
    if (marks[index] != kPending) continue;
    switch (r.state) {
      case BRICKS_REQ_RUNNING:
        serve_running(pos, index, r);
        break;
      case BRICKS_REQ_SWAPPED:
        serve_swapped(pos);
        break;
      default:
        serve_waiting(pos);
        break;
    }
  }

  buf_.publish(plan);
}

void FastSwitchScheduler::rank(const bricks_sched_input& input) {
  const int32_t count = input.num_requests;
  const size_t n = static_cast<size_t>(count);
  // As many requests as in the last step are most likely the same ones in the same order:
  // the pass below then compares the ids on its way, in place of a read of every view by
  // carry_.match, and falls back to the match at the first id that differs.
  const bool speculate = carry_.num_last_ids() == count && tracked_.size() == n;
  bool moved = false;    // tracked_ and tenants_ moved to this step's view positions
  bool missing = false;  // a request without an effective priority yet
  const auto move_tracked = [&] {
    moved = true;
    old_tracked_.swap(tracked_);
    old_tenants_.swap(tenants_);
    tracked_.resize(n);
    tenants_.resize(n);
    for (int32_t i = 0; i < count; ++i) {
      const int32_t p = carry_.prev(i);
      const bool known = p >= 0 && static_cast<size_t>(p) < old_tracked_.size();
      tracked_[static_cast<size_t>(i)] = known ? old_tracked_[static_cast<size_t>(p)] : Tracked{};
      tenants_[static_cast<size_t>(i)] = known ? old_tenants_[static_cast<size_t>(p)] : 0;
      missing = missing || !tracked_[static_cast<size_t>(i)].has_effective;
    }
  };
  if (!speculate) {
    carry_.match(views_, count);
    move_tracked();
  }
  bool same_tenants = speculate || carry_.unchanged();
  const bool refresh = step_ - last_refresh_step_ >= config_.priority_update_steps;
  if (refresh) last_refresh_step_ = step_;
  // Whether a sort key may differ from the one order_ was sorted by in the last step.
  bool keys_changed =
      (!speculate && !carry_.unchanged()) || order_.size() != n || arrival_.size() != n;
  arrival_.resize(n);
  marks_.assign(n, kPending);
  // The same requests as in the last step (every one has its effective priority): the
  // tenant set most likely stands, so the ledger starts the step as such and a refresh is
  // done in the pass below. Should a tenant or a request turn out changed, the ledger starts
  // again and the priorities are computed again after the pass.
  const bool optimistic = !moved;
  if (optimistic) ledger_.begin_step_same_tenants();
  const bool refresh_in_pass = optimistic && refresh;
  // One pass over views [from, n); what it reads and counts is held in locals so that the
  // loop keeps them in registers, and it is compiled for each use (with or without the
  // refresh, with or without the id check) to keep the common case small. With the check it
  // stops at the first view whose id is not the last step's at its position, and returns
  // where it stopped.
  const bricks_request_view* const views = views_;
  const uint64_t fit = fit_tokens();
  int32_t running = 0, served = 0, refusals = 0;
  // Requests of one tenant and priority come in runs: the last pair's priority is reused.
  int32_t last_priority = 0, last_tenant = 0;
  double last_effective = 0;
  bool have_last = false;
  const auto pass = [&](size_t from, auto with_refresh, auto check_ids) {
    constexpr bool kRefresh = decltype(with_refresh)::value;
    constexpr bool kCheckIds = decltype(check_ids)::value;
    Tracked* const tracked = tracked_.data();
    int32_t* const tenants = tenants_.data();
    double* const arrival = arrival_.data();
    const uint64_t* const last_ids = carry_.last_ids();
    bool tenants_same = true, keys_same = true;
    int32_t run = 0, serve = 0, refuse = 0;
    size_t i = from;
    for (; i < n; ++i) {
      const bricks_request_view& r = views[i];
      if constexpr (kCheckIds) {
        if (r.id != last_ids[i]) break;
      }
      if (tenants[i] != r.tenant) {
        tenants_same = false;
        tenants[i] = r.tenant;
      }
      if (arrival[i] != r.arrival_s) {
        arrival[i] = r.arrival_s;
        keys_same = false;
      }
      if constexpr (kRefresh) {
        if (!have_last || r.priority != last_priority || r.tenant != last_tenant) {
          last_priority = r.priority;
          last_tenant = r.tenant;
          last_effective = ledger_.effective_priority(r.priority, r.tenant);
          have_last = true;
        }
        if (!(tracked[i].effective == last_effective)) {
          tracked[i].effective = last_effective;
          keys_same = false;
        }
      }
      const bricks_request_state state = r.state;
      run += state == BRICKS_REQ_RUNNING ? 1 : 0;
      serve += state == BRICKS_REQ_RUNNING || state == BRICKS_REQ_SWAPPED ? 1 : 0;
      refuse +=
          state != BRICKS_REQ_RUNNING && state != BRICKS_REQ_SWAPPED && refused(r, fit) ? 1 : 0;
    }
    same_tenants = same_tenants && tenants_same;
    keys_changed = keys_changed || !keys_same;
    running += run;
    served += serve;
    refusals += refuse;
    return i;
  };
  if (!speculate) {
    pass(size_t{0}, std::false_type{}, std::false_type{});
  } else {
    const size_t stop = refresh_in_pass ? pass(size_t{0}, std::true_type{}, std::true_type{})
                                        : pass(size_t{0}, std::false_type{}, std::true_type{});
    if (stop == n) {
      carry_.keep();
    } else {
      // A request arrived or left. The views before `stop` kept their positions, so what the
      // pass wrote for them is carried to where it belongs; the rest is passed over as a
      // step whose requests moved (the priorities it computed are computed again below).
      carry_.match(views_, count);
      move_tracked();
      same_tenants = false;
      keys_changed = true;
      pass(stop, std::false_type{}, std::false_type{});
    }
  }
  num_running_ = running;
  served_left_ = served;
  refused_left_ = refusals;
  if (!same_tenants) {
    active_tenants_.assign(tenants_.begin(), tenants_.end());
    ledger_.begin_step(active_tenants_);
  } else if (!optimistic) {
    ledger_.begin_step_same_tenants();
  }
  if ((refresh || missing) && !(refresh_in_pass && same_tenants)) {
    // What the pass computed (if anything) was under a ledger that has since changed.
    if (refresh_in_pass) keys_changed = true;
    have_last = false;
    for (size_t i = 0; i < n; ++i) {
      Tracked& t = tracked_[i];
      if (!refresh && t.has_effective) continue;
      const bricks_request_view& r = views_[i];
      if (!have_last || r.priority != last_priority || r.tenant != last_tenant) {
        last_priority = r.priority;
        last_tenant = r.tenant;
        last_effective = ledger_.effective_priority(r.priority, r.tenant);
        have_last = true;
      }
      if (!t.has_effective || !(t.effective == last_effective)) keys_changed = true;
      t.effective = last_effective;
      t.has_effective = true;
    }
  }
  // The same requests in the same order with the same sort keys: order_ was sorted by these
  // keys in the last step, so it stands as it is.
  if (!keys_changed) return;
  carry_.sort_carried(
      order_, count, [](int32_t) { return true; },
      [&](int32_t a, int32_t b) {
        const double ea = effective(a), eb = effective(b);
        if (ea != eb) return ea > eb;
        if (arrival_[static_cast<size_t>(a)] != arrival_[static_cast<size_t>(b)])
          return arrival_[static_cast<size_t>(a)] < arrival_[static_cast<size_t>(b)];
        return views_[a].id < views_[b].id;
      });
}

bool FastSwitchScheduler::preemptible(int32_t index) const {
  const size_t i = static_cast<size_t>(index);
  // Protected while it entered the device less than min_run_steps ago. Only a request
  // running when the step began qualifies, and its entered_step does not change during
  // the step (only admissions and swap-ins set it), so this is read when needed.
  return views_[index].state == BRICKS_REQ_RUNNING && marks_[i] == kPending &&
         step_ - tracked_[i].entered_step >= config_.min_run_steps;
}

int32_t FastSwitchScheduler::victim_below(int32_t pos, bool displacing) const {
  const double limit = effective(order_[static_cast<size_t>(pos)]) - config_.preempt_margin;
  for (int32_t p = static_cast<int32_t>(order_.size()) - 1; p > pos; --p) {
    const int32_t index = order_[static_cast<size_t>(p)];
    // Ranked by effective priority: every request further up is at least as high.
    if (displacing && effective(index) > limit) return -1;
    if (!preemptible(index)) continue;
    if (displacing && views_[index].num_preemptions >= config_.displace_limit) continue;
    return index;
  }
  return -1;
}

bool FastSwitchScheduler::displace_for(int32_t pos, bool need_seat, int64_t need_blocks) {
  const int64_t free = free_blocks();
  if (!need_seat && free >= need_blocks) return true;
  const double limit = effective(order_[static_cast<size_t>(pos)]) - config_.preempt_margin;
  std::vector<int32_t> picks;
  int64_t freed = 0;
  for (int32_t p = static_cast<int32_t>(order_.size()) - 1; p > pos; --p) {
    const int32_t index = order_[static_cast<size_t>(p)];
    if (effective(index) > limit) break;
    if (!preemptible(index) || views_[index].num_preemptions >= config_.displace_limit) continue;
    picks.push_back(index);
    freed += blocks_for(views_[index].num_computed);
    if (free + freed >= need_blocks) break;
  }
  if (picks.empty() || free + freed < need_blocks) return false;
  for (int32_t index : picks) preempt(index);
  return true;
}

void FastSwitchScheduler::preempt(int32_t index) {
  const bricks_request_view& r = views_[index];
  bool swapped = false;
  if (config_.preempt_mode != PreemptMode::kRecompute && kv_.has_swap() &&
      (config_.preempt_mode == PreemptMode::kSwap ||
       r.num_computed >= config_.auto_recompute_tokens)) {
    swapped = kv_.swap_out(r.id);  // false when the host tier is full: recompute instead
  }
  if (!swapped) kv_.release(r.id);
  buf_.preempted.push_back({r.id, swapped ? BRICKS_PREEMPT_SWAP : BRICKS_PREEMPT_RECOMPUTE});
  marks_[static_cast<size_t>(index)] = kPreempted;
  --num_running_;
}

void FastSwitchScheduler::fail(int32_t index, std::string reason) {
  const bricks_request_view& r = views_[index];
  if (r.state == BRICKS_REQ_RUNNING) --num_running_;
  kv_.release(r.id);
  buf_.fail(r.id, std::move(reason));
  marks_[static_cast<size_t>(index)] = kFailed;
}

std::string FastSwitchScheduler::too_big(const bricks_request_view& r, int64_t tokens) const {
  return sched::too_big_reason(r, tokens, count_, pool_blocks_);
}

void FastSwitchScheduler::serve_swapped(int32_t pos) {
  const int32_t index = order_[static_cast<size_t>(pos)];
  const bricks_request_view& r = views_[index];
  if (std::string why = sched::swap_in_refusal(kv_, r, count_, pool_blocks_); !why.empty()) {
    fail(index, std::move(why));
    return;
  }
  if (admit_blocked_ || budget_ <= 0) return;
  const int32_t left = std::max(r.num_tokens - r.num_computed, 0);
  const int32_t tokens = std::min(left, budget_);
  // Its next tokens must fit too: a request swapped in that cannot compute would only be
  // swapped out again at the next shortage.
  const int64_t need = blocks_for(static_cast<int64_t>(r.num_computed) + tokens);
  for (int attempt = 0;; ++attempt) {
    const bool seat = num_running_ < config_.max_num_seqs;
    if (seat && free_blocks() >= need && kv_.swap_in(r.id)) {
      buf_.swapped_in.push_back(r.id);
      ++num_running_;
      marks_[static_cast<size_t>(index)] = kScheduled;
      tracked_[static_cast<size_t>(index)].entered_step = step_;
      // Cannot fail after the check above; if it does, the request computes next step.
      if (tokens > 0 && kv_.allocate(r, 0, tokens)) admit(index, tokens, 0);
      return;
    }
    const bool room = attempt == 0 ? displace_for(pos, !seat, need) : [&] {
      const int32_t victim = victim_below(pos, true);
      if (victim >= 0) preempt(victim);
      return victim >= 0;
    }();
    if (!room) {
      admit_blocked_ = true;
      return;
    }
  }
}

void FastSwitchScheduler::serve_waiting(int32_t pos) {
  const int32_t index = order_[static_cast<size_t>(pos)];
  const bricks_request_view& r = views_[index];
  if (std::string why = sched::admit_refusal(r, count_, pool_blocks_); !why.empty()) {
    fail(index, std::move(why));
    return;
  }
  if (admit_blocked_ || budget_ <= 0) return;
  for (int attempt = 0;; ++attempt) {
    // Looked up again after each preemption: releasing a victim may change what is cached.
    int32_t cached = kv_.lookup_prefix(r);
    if (cached < 0 || cached >= r.num_tokens) cached = 0;
    const int32_t tokens = std::min(r.num_tokens - cached, budget_);
    const bool seat = num_running_ < config_.max_num_seqs;
    if (seat && kv_.allocate(r, cached, tokens)) {
      ++num_running_;
      tracked_[static_cast<size_t>(index)].entered_step = step_;
      admit(index, tokens, cached);
      return;
    }
    const bool room =
        attempt == 0 ? displace_for(pos, !seat, blocks_for(static_cast<int64_t>(cached) + tokens))
                     : [&] {
                         const int32_t victim = victim_below(pos, true);
                         if (victim >= 0) preempt(victim);
                         return victim >= 0;
                       }();
    if (!room) {
      admit_blocked_ = true;
      return;
    }
  }
}

}  // namespace bricks::fastswitch
