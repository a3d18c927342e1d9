#include "report/report.h"

#include <algorithm>

namespace bricks::engine {

RequestRecord record_of(const RequestSummary& s) {
  RequestRecord rec;
  rec.id = s.id;
  rec.tenant = s.tenant;
  rec.priority = s.priority;
  rec.arrival_s = s.arrival_s;
  rec.end_s = s.finished_s;
  rec.failed = s.finish == FinishReason::kFailed;
  rec.prompt_tokens = s.prompt_len;
  rec.output_tokens = s.num_generated;
  rec.prompt_tokens_truncated = s.prompt_tokens_truncated;
  rec.max_tokens_clamped = s.max_tokens_clamped;
  rec.preemptions = s.num_preemptions;
  rec.output_digest = s.output_digest;
  rec.finish = finish_reason_name(s.finish);
  rec.failure = s.failure;
  if (!rec.failed) rec.e2e_s = s.finished_s - s.arrival_s;
  if (s.num_token_times > 0) rec.ttft_s = s.first_token_s - s.arrival_s;
  if (s.num_token_times > 1) {
    rec.tpot_s = (s.last_token_s - s.first_token_s) / static_cast<double>(s.num_token_times - 1);
  }
  return rec;
}

RequestRecord record_of(const Request& r) {
  RequestRecord rec = record_of(summarize(r));
  const std::vector<double>& t = r.token_times_s;
  for (size_t i = 1; i < t.size(); ++i) rec.itl_s.push_back(t[i] - t[i - 1]);
  return rec;
}

Report Report::from_records(std::vector<RequestRecord> records, const SloSpec& slo) {
  return from_records(std::move(records), ValueCounts{}, slo);
}

Report Report::from_records(std::vector<RequestRecord> records, ValueCounts gaps,
                            const SloSpec& slo) {
  Report rep;
  std::vector<double> ttft, tpot, e2e;
  double first_arrival = -1, last_end = 0;
  rep.submitted = records.size();
  for (const RequestRecord& r : records) {
    if (first_arrival < 0 || r.arrival_s < first_arrival) first_arrival = r.arrival_s;
    last_end = std::max(last_end, r.end_s);
    if (r.prompt_tokens_truncated > 0) ++rep.prompts_truncated;
    if (r.max_tokens_clamped > 0) ++rep.max_tokens_clamped;
    if (r.failed) {
      ++rep.failed;
      continue;
    }
    ++rep.finished;
    rep.prompt_tokens += r.prompt_tokens;
    rep.output_tokens += r.output_tokens;
    if (!r.has_ttft()) continue;
    ttft.push_back(r.ttft_s);
    e2e.push_back(r.e2e_s);
    if (r.has_tpot()) tpot.push_back(r.tpot_s);
  }
  gaps.add_all(finished_gaps(records));
  rep.token_gaps = std::move(gaps);
  rep.ttft = Distribution::of(std::move(ttft));
  rep.tpot = Distribution::of(std::move(tpot));
  rep.itl = Distribution::of_counts(rep.token_gaps);
  rep.e2e = Distribution::of(std::move(e2e));
  rep.duration_s = first_arrival < 0 ? 0.0 : last_end - first_arrival;
  if (rep.duration_s > 0) {
    rep.request_throughput = static_cast<double>(rep.finished) / rep.duration_s;
    rep.output_throughput = static_cast<double>(rep.output_tokens) / rep.duration_s;
    rep.total_throughput =
        static_cast<double>(rep.prompt_tokens + rep.output_tokens) / rep.duration_s;
  }
  rep.records = std::move(records);
  rep.set_slo(slo);
  return rep;
}

void Report::set_slo(const SloSpec& s) {
  slo = s;
  slo_result = evaluate_slo(records, token_gaps, slo, duration_s, request_throughput);
  fairness = tenant_fairness(records, slo);
}

Report Report::from(const Engine& engine, const SloSpec& slo) {
  std::vector<RequestRecord> records;
  FailureTally failures;
  records.reserve(engine.ended_summaries().size());
  for (const RequestSummary& s : engine.ended_summaries()) {
    records.push_back(record_of(s));
    if (s.finish == FinishReason::kFailed) {
      failures.add("request " + std::to_string(s.id), s.failure);
    }
  }
  Report rep = from_records(std::move(records), engine.finished_token_gaps(), slo);
  rep.submitted = engine.num_submitted();
  rep.unfinished = rep.submitted - rep.finished - rep.failed;
  rep.failures = std::move(failures);
  const EngineStats& s = engine.stats();
  rep.steps = s.steps;
  rep.preemptions = s.preemptions;
  rep.swapped_bytes = s.swapped_bytes;
  const KvCopyTime copy_time = engine.kv_copy_time();
  rep.kv_copy_s = copy_time.total_s;
  rep.kv_copy_hidden_s = copy_time.hidden_s;
  rep.disk_kv_blocks = engine.pool().num_disk_blocks();
  rep.disk_kv = engine.pool().disk_counters();
  rep.kv_util_mean = s.steps > 0 ? s.kv_util_sum / static_cast<double>(s.steps) : 0.0;
  rep.kv_util_max = s.kv_util_max;
  rep.forward_share = s.busy_s > 0 ? s.forward_s / s.busy_s : 0.0;
  rep.tier_traffic = engine.tier_traffic();
  const bricks_kv_stats ks = engine.kv_stats();
  rep.prefix_hit_rate = ks.prefix_query_tokens > 0 ? static_cast<double>(ks.prefix_hit_tokens) /
                                                         static_cast<double>(ks.prefix_query_tokens)
                                                   : 0.0;
  return rep;
}

}  // namespace bricks::engine
