// Every C++ header of the SDK compiles as C++17 with the project's warnings: out-of-tree
// bricks may build with -std=c++17 (pkg-config's cxx_std), whatever standard this project
// uses. The templates a scheduler brick uses are instantiated so that their bodies are
// checked too. Compile-only: nothing calls into this file.
#include "bricks/attention_checks.hpp"
#include "bricks/block_count.hpp"
#include "bricks/bricks.hpp"
#include "bricks/capabilities.h"
#include "bricks/error.hpp"
#include "bricks/half.hpp"
#include "bricks/host.hpp"
#include "bricks/kv_client.hpp"
#include "bricks/params.hpp"
#include "bricks/plan_buffers.hpp"
#include "bricks/scheduler_entry.hpp"
#include "bricks/step_batch.hpp"
#include "bricks/view_carry.hpp"

#if __cplusplus != 201703L
#error "this file must be compiled as C++17"
#endif

namespace bricks_sdk_cxx17 {

class Probe : public bricks::Scheduler {
 public:
  Probe(const bricks::Host& host, const bricks::Params& /*params*/)
      : bricks::Scheduler(host), step_("probe", false) {}
  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override {
    step_.bind(host().wired(BRICKS_KIND_KV));
    step_.begin(input, 1);
    step_.schedule_running(bricks::sched::StepBatch::Phase::kAll, 1);
    carry_.match(input.requests, input.num_requests);
    carry_.sort_carried(
        order_, input.num_requests, [](int32_t) { return true; },
        [](int32_t a, int32_t b) { return a < b; });
    step_.buf.publish(plan);
  }

 private:
  bricks::sched::StepBatch step_;
  bricks::sched::ViewCarry carry_;
  std::vector<int32_t> order_;
};

const bricks_param_spec kParams[] = {bricks::sched::max_num_seqs_param(1),
                                     bricks::sched::preemption_param()};
const char* const kRequires[] = {BRICKS_CAP_KV_PAGED};

}  // namespace bricks_sdk_cxx17

bricks_brick_desc bricks_sdk_cxx17_probe();
bricks_brick_desc bricks_sdk_cxx17_probe() {
  return bricks::sched::describe_scheduler<bricks_sdk_cxx17::Probe>("probe", "1.0.0", "Probe.")
      .params(bricks_sdk_cxx17::kParams)
      .requires_caps(bricks_sdk_cxx17::kRequires);
}
