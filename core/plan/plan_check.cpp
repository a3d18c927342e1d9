#include "plan/plan_check.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "plan/plan_router.h"
#include "runtime/cluster_runtime.h"
#include "runtime/manifest_registry.h"
#include "workload/workload.h"

namespace bricks::plan {

namespace {

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return engine::percentile(v, 50);
}

}  // namespace

bool queue_stable(const std::vector<engine::RequestRecord>& records, double slack_s,
                  double* early_median, double* late_median) {
  std::vector<const engine::RequestRecord*> by_arrival;
  for (const engine::RequestRecord& r : records) by_arrival.push_back(&r);
  std::stable_sort(by_arrival.begin(), by_arrival.end(),
                   [](const auto* a, const auto* b) { return a->arrival_s < b->arrival_s; });
  std::vector<double> early, late;
  const size_t half = by_arrival.size() / 2;
  for (size_t i = 0; i < by_arrival.size(); ++i) {
    const engine::RequestRecord& r = *by_arrival[i];
    const double t = r.has_ttft() ? r.ttft_s : std::numeric_limits<double>::infinity();
    (i < half ? early : late).push_back(t);
  }
  const double e = median_of(early), l = median_of(late);
  if (early_median != nullptr) *early_median = e;
  if (late_median != nullptr) *late_median = l;
  return l <= slack_s + 2 * e;
}

PlanCheck check_plan(const manifest::LoadedManifest& m, const PlanResult& r,
                     const PlanOptions& options) {
  PlanCheck out;
  engine::ClusterSetupOptions co;
  co.allow_group_writable_plugins = options.profile.allow_group_writable_plugins;
  int32_t fallback = 0;
  for (size_t g = 0; g < r.gpus.size(); ++g) {
    for (int32_t i = 0; i < r.mix.counts[g]; ++i) {
      co.instances.push_back({r.gpus[g], static_cast<int32_t>(g)});
    }
    if (r.mix.counts[g] > r.mix.counts[static_cast<size_t>(fallback)]) {
      fallback = static_cast<int32_t>(g);
    }
  }
  if (co.instances.empty()) return out;

  manifest::LoadedManifest run = m;
  const int32_t n =
      options.check_requests > 0
          ? options.check_requests
          : static_cast<int32_t>(std::clamp(std::ceil(r.rate * 120.0), 500.0, 20000.0));
  engine::RateRetarget retarget(run.proto.workload(), run.base_dir());
  const size_t keep = retarget.apply(*run.proto.mutable_workload(), r.rate, n, 0);

  std::unique_ptr<host::Registry> registry =
      engine::load_registry(run, options.profile.allow_group_writable_plugins);
  std::unique_ptr<engine::ClusterRuntime> rt = engine::ClusterRuntime::create(run, *registry, co);
  out.device = rt->device_summary();

  // Shares only over the types the mix holds GPUs of.
  std::vector<Bucket> buckets;
  std::vector<std::vector<double>> shares;
  for (const PlanBucket& b : r.buckets) {
    std::vector<double> x = b.share;
    for (size_t g = 0; g < x.size(); ++g) {
      if (r.mix.counts[g] == 0) x[g] = 0;
    }
    double sum = 0;
    for (double v : x) sum += v;
    if (!(sum > 0)) continue;  // routed to the fallback pool
    for (double& v : x) v /= sum;
    buckets.push_back(b.bucket);
    shares.push_back(std::move(x));
  }
  auto router = std::make_shared<BucketRouter>(options.grid, buckets, shares, fallback);
  engine::Cluster& c = rt->cluster();
  c.set_router([router](size_t, const engine::RequestSpec& s) {
    return router->route(static_cast<int32_t>(s.prompt.size()), s.max_new_tokens);
  });

  engine::WorkloadContext wc;
  wc.vocab_size = rt->vocab_size();
  wc.base_dir = run.base_dir();
  wc.max_requests = keep;
  for (engine::RequestSpec& spec : engine::make_workload(run.proto.workload(), wc)) {
    c.submit(std::move(spec));
  }
  c.run_to_completion();
  const std::vector<engine::RequestRecord> records = c.records();
  out.ran = true;
  out.requests = records.size();
  size_t met = 0;
  for (const engine::RequestRecord& rec : records) {
    out.failed += rec.failed ? 1 : 0;
    met += engine::meets_slo(rec, options.profile.slo) ? 1 : 0;
  }
  out.attainment = records.empty() ? 0 : static_cast<double>(met) / records.size();
  out.attained = engine::meets_attainment(records, options.profile.slo);
  out.stable = queue_stable(records, options.profile.stable_ttft_s, &out.ttft_median_early,
                            &out.ttft_median_late);
  out.accepted = out.failed == 0 && out.attained && out.stable;
  return out;
}

}  // namespace bricks::plan
