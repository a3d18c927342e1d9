// The fairness side of scheduler/fastswitch: tokens of service each tenant received and the
// effective priority rule.
//
//   effective(r) = priority_weight * r.priority
//                  - fairness_weight * (service(r.tenant) - least service of active tenants)
//                    / fairness_quantum
//
// service(t) counts the tokens the scheduler planned for tenant t's requests (prefill and
// decode; prefix-cache hits are free). A tenant is active while it has live requests. So at
// unit weights, a tenant that received fairness_quantum tokens more than the least-served
// active tenant ranks one priority level lower: tenants that received less rank higher.
//
// Idle time earns no credit (start-time fair queueing's virtual time): a tenant that becomes
// active again starts no lower than the least service among the tenants that stayed active.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

namespace bricks::fastswitch {

struct FairnessWeights {
  double priority_weight = 1.0;
  double fairness_weight = 1.0;
  double fairness_quantum = 256.0;  // tokens of service worth one priority level
};

class TenantLedger {
 public:
  explicit TenantLedger(FairnessWeights weights = {}) : weights_(weights) {}

  // Starts a step with the tenants that have live requests (any order, repeats allowed).
  void begin_step(const std::vector<int32_t>& active_tenants);
  // Starts a step whose active tenants are those of the last step.
  void begin_step_same_tenants();
  // Adds `tokens` of service to `tenant`. Inline: a step charges every request it plans.
  void charge(int32_t tenant, int64_t tokens) {
    if (pending_tokens_ != 0 && pending_tenant_ != tenant) flush_pending();
    pending_tenant_ = tenant;
    pending_tokens_ += tokens;
  }

  double service(int32_t tenant) const;
  // Least service over the active tenants (0 when none is active).
  double least_active_service() const { return least_active_; }
  double effective_priority(int32_t priority, int32_t tenant) const;

 private:
  FairnessWeights weights_;
  void update_least_active();
  void flush_pending();

  std::map<int32_t, double> service_;
  std::vector<int32_t> active_;  // sorted, unique
  std::vector<int32_t> now_;     // scratch for begin_step
  double least_active_ = 0.0;
  // Consecutive charges of one tenant add up here before they reach service_, so a step
  // charging one tenant many times costs one lookup. Token counts are integers: the sum is
  // the same either way.
  int32_t pending_tenant_ = 0;
  int64_t pending_tokens_ = 0;
};

}  // namespace bricks::fastswitch
