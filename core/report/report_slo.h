// Latency targets and what a run achieved against them: SLO attainment, DistServe's
// goodput, DeepSpeed-FastGen's effective throughput, percentile targets (Sarathi-Serve's
// capacity under a P99 time-between-tokens SLO), and per-tenant service and fairness.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "manifest.pb.h"
#include "report/report_metrics.h"

namespace bricks::engine {

struct SloSpec {
  double ttft_s = 0;        // time to first token; 0 = not checked
  double tpot_s = 0;        // time per output token after the first; 0 = not checked
  double tbt_s = 0;         // every gap between tokens (percentile target only)
  double percentile = 99;   // of the percentile targets
  double attainment = 0.9;  // share of requests that must meet the SLO for goodput
  bool any() const { return ttft_s > 0 || tpot_s > 0 || tbt_s > 0; }
  // The targets set, e.g. "TTFT <= 250 ms, TPOT <= 100 ms"; "none" when none is.
  std::string targets() const;
  // From the manifest's output.slo; unset fields keep the defaults above.
  static SloSpec from(const bricks::manifest::Slo& s);
};

// Whether one request meets the per-request targets (TTFT and TPOT). A failed request,
// or one that produced no token, never does; one with a single token has no TPOT and
// meets the TPOT target.
bool meets_slo(const RequestRecord& r, const SloSpec& slo);

struct SloResult {
  size_t total = 0;       // requests submitted
  size_t met = 0;         // of which met the per-request targets
  double attainment = 0;  // met / total
  // DeepSpeed-FastGen effective throughput: only requests that met the targets count.
  double effective_rps = 0;
  double effective_output_tps = 0;
  // DistServe: a rate counts toward goodput when at least `attainment` of its requests
  // meet the SLO. For one run: its request rate when attained, else 0. `bricks bench`
  // searches for the highest such rate.
  bool attained = false;
  double goodput_rps = 0;
  // The `percentile`-th percentile of TTFT, TPOT and TBT (failed requests count as
  // infinitely late), and whether each target given holds at it.
  double ttft_at = 0, tpot_at = 0, tbt_at = 0;
  bool percentile_ok = false;
};

// `request_rate` is the run's request rate (finished requests per second).
SloResult evaluate_slo(const std::vector<RequestRecord>& records, const SloSpec& slo,
                       double duration_s, double request_rate);
// The same, with the gaps between tokens of the records that are not lost (failed, or
// without a token) given as `gaps` (finished_gaps(records) or more), not read from itl_s.
SloResult evaluate_slo(const std::vector<RequestRecord>& records, const ValueCounts& gaps,
                       const SloSpec& slo, double duration_s, double request_rate);
// The gaps between tokens (itl_s) of the records that are not lost, which the TBT
// percentile and the ITL distribution are taken over.
ValueCounts finished_gaps(const std::vector<RequestRecord>& records);

struct TenantStats {
  int32_t tenant = 0;
  size_t requests = 0, finished = 0, failed = 0;
  double ttft_p99 = 0, tpot_p99 = 0;
  int64_t service_tokens = 0;  // prompt + output tokens of its finished requests
  double service_share = 0;    // of all tenants' service tokens
  // Service normalised by the time it took: service tokens per second of its requests'
  // end-to-end latency. Equal across tenants when none is favoured.
  double normalised_service = 0;
  double slo_attainment = 0;  // met / requests (when an SLO is given)
};

struct Fairness {
  std::vector<TenantStats> tenants;  // by tenant id
  double jain = 1.0;                 // over normalised_service
  double worst_ttft_p99 = 0, worst_tpot_p99 = 0;
  int32_t worst_ttft_tenant = -1, worst_tpot_tenant = -1;
};

Fairness tenant_fairness(const std::vector<RequestRecord>& records, const SloSpec& slo);

}  // namespace bricks::engine
