#include "plan/plan.h"

#include <algorithm>
#include <cstdio>

#include "plan/plan_check.h"
#include "plan/plan_error.h"
#include "sim/gpu_presets.h"
#include "sim/model_presets.h"
#include "workload/workload.h"

namespace bricks::plan {

namespace {

constexpr size_t kMaxSample = 100000;

std::string fmt_rate(double r) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.3g req/s", r);
  return buf;
}

// (input, output) lengths of the workload's first `limit` requests.
std::vector<std::pair<int32_t, int32_t>> sample_lengths(const manifest::LoadedManifest& m,
                                                        size_t limit,
                                                        std::vector<double>* arrivals) {
  const sim::ModelSpec& model = sim::model_preset(m.proto.device().sim_model());
  engine::WorkloadContext wc;
  wc.vocab_size = model.config.vocab_size;
  wc.base_dir = m.base_dir();
  wc.max_requests = limit;
  wc.context_length = model.config.context_length;
  std::vector<std::pair<int32_t, int32_t>> out;
  for (const engine::RequestSpec& s : engine::make_workload(m.proto.workload(), wc)) {
    out.emplace_back(static_cast<int32_t>(s.prompt.size()), s.max_new_tokens);
    if (arrivals != nullptr) arrivals->push_back(s.arrival_s);
  }
  return out;
}

}  // namespace

double workload_rate(const manifest::LoadedManifest& m) {
  const manifest::Workload& w = m.proto.workload();
  if (w.has_generator()) {
    const manifest::Generator& g = w.generator();
    double tenants = 0;
    for (const manifest::Tenant& t : g.tenants()) tenants += t.rate();
    const double r = tenants > 0 ? tenants : g.rate();
    if (r > 0) return r;
    throw PlanError(m.file.string() +
                    ": workload.generator.rate is 0 (every request at once); give --rate R "
                    "requests per second or set the generator's rate");
  }
  if (!w.trace().empty()) {
    std::vector<double> arrivals;
    const auto lengths = sample_lengths(m, 0, &arrivals);
    if (arrivals.size() >= 2) {
      const auto [lo, hi] = std::minmax_element(arrivals.begin(), arrivals.end());
      if (*hi > *lo) return static_cast<double>(arrivals.size() - 1) / (*hi - *lo);
    }
    throw PlanError(m.file.string() + ": the trace has no arrival rate; give --rate R");
  }
  throw PlanError(m.file.string() +
                  ": bricks plan needs a workload: give workload.generator or workload.trace");
}

PlanResult make_plan(const manifest::LoadedManifest& m, const PlanOptions& o,
                     const PlanProgress& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  check_sim_manifest(m);
  o.grid.check();
  if (o.gpus.empty()) throw PlanError("give at least one GPU type (--gpus)");
  PlanResult r;
  r.model = m.proto.device().sim_model();
  for (const std::string& g : o.gpus) {
    if (std::find(r.gpus.begin(), r.gpus.end(), g) != r.gpus.end()) {
      throw PlanError("GPU type '" + g + "' is given twice; name each type once");
    }
    try {
      r.prices.push_back(sim::gpu_preset(g).price_per_hour);
    } catch (const std::exception& e) {
      throw PlanError(std::string("--gpus: ") + e.what());
    }
    r.gpus.push_back(g);
  }
  r.rate_given = o.rate > 0;
  r.rate = r.rate_given ? o.rate : workload_rate(m);

  // 1. Buckets.
  const size_t limit = o.sample_requests > 0 ? o.sample_requests : kMaxSample;
  const auto lengths = sample_lengths(m, limit, nullptr);
  r.sampled_requests = lengths.size();
  const std::vector<Bucket> buckets = bucket_requests(lengths, o.grid, r.rate);
  say("workload: " + std::to_string(lengths.size()) + " requests in " +
      std::to_string(buckets.size()) + " buckets at " + fmt_rate(r.rate));

  // 2. Capacities.
  ProfileCache cache(o.cache_dir, o.profile.cache_key(m.proto, o.grid));
  r.cache_dir = o.cache_dir;
  Profiler profiler(m, o.profile);
  PlanProblem p;
  p.gpu_names = r.gpus;
  p.prices = r.prices;
  p.max_load = o.max_load;
  r.max_load = o.max_load;
  for (const Bucket& b : buckets) {
    PlanBucket pb;
    pb.bucket = b;
    p.bucket_names.push_back(b.label());
    p.rates.push_back(b.rate);
    r.buckets.push_back(pb);
  }
  const size_t total = r.gpus.size() * buckets.size();
  size_t done = 0;
  for (size_t g = 0; g < r.gpus.size(); ++g) {
    double hint = 0;
    for (PlanBucket& pb : r.buckets) {
      const BucketCapacity c = profiler.capacity(r.gpus[g], pb.bucket, cache, hint);
      (c.cached ? r.cached : r.profiled) += 1;
      if (c.rate > 0) hint = c.rate;
      pb.cap.push_back(c);
      say("[" + std::to_string(++done) + "/" + std::to_string(total) + "] " + r.gpus[g] + " " +
          pb.bucket.label() + ": " +
          (c.rate > 0 ? fmt_rate(c.rate) : "cannot serve (" + c.note + ")") +
          (c.cached ? " (cached)" : " (" + std::to_string(c.runs) + " runs)"));
    }
  }
  for (size_t b = 0; b < r.buckets.size(); ++b) {
    std::vector<double> row;
    for (const BucketCapacity& c : r.buckets[b].cap) row.push_back(c.rate);
    p.cap.push_back(std::move(row));
  }

  // 3. The mix and the single types beside it.
  r.mix = solve_plan(p);
  for (size_t b = 0; b < r.buckets.size(); ++b) r.buckets[b].share = r.mix.shares[b];
  for (size_t g = 0; g < r.gpus.size(); ++g) {
    SingleType s;
    s.cost = single_type_cost(p, g, &s.gpus);
    r.single.push_back(s);
    if (s.cost >= 0 && (r.best_single < 0 || s.cost < r.single[r.best_single].cost)) {
      r.best_single = static_cast<int32_t>(g);
    }
  }
  if (r.best_single >= 0 && r.single[r.best_single].cost > 0) {
    r.saving = 1.0 - r.mix.cost_per_hour / r.single[r.best_single].cost;
  }

  // 4. The check.
  if (o.check) {
    say("checking the mix on the simulator at " + fmt_rate(r.rate));
    r.check = check_plan(m, r, o);
  }
  return r;
}

}  // namespace bricks::plan
