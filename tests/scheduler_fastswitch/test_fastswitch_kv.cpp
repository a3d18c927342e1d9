// scheduler/fastswitch with kv/block_group: swaps in fewer, larger copies than kv/paged for
// the same workload, and the next turn of a conversation reuses the kept turn.
#include "fastswitch_fixture.h"

namespace bricks::testing {
namespace {

class FastSwitchKv : public FastSwitchTest {
 protected:
  // A pressure workload of growing requests with priorities, swap preemption.
  bricks_kv_stats swap_workload(const std::string& kv, std::vector<ParamSetting> kv_params) {
    make({int_param("max_num_seqs", 12), int_param("token_budget", 64),
          string_param("preempt_mode", "swap"), int_param("min_run_steps", 2)},
         kv, std::move(kv_params), 192, 192);
    if (HasFatalFailure()) return {};
    WorkloadShape shape;
    shape.num_requests = 48;
    shape.max_prompt = 96;
    shape.max_new = 120;
    shape.num_prefix_groups = 0;
    shape.arrival_spread = 60;
    for (SimRequestSpec& s : random_workload(7, shape)) {
      s.priority = static_cast<int32_t>(s.id % 4);
      e_->add(std::move(s));
    }
    e_->run(20000);
    EXPECT_FALSE(HasFailure());
    EXPECT_TRUE(e_->all_ended());
    EXPECT_GT(e_->counters().swap_preemptions, 5) << "the workload must swap to compare";
    return e_->kv_stats();
  }
};

TEST_F(FastSwitchKv, BlockGroupsSwapInFewerLargerCopiesThanPaged) {
  const bricks_kv_stats grouped =
      swap_workload("block_group", {int_param("block_size", 4), int_param("group_blocks", 8)});
  const bricks_kv_stats paged = swap_workload(
      "paged", {int_param("block_size", 4), bool_param("enable_prefix_cache", false)});
  ASSERT_FALSE(HasFailure());
  ASSERT_GT(paged.swap_copies, 0);
  ASSERT_GT(grouped.swap_copies, 0);
  const double grouped_run =
      static_cast<double>(grouped.blocks_swapped_out + grouped.blocks_swapped_in) /
      grouped.swap_copies;
  const double paged_run =
      static_cast<double>(paged.blocks_swapped_out + paged.blocks_swapped_in) / paged.swap_copies;
  EXPECT_EQ(grouped.blocks_swapped_out, paged.blocks_swapped_out) << "the same schedule";
  EXPECT_LT(grouped.swap_copies, paged.swap_copies);
  EXPECT_GT(grouped_run, 1.5 * paged_run) << "block groups move longer runs per copy";
}

TEST_F(FastSwitchKv, NextTurnReusesTheKeptConversation) {
  ASSERT_NO_FATAL_FAILURE(make({}, "block_group", {int_param("block_size", 4)}, 64, 32));
  SimRequestSpec turn1{1, 0, prompt(1, 20), 10};
  turn1.conversation = 7;
  e_->add(turn1);
  e_->run(100);
  ASSERT_EQ(e_->request(1).outcome, SimOutcome::kFinished);
  // Turn 2: turn 1's prompt and output, then new user text. Turn 1 computed 29 tokens.
  SimRequestSpec turn2{2, e_->steps(), e_->request(1).tokens, 4};
  for (int32_t i = 0; i < 8; ++i) turn2.prompt.push_back(9000 + i);
  turn2.conversation = 7;
  turn2.turn = 1;
  e_->add(turn2);
  SimRequestSpec stranger{3, e_->steps(), e_->request(1).tokens, 4};
  stranger.conversation = 8;
  e_->add(stranger);
  e_->run(100);
  ASSERT_FALSE(HasFailure());  // the engine checks the restored blocks hold turn 1's tokens
  ASSERT_TRUE(e_->all_ended());
  EXPECT_EQ(e_->counters().cached_tokens, 28) << "7 full blocks of turn 1, none for conv 8";
  EXPECT_EQ(e_->kv_stats().prefix_hit_tokens, 28);
}

}  // namespace
}  // namespace bricks::testing
