// A scheduler that breaks its promise on purpose: it declares max_num_seqs but runs every
// request the kv brick has room for, so the scheduler conformance suite must fail it.
#include "bricks/bricks.hpp"
#include "bricks/kv_client.hpp"
#include "bricks/plan_buffers.hpp"
#include "bricks/scheduler_entry.hpp"

namespace {

const bricks_param_spec kParams[] = {
    bricks::param_int("max_num_seqs", 2, 1, 64, "Promised, and ignored."),
};

class Overcommit : public bricks::Scheduler {
 public:
  Overcommit(const bricks::Host& host, const bricks::Params&) : bricks::Scheduler(host) {}

  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override {
    if (!kv_.bound()) kv_.bind(host().wired(BRICKS_KIND_KV), "overcommit");
    buf_.clear();
    for (int32_t i = 0; i < input.num_requests; ++i) {
      const bricks_request_view& r = input.requests[i];
      const int32_t n = r.num_tokens - r.num_computed;
      if (n <= 0) continue;
      const bool ok = r.state == BRICKS_REQ_RUNNING ? kv_.extend(r, n) : kv_.allocate(r, 0, n);
      if (ok) buf_.items.push_back({r.id, n, 0});
    }
    buf_.publish(plan);
  }

 private:
  bricks::sched::KvClient kv_;
  bricks::sched::PlanBuffers buf_;
};

}  // namespace

BRICKS_PLUGIN("overcommit_sched", "0.1.0", "MIT",
              bricks::sched::describe_scheduler<Overcommit>("overcommit", "0.1.0",
                                                            "Ignores its max_num_seqs.")
                  .params(kParams))
