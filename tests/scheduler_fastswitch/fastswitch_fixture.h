// Shared setup of the scheduler/fastswitch suites: the scheduler wired to a kv brick on the
// simulated engine, and request builders.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim_engine.h"

namespace bricks::testing {

class FastSwitchTest : public ::testing::Test {
 public:
  // fastswitch with `params` wired to `kv` (with `kv_params`) over the given tiers.
  void make(std::vector<ParamSetting> params, const std::string& kv,
            std::vector<ParamSetting> kv_params, int32_t device_blocks, int32_t host_blocks) {
    SimLimits limits{128, 2048};
    for (const auto& p : params) {
      if (p.name == "max_num_seqs") limits.max_num_seqs = static_cast<int32_t>(p.value.i);
      if (p.name == "token_budget") limits.max_num_batched_tokens = static_cast<int32_t>(p.value.i);
    }
    kv_ = create_brick(BRICKS_KIND_KV, kv, kv_params);
    sched_ = create_brick(BRICKS_KIND_SCHEDULER, "fastswitch", params);
    ASSERT_NE(kv_, nullptr);
    ASSERT_NE(sched_, nullptr);
    sched_->wire(*kv_);
    e_ =
        std::make_unique<SimEngine>(*sched_, *kv_, SimGeometry{device_blocks, host_blocks}, limits);
  }
  static std::vector<int32_t> prompt(uint64_t id, int32_t len) {
    std::vector<int32_t> t;
    for (int32_t i = 0; i < len; ++i) t.push_back(static_cast<int32_t>(id) * 1000 + i);
    return t;
  }
  void add(uint64_t id, int64_t arrival, int32_t len, int32_t max_new, int32_t priority = 0,
           int32_t tenant = 0) {
    SimRequestSpec s{id, arrival, prompt(id, len), max_new};
    s.priority = priority;
    s.tenant = tenant;
    e_->add(std::move(s));
  }
  bool preempted_in_last(uint64_t id, bricks_preempt_mode* mode = nullptr) const {
    for (const auto& p : e_->last().preempted) {
      if (p.request_id != id) continue;
      if (mode != nullptr) *mode = p.mode;
      return true;
    }
    return false;
  }
  int32_t tokens_in_last(uint64_t id) const {
    for (const auto& it : e_->last().items) {
      if (it.request_id == id) return it.num_tokens;
    }
    return 0;
  }
  // Steps `n` times; false on a contract violation.
  bool steps(int32_t n) {
    for (int32_t i = 0; i < n; ++i) {
      if (!e_->step()) return false;
    }
    return true;
  }

  std::unique_ptr<HarnessBrick> kv_, sched_;
  std::unique_ptr<SimEngine> e_;
};

}  // namespace bricks::testing
