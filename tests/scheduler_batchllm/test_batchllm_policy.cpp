// scheduler/batchllm: prefix groups admitted together, decode-ratio order, and the prompt
// tokens a shared-prefix batch job saves against vLLM-style FCFS with an LRU prefix cache.
#include <iostream>
#include <map>

#include "batchllm_fixture.h"

namespace bricks::testing {
namespace {

using BatchLlmPolicy = BatchLlmTest;

TEST_F(BatchLlmPolicy, GroupMembersAreAdmittedConsecutivelyAndFollowersHitTheCache) {
  ASSERT_NO_FATAL_FAILURE(
      make("batchllm",
           {int_param("token_budget", 64), int_param("max_num_seqs", 4), int_param("min_chunk", 4)},
           "prefix_tree", 48, {4, 64}));
  // Three families of four interleaved in arrival order, and three requests alone.
  std::map<uint64_t, int32_t> family;
  for (uint64_t id = 1; id <= 15; ++id) {
    const int32_t f = id <= 12 ? static_cast<int32_t>(id % 3) : -1;
    const int32_t own = 3 + static_cast<int32_t>(id % 5);
    e_->add({id, 0, f >= 0 ? family_prompt(f, 16, id, own) : family_prompt(7, 0, id, 20),
             4 + static_cast<int32_t>(id % 4)});
    family[id] = f;
  }
  ASSERT_NO_FATAL_FAILURE(run_all());
  ASSERT_EQ(admissions_.size(), 15u);
  // Each family occupies one contiguous run of the admission order.
  std::map<int32_t, std::pair<size_t, size_t>> span;  // family -> first, last position
  for (size_t k = 0; k < admissions_.size(); ++k) {
    const int32_t f = family[admissions_[k].id];
    if (f < 0) continue;
    auto [it, fresh] = span.emplace(f, std::make_pair(k, k));
    if (!fresh) it->second.second = k;
  }
  ASSERT_EQ(span.size(), 3u);
  for (const auto& [f, s] : span) {
    EXPECT_EQ(s.second - s.first, 3u) << "family " << f << " was split in the admission order";
    // The leader computes the prefix; the three that follow take it from the cache.
    EXPECT_EQ(admissions_[s.first].cached, 0);
    for (size_t k = s.first + 1; k <= s.second; ++k) {
      EXPECT_EQ(admissions_[k].cached, 16) << "request " << admissions_[k].id;
      EXPECT_GT(admissions_[k].step, admissions_[s.first].step)
          << "a follower starts once the leader's prefix is cached";
    }
  }
}

TEST_F(BatchLlmPolicy, WithoutAPrefixCacheFollowersWaitForTheLeaderOnly) {
  kv_ = create_brick(BRICKS_KIND_KV, "paged",
                     {int_param("block_size", 4), bool_param("enable_prefix_cache", false)});
  sched_ = create_brick(BRICKS_KIND_SCHEDULER, "batchllm", {});
  ASSERT_NE(kv_, nullptr);
  ASSERT_NE(sched_, nullptr);
  sched_->wire(*kv_);
  e_ = std::make_unique<SimEngine>(*sched_, *kv_, SimGeometry{256, 0}, SimLimits{});
  for (uint64_t id = 1; id <= 4; ++id) e_->add({id, 0, family_prompt(0, 16, id, 5), 8});
  ASSERT_NO_FATAL_FAILURE(run_all());
  ASSERT_EQ(admissions_.size(), 4u);
  EXPECT_EQ(admissions_[0].step, 0);
  for (size_t k = 1; k < 4; ++k) {
    EXPECT_EQ(admissions_[k].step, 1)
        << "followers come together once the leader passed the prefix";
    EXPECT_EQ(admissions_[k].cached, 0);
  }
}

TEST_F(BatchLlmPolicy, DecodeHeavyRequestsStartFirst) {
  ASSERT_NO_FATAL_FAILURE(make("batchllm",
                               {int_param("token_budget", 256), int_param("max_num_seqs", 2)},
                               "paged", 256, {2, 256}));
  // (prompt, max_new): ratios 0.1, 2, 0.5, 5, 1, 0.1.
  const std::pair<int32_t, int32_t> shapes[] = {{20, 2}, {8, 16},  {12, 6},
                                                {4, 20}, {16, 16}, {10, 1}};
  uint64_t id = 1;
  for (const auto& [prompt, out] : shapes) {
    e_->add({id, 0, family_prompt(0, 0, id, prompt), out});
    ++id;
  }
  ASSERT_NO_FATAL_FAILURE(run_all());
  EXPECT_EQ(admission_order(), (std::vector<uint64_t>{4, 2, 5, 3, 1, 6}));
}

TEST_F(BatchLlmPolicy, LateDecodeHeavyArrivalOvertakesWaitingPrefills) {
  ASSERT_NO_FATAL_FAILURE(make("batchllm",
                               {int_param("token_budget", 256), int_param("max_num_seqs", 1)},
                               "paged", 256, {1, 256}));
  e_->add({1, 0, family_prompt(0, 0, 1, 8), 6});
  e_->add({2, 0, family_prompt(0, 0, 2, 30), 2});
  e_->add({3, 0, family_prompt(0, 0, 3, 30), 2});
  e_->add({4, 2, family_prompt(0, 0, 4, 4), 12});  // arrives while 1 runs
  ASSERT_NO_FATAL_FAILURE(run_all());
  EXPECT_EQ(admission_order(), (std::vector<uint64_t>{1, 4, 2, 3}));
}

// A batch job whose requests come in families sharing a 32-token prefix, interleaved in
// arrival order, over a KV pool that holds only a few prefixes at once.
void add_shared_prefix_job(SimEngine& e) {
  constexpr int32_t kFamilies = 8, kMembers = 5;
  for (uint64_t id = 1; id <= kFamilies * kMembers; ++id) {
    const int32_t f = static_cast<int32_t>(id % kFamilies);
    e.add({id, 0, family_prompt(f, 32, id, 4 + static_cast<int32_t>(id % 5)),
           4 + static_cast<int32_t>(id % 9)});
  }
}

TEST_F(BatchLlmPolicy, SharedPrefixJobComputesFewerTokensThanFcfsWithAnLruCache) {
  constexpr int32_t kBlocks = 40;  // 160 tokens: about three prefixes and their requests
  ASSERT_NO_FATAL_FAILURE(
      make("fcfs", {int_param("max_num_seqs", 8), int_param("max_num_batched_tokens", 128)},
           "paged", kBlocks, {8, 128}));
  add_shared_prefix_job(*e_);
  ASSERT_NO_FATAL_FAILURE(run_all());
  const int64_t fcfs_computed = computed_;
  const int64_t fcfs_cached = e_->counters().cached_tokens;

  ASSERT_NO_FATAL_FAILURE(make("batchllm",
                               {int_param("max_num_seqs", 8), int_param("token_budget", 128)},
                               "prefix_tree", kBlocks, {8, 128}));
  add_shared_prefix_job(*e_);
  ASSERT_NO_FATAL_FAILURE(run_all());
  const int64_t batch_computed = computed_;
  const int64_t batch_cached = e_->counters().cached_tokens;

  // Every family's four followers can take the 32-token prefix: 8 * 4 * 32 tokens.
  EXPECT_GE(batch_cached, 8 * 4 * 32 * 3 / 4)
      << "batchllm took " << batch_cached << " tokens from the cache";
  EXPECT_GT(batch_cached, fcfs_cached + 8 * 32)
      << "batchllm " << batch_cached << " vs fcfs " << fcfs_cached << " cached tokens";
  EXPECT_LT(batch_computed, fcfs_computed)
      << "batchllm computed " << batch_computed << " tokens, fcfs " << fcfs_computed;
  std::cout << "[ numbers  ] computed tokens: fcfs+paged " << fcfs_computed
            << ", batchllm+prefix_tree " << batch_computed << "; cached tokens: fcfs+paged "
            << fcfs_cached << ", batchllm+prefix_tree " << batch_cached << "\n";
}

}  // namespace
}  // namespace bricks::testing
