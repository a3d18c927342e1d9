// The cuda device through the runtime. Without a usable GPU (or CUDA in this build) a cuda
// manifest fails at once with one error naming the manifest and the device; with one, the
// cuda device's greedy tokens and log-probabilities are the cpu device's on the same model
// (both with bf16 compute: matrix inputs rounded to bf16, f32 sums), and swap preemption
// through the
// pinned host tier leaves the outputs unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "cuda/cuda_device.h"
#include "engine_fixture.h"
#include "runtime/runtime_error.h"
#include "test_models.h"

namespace bricks::testing {
namespace {

// "" when GPU 0 can be used; else why not.
std::string gpu_unavailable() {
  try {
    cuda::require_cuda_device(0);
    return "";
  } catch (const cuda::CudaUnavailable& e) {
    return e.what();
  }
}

#define SKIP_WITHOUT_GPU() \
  if (const std::string why = gpu_unavailable(); !why.empty()) GTEST_SKIP() << why

manifest::LoadedManifest on_device(const std::string& kind, std::vector<BrickChoice> bricks,
                                   int64_t kv_bytes = 16 << 20) {
  manifest::LoadedManifest m = make_manifest(bricks, kv_bytes, "f32");
  m.proto.mutable_device()->set_kind(kind);
  m.proto.mutable_device()->set_compute("bf16");
  if (kind == "cuda") m.proto.mutable_device()->set_threads(0);
  return m;
}

std::vector<BrickChoice> bricks_for(const std::string& kind) {
  return default_bricks(kind == "cuda" ? "cuda_paged" : "cpu_paged");
}

std::vector<engine::RequestSpec> prompts(const engine::Runtime& rt, int32_t tokens) {
  std::vector<engine::RequestSpec> out;
  for (const char* text : {"Once upon a time", "The little dog ran to the", "In a big forest",
                           "She said hello to the cat and", "Tom had a red ball"}) {
    engine::RequestSpec s;
    s.prompt = rt.model()->tokenizer().encode(text, true);
    s.max_new_tokens = tokens;
    s.ignore_eos = true;
    s.logprobs = 0;
    out.push_back(s);
  }
  return out;
}

struct Outputs {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<std::vector<float>> logprobs;  // of the chosen tokens
};

Outputs run(engine::Runtime& rt, const std::vector<engine::RequestSpec>& specs) {
  Outputs out;
  for (const engine::Request* r : run_in_order(rt, specs)) {
    EXPECT_EQ(r->failure, "");
    out.tokens.emplace_back(r->tokens.begin() + r->prompt_len(), r->tokens.end());
    std::vector<float> lp;
    for (const auto& g : r->logprobs) lp.push_back(g.logprob);
    out.logprobs.push_back(lp);
  }
  return out;
}

TEST(CudaDevice, WithoutAGpuAManifestFailsAtOnceWithOneError) {
  if (gpu_unavailable().empty()) GTEST_SKIP() << "a GPU is present: the cases below run";
  try {
    engine::Runtime::create(on_device("cuda", bricks_for("cuda")), {});
    FAIL() << "a cuda manifest was accepted without a usable GPU";
  } catch (const engine::RuntimeError& e) {
    const std::string what = e.what();
    if (!cuda::cuda_built()) {
      // No cuda_paged brick either: the manifest names a brick this build does not have.
      EXPECT_NE(what.find("unknown attention brick 'cuda_paged'"), std::string::npos) << what;
      return;
    }
    EXPECT_NE(what.find("<test>: device.kind \"cuda\": "), std::string::npos) << what;
    EXPECT_NE(what.find("no CUDA device"), std::string::npos) << what;
  }
}

TEST(CudaDevice, GreedyTokensAndLogprobsAreTheCpuDevices) {
  SKIP_WITHOUT_GPU();
  auto cpu = engine::Runtime::create(on_device("cpu", bricks_for("cpu")), {});
  auto gpu = engine::Runtime::create(on_device("cuda", bricks_for("cuda")), {});
  const auto specs = prompts(*cpu, 32);
  const Outputs want = run(*cpu, specs);
  const Outputs got = run(*gpu, specs);
  ASSERT_EQ(got.tokens.size(), want.tokens.size());
  for (size_t i = 0; i < want.tokens.size(); ++i) {
    EXPECT_EQ(got.tokens[i], want.tokens[i]) << "request " << i;
    const size_t n = std::min(got.logprobs[i].size(), want.logprobs[i].size());
    for (size_t t = 0; t < n && got.tokens[i] == want.tokens[i]; ++t) {
      const float a = got.logprobs[i][t], b = want.logprobs[i][t];
      EXPECT_LE(std::fabs(a - b), 1e-2f * std::max(1.0f, std::fabs(b)))
          << "request " << i << " token " << t;
    }
  }
}

TEST(CudaDevice, SwapsThroughPinnedHostMemoryKeepTheOutputs) {
  SKIP_WITHOUT_GPU();
  auto probe = engine::Runtime::create(on_device("cuda", bricks_for("cuda")), {});
  const auto specs = prompts(*probe, 12);
  const Outputs want = run(*probe, specs);
  const auto& c = probe->model()->config();
  for (bool overlap : {false, true}) {
    // Ten device blocks of four tokens (each request fits alone, all five do not).
    const int64_t block_bytes = 2ll * c.n_kv_heads * c.head_dim * 4 * 4 * c.n_layers;
    auto bricks = bricks_for("cuda");
    bricks[0].params.push_back({"preemption", string_value("swap")});
    bricks[1].params.push_back({"block_size", int_value(4)});
    bricks[1].params.push_back({"enable_prefix_cache", bool_value(false)});
    manifest::LoadedManifest m = on_device("cuda", bricks, 10 * block_bytes);
    m.proto.mutable_device()->set_host_kv_bytes(64 * block_bytes);
    m.proto.mutable_device()->set_overlap_swaps(overlap);
    auto tight = engine::Runtime::create(m, {});
    const Outputs got = run(*tight, specs);
    EXPECT_GT(tight->engine().stats().preemptions, 0) << "the pool was not tight enough";
    EXPECT_GT(tight->engine().stats().swapped_bytes, 0);
    EXPECT_EQ(got.tokens, want.tokens) << "overlap " << overlap;
  }
}

}  // namespace
}  // namespace bricks::testing
