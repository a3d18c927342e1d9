// Shared plumbing for the scheduler/batchllm policy suites: a scheduler wired to a kv brick
// on the simulated engine, prompts built from families of shared prefixes, and a run that
// records when each request was first admitted.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim_engine.h"

namespace bricks::testing {

// A prompt of `shared` tokens common to `family` followed by `own` tokens unique to `id`.
inline std::vector<int32_t> family_prompt(int32_t family, int32_t shared, uint64_t id,
                                          int32_t own) {
  std::vector<int32_t> t;
  for (int32_t i = 0; i < shared; ++i) t.push_back(1000 * (family + 1) + i);
  for (int32_t i = 0; i < own; ++i) t.push_back(100000 + static_cast<int32_t>(id) * 100 + i);
  return t;
}

struct Admission {
  uint64_t id = 0;
  int64_t step = 0;
  int32_t cached = 0;  // num_cached granted at the first admission
};

class BatchLlmTest : public ::testing::Test {
 protected:
  // `scheduler` with `params` wired to `kv` (block_size 4) over `blocks` device blocks.
  void make(const char* scheduler, std::vector<ParamSetting> params, const char* kv, int32_t blocks,
            SimLimits limits, int32_t host_blocks = 0) {
    e_.reset();
    kv_ = create_brick(BRICKS_KIND_KV, kv, {int_param("block_size", 4)});
    sched_ = create_brick(BRICKS_KIND_SCHEDULER, scheduler, params);
    ASSERT_NE(kv_, nullptr);
    ASSERT_NE(sched_, nullptr);
    sched_->wire(*kv_);
    e_ = std::make_unique<SimEngine>(*sched_, *kv_, SimGeometry{blocks, host_blocks}, limits);
    admissions_.clear();
    computed_ = 0;
  }
  // One step, recording first admissions and computed tokens.
  bool step() {
    if (!e_->step()) return false;
    for (const bricks_sched_item& it : e_->last().items) {
      computed_ += it.num_tokens;
      bool seen = false;
      for (const Admission& a : admissions_) seen = seen || a.id == it.request_id;
      if (!seen) admissions_.push_back({it.request_id, e_->steps() - 1, it.num_cached});
    }
    return true;
  }
  // Steps until every request ended; fails the test on a violation or after `bound` steps.
  void run_all(int64_t bound = 5000) {
    while (!e_->all_ended() && e_->steps() < bound) ASSERT_TRUE(step());
    ASSERT_TRUE(e_->all_ended()) << "requests still live after " << bound << " steps";
    for (const SimRequest& r : e_->requests()) {
      EXPECT_EQ(r.outcome, SimOutcome::kFinished) << "request " << r.spec.id << ": " << r.reason;
    }
  }
  std::vector<uint64_t> admission_order() const {
    std::vector<uint64_t> out;
    for (const Admission& a : admissions_) out.push_back(a.id);
    return out;
  }

  std::unique_ptr<HarnessBrick> kv_, sched_;
  std::unique_ptr<SimEngine> e_;
  std::vector<Admission> admissions_;
  int64_t computed_ = 0;  // tokens computed by all items so far
};

}  // namespace bricks::testing
