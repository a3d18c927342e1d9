// Weight streaming (engine/weight_plan.h, engine/weight_stream.h): the plan keeps what the
// budget holds and spreads the streamed layers; layers read from disk compute exactly what
// the mapped ones do; a run under a budget gives the same greedy tokens as one without and
// reports the tier's traffic; a layer whose read fails throws with the reason and the ring
// goes on; resident weights on huge pages compute what the file's pages do.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "engine/device.h"
#include "engine/weight_plan.h"
#include "engine/weight_stream.h"
#include "engine_fixture.h"
#include "report/report.h"
#include "runtime/runtime_error.h"

namespace bricks::testing {
namespace {

using engine::plan_weights;
using engine::WeightPlan;
using engine::WeightPlanInput;

WeightPlanInput ten_layers(int64_t budget) {
  WeightPlanInput in;
  in.budget_bytes = budget;
  in.fixed_bytes = 50;
  in.layer_bytes.assign(10, 10);
  return in;
}

TEST(WeightPlan, KeepsEverythingWhenTheModelFits) {
  const WeightPlan p = plan_weights(ten_layers(150));
  EXPECT_EQ(p.num_streamed(), 0);
  EXPECT_EQ(p.ring_slots, 0);
  EXPECT_EQ(p.resident_bytes, 150);
  EXPECT_EQ(plan_weights(ten_layers(0)).num_streamed(), 0);  // 0: no limit
}

TEST(WeightPlan, KeepsWhatFitsBesideTwoBuffersAndSpreadsTheRest) {
  // 50 fixed + 2 buffers of 10 leave 30 of the 109: three layers stay, seven are streamed.
  const WeightPlan p = plan_weights(ten_layers(109));
  EXPECT_EQ(p.ring_slots, 2);
  EXPECT_EQ(p.slot_bytes, 10);
  EXPECT_EQ(p.num_streamed(), 7);
  EXPECT_EQ(p.resident_bytes, 50 + 20 + 30);
  EXPECT_EQ(p.streamed_bytes, 70);
  // Layer floor((2j + 1) * 10 / 14) for j < 7: resident layers 1, 4 and 8 break the runs.
  const std::vector<bool> want = {true, false, true, true, false, true, true, true, false, true};
  EXPECT_EQ(p.streamed, want);
}

TEST(WeightPlan, LayersOfDifferentSizesStayWithinTheBudget) {
  WeightPlanInput in = ten_layers(125);
  in.layer_bytes = {10, 20, 10, 20, 10, 20, 10, 20, 10, 20};
  const WeightPlan p = plan_weights(in);
  EXPECT_EQ(p.slot_bytes, 20);
  EXPECT_LE(p.resident_bytes, 125);
  int64_t resident = 50 + 2 * 20;
  for (size_t l = 0; l < 10; ++l) resident += p.streamed[l] ? 0 : in.layer_bytes[l];
  EXPECT_EQ(p.resident_bytes, resident);
}

TEST(WeightPlan, ABudgetBelowTwoBuffersIsRefusedWithTheSizes) {
  try {
    plan_weights(ten_layers(69));
    FAIL() << "a budget of 69 bytes was accepted";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("device.weight_memory_bytes is 69 bytes"), std::string::npos) << what;
    EXPECT_NE(what.find("give at least 70"), std::string::npos) << what;
  }
}

TEST(WeightPlan, PredictsTheLargerOfReadsAndCompute) {
  WeightPlanInput in = ten_layers(109);
  in.disk_bytes_per_s = 35;      // 70 streamed bytes: 2 s of reads
  in.compute_bytes_per_s = 150;  // 150 bytes in all: 1 s of compute
  const WeightPlan p = plan_weights(in);
  EXPECT_DOUBLE_EQ(p.read_s(), 2.0);
  EXPECT_DOUBLE_EQ(p.compute_s(), 1.0);
  EXPECT_DOUBLE_EQ(p.step_s(), 2.0);
  EXPECT_NE(p.describe().find("disk-bound"), std::string::npos) << p.describe();
}

// The budget that keeps `resident` layers of the tiny model beside the two buffers.
int64_t budget_keeping(const model::Model& m, int resident) {
  const std::vector<int64_t> layers = engine::WeightStream::layer_buffer_bytes(m);
  const int64_t slot = *std::max_element(layers.begin(), layers.end());
  return engine::WeightStream::fixed_bytes(m) + (2 + resident) * slot;
}

std::vector<float> project(const cpu::Linear& lin) {
  std::vector<float> x(static_cast<size_t>(lin.cols()));
  for (size_t i = 0; i < x.size(); ++i) x[i] = 0.01f * static_cast<float>(i % 17) - 0.05f;
  std::vector<float> y(static_cast<size_t>(lin.rows()));
  lin.forward(x.data(), 1, y.data());
  return y;
}

void expect_same_layer(const engine::LayerWeights& a, const engine::LayerWeights& b, int l) {
  EXPECT_EQ(project(*a.wq), project(*b.wq)) << "layer " << l;
  EXPECT_EQ(project(*a.wo), project(*b.wo)) << "layer " << l;
  EXPECT_EQ(project(*a.w_down), project(*b.w_down)) << "layer " << l;
}

TEST(WeightStream, LayersReadFromDiskComputeWhatTheMappedOnesDo) {
  const auto m = model::Model::open(tiny_model_path());
  WeightPlanInput in;
  in.budget_bytes = budget_keeping(*m, 0);
  in.fixed_bytes = engine::WeightStream::fixed_bytes(*m);
  in.layer_bytes = engine::WeightStream::layer_buffer_bytes(*m);
  const WeightPlan plan = plan_weights(in);
  ASSERT_EQ(plan.num_streamed(), m->config().n_layers);
  const engine::LlamaWeights resident = engine::LlamaWeights::load(*m, cpu::Compute::F32);
  engine::WeightStream stream(*m, plan, cpu::Compute::F32);
  for (int step = 0; step < 2; ++step) {
    for (int l = 0; l < m->config().n_layers; ++l) {
      expect_same_layer(stream.acquire(l), resident.layers[static_cast<size_t>(l)], l);
      stream.release(l);
    }
  }
  // A pass that stops after layer 1 (every row pruned): the next one starts at layer 0.
  stream.acquire(0);
  stream.release(0);
  stream.acquire(1);
  stream.release(1);
  expect_same_layer(stream.acquire(0), resident.layers[0], 0);
  stream.release(0);
  const engine::WeightStreamCounters c = stream.counters();
  EXPECT_GE(c.layers_read, 2 * m->config().n_layers + m->config().n_layers + 1);
  EXPECT_EQ(c.failed_reads, 0);
  EXPECT_THROW(stream.release(0), std::logic_error);
}

TEST(WeightStream, AFailedReadNamesTheLayerAndTheRingGoesOn) {
  const auto dir = scratch_dir("bricks-weight-stream-test");
  const auto file = dir / "tiny-truncated.gguf";
  std::filesystem::copy_file(tiny_model_path(), file,
                             std::filesystem::copy_options::overwrite_existing);
  const auto m = model::Model::open(file);
  const int32_t last = m->config().n_layers - 1;
  WeightPlanInput in;
  in.budget_bytes = budget_keeping(*m, 0);
  in.fixed_bytes = engine::WeightStream::fixed_bytes(*m);
  in.layer_bytes = engine::WeightStream::layer_buffer_bytes(*m);
  const WeightPlan plan = plan_weights(in);
  // Cut the file inside the last layer's down projection; earlier layers stay whole.
  const model::TensorView& down = m->tensor("blk." + std::to_string(last) + ".ffn_down.weight");
  std::filesystem::resize_file(file, down.file_offset + down.nbytes / 2);
  engine::WeightStream stream(*m, plan, cpu::Compute::F32);
  for (int32_t l = 0; l < last; ++l) {
    stream.acquire(l);
    stream.release(l);
  }
  try {
    stream.acquire(last);
    FAIL() << "a layer cut short was handed out";
  } catch (const engine::DeviceStepError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("layer " + std::to_string(last)), std::string::npos) << what;
    EXPECT_NE(what.find("the file ends at byte"), std::string::npos) << what;
  }
  EXPECT_NO_THROW({
    stream.acquire(0);
    stream.release(0);
  });
  EXPECT_GE(stream.counters().failed_reads, 1);
  std::filesystem::remove(file);
}

