// Toy schedulers for the host suites, written with the SDK's C++ layer.
//  toy_fcfs: one param of every type; schedules through the kv brick it is wired to.
//  needs_seed: a required param and nothing else.
#include <algorithm>
#include <vector>

#include "bricks/bricks.hpp"

namespace {

class ToyFcfs : public bricks::Scheduler {
 public:
  ToyFcfs(const bricks::Host& host, const bricks::Params& params)
      : bricks::Scheduler(host),
        max_num_seqs_(params.get_int("max_num_seqs")),
        token_budget_(params.get_int("token_budget")),
        lifo_(params.get_string("policy") == "lifo") {
    host.info("created with label " + params.get_string("label"));
  }

  void schedule(const bricks_sched_input& input, bricks_step_plan& plan) override {
    bricks_brick_ref kv = host().wired(BRICKS_KIND_KV);
    if (kv.instance == nullptr) throw bricks::Error::invalid("toy_fcfs needs a kv brick wired");
    const auto* vt = static_cast<const bricks_kv_vtable*>(kv.vtable);
    items_.clear();
    std::vector<const bricks_request_view*> order;
    for (int32_t i = 0; i < input.num_requests; ++i) order.push_back(&input.requests[i]);
    if (lifo_) std::reverse(order.begin(), order.end());
    int64_t budget = token_budget_;
    for (const bricks_request_view* r : order) {
      if (static_cast<int64_t>(items_.size()) >= max_num_seqs_ || budget <= 0) break;
      int32_t n = static_cast<int32_t>(std::min<int64_t>(r->num_tokens - r->num_computed, budget));
      if (n <= 0) continue;
      int32_t ok = 0;
      // toy_kv's allocate fails only on misuse, which these suites never do.
      if (vt->allocate(kv.instance, r, 0, 0, n, &ok) != nullptr) {
        throw bricks::Error::internal("kv allocate failed");
      }
      if (ok == 0) continue;
      items_.push_back({r->id, n, 0});
      budget -= n;
    }
    plan = bricks_step_plan{};
    plan.items = items_.data();
    plan.num_items = static_cast<int32_t>(items_.size());
  }

 private:
  int64_t max_num_seqs_;
  int64_t token_budget_;
  bool lifo_;
  std::vector<bricks_sched_item> items_;
};

class NeedsSeed : public bricks::Scheduler {
 public:
  NeedsSeed(const bricks::Host& host, const bricks::Params& params)
      : bricks::Scheduler(host), seed_(params.get_int("seed")) {}
  void schedule(const bricks_sched_input&, bricks_step_plan& plan) override {
    plan = bricks_step_plan{};
    (void)seed_;
  }

 private:
  int64_t seed_;
};

const char* const kPolicies[] = {"fcfs", "lifo"};
const bricks_param_spec kToyParams[] = {
    bricks::param_int("max_num_seqs", 8, 1, 1024, "Most requests in one step."),
    bricks::param_int("token_budget", 64, 1, 65536, "Most tokens in one step."),
    bricks::param_float("temperature", 0.5, 0.0, 2.0, "Unused; a float to validate."),
    bricks::param_bool("verbose", false, "Unused; a bool to validate."),
    bricks::param_enum("policy", "fcfs", kPolicies, "Order in which requests are admitted."),
    bricks::param_string("label", "toy", "Logged when the brick is created."),
};
const char* const kToyRequires[] = {"kv.blocks"};
const bricks_param_spec kSeedParams[] = {
    bricks::required(bricks::param_int("seed", 0, 0, 1000, "Random seed.")),
};

}  // namespace

BRICKS_PLUGIN(
    "toy_sched", "1.2.3", "MIT",
    bricks::describe<ToyFcfs>("toy_fcfs", "1.0.0", "First come, first served, toy.")
        .params(kToyParams)
        .requires_caps(kToyRequires),
    bricks::describe<NeedsSeed>("needs_seed", "0.1.0", "Has a required param.").params(kSeedParams))
