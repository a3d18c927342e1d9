// simple_fcfs: a complete scheduler brick, written the way the SDK intends.
//
// What it does: first come, first served, without preemption. Each step it lets every
// running request compute its next tokens (a decode, or the rest of a chunked prompt), then
// admits waiting requests in arrival order while the step's token budget, the sequence
// limit and the KV reservation allow. A waiting request that does not fit stops admission
// (no overtaking), so requests start in the order they arrived.
//
// Why it never needs to preempt: it admits a request only when the KV pool can hold the
// whole remaining growth of every running request plus the new one (prompt and all of
// max_new_tokens). Running requests can then always get their next block. The price is
// lower occupancy than a scheduler that preempts, which is why the shipped `fcfs` does.
//
// Read in order: the params, the class (constructor, schedule, on_step_done, destructor),
// and the BRICKS_PLUGIN line at the end that exports it all.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "bricks/bricks.hpp"

namespace {

// The params a manifest may set. The host checks types and ranges against these specs and
// fills the defaults before the constructor runs, and `bricks inspect simple_fcfs` prints
// them, docs included.
const bricks_param_spec kParams[] = {
    bricks::param_int("max_num_seqs", 64, 1, 4096, "Most requests that compute in one step."),
    bricks::param_int("max_tokens_per_step", 2048, 1, 1 << 20,
                      "Most tokens (prompt chunks plus decodes) computed in one step."),
};

// Capabilities this brick needs from the bricks it is wired to: any kv brick manages blocks.
const char* const kRequires[] = {"kv.blocks"};

class SimpleFcfs : public bricks::Scheduler {
 public:
  // When: once, when the engine builds the bricks a manifest names, before any step.
  // May assume: every declared param is present, in range, with defaults filled. The kv
  // brick may not be wired yet, so it is looked up in schedule(), not here.
  // Throwing here (bricks::Error::invalid(...)) makes create fail with that message.
  SimpleFcfs(const bricks::Host& host, const bricks::Params& params)
      : bricks::Scheduler(host),
        max_num_seqs_(params.get_int("max_num_seqs")),
        max_tokens_(params.get_int("max_tokens_per_step")) {}

  // When: once per engine step, before the step computes anything.
  // May assume: `input.requests` holds every live request in arrival order and stays valid
  // for this call; the kv brick's state matches what earlier plans did; the previous plan's
  // arrays are no longer read. Must: allocate KV for every item it returns (through the
  // wired kv brick) and keep its limits. Arrays in `plan` stay ours until the next call.
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override {
    Kv kv = wired_kv();
    items_.clear();
    failed_.clear();
    reasons_.clear();

    const int64_t block = kv.vt->block_size(kv.instance);
    auto blocks_for = [block](int64_t tokens) { return (tokens + block - 1) / block; };

    int64_t budget = max_tokens_;
    int64_t reserved_blocks = 0;  // blocks the running requests may still need to finish
    int64_t running = 0;

    // 1. Running requests first: a decode is one token, a chunked prompt continues.
    for (int32_t i = 0; i < input.num_requests; ++i) {
      const bricks_request_view& r = input.requests[i];
      if (r.state != BRICKS_REQ_RUNNING) continue;
      ++running;
      int64_t n = std::min<int64_t>(r.num_tokens - r.num_computed, budget);
      if (n > 0 && allocate(kv, r, 0, n)) {
        items_.push_back({r.id, static_cast<int32_t>(n), 0});
        budget -= n;
      } else {
        n = 0;
      }
      reserved_blocks += blocks_for(int64_t{r.prompt_len} + r.max_new_tokens) -
                         blocks_for(int64_t{r.num_computed} + n);
    }

    const int64_t capacity_tokens = int64_t{kv_stats(kv).num_device_blocks} * block;

    // 2. Then waiting requests, oldest first, while they fit. Once one does not fit, the
    //    later ones wait too (no overtaking), but all are still checked for servability.
    bool admitting = true;
    for (int32_t i = 0; i < input.num_requests; ++i) {
      const bricks_request_view& r = input.requests[i];
      if (r.state != BRICKS_REQ_WAITING) continue;
      const int64_t whole = int64_t{r.prompt_len} + r.max_new_tokens;
      if (whole > capacity_tokens) {
        // Never servable: say so and let the others go on.
        reasons_.push_back("needs " + std::to_string(whole) + " tokens of KV but the pool holds " +
                           std::to_string(capacity_tokens));
        failed_.push_back({r.id, reasons_.back().c_str()});
        continue;
      }
      // Free blocks as of now, after every allocation made so far in this step.
      admitting = admitting && running < max_num_seqs_ && budget > 0 &&
                  kv_stats(kv).free_device_blocks >= reserved_blocks + blocks_for(whole);
      if (!admitting) continue;
      const int32_t cached = kv.vt->lookup_prefix(kv.instance, &r, 0);
      const int64_t n = std::min<int64_t>(r.num_tokens - r.num_computed - cached, budget);
      if (n <= 0 || !allocate(kv, r, cached, n)) {
        admitting = false;
        continue;
      }
      items_.push_back({r.id, static_cast<int32_t>(n), cached});
      budget -= n;
      ++running;
      reserved_blocks += blocks_for(whole) - blocks_for(int64_t{r.num_computed} + cached + n);
    }

    plan = bricks_step_plan{};
    plan.items = items_.data();
    plan.num_items = static_cast<int32_t>(items_.size());
    plan.failed = failed_.data();
    plan.num_failed = static_cast<int32_t>(failed_.size());
  }