std::vector<std::vector<int32_t>> greedy(engine::Runtime& rt) {
  engine::Engine& eng = rt.engine();
  std::vector<uint64_t> ids;
  for (const char* text : {"Once upon a time", "The little dog ran to the", "Tom had a red ball"}) {
    engine::RequestSpec s;
    s.prompt = rt.model()->tokenizer().encode(text, true);
    s.max_new_tokens = 8;
    s.ignore_eos = true;
    ids.push_back(eng.submit(s));
  }
  eng.run_to_completion();
  std::vector<std::vector<int32_t>> out(ids.size());
  for (const engine::Request* r : eng.ended()) {
    EXPECT_NE(r->finish, engine::FinishReason::kFailed) << r->failure;
    const auto at = std::find(ids.begin(), ids.end(), r->id) - ids.begin();
    out[static_cast<size_t>(at)].assign(r->tokens.begin() + r->prompt_len(), r->tokens.end());
  }
  return out;
}

// The resident weights moved to huge pages at load (the default) hold the file's bytes: the
// same greedy tokens as with the file's own pages (device.keep_file_pages).
TEST(WeightStream, HugePagesGiveTheFilePagesTokens) {
  auto moved = engine::Runtime::create(make_manifest(default_bricks()), {});
  manifest::LoadedManifest m = make_manifest(default_bricks());
  m.proto.mutable_device()->set_keep_file_pages(true);
  auto file_pages = engine::Runtime::create(m, {});
  EXPECT_EQ(greedy(*moved), greedy(*file_pages));
}

