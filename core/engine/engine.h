// The engine: accepts requests, runs the step loop (schedule -> KV -> attention plan ->
// forward -> sample -> commit), streams tokens and records what happened to every request.
//
// Thread safety: one thread drives an Engine; the kernels use threads inside a step.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "bricks/model/model.h"
#include "engine/brick_calls.h"
#include "engine/device.h"
#include "engine/forward_batch.h"
#include "engine/kv_groups.h"
#include "engine/kv_pool.h"
#include "engine/request.h"
#include "engine/request_summary.h"
#include "engine/value_counts.h"

namespace bricks::engine {

struct EngineOptions {
  int64_t kv_cache_bytes = 256ll << 20;  // device tier
  int64_t host_kv_bytes = 0;             // host tier for swapped KV; 0 = none
  // A disk tier below the host tier (a device that stores KV only): its bytes, in a file
  // created unlinked in disk_dir. The kv brick sees host and disk blocks as one host tier.
  int64_t disk_kv_bytes = 0;
  std::filesystem::path disk_dir;
  bricks_dtype kv_dtype = BRICKS_DTYPE_F32;
  // Consecutive steps with live requests but nothing scheduled (and nothing arriving)
  // after which the waiting requests fail: a scheduler that cannot make progress must not
  // hang the run.
  int32_t max_idle_steps = 8;
  // Layers a pruner acts after (the device's pruning points): they split the KV cache into
  // groups (engine/kv_groups.h). Empty: one group.
  std::vector<int32_t> prune_layers;
};

// The bricks the engine itself drives; the device holds the ones it computes with.
struct EngineBricks {
  const host::BrickInstance* scheduler = nullptr;
  const host::BrickInstance* kv = nullptr;
};

// What the engine needs to know of the model: its shape, and its tokenizer for text,
// EOS and stop strings (none on the sim device: tokens are synthetic, there is no text).
struct EngineModel {
  model::LlamaConfig config;
  const model::Tokenizer* tokenizer = nullptr;
};

// Counters over the whole run.
struct EngineStats {
  int64_t steps = 0;
  int64_t batched_tokens = 0;      // tokens computed over all steps
  int64_t preemptions = 0;
  int64_t swapped_bytes = 0;
  double kv_util_sum = 0.0;        // sum over steps of used/total device blocks
  double kv_util_max = 0.0;
  double busy_s = 0.0;             // time inside steps
  double forward_s = 0.0;          // of which in the forward pass
};

// What one step did, for timelines (engine/step_trace.h). Times are on the engine clock.
struct StepEvent {
  int64_t step = 0;
  double start_s = 0, duration_s = 0;
  int32_t live = 0;                 // requests arrived and not ended when the step began
  int32_t prefill_seqs = 0, prefill_tokens = 0;  // prompt tokens (whole or a chunk)
  // Prompt tokens whose KV arrived computed (a disaggregated decode instance): allocated
  // and placed, not computed; not in prefill_tokens.
  int32_t arrived_tokens = 0;
  int32_t decode_seqs = 0;          // one generated token each (more with speculation)
  int32_t decode_tokens = 0;
  int32_t preempted = 0, swapped_in = 0, failed = 0;  // by the scheduler's plan
  int64_t copied_bytes = 0;         // KV moved between tiers in this step
  double kv_util = 0;               // device KV blocks in use after the step, 0..1
};
using StepCallback = std::function<void(const StepEvent&)>;

using TokenCallback = std::function<void(const Request&, int32_t token, std::string_view piece)>;
// Sees the next-token logits of a request just before sampling (fidelity checks, tests).
using LogitsCallback = std::function<void(const Request&, std::span<const float> logits)>;

class Engine {
 public:
  Engine(EngineModel model, EngineBricks bricks, const EngineOptions& options,
         std::unique_ptr<Device> device);
  ~Engine();

  // Accepts a request; it starts no earlier than spec.arrival_s on the engine clock.
  // A request that can never run (empty prompt, longer than the context, bad token ids)
  // is accepted and failed at once with the reason.
  uint64_t submit(RequestSpec spec);
  // Ends request `id` now if it has not ended: it fails with `reason`, marked cancelled,
  // its KV returns to the pool, and the scheduler hears of it in the next step's
  // on_step_done. Call between steps (from the thread that drives the engine). False when
  // no such request is live or waiting.
  bool cancel(uint64_t id, const std::string& reason);
  // Drops every ended request: ended() and ended_summaries() become empty, their memory
  // goes and finished_token_gaps() forgets their gaps. For a long-lived engine (a server)
  // that has already read what it needs of them.
  void drop_ended();
  // Whether an ended request stays whole in ended() (the default), or is dropped as soon as
  // the step, submit or cancel that ended it returns, leaving only its summary and its gaps
  // in finished_token_gaps(): for long runs that read nothing but the report (a simulated
  // million requests). ended() then stays empty between calls.
  void keep_ended_requests(bool keep);
  // Runs one step, or waits for the next arrival when nothing is live. False when every
  // submitted request has ended.
  bool step();
  // Steps until every request has ended, or until `stop` (asked before each step) says
  // true; `progress` is told after each step.
  void run_to_completion(const std::function<void(const Engine&)>& progress = {},
                         const std::function<bool()>& stop = {});

