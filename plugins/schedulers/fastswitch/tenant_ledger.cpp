#include "tenant_ledger.h"

#include <algorithm>
#include <limits>

namespace bricks::fastswitch {

void TenantLedger::begin_step(const std::vector<int32_t>& active_tenants) {
  flush_pending();
  std::vector<int32_t>& now = now_;
  now.clear();
  // Runs of one tenant are common (requests of a tenant arrive together): skip them cheaply.
  for (int32_t t : active_tenants) {
    if (now.empty() || now.back() != t) now.push_back(t);
  }
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
  active_.swap(now);
  update_least_active();
}

void TenantLedger::begin_step_same_tenants() {
  flush_pending();
  update_least_active();
}

void TenantLedger::update_least_active() {
  least_active_ = 0.0;
  if (!active_.empty()) {
    least_active_ = std::numeric_limits<double>::infinity();
    for (int32_t t : active_) least_active_ = std::min(least_active_, service(t));
  }
}

void TenantLedger::flush_pending() {
  if (pending_tokens_ == 0) return;
  service_[pending_tenant_] += static_cast<double>(pending_tokens_);
  pending_tokens_ = 0;
}

double TenantLedger::service(int32_t tenant) const {
  auto it = service_.find(tenant);
  double s = it == service_.end() ? 0.0 : it->second;
  if (pending_tokens_ != 0 && pending_tenant_ == tenant) s += static_cast<double>(pending_tokens_);
  return s;
}

double TenantLedger::effective_priority(int32_t priority, int32_t tenant) const {
  const double lead = std::max(0.0, service(tenant) - least_active_);
  return weights_.priority_weight * static_cast<double>(priority) -
         weights_.fairness_weight * lead / weights_.fairness_quantum;
}

}  // namespace bricks::fastswitch
