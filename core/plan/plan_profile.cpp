#include "plan/plan_profile.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "plan/plan_check.h"
#include "plan/plan_error.h"
#include "report/report_capacity.h"
#include "runtime/cluster_runtime.h"
#include "runtime/manifest_registry.h"
#include "sim/model_presets.h"
#include "workload/workload.h"

namespace bricks::plan {

namespace {

std::string text_of(const google::protobuf::Message& msg) {
  std::string out;
  google::protobuf::TextFormat::Printer p;
  p.SetSingleLineMode(true);
  p.PrintToString(msg, &out);
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

double median_ttft(const std::vector<engine::RequestRecord>& records) {
  std::vector<double> t;
  for (const engine::RequestRecord& r : records) {
    t.push_back(r.has_ttft() ? r.ttft_s : std::numeric_limits<double>::infinity());
  }
  std::sort(t.begin(), t.end());
  return engine::percentile(t, 50);
}

}  // namespace

void check_sim_manifest(const manifest::LoadedManifest& m) {
  const manifest::Device& d = m.proto.device();
  if (d.kind() != "sim") {
    throw PlanError(m.file.string() + ": device.kind is \"" + d.kind() +
                    "\"; bricks plan profiles GPU types on the simulator: set device.kind: "
                    "\"sim\" and device.sim_model (e.g. \"llama-2-7b\")");
  }
  if (d.sim_model().empty()) {
    throw PlanError(m.file.string() +
                    ": device.sim_model is not set; bricks plan needs the model's shape: set "
                    "device.sim_model (e.g. \"llama-2-7b\")");
  }
  try {
    (void)sim::model_preset(d.sim_model());
  } catch (const std::exception& e) {
    throw PlanError(m.file.string() + ": device.sim_model: " + e.what());
  }
}

std::string ProfileOptions::cache_key(const manifest::Manifest& m, const BucketGrid& grid) const {
  manifest::Device d = m.device();
  d.clear_gpu();
  std::string bricks;
  for (const manifest::Brick& b : m.bricks()) bricks += text_of(b) + ";";
  return "bricks-plan-profile v3|device " + text_of(d) + "|bricks " + bricks + "|slo tpot " +
         num(slo.tpot_s) + " ttft " + num(slo.ttft_s) + " attainment " + num(slo.attainment) +
         "|edges " + grid.describe() + "|runs " + std::to_string(min_requests) + ".." +
         std::to_string(max_requests) + " " + num(min_duration_s) + " s, stable " +
         num(stable_ttft_s) + " s / " + num(stable_share) + ", tol " + num(rel_tol) + ", " +
         std::to_string(max_runs);
}

struct Profiler::Run {
  std::vector<engine::RequestRecord> records;
  size_t failed = 0;
};

Profiler::Profiler(const manifest::LoadedManifest& m, ProfileOptions options)
    : m_(m), o_(std::move(options)) {
  check_sim_manifest(m);
  if (!o_.slo.any()) throw PlanError("bricks plan needs an SLO: give --slo-tpot");
  registry_ = engine::load_registry(m, o_.allow_group_writable_plugins);
}

Profiler::~Profiler() = default;

int32_t Profiler::context_length() const {
  return sim::model_preset(m_.proto.device().sim_model()).config.context_length;
}

Profiler::Run Profiler::run(const std::string& gpu, const Bucket& b, double rate,
                            int32_t requests) const {
  manifest::LoadedManifest run = m_;
  run.proto.mutable_device()->set_gpu(gpu);
  manifest::Workload& w = *run.proto.mutable_workload();
  w.Clear();
  manifest::Generator& g = *w.mutable_generator();
  g.set_num_requests(requests);
  g.set_rate(rate);
  g.set_seed(1);
  // Lengths that fit the model's context with room for the output.
  const int32_t ctx = context_length();
  const int32_t out = std::clamp(b.output_len, 1, std::max(1, ctx / 2));
  const int32_t in = std::clamp(b.input_len, 1, std::max(1, ctx - out));
  g.mutable_prompt_len()->set_kind("fixed");
  g.mutable_prompt_len()->set_value(in);
  g.mutable_output_len()->set_kind("fixed");
  g.mutable_output_len()->set_value(out);
  w.mutable_sampling()->set_ignore_eos(true);

  engine::ClusterSetupOptions co;
  co.placement =
      engine::Placement{false, 1, std::max(run.proto.device().tensor_parallel(), 1), 0, 1};
  std::unique_ptr<engine::ClusterRuntime> rt = engine::ClusterRuntime::create(run, *registry_, co);
  engine::WorkloadContext wc;
  wc.vocab_size = rt->vocab_size();
  wc.base_dir = run.base_dir();
  engine::Cluster& c = rt->cluster();
  for (engine::RequestSpec& spec : engine::make_workload(w, wc)) c.submit(std::move(spec));
  c.run_to_completion();
  Run r;
  r.records = c.records();
  for (const engine::RequestRecord& rec : r.records) r.failed += rec.failed ? 1 : 0;
  return r;
}

bool Profiler::passes(const std::string& gpu, const Bucket& b, double rate) {
  const double n = std::round(std::clamp(rate * duration_s_, static_cast<double>(o_.min_requests),
                                         static_cast<double>(o_.max_requests)));
  const double allowance = std::min(o_.stable_ttft_s, o_.stable_share * n / rate);
  const Run r = run(gpu, b, rate, static_cast<int32_t>(n));
  return r.failed == 0 && engine::meets_attainment(r.records, o_.slo) &&
         median_ttft(r.records) <= 2 * alone_ttft_s_ + allowance &&
         queue_stable(r.records, allowance);
}

BucketCapacity Profiler::capacity(const std::string& gpu, const Bucket& b, ProfileCache& cache,
                                  double start_rate) {
  if (std::optional<BucketCapacity> c = cache.find(gpu, b.input_len, b.output_len)) return *c;
  BucketCapacity out;
  // One request alone: whether the GPU can serve this size at all, and its unloaded TTFT.
  try {
    const Run alone = run(gpu, b, 1.0, 1);
    out.runs = 1;
    const engine::RequestRecord& r = alone.records.at(0);
    if (r.failed) {
      out.note = "a request alone fails: " + r.failure;
    } else if (!engine::meets_slo(r, o_.slo)) {
      out.note = "a request alone misses the SLO (TTFT " + num(r.ttft_s) + " s, TPOT " +
                 num(r.tpot_s * 1e3) + " ms)";
    } else {
      alone_ttft_s_ = r.ttft_s;
      const double lifetime = r.ttft_s + b.output_len * o_.slo.tpot_s;
      duration_s_ = std::max(o_.min_duration_s, 3 * lifetime);
    }
  } catch (const std::exception& e) {
    out.note = e.what();  // e.g. the model's weights do not fit this GPU
  }
  if (out.note.empty()) {
    engine::RateSearchOptions so;
    so.start_rate = start_rate > 0 ? start_rate : 1.0;
    so.rel_tol = o_.rel_tol;
    so.min_rate = 1e-3;
    so.max_rate = 1e5;
    so.max_evals = o_.max_runs;
    const engine::RateSearchResult res =
        engine::find_max_rate([&](double rate) { return passes(gpu, b, rate); }, so);
    out.runs += static_cast<int32_t>(res.tried.size());
    out.rate = res.best;
    if (res.best <= 0) out.note = "no rate down to 0.001 req/s met the SLO";
  }
  cache.put(gpu, b.input_len, b.output_len, out);
  return out;
}

}  // namespace bricks::plan
