#include "sim/ssd_presets.h"

#include "sim/preset_names.h"
#include "sim/preset_text.h"
#include "sim/shipped_presets.h"
#include "sim/sim_error.h"
#include "sim_presets.pb.h"

namespace bricks::sim {

namespace {

constexpr double kGB = 1e9;
constexpr double kUs = 1e-6;

}  // namespace

SsdSpec parse_ssd_preset(const std::string& text, const std::string& file) {
  SsdPreset p;
  const PresetText t(text, file, "SSD preset", p);
  t.require("name", "give the name reports show, e.g. name: \"nvme-gen4\"");
  const std::pair<const char*, double> numbers[] = {{"read_gb_per_s", p.read_gb_per_s()},
                                                    {"write_gb_per_s", p.write_gb_per_s()},
                                                    {"latency_us", p.latency_us()}};
  for (const auto& [field, value] : numbers) {
    t.require(field, "give it, with its source in a comment (see core/sim/presets/ssds/)");
    t.positive(field, value, "give the SSD's value in the unit the field's name says");
  }
  if (p.price_per_tb() < 0) {
    t.fail("price_per_tb", "is below 0", "give the price in USD per TB, or leave it out");
  }
  SsdSpec s;
  s.name = p.name();
  s.read_bytes_per_s = p.read_gb_per_s() * kGB;
  s.write_bytes_per_s = p.write_gb_per_s() * kGB;
  s.latency_s = p.latency_us() * kUs;
  s.price_per_tb = p.price_per_tb();
  return s;
}

const std::vector<SsdSpec>& ssd_presets() {
  static const std::vector<SsdSpec> presets =
      parse_shipped_presets<SsdSpec>("ssds", kSsdPresetNames, parse_ssd_preset);
  return presets;
}

SsdSpec load_ssd(const std::string& name_or_path, const std::filesystem::path& base) {
  for (const SsdSpec& s : ssd_presets()) {
    if (s.name == name_or_path) return s;
  }
  const PresetSource src = find_preset("ssds", name_or_path, base, "SSD preset");
  return parse_ssd_preset(src.text, src.file);
}

}  // namespace bricks::sim