  void set_token_callback(TokenCallback cb) { on_token_ = std::move(cb); }
  void set_logits_callback(LogitsCallback cb) { on_logits_ = std::move(cb); }
  // Told after each step that ran (not after a wait for the next arrival).
  void set_step_callback(StepCallback cb) { on_step_ = std::move(cb); }
  const std::vector<const Request*>& ended() const { return ended_; }
  // One summary per ended request, in the order they ended (kept either way).
  const std::vector<RequestSummary>& ended_summaries() const { return summaries_; }
  size_t num_ended() const { return summaries_.size(); }
  // The gaps between consecutive tokens of every request that finished (failed ones and
  // those not ended left out): the report's ITL samples, exactly.
  ValueCounts finished_token_gaps() const;
  size_t num_submitted() const { return num_submitted_; }
  // Requests that have arrived and not ended, and those not yet arrived.
  size_t num_pending() const { return pending_.size(); }
  // The arrival time of the earliest request not admitted yet; +infinity when none is.
  double next_arrival() const;
  size_t num_live() const { return live_.size(); }
  const EngineStats& stats() const { return stats_; }
  bricks_kv_stats kv_stats() const { return kv_.stats(); }
  // The time KV copies between tiers took, and the part hidden behind the forward pass.
  KvCopyTime kv_copy_time() const { return device_->kv_copy_time(); }
  std::vector<TierTraffic> tier_traffic() const { return device_->tier_traffic(); }
  const KvPool& pool() const { return *pool_; }
  // Makes the KV pool's device blocks resident now (KvPool::fault_in); a server calls it
  // before its first request, which would otherwise pay for the pages it touches.
  size_t fault_in_kv() { return pool_->fault_in(); }
  double now() const { return device_->clock().now(); }
  Device& device() { return *device_; }
  const EngineModel& model() const { return model_; }
  // The KV groups the device's pruning stage allocates through (one group without pruning).
  KvGroups& kv_groups() { return *groups_; }

 private:
  void admit_arrivals();
  void apply_plan(const bricks_step_plan& plan, std::vector<Request*>& batch,
                  std::vector<int32_t>& counts);
  void execute(const std::vector<Request*>& batch, const std::vector<int32_t>& counts);
  // Fails the requests of the batch whose KV sits in blocks the disk tier lost, taking them
  // out of the batch; unmarks the blocks the batch writes from scratch.
  void drop_lost_kv(std::vector<Request*>& batch, std::vector<int32_t>& counts);
  void fail(Request& r, const std::string& reason);
  void finish(Request& r, FinishReason why);
  void emit_token(Request& r, int32_t token);
  bricks_request_view view_of(const Request& r) const;
  Request* find_live(uint64_t id);
  // The request `id` names, or null when there is none (never submitted, or dropped).
  Request* held(uint64_t id) const {
    return id >= 1 && id <= requests_.size() ? requests_[id - 1].get() : nullptr;
  }
  // Drops the requests in ended_ unless they are kept (keep_ended_requests).
  void release_ended();
  // Adds (sign 1) or takes back (-1) the gaps between the tokens of `r` in `gaps`.
  static void count_gaps(const Request& r, int64_t sign, ValueCounts& gaps);

  int32_t synthetic_token(Request& r);

  EngineModel model_;
  SchedulerCalls scheduler_;
  KvCalls kv_;
  EngineOptions options_;
  std::unique_ptr<Device> device_;
  Clock& clock_;
  std::unique_ptr<KvPool> pool_;
  std::unique_ptr<KvGroups> groups_;
  TokenCallback on_token_;
  LogitsCallback on_logits_;
  StepCallback on_step_;

  // Every request held, at id - 1 (ids count up from 1); null once dropped. A lookup by id
  // is an index, and a dropped request costs one pointer.
  std::vector<std::unique_ptr<Request>> requests_;
  std::deque<Request*> pending_;       // not yet arrived, by arrival time
  std::vector<Request*> live_;         // arrived and not ended, arrival order
  std::vector<const Request*> ended_;  // in the order they ended
  std::vector<RequestSummary> summaries_;  // of every ended request, in the order they ended
  // Gaps between consecutive tokens of every request that has not failed (added as the
  // tokens come, taken back when a request fails or is dropped).
  ValueCounts token_gaps_;
  bool keep_ended_ = true;
  uint64_t next_id_ = 1;
  size_t num_submitted_ = 0;
  int32_t idle_steps_ = 0;
  EngineStats stats_;

  // Step scratch, reused.
  std::vector<Request*> batch_requests_;
  std::vector<int32_t> batch_counts_;
  std::vector<bricks_request_view> views_;
  std::vector<bricks_kv_seq> seqs_;
  ForwardBatch batch_;
  std::vector<float> logits_;
  std::vector<float> logprob_row_;
  std::vector<uint64_t> finished_ids_;
};

}  // namespace bricks::engine
