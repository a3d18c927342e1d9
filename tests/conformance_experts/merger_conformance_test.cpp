// Merger conformance: every merger in merger_cases() answers each tensor with merged 0 or 1
// and leaves `out` alone when it says 0, gives back a checkpoint merged with copies of
// itself, answers the same call the same way, and gives the same answers when called from
// several threads at once (kind_experts.h allows that).
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "experts_conformance.h"

namespace bricks::testing {
namespace {

constexpr float kUnwritten = -99.0f;

struct MergeAnswer {
  std::string error;
  int32_t merged = -1;
  std::vector<float> out;
};

MergeAnswer merge_once(const HarnessBrick& brick, const std::string& name, const float* base,
                       const std::vector<const float*>& inputs, const std::vector<float>& weights,
                       int64_t numel) {
  const bricks_merge_tensor t{sizeof(t),     name.c_str(),  numel,
                              base,          inputs.data(), static_cast<int32_t>(inputs.size()),
                              weights.data()};
  MergeAnswer a;
  a.out.assign(static_cast<size_t>(numel), kUnwritten);
  a.error = take_error(
      brick.vt<bricks_merger_vtable>()->merge(brick.instance(), &t, a.out.data(), &a.merged));
  return a;
}

std::vector<float> random_tensor(int64_t numel, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> t(static_cast<size_t>(numel));
  for (float& x : t) x = n(rng);
  return t;
}

// Tensor names as GGUF models spell them; a merger's filters may leave some alone.
const char* const kTensorNames[] = {"token_embd.weight", "blk.0.attn_q.weight",
                                    "blk.1.ffn_up.weight", "output_norm.weight"};

class MergerConformance : public ::testing::TestWithParam<BrickCase> {
 protected:
  void SetUp() override {
    brick_ = create_brick(BRICKS_KIND_MERGER, GetParam().name, GetParam().params);
    ASSERT_TRUE(brick_);
  }
  std::unique_ptr<HarnessBrick> brick_;
};

TEST_P(MergerConformance, MergedIsZeroOrOneAndZeroLeavesOutAlone) {
  const int64_t n = 64;
  const std::vector<float> base = random_tensor(n, 1), a = random_tensor(n, 2),
                           b = random_tensor(n, 3);
  for (const char* name : kTensorNames) {
    const MergeAnswer m = merge_once(*brick_, name, base.data(), {a.data(), b.data()}, {1, 1}, n);
    ASSERT_EQ(m.error, "") << name;
    ASSERT_TRUE(m.merged == 0 || m.merged == 1) << name << ": merged = " << m.merged;
    if (m.merged == 0) {
      EXPECT_EQ(m.out, std::vector<float>(n, kUnwritten)) << name << " was written";
    } else {
      for (float x : m.out) ASSERT_TRUE(std::isfinite(x)) << name << " has " << x;
    }
  }
}

TEST_P(MergerConformance, CopiesOfOneCheckpointMergeToIt) {
  const int64_t n = 256;
  const std::vector<float> x = random_tensor(n, 4);
  for (const char* name : kTensorNames) {
    const MergeAnswer m =
        merge_once(*brick_, name, x.data(), {x.data(), x.data()}, {0.3f, 0.7f}, n);
    ASSERT_EQ(m.error, "") << name;
    if (m.merged == 0) continue;
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(m.out[i], x[i], 1e-5f + 1e-5f * std::fabs(x[i])) << name << " element " << i;
    }
  }
}

TEST_P(MergerConformance, SameCallSameAnswer) {
  const int64_t n = 4096;
  const std::vector<float> base = random_tensor(n, 5), a = random_tensor(n, 6),
                           b = random_tensor(n, 7);
  const MergeAnswer first =
      merge_once(*brick_, "blk.0.ffn_up.weight", base.data(), {a.data(), b.data()}, {1, 2}, n);
  ASSERT_EQ(first.error, "");
  const MergeAnswer again =
      merge_once(*brick_, "blk.0.ffn_up.weight", base.data(), {a.data(), b.data()}, {1, 2}, n);
  EXPECT_EQ(again.merged, first.merged);
  EXPECT_EQ(again.out, first.out);
}

TEST_P(MergerConformance, ConcurrentCallsAgree) {
  const int64_t n = 4096;
  const std::vector<float> base = random_tensor(n, 8), a = random_tensor(n, 9),
                           b = random_tensor(n, 10);
  std::vector<MergeAnswer> want;
  for (const char* name : kTensorNames) {
    want.push_back(merge_once(*brick_, name, base.data(), {a.data(), b.data()}, {1, 1}, n));
    ASSERT_EQ(want.back().error, "") << name;
  }
  std::vector<std::vector<MergeAnswer>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      for (const char* name : kTensorNames) {
        got[t].push_back(merge_once(*brick_, name, base.data(), {a.data(), b.data()}, {1, 1}, n));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& answers : got) {
    for (size_t i = 0; i < answers.size(); ++i) {
      EXPECT_EQ(answers[i].merged, want[i].merged) << kTensorNames[i];
      EXPECT_EQ(answers[i].out, want[i].out) << kTensorNames[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, MergerConformance, ::testing::ValuesIn(merger_cases()),
                         brick_case_label);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(MergerConformance);

}  // namespace
}  // namespace bricks::testing
