// simple_fcfs: a scheduler brick on the SDK's scheduler helpers. First come, first served,
// never preempting: running requests compute first, then waiting ones are admitted in arrival
// order while the token budget, max_num_seqs and the KV reservation allow: the free blocks must
// cover all that running requests and the new one may still grow, so none ever lacks a block.
#include <algorithm>
#include <string>

#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "bricks/kv_client.hpp"
#include "bricks/plan_buffers.hpp"
#include "bricks/scheduler_entry.hpp"

namespace {

// Checked, and defaults filled, by the host before the constructor runs. The two limits have
// the names every shipped scheduler uses, so `bricks conform` checks each plan against them.
const bricks_param_spec kParams[] = {
    bricks::param_int("max_num_seqs", 64, 1, 4096, "Most requests that compute in one step."),
    bricks::param_int("max_num_batched_tokens", 2048, 1, 1 << 20,
                      "Most tokens (prompt chunks plus decodes) computed in one step."),
};
// KvClient counts KV in blocks: the kv brick must keep it in blocks (every shipped one does).
const char* const kRequires[] = {BRICKS_CAP_KV_PAGED};

class SimpleFcfs : public bricks::Scheduler {
 public:
  // Once, when the engine builds the manifest's bricks: params are valid, nothing is wired.
  SimpleFcfs(const bricks::Host& host, const bricks::Params& params)
      : bricks::Scheduler(host),
        max_num_seqs_(params.get_int("max_num_seqs")),
        max_tokens_(params.get_int("max_num_batched_tokens")) {}

  // Once per step, with every live request in arrival order. Every item returned has its KV
  // allocated; the plan points into buf_, which stays valid until the next call.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override {
    if (!kv_.bound()) kv_.bind(host().wired(BRICKS_KIND_KV), "simple_fcfs");
    buf_.clear();
    auto blocks = [&](int64_t tokens) { return kv_.blocks_for(tokens); };
    // The most KV a request holds: all but its last token, which is sampled, never stored.
    auto peak = [](const bricks_request_view& r) {
      return int64_t{r.prompt_len} + r.max_new_tokens - 1;
    };
    int64_t budget = max_tokens_, running = 0, owed = 0;  // owed: blocks running ones may add
    for (int32_t i = 0; i < input.num_requests; ++i) {    // 1. running requests compute
      const bricks_request_view& r = input.requests[i];
      if (r.state != BRICKS_REQ_RUNNING) continue;
      ++running;
      int32_t n = static_cast<int32_t>(std::min<int64_t>(r.num_tokens - r.num_computed, budget));
      if (n <= 0 || !kv_.extend(r, n)) n = 0;
      if (n > 0) buf_.items.push_back({r.id, n, 0});
      budget -= n;
      owed += blocks(peak(r)) - blocks(r.num_computed + n);
    }
    const int64_t pool = int64_t{kv_.stats().num_device_blocks} * kv_.block_size();
    bool admitting = true;  // until one does not fit; later ones are still checked for size
    for (int32_t i = 0; i < input.num_requests; ++i) {  // 2. waiting ones, oldest first
      const bricks_request_view& r = input.requests[i];
      if (r.state != BRICKS_REQ_WAITING) continue;
      const int64_t whole = peak(r);
      if (whole > pool) {  // never servable: fail it, the others go on
        buf_.fail(r.id, std::to_string(whole) + " tokens of KV, more than the whole pool");
        continue;
      }
      admitting = admitting && running < max_num_seqs_ && budget > 0 &&
                  kv_.stats().free_device_blocks >= owed + blocks(whole);
      const int32_t cached = admitting ? kv_.lookup_prefix(r) : 0;
      const int32_t n =
          static_cast<int32_t>(std::min<int64_t>(r.num_tokens - r.num_computed - cached, budget));
      admitting = admitting && n > 0 && kv_.allocate(r, cached, n);
      if (!admitting) continue;
      buf_.items.push_back({r.id, n, cached});
      budget -= n;
      ++running;
      owed += blocks(whole) - blocks(int64_t{r.num_computed} + cached + n);
    }
    buf_.publish(plan);
  }

 private:
  int64_t max_num_seqs_, max_tokens_;
  bricks::sched::KvClient kv_;      // the wired kv brick; its own errors reach the host
  bricks::sched::PlanBuffers buf_;  // the plan's arrays, reused every step
};

}  // namespace

// The one exported symbol, read by the host in a child process: static data only.
BRICKS_PLUGIN("minimal_example", "1.0.0", "Apache-2.0",
              bricks::sched::describe_scheduler<SimpleFcfs>(
                  "simple_fcfs", "1.0.0", "First come, first served, never preempts.")
                  .params(kParams)
                  .requires_caps(kRequires))
