#include "engine/adapter_assign.h"

#include <algorithm>
#include <stdexcept>

#include "bricks/capabilities.h"

namespace bricks::engine {

std::vector<AdapterSpec> adapter_specs(const manifest::LoadedManifest& m) {
  std::vector<AdapterSpec> out;
  for (const auto& a : m.proto.model().adapters()) {
    out.push_back(
        {a.name(), m.resolve(a.path()), a.scale() == 0.0 ? 1.f : static_cast<float>(a.scale())});
  }
  return out;
}

AdapterRule adapter_rule(const manifest::Model& model) {
  AdapterRule rule;
  rule.round_robin = model.adapter_assign() == "round_robin";
  for (const auto& a : model.adapters()) {
    rule.names.push_back(a.name());
    for (int32_t t : a.tenants()) rule.by_tenant.emplace(t, a.name());
  }
  return rule;
}

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

void refuse_shared_kv(const manifest::LoadedManifest& m, const host::BrickInfo& kv) {
  auto provides = [&](const char* cap) {
    return std::find(kv.provides.begin(), kv.provides.end(), cap) != kv.provides.end();
  };
  auto turned_off = [&](const char* param) {
    for (const auto& b : m.proto.bricks()) {
      if (b.kind() != "kv" || b.name() != kv.name) continue;
      auto it = b.params().find(param);
      return it != b.params().end() && it->second.v_case() == manifest::Value::kBool &&
             !it->second.bool_();
    }
    return false;
  };
  for (const auto& [cap, param] :
       {std::pair{BRICKS_CAP_KV_PREFIX_CACHE, "enable_prefix_cache"},
        std::pair{BRICKS_CAP_KV_CONVERSATION_REUSE, "keep_conversations"}}) {
    if (provides(cap) && !turned_off(param)) {
      throw std::invalid_argument(
          "kv '" + kv.name + "' reuses cached KV across requests (" + cap +
          "), but cached KV does not record which adapter computed it; with model.adapters "
          "set the kv brick's " +
          param + " param to false");
    }
  }
}

}  // namespace bricks::engine
