// The server's counters, gauges and latency histograms, rendered in the Prometheus text
// exposition format (version 0.0.4) for GET /metrics.
//
// Thread safety: every method locks; the engine thread records, HTTP threads render.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace bricks::serve {

// A cumulative histogram with fixed upper bounds, as Prometheus defines one.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // `name`_bucket{le=...}, `name`_sum and `name`_count lines.
  void render(const std::string& name, std::string& out) const;
  uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// What the engine looks like after a step (the engine thread publishes it).
struct EngineGauges {
  int64_t waiting = 0;         // accepted, no token yet (the queue)
  int64_t running = 0;         // producing tokens
  double kv_usage = 0;         // used / total device KV blocks
  double prefix_hit_rate = 0;  // prefix-cache hit tokens / looked-up tokens, over the run
  int64_t preemptions = 0;
  int64_t steps = 0;
};

class ServeMetrics {
 public:
  ServeMetrics();

  // One request ended: outcome is "stop", "length", "error", "cancelled" (or "rejected",
  // for those refused before they reached the engine). Latencies < 0 are not observed.
  void request_ended(const std::string& outcome, int64_t prompt_tokens, int64_t output_tokens,
                     double ttft_s, double tpot_s, double e2e_s);
  void request_rejected(const std::string& outcome);
  void set_gauges(const EngineGauges& g);
  EngineGauges gauges() const;

  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> outcomes_;
  uint64_t prompt_tokens_ = 0, output_tokens_ = 0;
  Histogram ttft_, tpot_, e2e_;
  EngineGauges gauges_;
};

}  // namespace bricks::serve
