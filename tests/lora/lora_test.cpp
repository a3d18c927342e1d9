// LoRA adapters through the engine: a request with an adapter equals the model with the
// adapter merged into its weights (W + scale * B A, written as a GGUF file), both adapter
// formats give the same result, and a batch mixing adapters (and none) equals each
// request run alone.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "bricks/model/model_overlay.h"
#include "lora_fixture.h"
#include "runtime/adapter_setup.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

model::MakeAdapterOptions adapter_options(const std::string& format, uint64_t seed) {
  model::MakeAdapterOptions o;
  o.base = model::preset_config("tiny");
  o.rank = 4;
  o.alpha = 8.f;
  o.targets = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
  o.format = format;
  o.seed = seed;
  o.out = fixture_dir() /
          ("tiny-lora-" + std::to_string(seed) + (format == "gguf" ? ".gguf" : "-peft"));
  return o;
}

fs::path adapter_file(const std::string& format, uint64_t seed) {
  const auto o = adapter_options(format, seed);
  if (!fs::exists(o.out)) model::make_adapter(o);
  return o.out;
}

// The tiny model with adapter `seed` merged into its weights, as a GGUF file.
fs::path merged_model(uint64_t seed) {
  const fs::path out = fixture_dir() / ("tiny-merged-lora-" + std::to_string(seed) + ".gguf");
  if (fs::exists(out)) return out;
  const auto o = adapter_options("gguf", seed);
  const double scale = o.alpha / o.rank;
  std::shared_ptr<const model::Model> base = model::Model::open(tiny_model());
  std::map<std::string, std::vector<unsigned char>> replaced;
  for (const auto& m : model::adapter_matrices(o)) {
    const std::string name = "blk." + std::to_string(m.layer) + "." + m.target + ".weight";
    const model::TensorView& t = base->tensor(name);
    std::vector<float> w(static_cast<size_t>(t.numel()));
    model::to_f32(t.dtype, t.data, w);
    for (int64_t r = 0; r < m.out; ++r) {
      for (int64_t c = 0; c < m.in; ++c) {
        double delta = 0;
        for (int64_t k = 0; k < m.rank; ++k)
          delta += double{m.b[r * m.rank + k]} * m.a[k * m.in + c];
        w[static_cast<size_t>(r * m.in + c)] += static_cast<float>(scale * delta);
      }
    }
    replaced[name] = model::encode_f32(t.dtype, w);
  }
  model::OverlayModel merged(base, std::move(replaced), out);
  model::write_model_gguf(merged, tiny_model(), out);
  return out;
}

manifest::LoadedManifest lora_manifest(
    const std::vector<std::pair<std::string, fs::path>>& adapters) {
  auto m = base_manifest(tiny_model());
  (*m.proto.mutable_bricks(1)->mutable_params())["enable_prefix_cache"].set_bool_(false);
  add_brick(m, "adapter", "lora");
  for (const auto& [name, path] : adapters) {
    auto* a = m.proto.mutable_model()->add_adapters();
    a->set_name(name);
    a->set_path(path.string());
  }
  return m;
}

std::vector<int32_t> prompt(const engine::Runtime& rt, const char* text) {
  return rt.model()->tokenizer().encode(text, true);
}

void expect_close(const std::vector<std::vector<float>>& got,
                  const std::vector<std::vector<float>>& want, double rel,
                  const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t s = 0; s < got.size(); ++s) {
    ASSERT_EQ(got[s].size(), want[s].size());
    const double tol = rel * std::max(1.0, max_abs(want[s]));
    for (size_t v = 0; v < got[s].size(); ++v) {
      ASSERT_NEAR(got[s][v], want[s][v], tol) << what << ": step " << s << ", vocab id " << v;
    }
  }
}

TEST(Lora, AdapterEqualsWeightsWithTheAdapterMerged) {
  auto with_adapter = engine::Runtime::create(lora_manifest({{"a", adapter_file("gguf", 1)}}), {});
  auto merged = engine::Runtime::create(base_manifest(merged_model(1)), {});
  auto plain = engine::Runtime::create(base_manifest(tiny_model()), {});
  const auto p = prompt(*with_adapter, "Once upon a time there was a little");
  const auto got = run_logits(*with_adapter, {{p, "a"}});
  const auto want = run_logits(*merged, {{p, ""}});
  const auto base = run_logits(*plain, {{p, ""}});
  expect_close(got[0], want[0], 1e-4, "adapter vs merged weights");
  // The adapter must matter: the plain model's logits differ clearly.
  double diff = 0;
  for (size_t v = 0; v < base[0][0].size(); ++v) {
    diff = std::max(diff, static_cast<double>(std::fabs(base[0][0][v] - got[0][0][v])));
  }
  EXPECT_GT(diff, 1e-2);
}

