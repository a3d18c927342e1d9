#include "splitfuse_scheduler.h"

#include <string>

namespace bricks::splitfuse {

namespace {
sched::StallFreeConfig config_from(const Params& params) {
  const std::string mode = params.get_string("preemption");
  if (mode != "recompute" && mode != "swap") {
    throw Error::invalid("scheduler splitfuse: preemption '" + mode +
                         "' is not one of recompute, swap");
  }
  const int64_t seqs = params.get_int("max_num_seqs");
  if (seqs < 1) throw Error::invalid("scheduler splitfuse: max_num_seqs must be >= 1");
  sched::StallFreeConfig c;
  c.brick = "splitfuse";
  c.max_num_seqs = static_cast<int32_t>(seqs);
  c.min_chunk = 1;  // split anywhere
  c.swap = mode == "swap";
  return c;
}
}  // namespace

SplitFuseScheduler::SplitFuseScheduler(const Host& host, const Params& params)
    : Scheduler(host),
      forward_size_(static_cast<int32_t>(params.get_int("forward_size"))),
      batcher_(config_from(params)) {
  if (forward_size_ < 1) throw Error::invalid("scheduler splitfuse: forward_size must be >= 1");
}

void SplitFuseScheduler::schedule(const bricks_sched_input& input, bricks_step_plan& plan) {
  batcher_.prepare(host().wired(BRICKS_KIND_KV));
  batcher_.schedule(input, forward_size_, plan);
}

}  // namespace bricks::splitfuse
