// The report as JSON and as a table.
#include <cmath>
#include <cstdio>

#include "report/report.h"

namespace bricks::engine {

namespace {

nlohmann::json dist_json(const Distribution& d) {
  return {{"mean", d.mean}, {"median", d.median}, {"p50", d.p50()},  {"p90", d.p90},
          {"p99", d.p99},   {"max", d.max},       {"count", d.count}};
}

// Infinite percentiles (failed requests) as null.
nlohmann::json finite(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

std::string tenant_label(const Report& r, int32_t id) {
  if (id >= 0 && static_cast<size_t>(id) < r.tenant_names.size() && !r.tenant_names[id].empty()) {
    return r.tenant_names[id];
  }
  return "tenant" + std::to_string(id);
}

nlohmann::json slo_json(const SloSpec& s, const SloResult& r) {
  return {{"targets",
           {{"ttft_s", s.ttft_s},
            {"tpot_s", s.tpot_s},
            {"tbt_s", s.tbt_s},
            {"percentile", s.percentile},
            {"attainment", s.attainment}}},
          {"requests_met", r.met},
          {"attainment", r.attainment},
          {"attained", r.attained},
          {"goodput_qualified_requests_per_s", r.goodput_rps},
          {"effective_requests_per_s", r.effective_rps},
          {"effective_output_tokens_per_s", r.effective_output_tps},
          {"at_percentile",
           {{"ttft_s", finite(r.ttft_at)},
            {"tpot_s", finite(r.tpot_at)},
            {"tbt_s", finite(r.tbt_at)},
            {"targets_hold", r.percentile_ok}}}};
}

}  // namespace

nlohmann::json Report::to_json() const {
  nlohmann::json tenants = nlohmann::json::array();
  for (const TenantStats& t : fairness.tenants) {
    tenants.push_back({{"tenant", t.tenant},
                       {"name", tenant_label(*this, t.tenant)},
                       {"requests", t.requests},
                       {"finished", t.finished},
                       {"failed", t.failed},
                       {"ttft_p99_s", t.ttft_p99},
                       {"tpot_p99_s", t.tpot_p99},
                       {"service_tokens", t.service_tokens},
                       {"service_share", t.service_share},
                       {"normalised_service_tokens_per_s", t.normalised_service},
                       {"slo_attainment", t.slo_attainment}});
  }
  nlohmann::json j = {
      {"name", name},
      {"bricks", bricks},
      {"device", device},
      {"requests",
       {{"submitted", submitted},
        {"finished", finished},
        {"failed", failed},
        {"unfinished", unfinished},
        {"prompts_truncated", prompts_truncated},
        {"max_tokens_clamped", max_tokens_clamped}}},
      {"failures", failures.to_json()},
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
      {"kv_copy_s", {{"total", kv_copy_s}, {"hidden_behind_compute", kv_copy_hidden_s}}},
      {"disk_kv",
       {{"blocks", disk_kv_blocks},
        {"blocks_written", disk_kv.blocks_written},
        {"blocks_read", disk_kv.blocks_read},
        {"bytes_written", disk_kv.bytes_written},
        {"bytes_read", disk_kv.bytes_read},
        {"failed_writes", disk_kv.failed_writes},
        {"failed_reads", disk_kv.failed_reads},
        {"checksum_failures", disk_kv.checksum_failures},
        {"evictions", disk_kv.evictions},
        {"seconds", disk_kv.seconds}}},
      {"kv_utilisation", {{"mean", kv_util_mean}, {"max", kv_util_max}}},
      {"prefix_cache_hit_rate", prefix_hit_rate},
      {"forward_share_of_step_time", forward_share},
      {"tenants", tenants},
      {"fairness",
       {{"jain_index", fairness.jain},
        {"worst_tenant_ttft_p99_s", fairness.worst_ttft_p99},
        {"worst_tenant_tpot_p99_s", fairness.worst_tpot_p99},
        {"worst_ttft_tenant", fairness.worst_ttft_tenant},
        {"worst_tpot_tenant", fairness.worst_tpot_tenant}}}};
  if (slo.any()) j["slo"] = slo_json(slo, slo_result);
  if (tiers.present) j["tiers"] = tiers.to_json();
  if (!interrupted_by.empty()) j["interrupted_by"] = interrupted_by;
  if (!tier_traffic.empty()) {
    nlohmann::json ts = nlohmann::json::array();
    for (const TierTraffic& t : tier_traffic) {
      ts.push_back({{"name", t.name},
                    {"plan", t.plan},
                    {"bytes_read", t.bytes_read},
                    {"bytes_written", t.bytes_written},
                    {"busy_s", t.busy_s},
                    {"exposed_s", t.exposed_s}});
    }
    j["tier_traffic"] = ts;
  }
  return j;
}

std::string Report::to_table() const {
  std::string out;
  char line[320];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  add("%s\n", name.c_str());
  add("  bricks   %s\n", bricks.c_str());
  out += "  device   " + device + "\n";  // may be longer than `line`
  if (!interrupted_by.empty()) {
    add("  INTERRUPTED by %s: a partial report; %zu requests were still waiting or running\n",
        interrupted_by.c_str(), unfinished);
  }
  add("  requests %zu submitted, %zu finished, %zu failed in %.2f s (%lld steps)\n", submitted,
      finished, failed, duration_s, static_cast<long long>(steps));
  if (prompts_truncated + max_tokens_clamped > 0) {
    add("  context  %zu prompts truncated, %zu max_tokens clamped to fit the model's context\n",
        prompts_truncated, max_tokens_clamped);
  }
  // Latencies cover the finished requests that produced a token (ITL: the gaps between
  // tokens), never the failed ones: the count says how many that is.
  add("\n  %-12s %10s %10s %10s %10s %10s\n", "latency ms", "mean", "p50", "p90", "p99", "over");
  for (const auto& [label, d] : {std::pair<const char*, const Distribution*>{"TTFT", &ttft},
                                 {"TPOT", &tpot},
                                 {"ITL", &itl},
                                 {"E2E", &e2e}}) {
    add("  %-12s %10.1f %10.1f %10.1f %10.1f %10zu\n", label, d->mean * 1e3, d->p50() * 1e3,
        d->p90 * 1e3, d->p99 * 1e3, d->count);
  }
  add("\n  throughput  %.2f req/s, %.1f output tok/s, %.1f total tok/s\n", request_throughput,
      output_throughput, total_throughput);
  add("  tokens      %lld prompt, %lld output\n", static_cast<long long>(prompt_tokens),
      static_cast<long long>(output_tokens));
  add("  kv cache    %.1f%% mean / %.1f%% max used, prefix hit rate %.1f%%\n", kv_util_mean * 100,
      kv_util_max * 100, prefix_hit_rate * 100);
  add("  preemption  %lld; KV copied between tiers %.1f MiB (swaps and kept conversations)",
      static_cast<long long>(preemptions), static_cast<double>(swapped_bytes) / (1 << 20));
  if (swapped_bytes > 0) {
    add(" in %.1f ms, %.1f ms of it hidden behind compute", kv_copy_s * 1e3,
        kv_copy_hidden_s * 1e3);
  }
  out += "\n";
  for (const TierTraffic& t : tier_traffic) {
    out += "  tier        " + t.name + ": " + t.plan + "\n";
    add("              read %.2f GB, wrote %.2f GB in %.2f s; compute waited %.2f s of it\n",
        static_cast<double>(t.bytes_read) / 1e9, static_cast<double>(t.bytes_written) / 1e9,
        t.busy_s, t.exposed_s);
  }
  if (tiers.present) out += tiers.to_table();
  if (disk_kv_blocks > 0) {
    add("  disk tier   %lld blocks (%.1f MiB) written, %lld (%.1f MiB) read in %.1f ms; "
        "%lld failed writes, %lld failed reads (%lld checksum)\n",
        static_cast<long long>(disk_kv.blocks_written),
        static_cast<double>(disk_kv.bytes_written) / (1 << 20),
        static_cast<long long>(disk_kv.blocks_read),
        static_cast<double>(disk_kv.bytes_read) / (1 << 20), disk_kv.seconds * 1e3,
        static_cast<long long>(disk_kv.failed_writes), static_cast<long long>(disk_kv.failed_reads),
        static_cast<long long>(disk_kv.checksum_failures));
  }
  if (slo.any()) {
    const SloResult& r = slo_result;
    add("\n  slo         %s: %.1f%% of requests met (goodput needs %.0f%%)\n",
        slo.targets().c_str(), r.attainment * 100, slo.attainment * 100);
    add("  goodput     %.2f req/s qualified; effective throughput %.2f req/s, %.1f tok/s\n",
        r.goodput_rps, r.effective_rps, r.effective_output_tps);
    add("  P%.0f        TTFT %.1f ms, TPOT %.1f ms, TBT %.1f ms: targets %s\n", slo.percentile,
        r.ttft_at * 1e3, r.tpot_at * 1e3, r.tbt_at * 1e3, r.percentile_ok ? "hold" : "missed");
  }
  if (fairness.tenants.size() > 1) {
    add("\n  %-14s %8s %8s %12s %12s %8s %8s\n", "tenant", "requests", "failed", "p99 TTFT ms",
        "p99 TPOT ms", "share", "slo met");
    for (const TenantStats& t : fairness.tenants) {
      add("  %-14s %8zu %8zu %12.1f %12.1f %7.1f%% %7.1f%%\n",
          tenant_label(*this, t.tenant).c_str(), t.requests, t.failed, t.ttft_p99 * 1e3,
          t.tpot_p99 * 1e3, t.service_share * 100, t.slo_attainment * 100);
    }
    add("  fairness    Jain index %.3f over normalised service; worst p99 TTFT %.1f ms (%s)\n",
        fairness.jain, fairness.worst_ttft_p99 * 1e3,
        tenant_label(*this, fairness.worst_ttft_tenant).c_str());
  }
  if (!failures.empty()) add("\n  failures    %zu, by reason:\n", failures.total());
  for (const FailureReason& f : failures.by_count()) {
    out += "  " + std::to_string(f.count) + " x " + f.reason + "\n";
    for (const std::string& e : f.examples) out += "      e.g. " + e + "\n";
  }
  return out;
}

}  // namespace bricks::engine
