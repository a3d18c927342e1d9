#include "tenant_ledger.h"

#include <algorithm>
#include <limits>

namespace bricks::fastswitch {

void TenantLedger::begin_step(const std::vector<int32_t>& active_tenants) {
  std::vector<int32_t> now = active_tenants;
  std::sort(now.begin(), now.end());
  now.erase(std::unique(now.begin(), now.end()), now.end());

  // Least service among tenants active both before and now: the floor for returning ones.
  double floor = std::numeric_limits<double>::infinity();
  for (int32_t t : now) {
    if (std::binary_search(active_.begin(), active_.end(), t)) floor = std::min(floor, service(t));
  }
  if (floor != std::numeric_limits<double>::infinity()) {
    for (int32_t t : now) {
      if (!std::binary_search(active_.begin(), active_.end(), t)) {
        service_[t] = std::max(service(t), floor);
      }
    }
  }
  active_ = std::move(now);
  least_active_ = 0.0;
  if (!active_.empty()) {
    least_active_ = std::numeric_limits<double>::infinity();
    for (int32_t t : active_) least_active_ = std::min(least_active_, service(t));
  }
}

void TenantLedger::charge(int32_t tenant, int64_t tokens) {
  service_[tenant] += static_cast<double>(tokens);
}

double TenantLedger::service(int32_t tenant) const {
  auto it = service_.find(tenant);
  return it == service_.end() ? 0.0 : it->second;
}

double TenantLedger::effective_priority(int32_t priority, int32_t tenant) const {
  const double lead = std::max(0.0, service(tenant) - least_active_);
  return weights_.priority_weight * static_cast<double>(priority) -
         weights_.fairness_weight * lead / weights_.fairness_quantum;
}

}  // namespace bricks::fastswitch
