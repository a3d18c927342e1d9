#include "splitfuse_scheduler.h"

#include <string>

namespace bricks::splitfuse {

SplitFuseScheduler::SplitFuseScheduler(const Host& host, const Params& params)
    : Scheduler(host),
      forward_size_(static_cast<int32_t>(params.get_int("forward_size"))),
      batcher_(sched::stall_free_config("splitfuse", params, false)) {
  if (forward_size_ < 1) throw Error::invalid("scheduler splitfuse: forward_size must be >= 1");
}

void SplitFuseScheduler::schedule(const bricks_sched_input& input, bricks_step_plan& plan) {
  batcher_.prepare(host().wired(BRICKS_KIND_KV));
  batcher_.schedule(input, forward_size_, plan);
}

}  // namespace bricks::splitfuse
