// The run report: the latency and throughput metrics serving people use (as vLLM's
// benchmark defines them), plus preemptions, KV utilisation and prefix-cache hit rate.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace bricks::engine {

struct Distribution {
  double mean = 0, median = 0, p90 = 0, p99 = 0, max = 0;
  size_t count = 0;
  static Distribution of(std::vector<double> values);
};

struct Report {
  std::string name;            // the manifest's name
  std::string bricks;          // "scheduler/fcfs kv/paged attention/cpu_paged"
  std::string device;          // "cpu (4 threads, bf16 compute ...)"
  size_t submitted = 0, finished = 0, failed = 0;
  std::vector<std::string> failures;  // "request 7: reason" (the first few)
  double duration_s = 0;       // first arrival to last end
  Distribution ttft, tpot, itl, e2e;  // seconds
  double request_throughput = 0;      // finished requests / s
  double output_throughput = 0;       // generated tokens / s
  double total_throughput = 0;        // (prompt + generated) tokens / s
  int64_t prompt_tokens = 0, output_tokens = 0;
  int64_t steps = 0, preemptions = 0, swapped_bytes = 0;
  double kv_util_mean = 0, kv_util_max = 0;
  double prefix_hit_rate = 0;
  double forward_share = 0;    // share of busy time inside the forward pass

  static Report from(const Engine& engine);
  nlohmann::json to_json() const;
  std::string to_table() const;
};

}  // namespace bricks::engine