TEST(WeightStream, ARunUnderABudgetGivesTheSameTokensAndReportsTheTier) {
  auto all = engine::Runtime::create(make_manifest(default_bricks()), {});
  const auto want = greedy(*all);
  manifest::LoadedManifest m = make_manifest(default_bricks());
  m.proto.mutable_device()->set_weight_memory_bytes(budget_keeping(*all->model(), 2));
  auto streamed = engine::Runtime::create(m, {});
  EXPECT_EQ(greedy(*streamed), want);
  const engine::Report rep = engine::Report::from(streamed->engine());
  ASSERT_EQ(rep.tier_traffic.size(), 1u);
  EXPECT_EQ(rep.tier_traffic[0].name, "weights from disk");
  const int32_t n = all->model()->config().n_layers;
  EXPECT_NE(
      rep.tier_traffic[0].plan.find(std::to_string(n - 2) + " of " + std::to_string(n) + " layers"),
      std::string::npos)
      << rep.tier_traffic[0].plan;
  // Every step read every streamed layer (and the ring may be ahead by its two buffers).
  const std::vector<int64_t> layers = engine::WeightStream::layer_buffer_bytes(*all->model());
  EXPECT_GE(rep.tier_traffic[0].bytes_read, rep.steps * (n - 2) * layers[0]);
  EXPECT_NE(rep.to_table().find("tier        weights from disk"), std::string::npos);
  EXPECT_TRUE(rep.to_json().contains("tier_traffic"));
  EXPECT_TRUE(engine::Report::from(all->engine()).tier_traffic.empty());
}

TEST(WeightStream, ABudgetTooSmallIsOneErrorNamingTheManifestAndTheFix) {
  manifest::LoadedManifest m = make_manifest(default_bricks());
  m.proto.mutable_device()->set_weight_memory_bytes(1 << 20);
  try {
    engine::Runtime::create(m, {});
    FAIL() << "a 1 MiB budget was accepted";
  } catch (const engine::RuntimeError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("<test>: device.weight_memory_bytes is 1048576 bytes"), std::string::npos)
        << what;
    EXPECT_NE(what.find("give at least"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace bricks::testing
