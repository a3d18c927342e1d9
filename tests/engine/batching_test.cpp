// Continuous batching must not change what a request computes: batched = alone, prefix
// cache hits and preemption (recompute, and swap with its copies before or beside the
// forward pass) leave greedy outputs unchanged, a request that cannot be served fails alone.
#include <gtest/gtest.h>

#include <map>

#include "engine_fixture.h"

namespace bricks::testing {
namespace {

using Outputs = std::map<uint64_t, std::vector<int32_t>>;

std::vector<engine::RequestSpec> prompts(const engine::Runtime& rt, bool shared_prefix) {
  const std::string prefix = shared_prefix
      ? "You are a helpful storyteller who always answers with a short tale about animals. "
      : "";
  std::vector<engine::RequestSpec> out;
  for (const char* text : {"Once upon a time", "The little dog ran to the", "In a big forest",
                           "She said hello to the cat and", "Tom had a red ball"}) {
    engine::RequestSpec s;
    s.prompt = rt.model()->tokenizer().encode(prefix + text, true);
    s.max_new_tokens = 12;
    s.ignore_eos = true;
    out.push_back(s);
  }
  return out;
}

// Runs `specs` together; returns generated tokens by submission index.
std::vector<std::vector<int32_t>> run_all(engine::Runtime& rt,
                                          const std::vector<engine::RequestSpec>& specs) {
  engine::Engine& eng = rt.engine();
  std::vector<uint64_t> ids;
  for (const auto& s : specs) ids.push_back(eng.submit(s));
  eng.run_to_completion();
  std::map<uint64_t, std::vector<int32_t>> by_id;
  for (const engine::Request* r : eng.ended()) {
    EXPECT_NE(r->finish, engine::FinishReason::kFailed) << r->failure;
    by_id[r->id] = std::vector<int32_t>(r->tokens.begin() + r->prompt_len(), r->tokens.end());
  }
  std::vector<std::vector<int32_t>> out;
  for (uint64_t id : ids) out.push_back(by_id[id]);
  return out;
}

std::vector<std::vector<int32_t>> alone(const std::vector<engine::RequestSpec>& specs) {
  std::vector<std::vector<int32_t>> out;
  for (const auto& s : specs) {
    auto rt = engine::Runtime::create(make_manifest(default_bricks()), {});
    out.push_back(run_all(*rt, {s}).front());
  }
  return out;
}

TEST(Batching, BatchedEqualsAlone) {
  auto rt = engine::Runtime::create(make_manifest(default_bricks()), {});
  auto specs = prompts(*rt, false);
  auto together = run_all(*rt, specs);
  EXPECT_EQ(together, alone(specs));
  EXPECT_GT(rt->engine().stats().steps, 0);
}

TEST(Batching, PrefixCacheHitsDoNotChangeOutputs) {
  auto cached = engine::Runtime::create(make_manifest(default_bricks()), {});
  auto specs = prompts(*cached, true);
  // Run one first so the shared prefix is in the cache, then the rest.
  auto first = run_all(*cached, {specs[0]});
  auto rest = run_all(*cached, std::vector<engine::RequestSpec>(specs.begin() + 1, specs.end()));
  const bricks_kv_stats ks = cached->engine().kv_stats();
  EXPECT_GT(ks.prefix_hit_tokens, 0) << "the shared prefix was never hit";

  auto bricks = default_bricks();
  bricks[1].params.push_back({"enable_prefix_cache", bool_value(false)});
  auto plain = engine::Runtime::create(make_manifest(bricks), {});
  auto want = run_all(*plain, specs);
  rest.insert(rest.begin(), first[0]);
  EXPECT_EQ(rest, want);
}

// A KV pool of ten blocks of four tokens, with `preemption`: each request of prompts()
// fits alone, all five together do not. `host_blocks` sizes the host tier for swaps.
manifest::LoadedManifest tight_manifest(const engine::Runtime& probe,
                                        const std::string& preemption, int64_t host_blocks) {
  const auto& c = probe.model()->config();
  const int64_t block_bytes = 2ll * c.n_kv_heads * c.head_dim * 4 * 4 * c.n_layers;
  auto bricks = default_bricks();
  bricks[0].params.push_back({"preemption", string_value(preemption)});
  bricks[1].params.push_back({"block_size", int_value(4)});
  bricks[1].params.push_back({"enable_prefix_cache", bool_value(false)});
  manifest::LoadedManifest m = make_manifest(bricks, 10 * block_bytes);
  m.proto.mutable_device()->set_host_kv_bytes(host_blocks * block_bytes);
  return m;
}

TEST(Batching, PreemptionWithRecomputeDoesNotChangeOutputs) {
  auto probe = engine::Runtime::create(make_manifest(default_bricks()), {});
  auto specs = prompts(*probe, false);
  auto tight = engine::Runtime::create(tight_manifest(*probe, "recompute", 0), {});
  auto got = run_all(*tight, specs);
  EXPECT_GT(tight->engine().stats().preemptions, 0) << "the pool was not tight enough";
  EXPECT_EQ(got, run_all(*probe, specs));
}

// Swap preemption, with the copies before the forward pass and on the copy thread beside
// it (device.overlap_swaps): the KV that comes back is the KV that left.
class SwapPreemption : public ::testing::TestWithParam<bool> {};

TEST_P(SwapPreemption, DoesNotChangeOutputs) {
  auto probe = engine::Runtime::create(make_manifest(default_bricks()), {});
  auto specs = prompts(*probe, false);
  manifest::LoadedManifest m = tight_manifest(*probe, "swap", 64);
  m.proto.mutable_device()->set_overlap_swaps(GetParam());
  auto tight = engine::Runtime::create(m, {});
  auto got = run_all(*tight, specs);
  const engine::EngineStats& st = tight->engine().stats();
  EXPECT_GT(st.preemptions, 0) << "the pool was not tight enough";
  EXPECT_GT(st.swapped_bytes, 0) << "nothing was swapped";
  const engine::KvCopyTime copy_time = tight->engine().kv_copy_time();
  EXPECT_LE(copy_time.hidden_s, copy_time.total_s);
  if (!GetParam()) {
    EXPECT_EQ(copy_time.hidden_s, 0.0) << "copies before compute hide nothing";
  }
  EXPECT_EQ(got, run_all(*probe, specs));
}

INSTANTIATE_TEST_SUITE_P(CopiesBeforeAndBesideCompute, SwapPreemption, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "overlapped" : "before_compute";
                         });

TEST(Batching, UnservableRequestFailsAloneOthersFinish) {
  auto rt = engine::Runtime::create(make_manifest(default_bricks()), {});
  auto specs = prompts(*rt, false);
  engine::RequestSpec too_long;
  too_long.prompt.assign(static_cast<size_t>(rt->model()->config().context_length), 300);
  too_long.max_new_tokens = 4;
  engine::RequestSpec bad_token = specs[0];
  bad_token.prompt.push_back(rt->model()->config().vocab_size + 5);
  engine::Engine& eng = rt->engine();
  for (const auto& s : specs) eng.submit(s);
  const uint64_t long_id = eng.submit(too_long);
  const uint64_t bad_id = eng.submit(bad_token);
  eng.run_to_completion();
  ASSERT_EQ(eng.ended().size(), specs.size() + 2);
  for (const engine::Request* r : eng.ended()) {
    if (r->id == long_id || r->id == bad_id) {
      EXPECT_EQ(r->finish, engine::FinishReason::kFailed);
      EXPECT_FALSE(r->failure.empty());
    } else {
      EXPECT_EQ(r->finish, engine::FinishReason::kLength) << r->failure;
      EXPECT_EQ(r->num_generated, 12);
    }
  }
}

}  // namespace
}  // namespace bricks::testing