TEST(Lora, PeftAndGgufFilesOfOneAdapterGiveTheSameLogits) {
  auto rt = engine::Runtime::create(
      lora_manifest({{"g", adapter_file("gguf", 1)}, {"p", adapter_file("peft", 1)}}), {});
  const auto p = prompt(*rt, "The cat sat on the mat and");
  const auto out = run_logits(*rt, {{p, "g"}, {p, "p"}});
  expect_close(out[1], out[0], 1e-5, "peft vs gguf");
}

TEST(Lora, MixedBatchEqualsEachRequestAlone) {
  auto batched = engine::Runtime::create(
      lora_manifest({{"a", adapter_file("gguf", 1)}, {"b", adapter_file("peft", 2)}}), {});
  const std::vector<Probe> probes = {
      {prompt(*batched, "Once upon a time"), "a"},
      {prompt(*batched, "The little dog ran to the"), ""},
      {prompt(*batched, "She said hello and"), "b"},
      {prompt(*batched, "Tom and his friend"), "a"},
      {prompt(*batched, "Once upon a time"), "b"},
  };
  const auto together = run_logits(*batched, probes);
  for (size_t i = 0; i < probes.size(); ++i) {
    const auto alone = run_logits(*batched, {probes[i]});  // after the batch: one at a time
    expect_close(together[i], alone[0], 1e-4, "request " + std::to_string(i));
  }
  // Same prompt, different adapters: different logits.
  EXPECT_NE(together[0][0], together[4][0]);
}

TEST(Lora, UnknownAdapterNameIsAnErrorNamingIt) {
  auto rt = engine::Runtime::create(lora_manifest({{"a", adapter_file("gguf", 1)}}), {});
  const auto p = prompt(*rt, "Once upon a time");
  try {
    run_logits(*rt, {{p, "nope"}});
    FAIL() << "a request naming an adapter that is not loaded ran";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos) << e.what();
  }
}

TEST(Lora, ManifestWithoutAdapterBrickOrWithBadAdapterIsRefused) {
  auto m = base_manifest(tiny_model());
  auto* a = m.proto.mutable_model()->add_adapters();
  a->set_name("a");
  a->set_path(adapter_file("gguf", 1).string());
  try {
    engine::Runtime::create(m, {});
    FAIL() << "adapters without an adapter brick were accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("adapter brick"), std::string::npos) << e.what();
  }
  // An adapter for another shape fails at load, naming the file.
  auto small = adapter_options("gguf", 5);
  small.base = model::preset_config("small");
  small.layers = {0};
  small.out = fixture_dir() / "small-shape-lora.gguf";
  model::make_adapter(small);
  try {
    engine::Runtime::create(lora_manifest({{"s", small.out}}), {});
    FAIL() << "an adapter for another model shape was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("small-shape-lora.gguf"), std::string::npos) << e.what();
  }
}

TEST(Lora, KvCacheReuseAcrossAdaptersIsRefused) {
  auto m = lora_manifest({{"a", adapter_file("gguf", 1)}});
  m.proto.mutable_bricks(1)->mutable_params()->erase("enable_prefix_cache");  // default: on
  try {
    engine::Runtime::create(m, {});
    FAIL() << "a prefix cache shared across adapters was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("enable_prefix_cache"), std::string::npos) << e.what();
  }
}

TEST(AdapterRule, TenantAndRoundRobinAssignment) {
  manifest::Model model;
  for (const char* name : {"a", "b"}) model.add_adapters()->set_name(name);
  model.mutable_adapters(0)->add_tenants(1);
  model.mutable_adapters(1)->add_tenants(2);
  model.mutable_adapters(1)->add_tenants(3);
  std::vector<engine::RequestSpec> work(5);
  for (int i = 0; i < 5; ++i) work[i].tenant = i;
  work[4].adapter = "a";  // a request's own adapter wins
  engine::assign_adapters(engine::adapter_rule(model), work);
  EXPECT_EQ(work[0].adapter, "");
  EXPECT_EQ(work[1].adapter, "a");
  EXPECT_EQ(work[2].adapter, "b");
  EXPECT_EQ(work[3].adapter, "b");
  EXPECT_EQ(work[4].adapter, "a");

  model.set_adapter_assign("round_robin");
  std::vector<engine::RequestSpec> rr(5);
  engine::assign_adapters(engine::adapter_rule(model), rr);
  EXPECT_EQ(rr[0].adapter, "a");
  EXPECT_EQ(rr[1].adapter, "b");
  EXPECT_EQ(rr[2].adapter, "a");

  std::vector<engine::RequestSpec> bad(1);
  bad[0].adapter = "zzz";
  EXPECT_THROW(engine::assign_adapters(engine::adapter_rule(model), bad), std::invalid_argument);
}

}  // namespace
}  // namespace bricks::testing
