#include "engine/adapter_rule.h"

#include <algorithm>
#include <stdexcept>

namespace bricks::engine {

const std::string& AdapterRule::pick(const RequestSpec& spec, uint64_t request_id) const {
  static const std::string kNone;
  if (!spec.adapter.empty() || names.empty()) return spec.adapter;
  if (round_robin) return names[static_cast<size_t>((request_id - 1) % names.size())];
  auto it = by_tenant.find(spec.tenant);
  return it != by_tenant.end() ? it->second : kNone;
}

void assign_adapters(const AdapterRule& rule, std::vector<RequestSpec>& work) {
  std::string listed;
  for (const std::string& n : rule.names) listed += (listed.empty() ? "" : ", ") + n;
  for (size_t i = 0; i < work.size(); ++i) {
    RequestSpec& r = work[i];
    r.adapter = rule.pick(r, i + 1);
    if (!r.adapter.empty() &&
        std::find(rule.names.begin(), rule.names.end(), r.adapter) == rule.names.end()) {
      throw std::invalid_argument(
          "request " + std::to_string(i) + " names adapter '" + r.adapter + "', which " +
          (listed.empty() ? std::string("is not loaded (the manifest has no model.adapters)")
                          : "is not in model.adapters (" + listed + ")"));
    }
  }
}

}  // namespace bricks::engine
