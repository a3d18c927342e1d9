// Attention conformance: every brick in attention_cases() computes what `reference`
// computes, on seeded random paged batches, within the stated tolerance, deterministically.
// A brick is checked on the KV dtypes it declares (kv.f32, kv.f16; f32 when it names
// neither) and on attention scores when it provides attention.scores.
//
// Tolerance: |out - ref| <= 1e-4 + 1e-4 |ref| for outputs (convex combinations of values
// in [-2, 2]) and scores; f32 online softmax against the reference's double loops stays
// near 1e-6.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "attention_conformance.h"
#include "brick_harness.h"
#include "bricks/capabilities.h"
#include "paged_batch.h"
#if BRICKS_TEST_CUDA
#include "cuda_staging.h"
#endif

namespace bricks::testing {
namespace {

bool provides(const HarnessBrick& brick, const char* capability) {
  const bricks_brick_desc& d = brick.desc();
  for (int32_t i = 0; i < d.num_provides; ++i) {
    if (std::strcmp(d.provides[i], capability) == 0) return true;
  }
  return false;
}

// Why `brick` is not checked on `shape`, or "" when it is.
std::string undeclared(const HarnessBrick& brick, const BatchShape& shape) {
  const bool f16 = provides(brick, BRICKS_CAP_KV_F16);
  if (shape.f16 && !f16) return "f16 KV: the brick does not provide " BRICKS_CAP_KV_F16;
  if (!shape.f16 && f16 && !provides(brick, BRICKS_CAP_KV_F32)) {
    return "f32 KV: the brick provides " BRICKS_CAP_KV_F16 " but not " BRICKS_CAP_KV_F32;
  }
  if (shape.with_scores && !provides(brick, BRICKS_CAP_ATTENTION_SCORES)) {
    return "scores: the brick does not provide " BRICKS_CAP_ATTENTION_SCORES;
  }
  return "";
}

// Why a brick cannot run here (a device.cuda brick without a GPU), or "".
std::string unavailable(const HarnessBrick& brick) {
  if (!provides(brick, "device.cuda")) return "";
#if BRICKS_TEST_CUDA
  return cuda_unavailable();
#else
  return "a device.cuda brick, and this build has no CUDA";
#endif
}

#if !BRICKS_TEST_CUDA
struct IoSizes {
  size_t q = 0, pool_bytes = 0, out = 0, score_rows = 0, scores = 0;
};
#endif

// run() of `brick` on `io`, whose buffers hold `sizes`: directly, or on device copies for a
// device.cuda brick. Returns the error text, "" on success.
std::string run_io(const HarnessBrick& brick, const bricks_attention_io& io,
                   [[maybe_unused]] const IoSizes& sizes) {
  const auto* vt = brick.vt<bricks_attention_vtable>();
#if BRICKS_TEST_CUDA
  if (provides(brick, "device.cuda")) return run_on_cuda(vt, brick.instance(), io, sizes);
#endif
  return take_error(vt->run(brick.instance(), &io));
}

// Skips the test when `brick` cannot run on this machine.
#define SKIP_IF_UNAVAILABLE(brick) \
  if (const std::string why = unavailable(brick); !why.empty()) GTEST_SKIP() << why

constexpr float kTolerance = 1e-4f;

struct Result {
  std::string error;
  std::vector<float> out;
  std::vector<float> scores;
};

// Plans and runs `brick` on `pb`. Buffers start as NaN so an unwritten element fails.
Result run(const HarnessBrick& brick, const PagedBatch& pb) {
  const auto* vt = brick.vt<bricks_attention_vtable>();
  Result r;
  r.out.assign(static_cast<size_t>(pb.out_size()), std::numeric_limits<float>::quiet_NaN());
  r.scores.assign(static_cast<size_t>(pb.score_size()), std::numeric_limits<float>::quiet_NaN());
  r.error = take_error(vt->plan(brick.instance(), &pb.batch()));
  if (!r.error.empty()) return r;
  const bricks_attention_io io = pb.io(r.out, r.scores);
  IoSizes sizes;
  sizes.q = pb.q_size();
  sizes.pool_bytes = pb.pool_bytes();
  sizes.out = r.out.size();
  sizes.score_rows = static_cast<size_t>(pb.rows());
  sizes.scores = r.scores.size();
  r.error = run_io(brick, io, sizes);
  return r;
}

void expect_close(const std::vector<float>& got, const std::vector<float>& want,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const float bound = kTolerance + kTolerance * std::fabs(want[i]);
    if (!(std::fabs(got[i] - want[i]) <= bound) && reported++ < 5) {
      ADD_FAILURE() << what << "[" << i << "] = " << got[i] << ", reference " << want[i];
    }
  }
}

struct Case {
  BatchShape shape;
  std::string label;
};

// Every GQA ratio x head_dim x page size; dtype, scores and causality rotate over them so
// each appears with every other value.
std::vector<Case> cases() {
  std::vector<Case> out;
  int i = 0;
  for (int32_t group : {1, 2, 4, 8}) {
    for (int32_t dim : {64, 128, 80, 96}) {
      for (int32_t page : {1, 4, 16, 64}) {
        BatchShape s;
        s.group = group;
        s.head_dim = dim;
        s.page_size = page;
        s.f16 = i % 2 == 1;
        s.with_scores = (i / 2) % 2 == 1;
        s.causal = i % 7 != 3;
        std::ostringstream label;
        label << "g" << group << "_d" << dim << "_p" << page << (s.f16 ? "_f16" : "_f32")
              << (s.with_scores ? "_scores" : "") << (s.causal ? "" : "_full");
        out.push_back({s, label.str()});
        ++i;
      }
    }
  }
  return out;
}

class AttentionConformance : public ::testing::TestWithParam<std::tuple<size_t, Case>> {
 protected:
  const BrickCase& under_test() const { return attention_cases()[std::get<0>(GetParam())]; }
  std::unique_ptr<HarnessBrick> make() const {
    return create_brick(BRICKS_KIND_ATTENTION, under_test().name, under_test().params);
  }
};

TEST_P(AttentionConformance, MatchesReferenceOnMixedBatch) {
  const Case& c = std::get<1>(GetParam());
  const uint64_t seed = std::hash<std::string>{}(c.label) % 100000;
  PagedBatch pb(c.shape, mixed_sequences(c.shape.page_size, seed), seed);
  // The reference answer per case, computed once for all bricks.
  static std::map<std::string, Result> reference_results;
  if (!reference_results.count(c.label)) {
    auto reference = create_brick(BRICKS_KIND_ATTENTION, "reference");
    ASSERT_TRUE(reference);
    reference_results[c.label] = run(*reference, pb);
  }
  const Result& want = reference_results[c.label];
  ASSERT_EQ(want.error, "");
  auto brick = make();
  ASSERT_TRUE(brick);
  SKIP_IF_UNAVAILABLE(*brick);
  if (const std::string why = undeclared(*brick, c.shape); !why.empty()) GTEST_SKIP() << why;
  const Result got = run(*brick, pb);
  ASSERT_EQ(got.error, "");
  expect_close(got.out, want.out, "out");
  if (c.shape.with_scores) expect_close(got.scores, want.scores, "scores");

  // Same plan, same inputs, second run (the next layer): bit-identical.
  const Result again = run(*brick, pb);
  ASSERT_EQ(again.error, "");
  for (size_t i = 0; i < got.out.size(); ++i) {
    ASSERT_EQ(std::memcmp(&got.out[i], &again.out[i], sizeof(float)), 0) << "out[" << i << "]";
  }
  if (c.shape.with_scores) {
    for (size_t i = 0; i < got.scores.size(); ++i) {
      ASSERT_EQ(std::memcmp(&got.scores[i], &again.scores[i], sizeof(float)), 0)
          << "scores[" << i << "]";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionConformance,
                         ::testing::Combine(::testing::Range<size_t>(0, attention_cases().size()),
                                            ::testing::ValuesIn(cases())),
                         [](const ::testing::TestParamInfo<std::tuple<size_t, Case>>& info) {
                           return attention_cases()[std::get<0>(info.param)].label + "_" +
                                  std::get<1>(info.param).label;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AttentionConformance);

class AttentionBrick : public ::testing::TestWithParam<size_t> {
 protected:
  std::unique_ptr<HarnessBrick> make() const {
    const BrickCase& b = attention_cases()[GetParam()];
    return create_brick(BRICKS_KIND_ATTENTION, b.name, b.params);
  }
};

// Worked by hand: one key of logit 0 and one of logit ln 3 get probabilities 1/4 and 3/4,
// so with values 4 and 8 the output is 4/4 + 8 * 3/4 = 7, and each key's score is its
// probability (one flagged row, one head).
TEST_P(AttentionBrick, HandComputedTwoKeys) {
  auto brick = make();
  ASSERT_TRUE(brick);
  SKIP_IF_UNAVAILABLE(*brick);
  const int32_t qo_indptr[] = {0, 1};
  const int32_t indptr[] = {0, 2};
  const int32_t indices[] = {1, 0};  // token 0 in block 1, token 1 in block 0
  const int32_t last_page_len[] = {1};
  bricks_attention_batch b{
      sizeof(b), qo_indptr, {indptr, indices, last_page_len, 1, 1}, 1, 1, 1, BRICKS_DTYPE_F32,
      1.0f,      1};
  const float q[] = {1.0f};
  const float k_pool[] = {std::log(3.0f), 0.0f};
  const float v_pool[] = {8.0f, 4.0f};
  const uint8_t score_rows[] = {1};
  float out[1] = {0};
  float scores[2] = {0, 0};
  const bool with_scores = provides(*brick, BRICKS_CAP_ATTENTION_SCORES);
  const bricks_attention_io io{sizeof(io),
                               q,
                               k_pool,
                               v_pool,
                               out,
                               with_scores ? score_rows : nullptr,
                               with_scores ? scores : nullptr};
  const auto* vt = brick->vt<bricks_attention_vtable>();
  ASSERT_EQ(take_error(vt->plan(brick->instance(), &b)), "");
  ASSERT_EQ(run_io(*brick, io, IoSizes{1, 2 * sizeof(float), 1, 1, 2}), "");
  EXPECT_NEAR(out[0], 7.0f, 1e-5f);
  if (with_scores) {
    EXPECT_NEAR(scores[0], 0.25f, 1e-6f);
    EXPECT_NEAR(scores[1], 0.75f, 1e-6f);
  }
}

// One long decode and few kv heads: the batch where split-KV work items and their merge
// are used by default.
TEST_P(AttentionBrick, LongSingleDecodeMatchesReference) {
  BatchShape shape;
  shape.num_kv_heads = 1;
  shape.group = 4;
  shape.head_dim = 64;
  auto reference = create_brick(BRICKS_KIND_ATTENTION, "reference");
  auto brick = make();
  ASSERT_TRUE(reference && brick);
  SKIP_IF_UNAVAILABLE(*brick);
  shape.with_scores = provides(*brick, BRICKS_CAP_ATTENTION_SCORES);
  PagedBatch pb(shape, {{1100, 1}}, 7);
  const Result want = run(*reference, pb);
  const Result got = run(*brick, pb);
  ASSERT_EQ(got.error, "");
  expect_close(got.out, want.out, "out");
  if (shape.with_scores) expect_close(got.scores, want.scores, "scores");
}

TEST_P(AttentionBrick, EmptyBatchIsFine) {
  auto brick = make();
  ASSERT_TRUE(brick);
  SKIP_IF_UNAVAILABLE(*brick);
  const int32_t zero[] = {0};
  bricks_attention_batch b{sizeof(b), zero, {zero, zero, zero, 0, 16}, 8, 2, 64, BRICKS_DTYPE_F32,
                           0.125f,    1};
  const float dummy[1] = {0};
  float out[1] = {0};
  const bricks_attention_io io{sizeof(io), dummy, dummy, dummy, out, nullptr, nullptr};
  const auto* vt = brick->vt<bricks_attention_vtable>();
  EXPECT_EQ(take_error(vt->plan(brick->instance(), &b)), "");
  EXPECT_EQ(run_io(*brick, io, IoSizes{1, sizeof(float), 1, 0, 0}), "");
}

// Bad batches come back as errors, never as crashes or reads out of bounds.
TEST_P(AttentionBrick, RejectsBadBatches) {
  auto brick = make();
  ASSERT_TRUE(brick);
  SKIP_IF_UNAVAILABLE(*brick);
  const auto* vt = brick->vt<bricks_attention_vtable>();
  const int32_t qo_indptr[] = {0, 1};
  const int32_t indptr[] = {0, 1};
  const int32_t indices[] = {0};
  const int32_t bad_last[] = {0};
  const int32_t ok_last[] = {1};
  const int32_t too_many_rows[] = {0, 2};
  const int32_t negative_page[] = {-3};
  bricks_attention_batch good{
      sizeof(good), qo_indptr, {indptr, indices, ok_last, 1, 4}, 4, 2, 16, BRICKS_DTYPE_F32,
      0.25f,        1};
  ASSERT_EQ(take_error(vt->plan(brick->instance(), &good)), "");

  auto rejects = [&](bricks_attention_batch b, const char* what) {
    EXPECT_NE(take_error(vt->plan(brick->instance(), &b)), "") << what;
  };
  bricks_attention_batch b = good;
  b.kv.last_page_len = bad_last;
  rejects(b, "last_page_len 0");
  b = good;
  b.qo_indptr = too_many_rows;
  rejects(b, "more query rows than keys");
  b = good;
  b.num_qo_heads = 3;
  rejects(b, "num_qo_heads not a multiple of num_kv_heads");
  b = good;
  b.kv_dtype = BRICKS_DTYPE_Q8_0;
  rejects(b, "q8_0 pools");
  b = good;
  b.kv.indices = negative_page;
  rejects(b, "negative page id");

  // run after a failed plan is refused too.
  const float dummy[64] = {};
  float out[64] = {};
  const bricks_attention_io io{sizeof(io), dummy, dummy, dummy, out, nullptr, nullptr};
  EXPECT_NE(take_error(vt->run(brick->instance(), &io)), "");
}

INSTANTIATE_TEST_SUITE_P(All, AttentionBrick, ::testing::Range<size_t>(0, attention_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return attention_cases()[info.param].label;
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(AttentionBrick);

}  // namespace
}  // namespace bricks::testing
