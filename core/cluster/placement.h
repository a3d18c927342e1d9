// DistServe's placement search: which split of a GPU budget into prefill and decode
// instances (how many of each, and each one's tensor parallelism) serves the most requests
// per second per GPU under a latency SLO, and the best colocated cluster for comparison.
//
// Every placement within the budget is tried; its goodput (the highest request rate at
// which at least the SLO's attainment share of requests meets both TTFT and TPOT) comes
// from a rate search (bracket by doubling or halving, then bisection; report_capacity.h)
// whose every point is one simulation, run by the caller's probe. The search itself knows
// nothing of models or devices, so a test can hand it a synthetic cost model.
//
// Functions here are thread-compatible: no shared state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "report/report_capacity.h"

namespace bricks::engine {

struct Placement {
  bool disaggregated = true;
  // Disaggregated: the prefill instances; colocated: the instances.
  int32_t prefill_instances = 1;
  int32_t prefill_tp = 1;
  int32_t decode_instances = 1;  // disaggregated only
  int32_t decode_tp = 1;         // disaggregated only
  // Pipeline stages of each instance, each a group of tp GPUs (on a topology only; see
  // topology_layout.h).
  int32_t prefill_pp = 1;
  int32_t decode_pp = 1;  // disaggregated only

  int32_t gpus() const;
  // "2 prefill x tp1 + 1 decode x tp2", "4 colocated x tp2", "2 prefill x tp2 pp2 + ...".
  std::string describe() const;
  bool operator==(const Placement&) const = default;
};

struct PlacementOptions {
  int32_t gpus = 8;  // the budget; placements may use fewer
  std::vector<int32_t> tp_choices{1, 2, 4, 8};
  // Pipeline stages per instance to try (disaggregated placements only).
  std::vector<int32_t> pp_choices{1};
  bool disaggregated = true;  // search disaggregated placements
  bool colocated = true;      // search colocated placements
  // Only placements that use every GPU of the budget (a given cluster, as on a topology).
  bool use_every_gpu = false;
  // The rate search of each placement. Its start_rate is a per-GPU guess: the search of a
  // placement starts at start_rate * its GPUs, or at the best per-GPU goodput seen so far
  // times its GPUs once there is one.
  RateSearchOptions search{0.5, 0.03, 1e-3, 1e5, 14};
};

struct PlacementResult {
  Placement placement;
  double goodput_rps = 0;  // 0 when no rate passed
  double per_gpu = 0;      // goodput_rps / GPUs
  bool converged = false;  // the rate search closed within its tolerance
  int32_t runs = 0;        // probes run
  std::string error;       // why it could not be simulated (then skipped); "" when fine
};

struct PlacementSearch {
  std::vector<PlacementResult> results;  // every placement, in enumeration order
  int32_t best_disaggregated = -1;       // index into results; -1 when none passed
  int32_t best_colocated = -1;
};

// Disaggregated placements first (by prefill tp, prefill pp, decode tp, decode pp, prefill
// count, decode count), then colocated ones (by tp, count); only tp and pp values in the
// choices, at most `gpus` GPUs (exactly, with use_every_gpu).
std::vector<Placement> enumerate_placements(const PlacementOptions& options);

// Whether a run of `p` at `rate` requests per second meets the attainment target. May throw
// std::exception: the placement is then recorded with the message and skipped.
using PlacementProbe = std::function<bool(const Placement& p, double rate)>;
// Told after each placement's search: its result, how many are done, of how many.
using PlacementProgress = std::function<void(const PlacementResult& r, size_t done, size_t total)>;

// The best per-GPU goodput wins. Goodputs within twice the rate search's tolerance of each
// other count as a tie (the search cannot tell them apart), won by the placement with fewer
// GPUs, then by the higher goodput, then by the earlier one.
PlacementSearch search_placements(const PlacementOptions& options, const PlacementProbe& passes,
                                  const PlacementProgress& progress = {});

}  // namespace bricks::engine
