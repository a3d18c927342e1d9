// MoeFfn on its own: token grouping per expert over several batch shapes (one token,
// odd sizes, batches whose experts go through the GEMM path) against a per-token loop;
// every token runs exactly top_k experts.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "engine/moe_ffn.h"
#include "moe_fixture.h"
#include "naive_moe.h"

namespace bricks::testing {
namespace {

class MoeGrouping : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = model::Model::open(moe_model_path()).release();
    weights_ = new engine::LlamaWeights(engine::LlamaWeights::load(*model_, cpu::Compute::F32));
    router_ = build_registry().create(BRICKS_KIND_ROUTER, "topk", {}).release();
  }
  static void TearDownTestSuite() {
    delete router_;
    delete weights_;
    delete model_;
  }
  static model::Model* model_;
  static engine::LlamaWeights* weights_;
  static host::BrickInstance* router_;
};

model::Model* MoeGrouping::model_ = nullptr;
engine::LlamaWeights* MoeGrouping::weights_ = nullptr;
host::BrickInstance* MoeGrouping::router_ = nullptr;

TEST_F(MoeGrouping, MatchesPerTokenLoopForSeveralBatchShapes) {
  engine::MoeFfn moe(*weights_, *router_);
  NaiveMoe naive(*model_);
  const int64_t d = weights_->config.hidden;
  std::mt19937 rng(11);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (int64_t T : {1, 2, 7, 33, 150}) {
    for (int32_t layer : {0, 5}) {
      std::vector<float> h(static_cast<size_t>(T * d)), out(h.size(), -1.0f);
      for (float& x : h) x = n(rng);
      moe.forward(layer, h.data(), T, out.data());
      const auto& counts = moe.last_counts();
      ASSERT_EQ(counts.size(), 4u);
      EXPECT_EQ(std::accumulate(counts.begin(), counts.end(), int64_t{0}), 2 * T)
          << "every token runs top_k = 2 experts";
      // Large batches: every 7th token (the plain loop is slow in sanitizer builds).
      for (int64_t t = 0; t < T; t += T > 40 ? 7 : 1) {
        const std::vector<double> row(h.begin() + t * d, h.begin() + (t + 1) * d);
        const std::vector<double> want = naive.ffn(layer, row);
        for (int64_t j = 0; j < d; ++j) {
          ASSERT_NEAR(out[t * d + j], want[j], 1e-4)
              << "T=" << T << " layer " << layer << " token " << t << " dim " << j;
        }
      }
    }
  }
}

TEST_F(MoeGrouping, ZeroRowsWriteNothing) {
  engine::MoeFfn moe(*weights_, *router_);
  std::vector<float> out(4, 7.0f);
  moe.forward(0, nullptr, 0, out.data());
  EXPECT_EQ(out, std::vector<float>(4, 7.0f));
}

}  // namespace
}  // namespace bricks::testing
