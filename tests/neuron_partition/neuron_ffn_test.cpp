// NeuronFfn against plain loops: with every cluster on it is the dense FFN; with a share
// of clusters on, each token gets exactly the top-scoring clusters (mean gate row scores)
// and nothing else. Then through the runtime: logits equal the dense model's at share 1,
// `layers` limits the partitioned layers, stale or mismatched partitions are refused, and
// a missing partition is calibrated at load and saved.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "engine/neuron_ffn.h"
#include "engine/neuron_partition_file.h"
#include "partition_fixture.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

// A random balanced partition of the tiny model into `clusters` clusters.
engine::NeuronPartition shuffled_partition(const model::Model& m, int32_t clusters) {
  engine::NeuronPartition p;
  p.model_checksum = engine::model_checksum(m);
  p.ffn = m.config().ffn;
  p.clusters = clusters;
  std::mt19937 rng(4);
  for (int32_t l = 0; l < m.config().n_layers; ++l) {
    engine::LayerPartition L;
    L.order.resize(static_cast<size_t>(p.ffn));
    std::iota(L.order.begin(), L.order.end(), 0);
    std::shuffle(L.order.begin(), L.order.end(), rng);
    for (int32_t c = 0; c <= clusters; ++c) L.offsets.push_back(c * p.ffn / clusters);
    p.layers.push_back(std::move(L));
  }
  return p;
}

std::unique_ptr<host::BrickInstance> router(double share) {
  host::ParamMap params;
  params["active_share"] = host::float_value(share);
  return build_registry().create(BRICKS_KIND_ROUTER, "neuron_partition", params);
}

class NeuronFfnDirect : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = model::Model::open(tiny_model("direct")).release();
    weights_ = new engine::LlamaWeights(engine::LlamaWeights::load(*model_, cpu::Compute::F32));
  }
  static void TearDownTestSuite() {
    delete weights_;
    delete model_;
  }
  const float* w(const std::string& name) const {
    return static_cast<const float*>(model_->tensor(name).data);
  }
  // The FFN restricted to `neurons`, for one row, in double.
  std::vector<double> partial_ffn(int32_t layer, const float* h,
                                  const std::vector<int32_t>& neurons) const {
    const int64_t d = model_->config().hidden, f = model_->config().ffn;
    const std::string p = "blk." + std::to_string(layer) + ".";
    const float *G = w(p + "ffn_gate.weight"), *U = w(p + "ffn_up.weight"),
                *D = w(p + "ffn_down.weight");
    std::vector<double> out(static_cast<size_t>(d), 0.0);
    for (int32_t n : neurons) {
      double g = 0, u = 0;
      for (int64_t i = 0; i < d; ++i) {
        g += double{G[n * d + i]} * h[i];
        u += double{U[n * d + i]} * h[i];
      }
      const double a = g / (1.0 + std::exp(-g)) * u;
      for (int64_t j = 0; j < d; ++j) out[j] += double{D[j * f + n]} * a;
    }
    return out;
  }
  static model::Model* model_;
  static engine::LlamaWeights* weights_;
};

model::Model* NeuronFfnDirect::model_ = nullptr;
engine::LlamaWeights* NeuronFfnDirect::weights_ = nullptr;

TEST_F(NeuronFfnDirect, EveryClusterOnIsTheDenseFfn) {
  auto r = router(1.0);
  ASSERT_TRUE(r);
  const engine::NeuronPartition p = shuffled_partition(*model_, 8);
  engine::NeuronFfn ffn(*model_, *weights_, p, {}, *r);
  EXPECT_EQ(ffn.layers().size(), 6u);
  const int64_t d = model_->config().hidden, f = model_->config().ffn;
  std::mt19937 rng(2);
  std::normal_distribution<float> n;
  for (int64_t T : {1, 5, 70}) {
    std::vector<float> h(static_cast<size_t>(T * d)), out(h.size()), want(h.size());
    for (float& x : h) x = n(rng);
    ffn.forward(3, h.data(), T, out.data());
    const engine::LayerWeights& L = weights_->layers[3];
    std::vector<float> g(static_cast<size_t>(T * f)), u(g.size());
    L.w_gate->forward(h.data(), T, g.data());
    L.w_up->forward(h.data(), T, u.data());
    cpu::silu_mul(g.data(), u.data(), T * f, g.data());
    L.w_down->forward(g.data(), T, want.data());
    for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], want[i], 1e-4) << "T=" << T;
  }
  EXPECT_DOUBLE_EQ(ffn.active_share(), 1.0);
}

TEST_F(NeuronFfnDirect, RunsExactlyTheTopScoringClusters) {
  auto r = router(0.25);
  ASSERT_TRUE(r);
  const int32_t C = 8;
  const engine::NeuronPartition p = shuffled_partition(*model_, C);
  engine::NeuronFfn ffn(*model_, *weights_, p, {2}, *r);
  const int64_t d = model_->config().hidden;
  const int32_t layer = 2;
  const int64_t T = 9;
  std::mt19937 rng(8);
  std::normal_distribution<float> n;
  std::vector<float> h(static_cast<size_t>(T * d)), out(h.size());
  for (float& x : h) x = n(rng);
  ffn.forward(layer, h.data(), T, out.data());
  EXPECT_DOUBLE_EQ(ffn.active_share(), 0.25);

  const engine::LayerPartition& P = p.layers[layer];
  const float* G = w("blk.2.ffn_gate.weight");
  for (int64_t t = 0; t < T; ++t) {
    const float* x = h.data() + t * d;
    std::vector<double> score(C, 0.0);
    for (int32_t c = 0; c < C; ++c) {
      for (int32_t j = P.offsets[c]; j < P.offsets[c + 1]; ++j) {
        for (int64_t i = 0; i < d; ++i) score[c] += double{G[P.order[j] * d + i]} * x[i];
      }
      score[c] /= P.offsets[c + 1] - P.offsets[c];
    }
    std::vector<int32_t> by(C);
    std::iota(by.begin(), by.end(), 0);
    std::sort(by.begin(), by.end(), [&](int32_t a, int32_t b) { return score[a] > score[b]; });
    std::vector<int32_t> neurons;
    for (int32_t c : {by[0], by[1]}) {
      neurons.insert(neurons.end(), P.order.begin() + P.offsets[c],
                     P.order.begin() + P.offsets[c + 1]);
    }
    const std::vector<double> want = partial_ffn(layer, x, neurons);
    for (int64_t j = 0; j < d; ++j) ASSERT_NEAR(out[t * d + j], want[j], 1e-4) << "token " << t;
  }
  EXPECT_THROW(ffn.forward(0, h.data(), T, out.data()), std::logic_error);
}

