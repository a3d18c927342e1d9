#include "engine/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace bricks::engine {

namespace {

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  // Linear interpolation between closest ranks (numpy's default).
  const double pos = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

nlohmann::json dist_json(const Distribution& d) {
  return {{"mean", d.mean}, {"median", d.median}, {"p90", d.p90},
          {"p99", d.p99},   {"max", d.max},       {"count", d.count}};
}

}  // namespace

Distribution Distribution::of(std::vector<double> v) {
  Distribution d;
  d.count = v.size();
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  d.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  d.median = percentile(v, 50);
  d.p90 = percentile(v, 90);
  d.p99 = percentile(v, 99);
  d.max = v.back();
  return d;
}

Report Report::from(const Engine& engine) {
  Report rep;
  std::vector<double> ttft, tpot, itl, e2e;
  double first_arrival = -1, last_end = 0;
  rep.submitted = engine.num_submitted();
  for (const Request* r : engine.ended()) {
    if (first_arrival < 0 || r->spec.arrival_s < first_arrival) first_arrival = r->spec.arrival_s;
    last_end = std::max(last_end, r->finished_s);
    if (r->finish == FinishReason::kFailed) {
      ++rep.failed;
      if (rep.failures.size() < 10) {
        rep.failures.push_back("request " + std::to_string(r->id) + ": " + r->failure);
      }
      continue;
    }
    ++rep.finished;
    rep.prompt_tokens += r->prompt_len();
    rep.output_tokens += r->num_generated;
    if (r->token_times_s.empty()) continue;
    ttft.push_back(r->token_times_s.front() - r->spec.arrival_s);
    e2e.push_back(r->finished_s - r->spec.arrival_s);
    if (r->token_times_s.size() > 1) {
      tpot.push_back((r->token_times_s.back() - r->token_times_s.front()) /
                     static_cast<double>(r->token_times_s.size() - 1));
      for (size_t i = 1; i < r->token_times_s.size(); ++i) {
        itl.push_back(r->token_times_s[i] - r->token_times_s[i - 1]);
      }
    }
  }
  rep.ttft = Distribution::of(std::move(ttft));
  rep.tpot = Distribution::of(std::move(tpot));
  rep.itl = Distribution::of(std::move(itl));
  rep.e2e = Distribution::of(std::move(e2e));
  rep.duration_s = first_arrival < 0 ? 0.0 : last_end - first_arrival;
  if (rep.duration_s > 0) {
    rep.request_throughput = static_cast<double>(rep.finished) / rep.duration_s;
    rep.output_throughput = static_cast<double>(rep.output_tokens) / rep.duration_s;
    rep.total_throughput =
        static_cast<double>(rep.prompt_tokens + rep.output_tokens) / rep.duration_s;
  }
  const EngineStats& s = engine.stats();
  rep.steps = s.steps;
  rep.preemptions = s.preemptions;
  rep.swapped_bytes = s.swapped_bytes;
  rep.kv_util_mean = s.steps > 0 ? s.kv_util_sum / static_cast<double>(s.steps) : 0.0;
  rep.kv_util_max = s.kv_util_max;
  rep.forward_share = s.busy_s > 0 ? s.forward_s / s.busy_s : 0.0;
  const bricks_kv_stats ks = engine.kv_stats();
  rep.prefix_hit_rate = ks.prefix_query_tokens > 0 ? static_cast<double>(ks.prefix_hit_tokens) /
                                                         static_cast<double>(ks.prefix_query_tokens)
                                                   : 0.0;
  return rep;
}

nlohmann::json Report::to_json() const {
  return {{"name", name},
          {"bricks", bricks},
          {"device", device},
          {"requests", {{"submitted", submitted}, {"finished", finished}, {"failed", failed}}},
          {"failures", failures},
          {"duration_s", duration_s},
          {"ttft_s", dist_json(ttft)},
          {"tpot_s", dist_json(tpot)},
          {"itl_s", dist_json(itl)},
          {"e2e_s", dist_json(e2e)},
          {"throughput",
           {{"requests_per_s", request_throughput},
            {"output_tokens_per_s", output_throughput},
            {"total_tokens_per_s", total_throughput}}},
          {"tokens", {{"prompt", prompt_tokens}, {"output", output_tokens}}},
          {"steps", steps},
          {"preemptions", preemptions},
          {"swapped_bytes", swapped_bytes},
          {"kv_utilisation", {{"mean", kv_util_mean}, {"max", kv_util_max}}},
          {"prefix_cache_hit_rate", prefix_hit_rate},
          {"forward_share_of_step_time", forward_share}};
}

std::string Report::to_table() const {
  std::string out;
  char line[256];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  add("%s\n", name.c_str());
  add("  bricks   %s\n", bricks.c_str());
  add("  device   %s\n", device.c_str());
  add("  requests %zu submitted, %zu finished, %zu failed in %.2f s (%lld steps)\n", submitted,
      finished, failed, duration_s, static_cast<long long>(steps));
  add("\n  %-12s %10s %10s %10s %10s\n", "latency ms", "mean", "median", "p90", "p99");
  for (const auto& [label, d] : {std::pair<const char*, const Distribution*>{"TTFT", &ttft},
                                 {"TPOT", &tpot}, {"ITL", &itl}, {"E2E", &e2e}}) {
    add("  %-12s %10.1f %10.1f %10.1f %10.1f\n", label, d->mean * 1e3, d->median * 1e3,
        d->p90 * 1e3, d->p99 * 1e3);
  }
  add("\n  throughput  %.2f req/s, %.1f output tok/s, %.1f total tok/s\n", request_throughput,
      output_throughput, total_throughput);
  add("  tokens      %lld prompt, %lld output\n", static_cast<long long>(prompt_tokens),
      static_cast<long long>(output_tokens));
  add("  kv cache    %.1f%% mean / %.1f%% max used, prefix hit rate %.1f%%\n",
      kv_util_mean * 100, kv_util_max * 100, prefix_hit_rate * 100);
  add("  preemption  %lld, swapped %.1f MiB\n", static_cast<long long>(preemptions),
      static_cast<double>(swapped_bytes) / (1 << 20));
  for (const std::string& f : failures) add("  failed: %s\n", f.c_str());
  return out;
}

}  // namespace bricks::engine
