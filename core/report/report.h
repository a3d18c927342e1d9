// The run report: the latency and throughput metrics serving people use (TTFT, TPOT, ITL
// and E2E as vLLM's benchmark defines them), SLO attainment, goodput and effective
// throughput, per-tenant service and fairness, plus preemptions, swapped bytes, KV
// utilisation and prefix-cache hit rate. JSON for machines, a table for people.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "report/report_failures.h"
#include "report/report_metrics.h"
#include "report/report_slo.h"
#include "report/report_tiers.h"

namespace bricks::engine {

struct Report {
  std::string name;    // the manifest's name
  std::string bricks;  // "scheduler/fcfs kv/paged attention/cpu_paged"
  std::string device;  // "cpu (4 threads, bf16 compute ...)"
  size_t submitted = 0, finished = 0, failed = 0;
  FailureTally failures;  // every failure, by reason
  // Set when a signal stopped the run before its end: the metrics cover the requests that
  // ended; the rest were submitted but never ended (neither finished nor failed).
  std::string interrupted_by;  // "SIGINT", "SIGTERM"; empty for a run that ended
  size_t unfinished = 0;       // submitted, but neither finished nor failed
  // Requests that workload.context_overflow made fit the context (finished or not).
  size_t prompts_truncated = 0, max_tokens_clamped = 0;
  double duration_s = 0;              // first arrival to last end
  Distribution ttft, tpot, itl, e2e;  // seconds
  double request_throughput = 0;      // finished requests / s
  double output_throughput = 0;       // generated tokens / s
  double total_throughput = 0;        // (prompt + generated) tokens / s
  int64_t prompt_tokens = 0, output_tokens = 0;
  int64_t steps = 0, preemptions = 0, swapped_bytes = 0;
  double kv_copy_s = 0, kv_copy_hidden_s = 0;  // the copies' time; hidden behind compute
  // The disk tier under the host tier (device.disk_kv_bytes): its traffic, failures and
  // time. disk_kv_blocks is 0 without one.
  int32_t disk_kv_blocks = 0;
  KvDiskCounters disk_kv;
  double kv_util_mean = 0, kv_util_max = 0;
  double prefix_hit_rate = 0;
  double forward_share = 0;  // share of busy time inside the forward pass
  TierReport tiers;          // the sim device's memory tiers, when it has them
  // The cpu device's tiers below memory (weights or KV on disk), with their traffic.
  std::vector<TierTraffic> tier_traffic;

  SloSpec slo;                            // the targets slo_result was measured against
  SloResult slo_result;                   // meaningful when slo.any()
  Fairness fairness;                      // per tenant
  std::vector<std::string> tenant_names;  // by tenant id, where known
  std::vector<RequestRecord> records;     // every request, in the order they ended
  // The gaps between tokens of the requests that finished: the ITL samples, and the TBT
  // samples besides the lost requests. Those given to from_records, and every record's
  // itl_s, which may be empty where the gaps come here instead (Report::from).
  ValueCounts token_gaps;

  // Everything from an engine whose run has ended.
  static Report from(const Engine& engine, const SloSpec& slo = {});
  // The latency, throughput, SLO and tenant metrics of `records` (no engine counters).
  static Report from_records(std::vector<RequestRecord> records, const SloSpec& slo = {});
  // The same, with the gaps between tokens of the finished records given as `gaps` besides
  // those in their own itl_s.
  static Report from_records(std::vector<RequestRecord> records, ValueCounts gaps,
                             const SloSpec& slo = {});
  // Measures the SLO metrics and tenant attainment again against `slo`.
  void set_slo(const SloSpec& slo);

  nlohmann::json to_json() const;
  std::string to_table() const;
};

// The record of one ended request.
RequestRecord record_of(const Request& r);
// The same from its summary, without the gaps between its tokens (itl_s stays empty).
RequestRecord record_of(const RequestSummary& s);

}  // namespace bricks::engine