// Logits of a few greedy steps of one prompt.
std::vector<std::vector<float>> run_logits(engine::Runtime& rt) {
  std::vector<std::vector<float>> seen;
  rt.engine().set_logits_callback([&](const engine::Request&, std::span<const float> lg) {
    seen.emplace_back(lg.begin(), lg.end());
  });
  engine::RequestSpec spec;
  spec.prompt = rt.model()->tokenizer().encode("The little dog ran to the river", true);
  spec.max_new_tokens = 2;
  spec.ignore_eos = true;
  spec.sampling.temperature = 0.0f;
  rt.engine().submit(spec);
  rt.engine().run_to_completion();
  return seen;
}

std::string create_error(const manifest::LoadedManifest& m) {
  try {
    engine::Runtime::create(m, {});
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

TEST(NeuronPartitionRuntime, ShareOneMatchesDenseAndLayersLimitThePartition) {
  const fs::path model = tiny_model("runtime");
  const engine::CalibrationResult cal = calibrate_small(model, 8);
  EXPECT_GT(cal.tokens, 0);
  EXPECT_GT(cal.mass90_share, 0.0);
  EXPECT_LT(cal.mass90_share, 1.0);

  auto dense = engine::Runtime::create(npart_manifest(model, nullptr), {});
  const auto want = run_logits(*dense);
  RouterChoice all;
  all.active_share = 1.0;
  auto routed = engine::Runtime::create(npart_manifest(model, &all), {});
  EXPECT_NE(routed->device_summary().find("8 clusters in 6 of 6 layers"), std::string::npos)
      << routed->device_summary();
  const auto got = run_logits(*routed);
  ASSERT_EQ(got.size(), want.size());
  for (size_t s = 0; s < got.size(); ++s) {
    for (size_t v = 0; v < got[s].size(); ++v) ASSERT_NEAR(got[s][v], want[s][v], 1e-3);
  }

  RouterChoice some;
  some.active_share = 0.5;
  some.layers = {1, 3};
  auto partial = engine::Runtime::create(npart_manifest(model, &some), {});
  EXPECT_NE(partial->device_summary().find("in 2 of 6 layers"), std::string::npos)
      << partial->device_summary();
  const auto half = run_logits(*partial);
  ASSERT_EQ(half.size(), want.size());
  for (float x : half[0]) ASSERT_TRUE(std::isfinite(x));
  EXPECT_NE(half[0], want[0]) << "half the clusters off changed nothing";

  some.layers = {6};
  EXPECT_NE(create_error(npart_manifest(model, &some)).find("past the model's last layer"),
            std::string::npos);
}

TEST(NeuronPartitionRuntime, StaleAndMismatchedPartitionsAreRefused) {
  const fs::path model = tiny_model("stale");
  calibrate_small(model, 8);
  RouterChoice r;
  r.clusters = 16;
  const std::string mismatch = create_error(npart_manifest(model, &r));
  EXPECT_NE(mismatch.find("asks for 16 clusters"), std::string::npos) << mismatch;
  EXPECT_NE(mismatch.find("bricks partition --clusters 16"), std::string::npos) << mismatch;

  // Other weights under the same file name: the partition is stale.
  auto original = model::Model::open(model);
  const auto checksum = engine::model_checksum(*original);
  engine::NeuronPartition p = engine::load_partition(
      engine::partition_path_for(model), *original, checksum);
  p.model_checksum = checksum + 1;
  engine::save_partition(p, engine::partition_path_for(model));
  RouterChoice plain;
  const std::string stale = create_error(npart_manifest(model, &plain));
  EXPECT_NE(stale.find("stale"), std::string::npos) << stale;
}

TEST(NeuronPartitionRuntime, MissingPartitionIsCalibratedAtLoadAndSaved) {
  const fs::path model = tiny_model("atload");
  const fs::path file = engine::partition_path_for(model);
  ASSERT_FALSE(fs::exists(file));
  RouterChoice r;
  r.clusters = 4;
  r.active_share = 0.5;
  auto rt = engine::Runtime::create(npart_manifest(model, &r), {});
  EXPECT_NE(rt->device_summary().find("4 clusters"), std::string::npos);
  ASSERT_TRUE(fs::exists(file));
  auto m = model::Model::open(model);
  const engine::NeuronPartition p =
      engine::load_partition(file, *m, engine::model_checksum(*m));
  EXPECT_EQ(p.clusters, 4);
  EXPECT_EQ(run_logits(*rt).size(), 2u);
}

}  // namespace
}  // namespace bricks::testing
