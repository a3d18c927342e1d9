#include "serve/serve_metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace bricks::serve {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  const auto at = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  ++counts_[static_cast<size_t>(at)];
  sum_ += v;
  ++count_;
}

void Histogram::render(const std::string& name, std::string& out) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
}

namespace {

// Seconds, from a fraction of a millisecond (a server-side step) to minutes (long requests).
std::vector<double> latency_bounds() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75,
          1.0,   2.5,    5.0,   7.5,  10.0,  20.0, 40.0,  80.0, 160.0, 640.0};
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

ServeMetrics::ServeMetrics()
    : ttft_(latency_bounds()), tpot_(latency_bounds()), e2e_(latency_bounds()) {
  for (const char* o : {"stop", "length", "error", "cancelled", "rejected"}) outcomes_[o] = 0;
}

void ServeMetrics::request_ended(const std::string& outcome, int64_t prompt_tokens,
                                 int64_t output_tokens, double ttft_s, double tpot_s,
                                 double e2e_s) {
  std::lock_guard lock(mu_);
  ++outcomes_[outcome];
  prompt_tokens_ += static_cast<uint64_t>(std::max<int64_t>(0, prompt_tokens));
  output_tokens_ += static_cast<uint64_t>(std::max<int64_t>(0, output_tokens));
  if (ttft_s >= 0) ttft_.observe(ttft_s);
  if (tpot_s >= 0) tpot_.observe(tpot_s);
  if (e2e_s >= 0) e2e_.observe(e2e_s);
}

void ServeMetrics::request_rejected(const std::string& outcome) {
  std::lock_guard lock(mu_);
  ++outcomes_[outcome];
}

void ServeMetrics::set_gauges(const EngineGauges& g) {
  std::lock_guard lock(mu_);
  gauges_ = g;
}

EngineGauges ServeMetrics::gauges() const {
  std::lock_guard lock(mu_);
  return gauges_;
}

std::string ServeMetrics::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  header(out, "bricks_requests_total", "counter",
         "Requests by outcome: stop, length, error, cancelled (client gone or server "
         "stopping), rejected (queue full).");
  for (const auto& [outcome, n] : outcomes_) {
    out += fmt::format("bricks_requests_total{{outcome=\"{}\"}} {}\n", outcome, n);
  }
  header(out, "bricks_requests_waiting", "gauge", "Accepted requests with no token yet.");
  out += fmt::format("bricks_requests_waiting {}\n", gauges_.waiting);
  header(out, "bricks_requests_running", "gauge", "Requests producing tokens.");
  out += fmt::format("bricks_requests_running {}\n", gauges_.running);
  header(out, "bricks_kv_cache_usage_ratio", "gauge", "Share of device KV blocks in use.");
  out += fmt::format("bricks_kv_cache_usage_ratio {}\n", gauges_.kv_usage);
  header(out, "bricks_prefix_cache_hit_ratio", "gauge",
         "Prompt tokens found in the prefix cache over those looked up.");
  out += fmt::format("bricks_prefix_cache_hit_ratio {}\n", gauges_.prefix_hit_rate);
  header(out, "bricks_preemptions_total", "counter", "Requests preempted by the scheduler.");
  out += fmt::format("bricks_preemptions_total {}\n", gauges_.preemptions);
  header(out, "bricks_engine_steps_total", "counter", "Engine steps run.");
  out += fmt::format("bricks_engine_steps_total {}\n", gauges_.steps);
  header(out, "bricks_prompt_tokens_total", "counter", "Prompt tokens of ended requests.");
  out += fmt::format("bricks_prompt_tokens_total {}\n", prompt_tokens_);
  header(out, "bricks_generation_tokens_total", "counter", "Tokens generated.");
  out += fmt::format("bricks_generation_tokens_total {}\n", output_tokens_);
  header(out, "bricks_time_to_first_token_seconds", "histogram",
         "Arrival to first token, finished requests.");
  ttft_.render("bricks_time_to_first_token_seconds", out);
  header(out, "bricks_time_per_output_token_seconds", "histogram",
         "Mean gap between tokens after the first, per request.");
  tpot_.render("bricks_time_per_output_token_seconds", out);
  header(out, "bricks_e2e_request_latency_seconds", "histogram",
         "Arrival to the last token, finished requests.");
  e2e_.render("bricks_e2e_request_latency_seconds", out);
  return out;
}

}  // namespace bricks::serve
