#include "report/report.h"

#include <algorithm>

namespace bricks::engine {

RequestRecord record_of(const Request& r) {
  RequestRecord rec;
  rec.id = r.id;
  rec.tenant = r.spec.tenant;
  rec.priority = r.spec.priority;
  rec.arrival_s = r.spec.arrival_s;
  rec.end_s = r.finished_s;
  rec.failed = r.finish == FinishReason::kFailed;
  rec.prompt_tokens = r.prompt_len();
  rec.output_tokens = r.num_generated;
  rec.prompt_tokens_truncated = r.prompt_tokens_truncated;
  rec.max_tokens_clamped = r.max_tokens_clamped;
  rec.preemptions = r.num_preemptions;
  rec.finish = finish_reason_name(r.finish);
  rec.failure = r.failure;
  const std::vector<double>& t = r.token_times_s;
  if (!rec.failed) rec.e2e_s = r.finished_s - r.spec.arrival_s;
  if (!t.empty()) rec.ttft_s = t.front() - r.spec.arrival_s;
  if (t.size() > 1) {
    rec.tpot_s = (t.back() - t.front()) / static_cast<double>(t.size() - 1);
    for (size_t i = 1; i < t.size(); ++i) rec.itl_s.push_back(t[i] - t[i - 1]);
  }
  return rec;
}

Report Report::from_records(std::vector<RequestRecord> records, const SloSpec& slo) {
  Report rep;
  std::vector<double> ttft, tpot, itl, e2e;
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
    itl.insert(itl.end(), r.itl_s.begin(), r.itl_s.end());
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
  rep.records = std::move(records);
  rep.set_slo(slo);
  return rep;
}

void Report::set_slo(const SloSpec& s) {
  slo = s;
  slo_result = evaluate_slo(records, slo, duration_s, request_throughput);
  fairness = tenant_fairness(records, slo);
}

Report Report::from(const Engine& engine, const SloSpec& slo) {
  std::vector<RequestRecord> records;
  FailureTally failures;
  records.reserve(engine.ended().size());
  for (const Request* r : engine.ended()) {
    records.push_back(record_of(*r));
    if (r->finish == FinishReason::kFailed) {
      failures.add("request " + std::to_string(r->id), r->failure);
    }
  }
  Report rep = from_records(std::move(records), slo);
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
  rep.kv_util_mean = s.steps > 0 ? s.kv_util_sum / static_cast<double>(s.steps) : 0.0;
  rep.kv_util_max = s.kv_util_max;
  rep.forward_share = s.busy_s > 0 ? s.forward_s / s.busy_s : 0.0;
  const bricks_kv_stats ks = engine.kv_stats();
  rep.prefix_hit_rate = ks.prefix_query_tokens > 0 ? static_cast<double>(ks.prefix_hit_tokens) /
                                                         static_cast<double>(ks.prefix_query_tokens)
                                                   : 0.0;
  return rep;
}

}  // namespace bricks::engine
