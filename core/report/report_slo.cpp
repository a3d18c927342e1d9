#include "report/report_slo.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>

namespace bricks::engine {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double at(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return percentile(v, p);
}

// Failed, or without a token: counted as infinitely late by the percentile targets.
bool lost(const RequestRecord& r) { return r.failed || !r.has_ttft(); }

}  // namespace

SloSpec SloSpec::from(const bricks::manifest::Slo& s) {
  SloSpec o;
  o.ttft_s = s.ttft_s();
  o.tpot_s = s.tpot_s();
  o.tbt_s = s.tbt_s();
  if (s.percentile() > 0) o.percentile = s.percentile();
  if (s.attainment() > 0) o.attainment = s.attainment();
  return o;
}

std::string SloSpec::targets() const {
  std::string t;
  for (const auto& [name, v] : {std::pair{"TTFT", ttft_s}, {"TPOT", tpot_s}, {"TBT", tbt_s}}) {
    if (v <= 0) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s <= %g ms", name, v * 1e3);
    if (!t.empty()) t += ", ";
    t += buf;
  }
  return t.empty() ? "none" : t;
}

bool meets_slo(const RequestRecord& r, const SloSpec& slo) {
  if (r.failed || !r.has_ttft()) return false;
  if (slo.ttft_s > 0 && r.ttft_s > slo.ttft_s) return false;
  if (slo.tpot_s > 0 && r.has_tpot() && r.tpot_s > slo.tpot_s) return false;
  return true;
}

ValueCounts finished_gaps(const std::vector<RequestRecord>& records) {
  ValueCounts gaps;
  for (const RequestRecord& r : records) {
    if (lost(r)) continue;
    for (double g : r.itl_s) gaps.add(g);
  }
  return gaps;
}

SloResult evaluate_slo(const std::vector<RequestRecord>& records, const SloSpec& slo,
                       double duration_s, double request_rate) {
  return evaluate_slo(records, finished_gaps(records), slo, duration_s, request_rate);
}

SloResult evaluate_slo(const std::vector<RequestRecord>& records, const ValueCounts& gaps,
                       const SloSpec& slo, double duration_s, double request_rate) {
  SloResult res;
  res.total = records.size();
  int64_t met_tokens = 0;
  std::vector<double> ttft, tpot;
  int64_t lost_count = 0;
  for (const RequestRecord& r : records) {
    if (meets_slo(r, slo)) {
      ++res.met;
      met_tokens += r.output_tokens;
    }
    ttft.push_back(lost(r) ? kInf : r.ttft_s);
    if (lost(r)) {
      tpot.push_back(kInf);
      ++lost_count;
      continue;
    }
    if (r.has_tpot()) tpot.push_back(r.tpot_s);
  }
  res.attainment =
      res.total > 0 ? static_cast<double>(res.met) / static_cast<double>(res.total) : 0;
  if (duration_s > 0) {
    res.effective_rps = static_cast<double>(res.met) / duration_s;
    res.effective_output_tps = static_cast<double>(met_tokens) / duration_s;
  }
  res.attained = res.total > 0 && res.attainment >= slo.attainment;
  res.goodput_rps = res.attained ? request_rate : 0.0;
  res.ttft_at = at(ttft, slo.percentile);
  res.tpot_at = at(tpot, slo.percentile);
  res.tbt_at = counts_percentile(gaps, slo.percentile, lost_count);
  res.percentile_ok = res.total > 0 && (slo.ttft_s <= 0 || res.ttft_at <= slo.ttft_s) &&
                      (slo.tpot_s <= 0 || res.tpot_at <= slo.tpot_s) &&
                      (slo.tbt_s <= 0 || res.tbt_at <= slo.tbt_s);
  return res;
}

Fairness tenant_fairness(const std::vector<RequestRecord>& records, const SloSpec& slo) {
  struct Acc {
    TenantStats s;
    std::vector<double> ttft, tpot;
    double latency = 0;
    size_t met = 0;
  };
  std::map<int32_t, Acc> by;
  int64_t total_service = 0;
  for (const RequestRecord& r : records) {
    Acc& a = by[r.tenant];
    a.s.tenant = r.tenant;
    ++a.s.requests;
    if (meets_slo(r, slo)) ++a.met;
    if (r.failed) {
      ++a.s.failed;
      continue;
    }
    ++a.s.finished;
    if (r.has_ttft()) a.ttft.push_back(r.ttft_s);
    if (r.has_tpot()) a.tpot.push_back(r.tpot_s);
    a.s.service_tokens += r.prompt_tokens + r.output_tokens;
    total_service += r.prompt_tokens + r.output_tokens;
    a.latency += std::max(0.0, r.e2e_s);
  }
  Fairness f;
  std::vector<double> normalised;
  for (auto& [id, a] : by) {
    TenantStats s = a.s;
    s.ttft_p99 = at(a.ttft, 99);
    s.tpot_p99 = at(a.tpot, 99);
    s.service_share = total_service > 0 ? static_cast<double>(s.service_tokens) /
                                              static_cast<double>(total_service)
                                        : 0.0;
    s.normalised_service = a.latency > 0 ? static_cast<double>(s.service_tokens) / a.latency : 0.0;
    s.slo_attainment = static_cast<double>(a.met) / static_cast<double>(s.requests);
    normalised.push_back(s.normalised_service);
    if (f.worst_ttft_tenant < 0 || s.ttft_p99 > f.worst_ttft_p99) {
      f.worst_ttft_p99 = s.ttft_p99;
      f.worst_ttft_tenant = s.tenant;
    }
    if (f.worst_tpot_tenant < 0 || s.tpot_p99 > f.worst_tpot_p99) {
      f.worst_tpot_p99 = s.tpot_p99;
      f.worst_tpot_tenant = s.tenant;
    }
    f.tenants.push_back(s);
  }
  f.jain = jain_index(normalised);
  return f;
}

}  // namespace bricks::engine
