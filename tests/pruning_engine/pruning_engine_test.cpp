// Pruning in the engine: keep ratios, identity at 100 %, KV groups allocated and freed,
// pruned and unpruned requests in one batch, chunked prefills, a group that does not fit,
// ATP over several points, rope positions after pruning, images and the prefix cache.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "cpu/ops.h"
#include "engine/cpu_device.h"
#include "pruning_fixture.h"

namespace bricks::testing {
namespace {

struct Outcome {
  std::vector<int32_t> generated;
  std::vector<float> first_logits;
  std::vector<int32_t> group_tokens;
  int32_t prompt_len = 0;
  std::string failure;
};

// Runs `specs` together; outcomes by submission order.
std::vector<Outcome> run_all(engine::Runtime& rt, const std::vector<engine::RequestSpec>& specs) {
  engine::Engine& eng = rt.engine();
  std::map<uint64_t, std::vector<float>> first;
  eng.set_logits_callback([&](const engine::Request& r, std::span<const float> lg) {
    if (!first.count(r.id)) first[r.id] = std::vector<float>(lg.begin(), lg.end());
  });
  std::vector<uint64_t> ids;
  for (const auto& s : specs) ids.push_back(eng.submit(s));
  eng.run_to_completion();
  std::map<uint64_t, Outcome> by_id;
  for (const engine::Request* r : eng.ended()) {
    Outcome o;
    o.generated.assign(r->tokens.begin() + r->prompt_len(), r->tokens.end());
    o.first_logits = first[r->id];
    o.group_tokens = r->group_tokens;
    o.prompt_len = r->prompt_len();
    o.failure = r->failure;
    by_id[r->id] = o;
  }
  std::vector<Outcome> out;
  for (uint64_t id : ids) out.push_back(by_id[id]);
  return out;
}

float max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

Brick fastv(double keep, int32_t layer = 1) {
  return {"pruning", "fastv", {int_p("layer", layer), float_p("keep_ratio", keep)}, {}};
}

void expect_all_free(engine::Runtime& rt) {
  const bricks_kv_stats s = rt.engine().kv_stats();
  EXPECT_EQ(s.free_device_blocks, s.num_device_blocks);
}

int32_t hidden_of(engine::Runtime& rt) { return rt.engine().model().config.hidden; }

TEST(PruningEngine, FullKeepMatchesNoPruning) {
  auto plain = make_runtime();
  auto pruned = make_runtime({fastv(1.0)});
  const int32_t d = hidden_of(*plain);
  const std::vector<engine::RequestSpec> specs = {image_request(d, 6, 6, 1),
                                                  image_request(d, 4, 5, 2), text_request(20, 3)};
  const auto a = run_all(*plain, specs);
  const auto b = run_all(*pruned, specs);
  for (size_t i = 0; i < specs.size(); ++i) {
    ASSERT_EQ(b[i].failure, "");
    EXPECT_EQ(a[i].generated, b[i].generated) << "request " << i;
    EXPECT_LT(max_diff(a[i].first_logits, b[i].first_logits), 1e-4f) << "request " << i;
  }
  // Every group holds every token: prompt + generated - 1 (the last one is never computed).
  for (size_t g = 1; g < b[0].group_tokens.size(); ++g) {
    EXPECT_EQ(b[0].group_tokens[g], b[0].prompt_len + 5);
  }
  expect_all_free(*pruned);
}

TEST(PruningEngine, KeepRatioSetsTheKvOfLaterGroups) {
  auto rt = make_runtime({fastv(0.5)});
  const int32_t d = hidden_of(*rt);
  // 6 text + 8 x 8 patches + 10 text: 32 of the 64 patches stay.
  const auto out = run_all(*rt, {image_request(d, 8, 8, 4)});
  ASSERT_EQ(out[0].failure, "");
  EXPECT_EQ(out[0].generated.size(), 6u);
  ASSERT_EQ(out[0].group_tokens.size(), 3u) << "tiny: 6 layers, prune after 1: 3 groups";
  EXPECT_EQ(out[0].group_tokens[1], 16 + 32 + 5);
  EXPECT_EQ(out[0].group_tokens[2], 16 + 32 + 5);
  expect_all_free(*rt);
  // The pruned request's logits differ from the unpruned one's, but stay finite.
  for (float v : out[0].first_logits) ASSERT_TRUE(std::isfinite(v));
}

TEST(PruningEngine, PrunedAndUnprunedRequestsShareABatch) {
  auto plain = make_runtime();
  auto pruned = make_runtime({fastv(0.25)});
  const int32_t d = hidden_of(*plain);
  const std::vector<engine::RequestSpec> specs = {text_request(30, 5), image_request(d, 8, 6, 6),
                                                  text_request(12, 7), image_request(d, 5, 5, 8)};
  const auto a = run_all(*plain, specs);
  const auto b = run_all(*pruned, specs);
  for (size_t i : {0u, 2u}) {  // text only: untouched by pruning
    EXPECT_EQ(a[i].generated, b[i].generated) << "request " << i;
    EXPECT_LT(max_diff(a[i].first_logits, b[i].first_logits), 1e-4f);
    EXPECT_EQ(b[i].group_tokens[1], b[i].prompt_len + 5);
  }
  EXPECT_EQ(b[1].group_tokens[1], 16 + 12 + 5);  // 25 % of 48 patches
  EXPECT_EQ(b[3].group_tokens[1], 16 + 6 + 5);   // round(0.25 * 25) = 6
  for (const Outcome& o : b) EXPECT_EQ(o.generated.size(), 6u);
  expect_all_free(*pruned);
}

TEST(PruningEngine, ChunkedPrefillPrunesTheWholePromptInItsLastChunk) {
  const Brick sarathi{
      "scheduler", "sarathi", {int_p("token_budget", 24), int_p("min_chunk", 8)}, {}};
  auto whole = make_runtime({fastv(0.5)});
  std::vector<Brick> base = base_bricks();
  base[0] = sarathi;
  auto chunked = make_runtime({fastv(0.5)}, 16 << 20, base);
  const int32_t d = hidden_of(*whole);
  const std::vector<engine::RequestSpec> specs = {image_request(d, 8, 8, 9),
                                                  image_request(d, 6, 4, 10, 3, 2)};
  const auto a = run_all(*whole, specs);
  const auto b = run_all(*chunked, specs);
  for (size_t i = 0; i < specs.size(); ++i) {
    ASSERT_EQ(b[i].failure, "");
    EXPECT_EQ(a[i].group_tokens, b[i].group_tokens) << "request " << i;
    EXPECT_EQ(a[i].generated, b[i].generated) << "request " << i;
    EXPECT_LT(max_diff(a[i].first_logits, b[i].first_logits), 1e-3f) << "request " << i;
  }
  expect_all_free(*chunked);
}

TEST(PruningEngine, AGroupWithoutRoomFailsTheRequestAlone) {
  // Pruning after layer 0: one layer per block, six groups; eight blocks of 16 tokens.
  auto probe = make_runtime({fastv(1.0, 0)});
  const int64_t block_bytes = 2LL * 6 * 48 * 4 * 16;
  ASSERT_EQ(probe->engine().kv_stats().num_device_blocks, (16 << 20) / block_bytes);
  auto rt = make_runtime({fastv(1.0, 0)}, 8 * block_bytes);
  ASSERT_EQ(rt->engine().kv_stats().num_device_blocks, 8);
  const int32_t d = hidden_of(*rt);
  // 80 tokens: 5 blocks in group 0 fit, 5 more in group 1 do not.
  const auto big = run_all(*rt, {image_request(d, 8, 8, 11)});
  EXPECT_NE(big[0].failure.find("KV group"), std::string::npos) << big[0].failure;
  expect_all_free(*rt);
  // A short request afterwards needs one block per group and runs.
  const auto small = run_all(*rt, {text_request(10, 12)});
  EXPECT_EQ(small[0].failure, "");
  EXPECT_EQ(small[0].generated.size(), 6u);
  expect_all_free(*rt);
}

TEST(PruningEngine, AtpPrunesAtEveryPointAndNeverGrows) {
  auto rt =
      make_runtime({{"pruning", "atp", {float_p("target_keep", 0.5), int_p("cell", 4)}, {1, 3}}});
  const int32_t d = hidden_of(*rt);
  const auto out = run_all(*rt, {image_request(d, 12, 12, 13), image_request(d, 8, 8, 14)});
  for (const Outcome& o : out) {
    ASSERT_EQ(o.failure, "");
    // Groups: 0 (layers 0-1), 1 (2-3), 2 (4-5).
    ASSERT_EQ(o.group_tokens.size(), 3u);
    EXPECT_LT(o.group_tokens[1], o.prompt_len + 5);
    EXPECT_LE(o.group_tokens[2], o.group_tokens[1]);
    EXPECT_GT(o.group_tokens[2], 16 + 5) << "spatial coverage keeps some patches";
    EXPECT_EQ(o.generated.size(), 6u);
  }
  expect_all_free(*rt);
}

// The tokens a pruning point keeps keep their positions: every K a later layer stores is
// rotated by its own token's position, not by the one of the row it sat in before pruning.
TEST(PruningEngine, KeptTokensAreRotatedByTheirOwnPositions) {
  auto rt = make_runtime({fastv(0.5)});
  engine::Engine& eng = rt->engine();
  auto* cpu = dynamic_cast<engine::CpuDevice*>(&eng.device());
  ASSERT_NE(cpu, nullptr);
  const model::LlamaConfig& c = eng.model().config;
  const int64_t kv_dim = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
  const int32_t layer = 2;  // the first layer after the pruning point (fastv after layer 1)
  const int32_t slab = eng.kv_groups().layout().slab_of_layer[layer];
  std::vector<float> k_rows;  // this layer's K before rope, of the step being run
  int64_t checked = 0, moved = 0;
  cpu->forward_pass().set_projection_hook([&](const engine::ForwardBatch& b, int32_t l,
                                              engine::Proj p, const float*, int64_t rows,
                                              float* y) {
    if (l != layer) return;
    if (p == engine::Proj::kK) k_rows.assign(y, y + rows * kv_dim);
    if (p != engine::Proj::kO) return;
    // Attention has run: the pool holds this layer's K of every row of the batch.
    ASSERT_EQ(static_cast<int64_t>(k_rows.size()), rows * kv_dim);
    std::vector<float> expected = k_rows;
    cpu::rope(expected.data(), b.positions.data(), rows, c.n_kv_heads, c.head_dim, c.rope_theta);
    const auto* pool = static_cast<const float*>(eng.pool().k(slab));
    for (int64_t r = 0; r < rows; ++r) {
      const float* stored = pool + static_cast<int64_t>(b.slots[static_cast<size_t>(r)]) * kv_dim;
      for (int64_t i = 0; i < kv_dim; ++i) {
        ASSERT_NEAR(stored[i], expected[r * kv_dim + i], 1e-5f) << "row " << r << ", value " << i;
      }
      // In the prompt's step (positions 0.. before pruning), a row whose position is not its
      // index sat elsewhere before pruning; a decode step's one row never moves.
      if (rows > 1) moved += b.positions[static_cast<size_t>(r)] != r;
      ++checked;
    }
  });
  const int32_t d = hidden_of(*rt);
  const auto out = run_all(*rt, {image_request(d, 8, 8, 15)});
  ASSERT_EQ(out[0].failure, "");
  EXPECT_EQ(out[0].group_tokens[1], 16 + 32 + 5);
  // The prompt's 48 kept rows, then one row for each of the 5 decoded tokens.
  EXPECT_EQ(checked, 48 + 5);
  EXPECT_GT(moved, 0) << "pruning dropped no row before a kept one: the test shows nothing";
  expect_all_free(*rt);
}

TEST(PruningEngine, ImageEmbeddingsReachTheModelAndNeverShareCacheBlocks) {
  auto rt = make_runtime({}, 16 << 20, base_bricks(/*prefix_cache=*/true));
  const int32_t d = hidden_of(*rt);
  // 32 text tokens before the image: two full blocks a later request may share.
  const auto first = run_all(*rt, {image_request(d, 4, 4, 20, 32, 20)});
  const int64_t hits0 = rt->engine().kv_stats().prefix_hit_tokens;
  const auto same = run_all(*rt, {image_request(d, 4, 4, 20, 32, 20)});
  const int64_t hits1 = rt->engine().kv_stats().prefix_hit_tokens;
  const auto other = run_all(*rt, {image_request(d, 4, 4, 21, 32, 20, 6, /*text_seed=*/20)});
  const int64_t hits2 = rt->engine().kv_stats().prefix_hit_tokens;
  EXPECT_EQ(hits1 - hits0, 64) << "the same image shares blocks up to the last full one";
  EXPECT_EQ(hits2 - hits1, 32) << "another image shares only the text before it";
  EXPECT_EQ(first[0].generated, same[0].generated);
  EXPECT_GT(max_diff(first[0].first_logits, other[0].first_logits), 1e-3f);
}

TEST(PruningEngine, BadImagesFailTheirRequestWithAReason) {
  auto rt = make_runtime({fastv(0.5)});
  const int32_t d = hidden_of(*rt);
  engine::RequestSpec s = image_request(d, 4, 4, 30);
  s.prompt[8] = 17;  // not the image's placeholder
  engine::RequestSpec wide = image_request(d + 1, 4, 4, 31);
  const auto out = run_all(*rt, {s, wide, image_request(d, 4, 4, 32)});
  EXPECT_NE(out[0].failure.find("placeholder"), std::string::npos) << out[0].failure;
  EXPECT_NE(out[1].failure, "");
  EXPECT_EQ(out[2].failure, "");
  expect_all_free(*rt);
}

TEST(PruningEngine, RuntimeRefusesPruningWithThePrefixCacheOn) {
  try {
    make_runtime({fastv(0.5)}, 16 << 20, base_bricks(/*prefix_cache=*/true));
    FAIL() << "expected a RuntimeError";
  } catch (const engine::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("enable_prefix_cache"), std::string::npos) << e.what();
  }
  try {
    make_runtime({fastv(0.5, 5)});
    FAIL() << "expected a RuntimeError";
  } catch (const engine::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("layer 5"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bricks::testing
