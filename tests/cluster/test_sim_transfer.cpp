// The sim device and transferred KV: a decode instance's request whose prompt KV arrived
// from a prefill instance costs one decode over its context, not a prefill of its prompt.
#include <gtest/gtest.h>

#include <vector>

#include "engine/sim_device.h"
#include "sim/gpu_presets.h"
#include "sim/model_presets.h"

namespace bricks::testing {
namespace {

class SimTransfer : public ::testing::Test {
 protected:
  SimTransfer()
      : model_(sim::gpu_preset("a100-80gb"), sim::model_preset("opt-13b")),
        device_(model_, {}),
        pool_(engine::KvShape{2, 1, 8, 16, BRICKS_DTYPE_F16}, 256, 0, false) {
    device_.bind(pool_);
  }
  // One step computing all of `r`'s tokens; returns the step's modelled seconds.
  double step_of(const engine::Request& r) {
    engine::ForwardBatch b;
    b.clear();
    b.requests.push_back(&r);
    for (int32_t p = 0; p < r.num_tokens(); ++p) {
      b.token_ids.push_back(r.tokens[static_cast<size_t>(p)]);
      b.positions.push_back(p);
      b.slots.push_back(p);
    }
    b.qo_indptr.push_back(r.num_tokens());
    b.logit_rows.push_back(r.num_tokens() - 1);
    std::vector<float> logits;
    device_.forward(b, bricks_page_table{}, logits);
    return device_.last_step().total_s;
  }
  static engine::Request transferred(int32_t prompt) {
    engine::Request r;
    r.spec.prompt.assign(static_cast<size_t>(prompt + 1), 9);  // prompt + first token
    r.spec.kv_ready_tokens = prompt;
    r.tokens = r.spec.prompt;
    return r;
  }

  sim::CostModel model_;
  engine::SimDevice device_;
  engine::KvPool pool_;
};

TEST_F(SimTransfer, TransferredTokensCostNoCompute) {
  const engine::Request r = transferred(600);
  const sim::SeqWork decode{1, 601};
  EXPECT_DOUBLE_EQ(step_of(r), model_.step({&decode, 1}, 1).total_s);
  const sim::SeqWork prefill{601, 601};
  EXPECT_LT(step_of(r), model_.step({&prefill, 1}, 1).total_s / 3)
      << "a 600-token prefill on OPT-13B costs several decodes";
}

TEST_F(SimTransfer, ARecomputeAfterPreemptionComputesEverything) {
  engine::Request r = transferred(600);
  r.num_preemptions = 1;  // its transferred KV was released
  const sim::SeqWork prefill{601, 601};
  EXPECT_DOUBLE_EQ(step_of(r), model_.step({&prefill, 1}, 1).total_s);
}

TEST_F(SimTransfer, ARequestWithoutTransferredKvIsUnchanged) {
  engine::Request r = transferred(100);
  r.spec.kv_ready_tokens = 0;
  const sim::SeqWork prefill{101, 101};
  EXPECT_DOUBLE_EQ(step_of(r), model_.step({&prefill, 1}, 1).total_s);
}

}  // namespace
}  // namespace bricks::testing
