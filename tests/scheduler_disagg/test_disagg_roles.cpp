// scheduler/disagg: what each role puts in a step, on the simulated engine with kv/paged.
// (Both roles also run the whole scheduler conformance suite.)
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "sim_engine.h"

namespace bricks::testing {
namespace {

class DisaggRoles : public ::testing::Test {
 protected:
  void make(const char* role, std::vector<ParamSetting> params, int32_t blocks,
            SimLimits limits) {
    params.push_back(string_param("role", role));
    kv_ = create_brick(BRICKS_KIND_KV, "paged", {int_param("block_size", 4)});
    sched_ = create_brick(BRICKS_KIND_SCHEDULER, "disagg", params);
    ASSERT_NE(kv_, nullptr);
    ASSERT_NE(sched_, nullptr);
    sched_->wire(*kv_);
    e_ = std::make_unique<SimEngine>(*sched_, *kv_, SimGeometry{blocks, 0}, limits);
  }
  void add(uint64_t id, int64_t arrival, int32_t prompt, int32_t max_new) {
    std::vector<int32_t> tokens(static_cast<size_t>(prompt));
    for (int32_t i = 0; i < prompt; ++i) tokens[static_cast<size_t>(i)] = static_cast<int32_t>(id) * 1000 + i;
    e_->add({id, arrival, std::move(tokens), max_new});
  }
  int32_t tokens_of(uint64_t id) const {
    for (const auto& it : e_->last().items)
      if (it.request_id == id) return it.num_tokens;
    return 0;
  }
  // Requests with a generated token and one token left to compute: decodes.
  bool is_decode(uint64_t id) const {
    const SimRequest& r = e_->request(id);
    return r.outcome == SimOutcome::kLive && r.state == BRICKS_REQ_RUNNING && r.num_generated > 0 &&
           r.num_computed + 1 == static_cast<int32_t>(r.tokens.size());
  }
  int32_t running() const {
    int32_t n = 0;
    for (const SimRequest& r : e_->requests())
      n += r.outcome == SimOutcome::kLive && r.state == BRICKS_REQ_RUNNING ? 1 : 0;
    return n;
  }

