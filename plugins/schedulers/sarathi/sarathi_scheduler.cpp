#include "sarathi_scheduler.h"

#include <algorithm>
#include <string>

namespace bricks::sarathi {

namespace {
sched::StallFreeConfig config_from(const Params& params) {
  const std::string mode = params.get_string("preemption");
  if (mode != "recompute" && mode != "swap") {
    throw Error::invalid("scheduler sarathi: preemption '" + mode +
                         "' is not one of recompute, swap");
  }
  const int64_t seqs = params.get_int("max_num_seqs");
  const int64_t min_chunk = params.get_int("min_chunk");
  if (seqs < 1 || min_chunk < 1) {
    throw Error::invalid("scheduler sarathi: max_num_seqs and min_chunk must be >= 1");
  }
  sched::StallFreeConfig c;
  c.brick = "sarathi";
  c.max_num_seqs = static_cast<int32_t>(seqs);
  c.min_chunk = static_cast<int32_t>(min_chunk);
  c.swap = mode == "swap";
  return c;
}
}  // namespace

SarathiScheduler::SarathiScheduler(const Host& host, const Params& params)
    : Scheduler(host),
      token_budget_(static_cast<int32_t>(params.get_int("token_budget"))),
      tbt_slo_s_(params.get_float("tbt_slo_ms") / 1000.0),
      batcher_(config_from(params)) {
  if (token_budget_ < 1) {
    throw Error::invalid("scheduler sarathi: token_budget must be >= 1");
  }
  if (!(tbt_slo_s_ >= 0)) {
    throw Error::invalid("scheduler sarathi: tbt_slo_ms must be >= 0 (0 turns the SLO off)");
  }
}

void SarathiScheduler::schedule(const bricks_sched_input& input, bricks_step_plan& plan) {
  batcher_.prepare(host().wired(BRICKS_KIND_KV));
  int32_t budget = token_budget_;
  if (tbt_slo_s_ > 0 && fit_.known()) {
    const int32_t floor =
        std::min(token_budget_, std::max(sched::StallFreeBatcher::num_decodes(input), 1));
    budget = fit_.largest_within(tbt_slo_s_, floor, token_budget_);
  }
  batcher_.schedule(input, budget, plan);
  last_tokens_ = batcher_.last_tokens();
}

void SarathiScheduler::on_step_done(const bricks_step_result& result) {
  if (tbt_slo_s_ > 0) fit_.add(last_tokens_, result.step_seconds);
  last_tokens_ = 0;
}

}  // namespace bricks::sarathi
