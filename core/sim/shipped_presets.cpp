#include "sim/shipped_presets.h"

namespace bricks::sim {

std::vector<std::string> shipped_preset_names(std::string_view kind) {
  std::vector<std::string> out;
  for (const ShippedPreset& p : shipped_presets()) {
    if (p.kind == kind) out.emplace_back(p.name);
  }
  return out;
}

const ShippedPreset* find_shipped_preset(std::string_view kind, std::string_view name) {
  for (const ShippedPreset& p : shipped_presets()) {
    if (p.kind == kind && p.name == name) return &p;
  }
  return nullptr;
}

}  // namespace bricks::sim
