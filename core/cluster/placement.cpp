#include "cluster/placement.h"

#include <algorithm>
#include <exception>

namespace bricks::engine {

int32_t Placement::gpus() const {
  return prefill_instances * prefill_tp * prefill_pp +
         (disaggregated ? decode_instances * decode_tp * decode_pp : 0);
}

namespace {

std::string instance_shape(int32_t tp, int32_t pp) {
  return "tp" + std::to_string(tp) + (pp > 1 ? " pp" + std::to_string(pp) : "");
}

// The distinct values of `choices` in [1, most], sorted.
std::vector<int32_t> choices_within(const std::vector<int32_t>& choices, int32_t most) {
  std::vector<int32_t> out;
  for (int32_t v : choices) {
    if (v >= 1 && v <= most && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string Placement::describe() const {
  if (!disaggregated) {
    return std::to_string(prefill_instances) + " colocated x " +
           instance_shape(prefill_tp, prefill_pp);
  }
  return std::to_string(prefill_instances) + " prefill x " +
         instance_shape(prefill_tp, prefill_pp) + " + " + std::to_string(decode_instances) +
         " decode x " + instance_shape(decode_tp, decode_pp);
}

std::vector<Placement> enumerate_placements(const PlacementOptions& o) {
  const std::vector<int32_t> tps = choices_within(o.tp_choices, o.gpus);
  const std::vector<int32_t> pps = choices_within(o.pp_choices, o.gpus);
  std::vector<Placement> out;
  auto keep = [&o](const Placement& p) { return !o.use_every_gpu || p.gpus() == o.gpus; };
  for (int32_t ptp : o.disaggregated ? tps : std::vector<int32_t>{}) {
    for (int32_t ppp : pps) {
      for (int32_t dtp : tps) {
        for (int32_t dpp : pps) {
          const int32_t ps = ptp * ppp, ds = dtp * dpp;  // GPUs per instance
          for (int32_t np = 1; np * ps + ds <= o.gpus; ++np) {
            for (int32_t nd = 1; np * ps + nd * ds <= o.gpus; ++nd) {
              const Placement p{true, np, ptp, nd, dtp, ppp, dpp};
              if (keep(p)) out.push_back(p);
            }
          }
        }
      }
    }
  }
  if (o.colocated) {
    for (int32_t tp : tps) {
      for (int32_t n = 1; n * tp <= o.gpus; ++n) {
        const Placement p{false, n, tp, 0, 1};
        if (keep(p)) out.push_back(p);
      }
    }
  }
  return out;
}

namespace {

// Whether `a` beats `b`. Goodputs within `tie` (relative) of each other are a tie: the
// rate search cannot tell them apart.
bool better(const PlacementResult& a, const PlacementResult& b, double tie) {
  if (a.per_gpu > b.per_gpu * (1 + tie)) return true;
  if (b.per_gpu > a.per_gpu * (1 + tie)) return false;
  if (a.placement.gpus() != b.placement.gpus()) return a.placement.gpus() < b.placement.gpus();
  return a.per_gpu > b.per_gpu;
}

}  // namespace

PlacementSearch search_placements(const PlacementOptions& o, const PlacementProbe& passes,
                                  const PlacementProgress& progress) {
  PlacementSearch s;
  const std::vector<Placement> all = enumerate_placements(o);
  double best_per_gpu = 0;
  for (const Placement& p : all) {
    PlacementResult r;
    r.placement = p;
    RateSearchOptions so = o.search;
    const double per_gpu_guess = best_per_gpu > 0 ? best_per_gpu : o.search.start_rate;
    so.start_rate = std::max(per_gpu_guess * p.gpus(), so.min_rate);
    try {
      const RateSearchResult found =
          find_max_rate([&](double rate) { return passes(p, rate); }, so);
      r.goodput_rps = found.best;
      r.converged = found.converged;
      r.runs = static_cast<int32_t>(found.tried.size());
    } catch (const std::exception& e) {
      r.error = e.what();
      r.goodput_rps = 0;
    }
    r.per_gpu = r.goodput_rps / p.gpus();
    best_per_gpu = std::max(best_per_gpu, r.per_gpu);
    s.results.push_back(r);
    const auto index = static_cast<int32_t>(s.results.size() - 1);
    int32_t& best = p.disaggregated ? s.best_disaggregated : s.best_colocated;
    if (r.error.empty() && r.goodput_rps > 0 &&
        (best < 0 || better(r, s.results[best], 2 * o.search.rel_tol))) {
      best = index;
    }
    if (progress) progress(s.results.back(), s.results.size(), all.size());
  }
  return s;
}

}  // namespace bricks::engine
