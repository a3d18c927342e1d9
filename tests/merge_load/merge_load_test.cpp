// Merging at load through the runtime: a linear merge of two generated models is their
// average, weights and task vectors come out as computed by hand, filters keep the first
// checkpoint's tensors, the run equals the written merged file, and checkpoints of
// different shapes are refused naming the file.
#include <gtest/gtest.h>

#include "bricks/model/model_overlay.h"
#include "lora_fixture.h"
#include "runtime/merge_checkpoints.h"

namespace bricks::testing {
namespace {

namespace fs = std::filesystem;

manifest::LoadedManifest merge_manifest(const std::vector<std::pair<fs::path, double>>& checkpoints,
                                        const std::map<std::string, std::string>& params,
                                        const fs::path& base = {}) {
  auto m = base_manifest({});
  auto* merge = m.proto.mutable_model()->mutable_merge();
  for (const auto& [path, weight] : checkpoints) {
    auto* c = merge->add_checkpoints();
    c->set_path(path.string());
    c->set_weight(weight);
  }
  if (!base.empty()) merge->set_base(base.string());
  add_brick(m, "merger", "merge", params);
  return m;
}

std::vector<float> values(const model::Model& m, const std::string& name) {
  const model::TensorView& t = m.tensor(name);
  std::vector<float> v(static_cast<size_t>(t.numel()));
  model::to_f32(t.dtype, t.data, v);
  return v;
}

std::vector<float> values_of(const fs::path& file, const std::string& name) {
  return values(*model::Model::open(file), name);
}

// One plugin scan for the tests that only merge (no engine): merge_from_manifest is the
// runtime's own merge step.
const host::Registry& registry() {
  static const host::Registry r([] {
    host::LoadOptions o;
    o.search_path = host::plugin_search_path({});
    return o;
  }());
  return r;
}

std::unique_ptr<model::Model> merged(const manifest::LoadedManifest& m) {
  return engine::merge_from_manifest(m, registry());
}

const char* const kTensors[] = {"blk.0.attn_q.weight", "blk.5.ffn_down.weight", "token_embd.weight",
                                "output_norm.weight"};

TEST(MergeLoad, LinearMergeOfTwoModelsIsTheirAverage) {
  auto rt = engine::Runtime::create(
      merge_manifest({{tiny_model(1), 1.0}, {tiny_model(2), 1.0}}, {{"method", "linear"}}), {});
  for (const char* name : kTensors) {
    const auto a = values_of(tiny_model(1), name), b = values_of(tiny_model(2), name);
    const auto got = values(*rt->model(), name);
    ASSERT_EQ(got.size(), a.size());
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_NEAR(got[i], (a[i] + b[i]) / 2, 1e-7) << name << " " << i;
  }
  // The two inputs differ, so the average is neither.
  EXPECT_NE(values(*rt->model(), kTensors[0]), values_of(tiny_model(1), kTensors[0]));
}

TEST(MergeLoad, WeightsTaskVectorsAndFiltersAsComputedByHand) {
  const fs::path a = tiny_model(1), b = tiny_model(2), base = tiny_model(3);
  {  // (3 a + 1 b) / 4
    const auto m = merged(merge_manifest({{a, 3.0}, {b, 1.0}}, {{"method", "linear"}}));
    const auto va = values_of(a, kTensors[0]), vb = values_of(b, kTensors[0]);
    const auto got = values(*m, kTensors[0]);
    for (size_t i = 0; i < va.size(); ++i) ASSERT_NEAR(got[i], (3 * va[i] + vb[i]) / 4, 1e-7);
  }
  {  // base + (a - base) + (b - base)
    const auto m =
        merged(merge_manifest({{a, 1.0}, {b, 1.0}}, {{"method", "task_arithmetic"}}, base));
    const auto va = values_of(a, kTensors[1]), vb = values_of(b, kTensors[1]),
               v0 = values_of(base, kTensors[1]);
    const auto got = values(*m, kTensors[1]);
    for (size_t i = 0; i < va.size(); ++i) ASSERT_NEAR(got[i], va[i] + vb[i] - v0[i], 1e-6);
  }
  {  // Only attention q weights merged; every other tensor is the first checkpoint's.
    const auto m =
        merged(merge_manifest({{a, 1.0}, {b, 1.0}}, {{"method", "linear"}, {"include", "attn_q"}}));
    EXPECT_EQ(values(*m, kTensors[1]), values_of(a, kTensors[1]));
    EXPECT_NE(values(*m, kTensors[0]), values_of(a, kTensors[0]));
  }
}

TEST(MergeLoad, RunEqualsTheWrittenMergedFile) {
  auto m = merge_manifest({{tiny_model(1), 1.0}, {tiny_model(2), 2.0}}, {{"method", "linear"}});
  auto direct = engine::Runtime::create(m, {});
  const fs::path out = fixture_dir() / "merged-linear.gguf";
  model::write_model_gguf(*direct->model(), tiny_model(1), out);
  auto from_file = engine::Runtime::create(base_manifest(out), {});
  const auto p = direct->model()->tokenizer().encode("Once upon a time there was", true);
  const auto got = run_logits(*direct, {{p, ""}});
  const auto want = run_logits(*from_file, {{p, ""}});
  ASSERT_EQ(got[0].size(), want[0].size());
  for (size_t s = 0; s < got[0].size(); ++s) EXPECT_EQ(got[0][s], want[0][s]) << "step " << s;
}

TEST(MergeLoad, CheckpointsOfAnotherShapeAreRefusedNamingTheFile) {
  const fs::path moe = fixture_dir() / "moe-tiny-q8_0.gguf";
  if (!fs::exists(moe)) {
    model::MakeModelOptions o;
    o.preset = "moe-tiny";
    o.dtype = model::DType::Q8_0;
    o.out = moe;
    model::make_model(o);
  }
  try {
    merged(merge_manifest({{tiny_model(1), 1.0}, {moe, 1.0}}, {{"method", "linear"}}));
    FAIL() << "checkpoints of different architectures were merged";
  } catch (const engine::MergeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("moe-tiny-q8_0.gguf"), std::string::npos) << msg;
    EXPECT_NE(msg.find("expert count"), std::string::npos) << msg;
  }
}

TEST(MergeLoad, MergeWithoutMergerBrickIsRefused) {
  auto m = merge_manifest({{tiny_model(1), 1.0}, {tiny_model(2), 1.0}}, {});
  m.proto.mutable_bricks()->RemoveLast();  // the merger
  try {
    engine::Runtime::create(m, {});
    FAIL() << "model.merge without a merger brick was accepted";
  } catch (const engine::RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("merger brick"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace bricks::testing
