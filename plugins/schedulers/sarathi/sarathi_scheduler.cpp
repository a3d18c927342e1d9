#include "sarathi_scheduler.h"

#include <algorithm>
#include <string>

namespace bricks::sarathi {

SarathiScheduler::SarathiScheduler(const Host& host, const Params& params)
    : Scheduler(host),
      token_budget_(static_cast<int32_t>(params.get_int("token_budget"))),
      tbt_slo_s_(params.get_float("tbt_slo_ms") / 1000.0),
      batcher_(sched::stall_free_config("sarathi", params, true)) {
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