  // When: after each step ran, with the requests that finished in it.
  // May assume: the host has already released their KV. Nothing to undo here; the count
  // is only for the log line below.
  void on_step_done(const bricks_step_result& result) override { finished_ += result.num_finished; }

  // When: once, when the engine shuts down; no call follows. Must not throw.
  ~SimpleFcfs() override { host().debug("finished " + std::to_string(finished_) + " requests"); }

 private:
  struct Kv {
    const bricks_kv_vtable* vt;
    void* instance;
  };

  // The kv brick the manifest wired to this scheduler, through the host API.
  Kv wired_kv() const {
    bricks_brick_ref ref = host().wired(BRICKS_KIND_KV);
    if (ref.instance == nullptr || ref.vtable == nullptr) {
      throw bricks::Error::invalid("simple_fcfs needs a kv brick: wire one to it in the manifest");
    }
    return {static_cast<const bricks_kv_vtable*>(ref.vtable), ref.instance};
  }

  static bricks_kv_stats kv_stats(const Kv& kv) {
    bricks_kv_stats stats{};
    stats.struct_size = sizeof stats;
    kv.vt->stats(kv.instance, &stats);
    return stats;
  }

  // Reserves KV for `n` more tokens of `r`; false when the pool is full.
  bool allocate(const Kv& kv, const bricks_request_view& r, int32_t cached, int64_t n) const {
    int32_t ok = 0;
    bricks_error* err = kv.vt->allocate(kv.instance, &r, 0, cached, static_cast<int32_t>(n), &ok);
    // The kv brick errs only on misuse, which would be a bug here: fail the step loudly.
    if (err != nullptr) {
      throw bricks::Error::internal("kv allocate refused request " + std::to_string(r.id));
    }
    return ok != 0;
  }

  int64_t max_num_seqs_;
  int64_t max_tokens_;
  int64_t finished_ = 0;
  std::vector<bricks_sched_item> items_;      // plan.items
  std::vector<bricks_sched_failure> failed_;  // plan.failed
  std::deque<std::string> reasons_;           // the failures' text; a deque keeps c_str() stable
};

}  // namespace

// The plugin's one exported symbol: its name, version and license, then each brick with
// its name, version, one-line summary, params and capabilities. The host reads this in a
// child process for `bricks list`, so it must only point at static data.
BRICKS_PLUGIN("minimal_example", "1.0.0", "Apache-2.0",
              bricks::describe<SimpleFcfs>("simple_fcfs", "1.0.0",
                                           "First come, first served, never preempts.")
                  .params(kParams)
                  .requires_caps(kRequires))
