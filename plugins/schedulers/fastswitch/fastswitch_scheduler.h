// scheduler/fastswitch: fairness-aware priority scheduling with fine-grained preemption
// (FastSwitch).
//
// Rank. Every live request has an effective priority (TenantLedger: request priority plus
// a tenant fairness term). The values are refreshed for every live request once every
// `priority_update_steps` steps; a request gets its value when first seen. Requests are
// ranked by effective priority (higher first), then arrival, then id.
//
// One step walks the ranking once, under `token_budget` tokens and `max_num_seqs` requests
// on the device:
//   - a running request computes its next tokens (a decode, or a prefill chunk of what the
//     budget leaves); when a block is missing it preempts running requests ranked below it,
//     lowest first; when none can be preempted it skips this step and keeps its KV;
//   - a swapped request is swapped in, and a waiting one admitted (after a prefix lookup,
//     chunked into the budget left), when a seat and its blocks are free; otherwise it may
//     *displace* running requests ranked below it whose effective priority is lower by at
//     least `preempt_margin` (lowest first), but only when enough of them exist to make
//     room: nothing is preempted in vain. When it cannot be placed, no request ranked below
//     it is brought onto the device this step (strict priority), though running requests
//     below it still compute.
// Protection against thrashing: a request that entered the device (admitted or swapped in)
// is not preempted for `min_run_steps` steps; a request preempted `displace_limit` times is
// no longer displaced (block shortage of running requests can still preempt it).
// Preemption swaps (preempt_mode swap or auto, kv brick with "kv.swap", host tier room;
// auto recomputes requests with fewer than `auto_recompute_tokens` computed tokens, whose
// swap costs more than their prefill) or releases the KV (recompute).
// A request whose sequence cannot fit the whole pool fails with a reason.
//
// Keeps per request only its effective priority, tenant and when it entered the device
// (in arrays by view position, carried from step to step by ViewCarry); per tenant its
// service. The ranking is carried over too and re-sorted only where requests arrived or a
// sort key (effective priority, arrival) changed.
//
// Cost of a step. The views are read once, by a pass that tallies states, tenants and
// arrivals, on refresh steps recomputes priorities, and compares the ids with the last
// step's so that ViewCarry need not read them itself. When requests arrived or left, the
// ViewCarry match reads the ids again, and a further pass recomputes priorities (as it does
// when a tenant changed). The walk of the ranking stops once admission is blocked (or the
// budget spent) and no running, swapped or refused waiting request is left below: the
// waiting requests left could neither be admitted nor fail, so a deep queue that cannot be
// admitted costs nothing per queued request beyond that pass. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bricks/block_count.hpp"
#include "bricks/bricks.hpp"
#include "bricks/kv_client.hpp"
#include "bricks/plan_buffers.hpp"
#include "bricks/view_carry.hpp"
#include "tenant_ledger.h"

namespace bricks::fastswitch {

enum class PreemptMode { kSwap, kRecompute, kAuto };

struct FastSwitchConfig {
  int32_t max_num_seqs = 128;
  int32_t token_budget = 2048;
  PreemptMode preempt_mode = PreemptMode::kAuto;
  FairnessWeights weights;
  int32_t priority_update_steps = 4;
  int32_t min_run_steps = 4;
  double preempt_margin = 1.0;
  int32_t auto_recompute_tokens = 32;
  int32_t displace_limit = 8;
};

class FastSwitchScheduler final : public Scheduler {
 public:
  FastSwitchScheduler(const Host& host, const Params& params);

  // Throws sched::KvError carrying the kv brick's own error when a kv call fails.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override;

 private:
  enum Mark : uint8_t { kPending, kScheduled, kPreempted, kFailed };
  struct Tracked {
    double effective = 0.0;
    bool has_effective = false;
    int64_t entered_step = INT64_MIN / 2;  // last admission or swap-in
  };

  void prepare();
  void rank(const bricks_sched_input& input);
  // The request at rank `pos` (view `index`, `r`) computes its next tokens.
  void serve_running(int32_t pos, int32_t index, const bricks_request_view& r);
  // After kv_.extend failed for `r` at rank `pos`: preempts running requests below it,
  // lowest first, until the extend succeeds. False when none is left to preempt.
  bool make_room(int32_t pos, const bricks_request_view& r, int32_t tokens);
  void serve_swapped(int32_t pos);
  void serve_waiting(int32_t pos);
  // Makes a seat (when `need_seat`) and `need_blocks` free device blocks for the request at
  // rank `pos` by displacing running requests below it. Preempts only when the estimate says
  // it will be enough; returns whether it preempted all it planned.
  bool displace_for(int32_t pos, bool need_seat, int64_t need_blocks);
  // The lowest-ranked running request below `pos` that may be preempted, or -1; with
  // `displacing`, only those that the request at `pos` may displace.
  int32_t victim_below(int32_t pos, bool displacing) const;
  bool preemptible(int32_t index) const;
  void preempt(int32_t index);
  void admit(int32_t index, int32_t tokens, int32_t cached);
  void fail(int32_t index, std::string reason);
  std::string too_big(const bricks_request_view& r, int64_t tokens) const;
  int64_t blocks_for(int64_t tokens) const { return count_(tokens); }
  int64_t free_blocks() const { return kv_.stats().free_device_blocks; }
  double effective(int32_t index) const { return tracked_[static_cast<size_t>(index)].effective; }
  // Whether waiting request `r` fails when its turn comes (sched::admit_refusal gives the
  // reason): it has no tokens, or more than fit_tokens(). One unsigned comparison.
  static bool refused(const bricks_request_view& r, uint64_t fit) {
    return static_cast<uint64_t>(static_cast<int64_t>(r.num_tokens) - 1) >= fit;
  }
  // Most tokens whose blocks fit the whole pool (capped past any int32 token count).
  uint64_t fit_tokens() const {
    const int64_t blocks = std::min<int64_t>(std::max<int64_t>(pool_blocks_, 0), int64_t{1} << 32);
    return static_cast<uint64_t>(blocks) * static_cast<uint64_t>(block_size_);
  }

  FastSwitchConfig config_;
  sched::KvClient kv_;
  TenantLedger ledger_;
  sched::ViewCarry carry_;
  std::vector<Tracked> tracked_, old_tracked_;  // [view index] this step's / the last step's
  // [view index] tenant as last seen, to tell when the tenant set changed; carried like
  // tracked_ (apart from it so that the per-step pass reads a dense array).
  std::vector<int32_t> tenants_, old_tenants_;
  int64_t last_refresh_step_ = INT64_MIN / 2;

  // Per-step state.
  const bricks_request_view* views_ = nullptr;
  int64_t step_ = 0;
  int32_t block_size_ = 1;
  sched::BlockCount count_;  // over block_size_
  int64_t pool_blocks_ = 0;
  int32_t budget_ = 0;
  int32_t num_running_ = 0;
  bool admit_blocked_ = false;
  std::vector<int32_t> order_;   // view indices, best rank first (kept between steps)
  std::vector<double> arrival_;  // [view index] the view's arrival_s, dense for sorting
  // Running and swapped requests in this step's ranking, and waiting ones that will fail
  // (refused()): the walk counts down those it has not reached yet.
  int32_t served_left_ = 0;
  int32_t refused_left_ = 0;
  std::vector<Mark> marks_;  // [view index]
  std::vector<int32_t> active_tenants_;
  sched::PlanBuffers buf_;
};

}  // namespace bricks::fastswitch
