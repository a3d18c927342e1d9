#include "runtime/adapter_setup.h"

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