  std::unique_ptr<HarnessBrick> kv_, sched_;
  std::unique_ptr<SimEngine> e_;
};

TEST_F(DisaggRoles, PrefillRoleRunsPrefillOnlyBatchesWhilePromptsWait) {
  ASSERT_NO_FATAL_FAILURE(make("prefill", {int_param("prefill_token_budget", 32),
                                           int_param("min_chunk", 4)},
                               256, {64, 32}));
  add(1, 0, 8, 6);
  add(2, 0, 8, 6);
  for (uint64_t id = 3; id <= 8; ++id) add(id, 2, 40, 2);  // a burst of long prompts
  int64_t mixed = 0, decode_steps_with_prompts_waiting = 0;
  while (!e_->all_ended() && e_->steps() < 400) {
    std::set<uint64_t> decodes;
    bool prompts_left = false;
    for (const SimRequest& r : e_->requests()) {
      if (is_decode(r.spec.id)) decodes.insert(r.spec.id);
      if (r.outcome == SimOutcome::kLive && r.spec.arrival_step <= e_->steps() &&
          r.num_generated == 0) {
        prompts_left = true;
      }
    }
    ASSERT_TRUE(e_->step());
    bool has_decode = false, has_prefill = false;
    for (const auto& it : e_->last().items) {
      (decodes.count(it.request_id) != 0 ? has_decode : has_prefill) = true;
    }
    mixed += has_decode && has_prefill ? 1 : 0;
    decode_steps_with_prompts_waiting += has_decode && prompts_left ? 1 : 0;
  }
  ASSERT_TRUE(e_->all_ended());
  EXPECT_EQ(mixed, 0) << "a prefill instance never mixes decodes into a prefill batch";
  EXPECT_EQ(decode_steps_with_prompts_waiting, 0) << "decodes wait while prompts do";
  for (const SimRequest& r : e_->requests()) EXPECT_EQ(r.outcome, SimOutcome::kFinished);
}

TEST_F(DisaggRoles, PrefillRoleChunksPromptsInArrivalOrderUnderItsBudget) {
  ASSERT_NO_FATAL_FAILURE(make("prefill", {int_param("prefill_token_budget", 24),
                                           int_param("min_chunk", 4)},
                               256, {64, 24}));
  add(1, 0, 50, 1);
  add(2, 0, 10, 1);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(tokens_of(1), 24);
  EXPECT_EQ(tokens_of(2), 0) << "the earlier prompt takes the whole budget";
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(tokens_of(1), 24);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(tokens_of(1), 2);
  EXPECT_EQ(tokens_of(2), 10);
  e_->run(100);
  EXPECT_TRUE(e_->all_ended());
  EXPECT_EQ(e_->request(1).num_generated, 1);
}

TEST_F(DisaggRoles, PrefillRoleCountsItsWaitingDecodesAgainstMaxNumSeqs) {
  ASSERT_NO_FATAL_FAILURE(make("prefill", {int_param("max_num_seqs", 3),
                                           int_param("prefill_token_budget", 64)},
                               256, {3, 64}));
  add(1, 0, 4, 20);
  add(2, 0, 4, 20);
  for (uint64_t id = 3; id <= 6; ++id) add(id, 1, 8, 1);
  while (!e_->all_ended() && e_->steps() < 400) {
    ASSERT_TRUE(e_->step());
    EXPECT_LE(running(), 3);
  }
  EXPECT_TRUE(e_->all_ended());
}

TEST_F(DisaggRoles, DecodeRoleRunsEveryDecodeThenAdmitsWholeRequestsThatFit) {
  // 24 blocks of 4: 96 tokens.
  ASSERT_NO_FATAL_FAILURE(make("decode", {int_param("decode_token_budget", 256)}, 24, {256, 256}));
  add(1, 0, 30, 10);  // a transferred request: prompt + first token, decoding 10 more
  add(2, 0, 30, 10);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(tokens_of(1), 30) << "admitted whole";
  EXPECT_EQ(tokens_of(2), 30);
  add(3, 1, 40, 4);  // does not fit beside them: 30+30+40 > 96 with their growth
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(tokens_of(1), 1);
  EXPECT_EQ(tokens_of(2), 1);
  EXPECT_EQ(tokens_of(3), 0) << "waits for KV instead of being chunked in";
  int64_t steps = 0;
  while (tokens_of(3) == 0 && steps++ < 100) ASSERT_TRUE(e_->step());
  EXPECT_EQ(tokens_of(3), 40) << "admitted whole once it fits";
  e_->run(200);
  EXPECT_TRUE(e_->all_ended());
  for (const SimRequest& r : e_->requests()) EXPECT_EQ(r.outcome, SimOutcome::kFinished);
}

TEST_F(DisaggRoles, DecodeRoleSplitsOnlyPromptsLongerThanItsBudget) {
  ASSERT_NO_FATAL_FAILURE(make("decode", {int_param("decode_token_budget", 32)}, 64, {64, 32}));
  add(1, 0, 70, 2);
  ASSERT_TRUE(e_->step());
  EXPECT_EQ(tokens_of(1), 32);
  e_->run(50);
  EXPECT_TRUE(e_->all_ended());
}

TEST(DisaggParams, DeclaresTheRoleAndThePlacementTheClusterReads) {
  std::unique_ptr<HarnessBrick> b = create_brick(BRICKS_KIND_SCHEDULER, "disagg");
  ASSERT_NE(b, nullptr);
  std::set<std::string> names;
  const bricks_brick_desc& d = b->desc();
  for (int32_t i = 0; i < d.num_params; ++i) names.insert(d.params[i].name);
  for (const char* want : {"role", "prefill_instances", "decode_instances", "prefill_tp",
                           "decode_tp", "link", "link_gbps", "link_latency_us", "kv_transfer",
                           "prefill_token_budget", "decode_token_budget"}) {
    EXPECT_EQ(names.count(want), 1u) << want;
  }
}

}  // namespace
}  // namespace bricks::testing
