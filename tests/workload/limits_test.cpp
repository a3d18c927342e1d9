// What a run that keeps a few requests, or a model with a short context, makes of a
// generator: only the requests kept are drawn, the same as the head of the full workload,
// and lengths that cannot fit the context are refused before any prompt is built.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "workload/workload.h"
#include "workload_support.h"

namespace bricks::engine {
namespace {

using bricks::manifest::Workload;
using ::testing::HasSubstr;

constexpr int32_t kHuge = std::numeric_limits<int32_t>::max();

Workload generator(int32_t n) {
  Workload w;
  auto* g = w.mutable_generator();
  g->set_num_requests(n);
  g->set_rate(4);
  g->set_prompt_len_min(8);
  g->set_prompt_len_max(64);
  g->set_output_len_min(4);
  g->set_output_len_max(16);
  g->set_seed(7);
  return w;
}

void expect_head(const std::vector<RequestSpec>& all, const std::vector<RequestSpec>& head,
                 size_t n) {
  ASSERT_EQ(head.size(), n);
  for (size_t i = 0; i < n; ++i) {
    EXPECT_DOUBLE_EQ(head[i].arrival_s, all[i].arrival_s) << i;
    EXPECT_EQ(head[i].prompt, all[i].prompt) << i;
    EXPECT_EQ(head[i].max_new_tokens, all[i].max_new_tokens) << i;
    EXPECT_EQ(head[i].tenant, all[i].tenant) << i;
    EXPECT_EQ(head[i].conversation, all[i].conversation) << i;
  }
}

TEST(WorkloadLimits, MaxRequestsDrawsOnlyThoseOfAHugeCount) {
  // Drawing all 2^31 - 1 would take minutes and run out of memory.
  EXPECT_EQ(make_workload(generator(kHuge), ctx(3)).size(), 3u);
}

TEST(WorkloadLimits, KeptRequestsAreTheHeadOfTheFullWorkload) {
  const Workload plain = generator(40);
  expect_head(make_workload(plain, ctx()), make_workload(plain, ctx(5)), 5);

  Workload rates = generator(40);  // streams of their own, merged by arrival
  rates.mutable_generator()->add_tenants()->set_rate(1);
  rates.mutable_generator()->add_tenants()->set_rate(5);
  expect_head(make_workload(rates, ctx()), make_workload(rates, ctx(7)), 7);

  Workload shares = generator(40);  // tenants drawn per request
  shares.mutable_generator()->add_tenants()->set_share(1);
  shares.mutable_generator()->add_tenants()->set_share(3);
  expect_head(make_workload(shares, ctx()), make_workload(shares, ctx(6)), 6);

  Workload chats = generator(0);
  auto* c = chats.mutable_generator()->mutable_conversations();
  c->set_count(10);
  c->set_turns(3);
  c->set_think_time_s(2);
  expect_head(make_workload(chats, ctx()), make_workload(chats, ctx(8)), 8);
}

TEST(WorkloadLimits, LengthsPastTheContextAreRefusedBeforeDrawing) {
  Workload w = generator(2);
  w.mutable_generator()->set_prompt_len_max(kHuge);
  try {
    make_workload(w, ctx(0, 512));
    FAIL() << "expected a WorkloadError";
  } catch (const WorkloadError& e) {
    EXPECT_STREQ(e.what(),
                 "workload.generator.prompt_len_max 2147483647 is beyond the model's context of "
                 "512 tokens; give at most 511");
  }

  Workload fixed = generator(2);
  fixed.mutable_generator()->set_prompt_len_max(0);
  fixed.mutable_generator()->set_prompt_len_min(0);
  fixed.mutable_generator()->mutable_prompt_len()->set_kind("fixed");
  fixed.mutable_generator()->mutable_prompt_len()->set_value(500);
  fixed.mutable_generator()->set_output_len_min(20);
  fixed.mutable_generator()->set_output_len_max(20);
  EXPECT_THROW(
      {
        try {
          make_workload(fixed, ctx(0, 512));
        } catch (const WorkloadError& e) {
          EXPECT_THAT(e.what(), HasSubstr("no request can fit"));
          throw;
        }
      },
      WorkloadError);

  // Unknown context: nothing to check against.
  w.mutable_generator()->set_prompt_len_max(64);
  EXPECT_EQ(make_workload(w, ctx(0, 0)).size(), 2u);
}

}  // namespace
}  // namespace bricks::engine
