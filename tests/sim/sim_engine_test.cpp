// The engine on the sim device, built from manifests through Runtime::create: every request
// finishes, simulated times are consistent and deterministic, swaps cost time unless they
// overlap compute, and a bad device section fails with a clear message.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>

#include "engine/sim_device.h"
#include "report/report.h"
#include "runtime/runtime.h"
#include "scratch_dir.h"
#include "sim_manifest.h"
#include "workload/workload.h"

namespace bricks::testing {
namespace {

std::unique_ptr<engine::Runtime> run_sim(const manifest::LoadedManifest& m) {
  auto rt = engine::Runtime::create(m, {});
  engine::WorkloadContext ctx;
  ctx.vocab_size = rt->vocab_size();
  ctx.base_dir = m.file.parent_path();
  for (auto& spec : engine::make_workload(m.proto.workload(), ctx)) {
    rt->engine().submit(std::move(spec));
  }
  rt->engine().run_to_completion();
  return rt;
}

engine::SimDevice& sim_device(engine::Runtime& rt) {
  return dynamic_cast<engine::SimDevice&>(rt.engine().device());
}

// The longest gap between two tokens of one request, over all requests.
double max_token_gap(const engine::Engine& e) {
  double gap = 0;
  for (const engine::Request* r : e.ended()) {
    for (size_t i = 1; i < r->token_times_s.size(); ++i) {
      gap = std::max(gap, r->token_times_s[i] - r->token_times_s[i - 1]);
    }
  }
  return gap;
}

std::string create_error(const manifest::LoadedManifest& m) {
  try {
    engine::Runtime::create(m, {});
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(SimEngine, RunsAManifestToCompletionWithoutAModel) {
  auto rt = run_sim(sim_manifest(fcfs_bricks()));
  const engine::Engine& e = rt->engine();
  EXPECT_EQ(rt->tokenizer(), nullptr);
  EXPECT_EQ(rt->model(), nullptr);
  EXPECT_EQ(e.model().config.n_layers, 32);
  EXPECT_NE(rt->device_summary().find("sim: mistral-7b on 1x a100-80gb, roofline"),
            std::string::npos)
      << rt->device_summary();
  EXPECT_NE(rt->device_summary().find("attention brick is created but unused"), std::string::npos);

  ASSERT_EQ(e.ended().size(), 120u);
  const engine::SimDevice& dev = sim_device(*rt);
  double last_arrival = 0;
  for (const engine::Request* r : e.ended()) {
    ASSERT_EQ(r->finish, engine::FinishReason::kLength) << r->failure;
    EXPECT_EQ(r->num_generated, r->spec.max_new_tokens);
    last_arrival = std::max(last_arrival, r->spec.arrival_s);
    // The first token comes no sooner than this prompt's prefill alone would take.
    const std::vector<sim::SeqWork> alone = {{r->prompt_len(), r->prompt_len()}};
    const double ttft = r->token_times_s.front() - r->spec.arrival_s;
    EXPECT_GE(ttft, dev.cost_model().step(alone, 1).total_s - 1e-12) << r->id;
    EXPECT_TRUE(std::is_sorted(r->token_times_s.begin(), r->token_times_s.end()));
  }
  EXPECT_GT(e.now(), last_arrival);
  // The clock moved inside steps by exactly what the device charged.
  EXPECT_GT(dev.totals().steps, 0);
  EXPECT_LE(dev.totals().steps, e.stats().steps);  // steps with nothing scheduled compute nothing
  EXPECT_NEAR(e.stats().busy_s,
              dev.totals().compute_s + dev.totals().swap_s - dev.totals().swap_hidden_s, 1e-6);
  EXPECT_GT(dev.totals().parts.linear_s, dev.totals().parts.attention_s);
}

TEST(SimEngine, SameManifestSameNumbers) {
  auto a = run_sim(sim_manifest(fcfs_bricks()));
  auto b = run_sim(sim_manifest(fcfs_bricks()));
  const engine::Report ra = engine::Report::from(a->engine());
  const engine::Report rb = engine::Report::from(b->engine());
  EXPECT_EQ(ra.to_json().dump(), rb.to_json().dump());
  EXPECT_EQ(a->engine().stats().steps, b->engine().stats().steps);
  EXPECT_EQ(a->engine().now(), b->engine().now());
  EXPECT_GT(ra.ttft.mean, 0.0);
}

TEST(SimEngine, SarathiBoundsTheLongestDecodeStall) {
  // FCFS runs whole prompts (up to 2048 tokens) ahead of the decodes; stall-free batching
  // lets at most a 512-token budget in beside them.
  auto fcfs = run_sim(sim_manifest(fcfs_bricks()));
  auto sarathi = run_sim(sim_manifest(sarathi_bricks()));
  ASSERT_EQ(sarathi->engine().ended().size(), 120u);
  EXPECT_LT(max_token_gap(sarathi->engine()), max_token_gap(fcfs->engine()));
}

manifest::LoadedManifest swapping_manifest(bool overlap) {
  manifest::LoadedManifest m = sim_manifest(fcfs_bricks("swap"));
  auto* d = m.proto.mutable_device();
  d->set_kv_cache_bytes(256ll << 20);  // 2048 tokens of Mistral-7B's KV
  d->set_host_kv_bytes(8ll << 30);
  d->set_overlap_swaps(overlap);
  auto* g = m.proto.mutable_workload()->mutable_generator();
  g->set_num_requests(48);
  g->set_rate(0);  // all at once: the same plans whatever the timing
  g->set_prompt_len_min(200);
  g->set_prompt_len_max(600);
  g->set_output_len_min(100);
  g->set_output_len_max(300);
  return m;
}

TEST(SimEngine, SwapsCostTimeUnlessOverlapped) {
  auto serial = run_sim(swapping_manifest(false));
  auto overlapped = run_sim(swapping_manifest(true));
  const engine::SimDevice& s = sim_device(*serial);
  const engine::SimDevice& o = sim_device(*overlapped);
  ASSERT_GT(serial->engine().stats().preemptions, 0);
  EXPECT_GT(serial->engine().stats().swapped_bytes, 0);
  EXPECT_EQ(serial->engine().stats().swapped_bytes, overlapped->engine().stats().swapped_bytes);
  EXPECT_GT(s.totals().swap_s, 0.0);
  EXPECT_DOUBLE_EQ(s.totals().swap_s, o.totals().swap_s);
  EXPECT_EQ(s.totals().swap_hidden_s, 0.0);
  EXPECT_GT(o.totals().swap_hidden_s, 0.0);
  EXPECT_NEAR(serial->engine().stats().busy_s, s.totals().compute_s + s.totals().swap_s, 1e-6);
  EXPECT_LT(overlapped->engine().stats().busy_s, serial->engine().stats().busy_s);
  for (engine::Runtime* rt : {serial.get(), overlapped.get()}) {
    for (const engine::Request* r : rt->engine().ended()) {
      EXPECT_EQ(r->finish, engine::FinishReason::kLength) << r->failure;
    }
  }
}

TEST(SimEngine, CalibratedAndTensorParallelRuns) {
  manifest::LoadedManifest m = sim_manifest(sarathi_bricks());
  m.proto.mutable_device()->set_calibration_file(std::string(BRICKS_SOURCE_DIR) +
                                                 "/core/sim/calibration/a100-80gb-mistral-7b.csv");
  m.proto.mutable_workload()->mutable_generator()->set_num_requests(40);
  auto calibrated = run_sim(m);
  EXPECT_NE(calibrated->device_summary().find("calibrated by"), std::string::npos);
  EXPECT_TRUE(sim_device(*calibrated).last_step().calibrated);
  EXPECT_EQ(calibrated->engine().ended().size(), 40u);

  // Yi-34B on two A100s, the Sarathi-Serve paper's second setting.
  manifest::LoadedManifest yi = sim_manifest(sarathi_bricks(), "a100-80gb", "yi-34b");
  yi.proto.mutable_device()->set_tensor_parallel(2);
  yi.proto.mutable_workload()->mutable_generator()->set_num_requests(40);
  auto tp = run_sim(yi);
  EXPECT_NE(tp->device_summary().find("yi-34b on 2x a100-80gb"), std::string::npos);
  EXPECT_GT(sim_device(*tp).totals().parts.comm_s, 0.0);
  for (const engine::Request* r : tp->engine().ended()) {
    EXPECT_EQ(r->finish, engine::FinishReason::kLength) << r->failure;
  }
}

TEST(SimEngine, BadDeviceSectionsFailWithTheFieldAndTheFix) {
  manifest::LoadedManifest no_gpu = sim_manifest(fcfs_bricks());
  no_gpu.proto.mutable_device()->clear_gpu();
  EXPECT_NE(create_error(no_gpu).find("device.gpu"), std::string::npos);

  manifest::LoadedManifest bad_model = sim_manifest(fcfs_bricks(), "a100-80gb", "llama-9b");
  EXPECT_NE(create_error(bad_model).find("llama-2-7b"), std::string::npos);  // the choices

  manifest::LoadedManifest tp3 = sim_manifest(fcfs_bricks());
  tp3.proto.mutable_device()->set_tensor_parallel(3);
  EXPECT_NE(create_error(tp3).find("does not divide"), std::string::npos);

  manifest::LoadedManifest too_big = sim_manifest(fcfs_bricks(), "a100-80gb", "llama-2-70b");
  EXPECT_NE(create_error(too_big).find("raise tensor_parallel"), std::string::npos);

  manifest::LoadedManifest util = sim_manifest(fcfs_bricks());
  util.proto.mutable_device()->set_gpu_memory_utilization(1.5);
  EXPECT_NE(create_error(util).find("gpu_memory_utilization"), std::string::npos);

  const std::filesystem::path csv = scratch_dir("bricks-sim-test") / "bad.csv";
  std::ofstream(csv) << "num_prefill_tokens,num_decode_seqs,decode_context_sum,seconds\n"
                     << "0,1,100,0.01\n0,2,lots,0.02\n";
  manifest::LoadedManifest bad_csv = sim_manifest(fcfs_bricks());
  bad_csv.proto.mutable_device()->set_calibration_file(csv.string());
  EXPECT_NE(create_error(bad_csv).find(csv.string() + ":3:"), std::string::npos)
      << create_error(bad_csv);
  std::filesystem::remove(csv);

  manifest::LoadedManifest missing_csv = sim_manifest(fcfs_bricks());
  missing_csv.proto.mutable_device()->set_calibration_file("/nonexistent/profile.csv");
  EXPECT_NE(
      create_error(missing_csv).find("calibration file '/nonexistent/profile.csv' does not exist"),
      std::string::npos)
      << create_error(missing_csv);
}

}  // namespace
}  // namespace bricks::testing
