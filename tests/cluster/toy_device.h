// A device of the cluster suites: a two-term cost model on a simulated clock that records
// what every step charged, so tests can tell what an instance computed.
//
//   step time = step_s + prefill_token_s * prefill tokens / tp + decode_seq_s * decodes / tp
//
// Tokens whose KV arrived precomputed (RequestSpec::kv_ready_tokens, before any recompute
// preemption) are not charged, as the sim device does.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/clock.h"
#include "engine/device.h"

namespace bricks::testing {

struct ToyCost {
  double step_s = 2e-3;
  double prefill_token_s = 1e-4;
  double decode_seq_s = 2e-4;
  int32_t tp = 1;
};

// Per engine request id: tokens computed, tokens it got for free (KV ready), steps it ran in.
struct ToyCharge {
  int64_t computed = 0;
  int64_t free = 0;
  int64_t steps = 0;
};

class ToyDevice final : public engine::Device {
 public:
  explicit ToyDevice(ToyCost cost, bool wall_clock = false)
      : cost_(cost), wall_clock_(wall_clock) {}

  engine::Clock& clock() override {
    return wall_clock_ ? static_cast<engine::Clock&>(wall_) : sim_;
  }
  bool computes_logits() const override { return false; }
  bool stores_kv() const override { return false; }
  void bind(engine::KvPool& pool) override { pool_ = &pool; }
  size_t copy_kv(const bricks_block_copy* copies, int32_t count) override {
    return pool_->copy(copies, count);
  }
  void forward(const engine::ForwardBatch& batch, const bricks_page_table& /*table*/,
               std::vector<float>& logits) override {
    int64_t prefill = 0, decodes = 0;
    for (int32_t b = 0; b < batch.num_seqs(); ++b) {
      const engine::Request& r = *batch.requests[b];
      const int32_t begin = batch.qo_indptr[b], end = batch.qo_indptr[b + 1];
      int32_t ready = 0;
      if (r.num_preemptions == 0 && r.spec.kv_ready_tokens > batch.positions[begin]) {
        ready = std::min(end - begin, r.spec.kv_ready_tokens - batch.positions[begin]);
      }
      const int32_t computed = end - begin - ready;
      ToyCharge& c = charges_[r.id];
      c.computed += computed;
      c.free += ready;
      ++c.steps;
      if (computed == 1) {
        ++decodes;
      } else {
        prefill += computed;
      }
    }
    const double dt = cost_.step_s + (cost_.prefill_token_s * static_cast<double>(prefill) +
                                      cost_.decode_seq_s * static_cast<double>(decodes)) /
                                         cost_.tp;
    if (!wall_clock_) sim_.advance(dt);
    logits.clear();
  }
  std::string describe() const override { return "toy"; }

  const std::map<uint64_t, ToyCharge>& charges() const { return charges_; }

 private:
  ToyCost cost_;
  bool wall_clock_;
  engine::SimClock sim_;
  engine::WallClock wall_;
  engine::KvPool* pool_ = nullptr;
  std::map<uint64_t, ToyCharge> charges_;
};

}  // namespace bricks::testing
